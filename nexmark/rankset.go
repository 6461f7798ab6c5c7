package nexmark

import (
	"bytes"
	"encoding/gob"
	"fmt"

	"github.com/weirstream/weir/internal/chunk"
)

// rankSet is the distinct-count state of the report queries: a set of ids
// (bidders or auctions) with, for each, the price ranks of its bids (bit r
// for rank r+1). count(DISTINCT id) is its size, and count(DISTINCT id)
// FILTER (WHERE rank r+1) the number of ids with bit r.
//
// It lives in window accumulators, which state snapshots copy shallowly
// (windowing.Aggregator): a snapshot holds an earlier copy of the
// accumulator, shares its memory with the live one, and is encoded on
// another goroutine while the task goes on adding. A table changed in
// place would change what the snapshot encodes; a persistent map (stream's
// CountDistinct) copies a path of nodes on every insert. rankSet instead
// keeps two views of the same set:
//
//   - log, an append-only list of changes (an id with all its ranks so
//     far, appended whenever an id is new or gains a rank: at most three
//     times per id), a chunk.Log: entries are never changed once
//     appended, so the copy a snapshot holds always sees the set as it
//     was at the snapshot. (A slice grown by doubling was 18% of Q15.) Snapshots and
//     GobEncode read only the log.
//   - live, an idTable from id to ranks: the index the task looks ids up
//     in, changed in place. A snapshot's copy shares it but never reads
//     it, so changing it is safe.
//
// The cost of an add is one idTable lookup plus an append when the id is
// new or gains a rank.
type rankSet struct {
	live *idTable
	log  chunk.Log[rankChange]
}

// rankChange says that id had the ranks Ranks (all of them so far).
type rankChange struct {
	ID    int64
	Ranks uint8
}

// add records ranks (bits) for id and returns the set; the receiver's log
// header is stale afterwards (use the result).
func (s rankSet) add(id int64, ranks uint8) rankSet {
	if s.live == nil {
		s.live = newIDTable()
	}
	if now, changed := s.live.or(id, ranks); changed {
		s.log.Append(rankChange{id, now})
	}
	return s
}

// union adds the ids of o to s and returns s (o unchanged).
func (s rankSet) union(o rankSet) rankSet {
	if o.live != nil {
		o.live.each(func(id int64, ranks uint8) { s = s.add(id, ranks) })
	}
	return s
}

// count adds the size of the set to c[0] and the number of ids with
// rank r+1 to c[r+1].
func (s rankSet) count(c *[4]int64) {
	if s.live != nil {
		s.live.count(c)
	}
}

// merge returns the union of a and b as a new set (a and b unchanged).
func (a rankSet) merge(b rankSet) rankSet {
	var out rankSet
	return out.union(a).union(b)
}

// idTable is a hash set of ids with a non-zero ranks byte each, made for
// ids that are mostly consecutive numbers (the generator's bidders and
// auctions): open addressing with linear probing, an id and its ranks
// packed into one word, and a hash that keeps each aligned block of eight
// consecutive ids in one cache line (blocks go to pseudo-random lines).
// The recent ids a stream keeps looking up then share a few cache lines,
// where a Go map (or any hash that scatters every id) touches one line
// per id: in a job, between two lookups, batches of events pass through
// the caches and evict them. Ids outside [0, 2^61) go to a Go map.
//
// A small table is one array of slots. Past idSplit slots it splits into
// idSegs segments by the block's hash, each an array that grows on its
// own, at a load that differs by segment (3/8 to 1/2): a growth then
// copies one segment, a 64th of the table, and the segments' growths
// spread over time. A single array that doubled held up every record
// behind it for the whole copy (65 ms at 500k closed auctions in q4's
// paced run, most of it page faults on the new array).
//
// The hand-written loops use it too, so that they and the jobs do the same
// work per bid.
type idTable struct {
	segs  []idSeg // one, or idSegs
	other map[int64]uint8
}

// idSeg is one array of an idTable.
type idSeg struct {
	slots []uint64 // id<<3 | ranks; 0: empty. A power of two of them.
	n     int      // ids in slots
	limit int      // ids the slots may hold before they double
}

const (
	idTableMin = 64
	idMax      = 1 << 61
	idSegBits  = 6
	idSegs     = 1 << idSegBits
	idSplit    = 1 << 12
)

func newIDTable() *idTable { return &idTable{segs: []idSeg{newIDSeg(idTableMin, 0)}} }

// newIDSeg returns an empty segment of n slots; index i staggers its load
// limit when the table is split.
func newIDSeg(n, i int) idSeg {
	limit := n / 2
	if n > idSplit/idSegs {
		limit -= n / 8 * (i * 37 % 64) / 64
	}
	return idSeg{slots: make([]uint64, n), limit: limit}
}

// blockHash scatters id's aligned block of eight ids.
func blockHash(id int64) uint64 { return uint64(id) >> 3 * 0x9e3779b97f4a7c15 }

// segOf returns the index of the segment of id, in [0, idMax).
func (t *idTable) segOf(id int64) int {
	if len(t.segs) == 1 {
		return 0
	}
	return int(blockHash(id) >> (64 - idSegBits))
}

// seg returns the segment of id, in [0, idMax).
func (t *idTable) seg(id int64) *idSeg { return &t.segs[t.segOf(id)] }

// home is the first slot to probe for id: its block of eight goes to a
// pseudo-random aligned group of eight slots, in order.
func (s *idSeg) home(id int64) int {
	return int(blockHash(id)>>29<<3|uint64(id)&7) & (len(s.slots) - 1)
}

// size is the number of ids in the table.
func (t *idTable) size() int {
	n := len(t.other)
	for i := range t.segs {
		n += t.segs[i].n
	}
	return n
}

// or sets the ranks of id to their union with ranks (non-zero, at most
// 7) and returns them, and whether they changed (true for a new id).
func (t *idTable) or(id int64, ranks uint8) (uint8, bool) {
	if id < 0 || id >= idMax {
		return t.orOther(id, ranks)
	}
	k := t.segOf(id)
	now, changed := t.segs[k].or(id, ranks)
	if s := &t.segs[k]; s.n > s.limit {
		t.grow(k)
	}
	return now, changed
}

func (s *idSeg) or(id int64, ranks uint8) (uint8, bool) {
	mask := len(s.slots) - 1
	for i := s.home(id); ; i = (i + 1) & mask {
		sl := s.slots[i]
		if sl == 0 {
			s.slots[i] = uint64(id)<<3 | uint64(ranks)
			s.n++
			return ranks, true
		}
		if sl>>3 == uint64(id) {
			old := uint8(sl & 7)
			if old|ranks == old {
				return old, false
			}
			s.slots[i] = sl | uint64(ranks)
			return old | ranks, true
		}
	}
}

// get returns the ranks of id, 0 if it is not in the set.
func (t *idTable) get(id int64) uint8 {
	if id < 0 || id >= idMax {
		return t.other[id]
	}
	s := t.seg(id)
	mask := len(s.slots) - 1
	for i := s.home(id); ; i = (i + 1) & mask {
		switch sl := s.slots[i]; {
		case sl == 0:
			return 0
		case sl>>3 == uint64(id):
			return uint8(sl & 7)
		}
	}
}

// remove takes id out of the set. It empties the slot and shifts back the
// later slots of the probe run that may sit there (those whose home is not
// cyclically in (i, j]), so that runs stay unbroken without tombstones.
func (t *idTable) remove(id int64) {
	if id < 0 || id >= idMax {
		delete(t.other, id)
		return
	}
	s := t.seg(id)
	mask := len(s.slots) - 1
	i := s.home(id)
	for {
		sl := s.slots[i]
		if sl == 0 {
			return
		}
		if sl>>3 == uint64(id) {
			break
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		h := s.home(int64(s.slots[j] >> 3))
		if (i < j && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
	s.n--
}

func (t *idTable) orOther(id int64, ranks uint8) (uint8, bool) {
	if t.other == nil {
		t.other = map[int64]uint8{}
	}
	old := t.other[id]
	t.other[id] = old | ranks
	return old | ranks, old|ranks != old
}

// grow doubles segment k, or splits the table into idSegs segments when
// its one array reaches idSplit slots.
func (t *idTable) grow(k int) {
	old := t.segs[k].slots
	if len(t.segs) == 1 && 2*len(old) >= idSplit {
		t.segs = make([]idSeg, idSegs)
		for i := range t.segs {
			t.segs[i] = newIDSeg(2*len(old)/idSegs, i)
		}
	} else {
		t.segs[k] = newIDSeg(2*len(old), k)
	}
	for _, sl := range old {
		if sl != 0 {
			t.or(int64(sl>>3), uint8(sl&7)) // grows a segment the split overfills
		}
	}
}

// each calls fn for every id with its ranks.
func (t *idTable) each(fn func(id int64, ranks uint8)) {
	for i := range t.segs {
		for _, sl := range t.segs[i].slots {
			if sl != 0 {
				fn(int64(sl>>3), uint8(sl&7))
			}
		}
	}
	for id, ranks := range t.other {
		fn(id, ranks)
	}
}

// count adds the number of ids to c[0] and the number with rank r+1 to
// c[r+1].
func (t *idTable) count(c *[4]int64) {
	c[0] += int64(t.size())
	for i := range t.segs {
		for _, sl := range t.segs[i].slots {
			c[1] += int64(sl & 1)
			c[2] += int64(sl >> 1 & 1)
			c[3] += int64(sl >> 2 & 1)
		}
	}
	for _, ranks := range t.other {
		c[1] += int64(ranks & 1)
		c[2] += int64(ranks >> 1 & 1)
		c[3] += int64(ranks >> 2 & 1)
	}
}

// rankSetFormat versions the encoding of a rankSet in checkpoints.
const rankSetFormat = 1

// GobEncode writes the set as it was when this copy of it was made: the
// ids of its log with their latest ranks. It reads only the log (see
// rankSet), so it is safe while the live copy goes on adding.
func (s rankSet) GobEncode() ([]byte, error) {
	latest := make(map[int64]uint8, s.log.Len())
	for c := range s.log.All() {
		latest[c.ID] |= c.Ranks
	}
	entries := make([]rankChange, 0, len(latest))
	for id, ranks := range latest {
		entries = append(entries, rankChange{id, ranks})
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(rankSetWire{Format: rankSetFormat, Entries: entries}); err != nil {
		return nil, fmt.Errorf("nexmark: encode distinct set: %w", err)
	}
	return buf.Bytes(), nil
}

// GobDecode rebuilds a set written by GobEncode.
func (s *rankSet) GobDecode(b []byte) error {
	var w rankSetWire
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return fmt.Errorf("nexmark: decode distinct set: %w", err)
	}
	if w.Format != rankSetFormat {
		return fmt.Errorf("nexmark: decode distinct set: format %d, want %d", w.Format, rankSetFormat)
	}
	*s = rankSet{live: newIDTable()}
	for _, c := range w.Entries {
		if c.Ranks == 0 || c.Ranks > 7 {
			return fmt.Errorf("nexmark: decode distinct set: id %d has ranks %#x", c.ID, c.Ranks)
		}
		s.live.or(c.ID, c.Ranks)
		s.log.Append(c)
	}
	return nil
}

type rankSetWire struct {
	Format  int
	Entries []rankChange
}
