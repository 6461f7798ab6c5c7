package stream

import "math/bits"

// hamt is a node of an immutable hash array mapped trie: 6 bits of the
// hash per level, a bitmap of the used slots and one entry per used slot.
// Below the last level (all 64 bits used) equal hashes share a collision
// list. Nodes are never modified once built: insert copies the path.
type hamt[D comparable] struct {
	bitmap  uint64
	entries []hamtEntry[D]
}

type hamtEntry[D comparable] struct {
	hash uint64
	val  D
	sub  *hamt[D] // a subtree instead of a value
	more []D      // other values of the same hash (last level only)
}

const hamtBits, hamtMaxDepth = 6, 10 // 11 levels cover 64 bits

// insert returns the trie with d added and whether it was missing; the
// receiver (which may be nil) is unchanged.
func (n *hamt[D]) insert(h uint64, d D, depth int) (*hamt[D], bool) {
	if n == nil {
		return &hamt[D]{bitmap: 1 << slotOf(h, depth), entries: []hamtEntry[D]{{hash: h, val: d}}}, true
	}
	bit := uint64(1) << slotOf(h, depth)
	pos := bits.OnesCount64(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		c := &hamt[D]{bitmap: n.bitmap | bit, entries: make([]hamtEntry[D], len(n.entries)+1)}
		copy(c.entries, n.entries[:pos])
		c.entries[pos] = hamtEntry[D]{hash: h, val: d}
		copy(c.entries[pos+1:], n.entries[pos:])
		return c, true
	}
	e := n.entries[pos]
	switch {
	case e.sub != nil:
		sub, added := e.sub.insert(h, d, depth+1)
		if !added {
			return n, false
		}
		e.sub = sub
	case e.hash == h:
		if e.val == d || contains(e.more, d) {
			return n, false
		}
		e.more = append(e.more[:len(e.more):len(e.more)], d)
	default:
		if depth >= hamtMaxDepth { // unreachable: equal slots at every level mean equal hashes
			panic("weir/stream: hamt too deep")
		}
		sub, _ := (&hamt[D]{bitmap: 1 << slotOf(e.hash, depth+1), entries: []hamtEntry[D]{e}}).insert(h, d, depth+1)
		e = hamtEntry[D]{sub: sub}
	}
	c := &hamt[D]{bitmap: n.bitmap, entries: append([]hamtEntry[D](nil), n.entries...)}
	c.entries[pos] = e
	return c, true
}

func slotOf(h uint64, depth int) uint { return uint(h>>(hamtBits*depth)) & (1<<hamtBits - 1) }

func contains[D comparable](s []D, d D) bool {
	for _, x := range s {
		if x == d {
			return true
		}
	}
	return false
}

// each calls fn for every value with its hash.
func (n *hamt[D]) each(fn func(h uint64, d D)) {
	if n == nil {
		return
	}
	for _, e := range n.entries {
		if e.sub != nil {
			e.sub.each(fn)
			continue
		}
		fn(e.hash, e.val)
		for _, d := range e.more {
			fn(e.hash, d)
		}
	}
}
