package lookup

// cache is a size-bounded LRU map with per-entry expiry, owned by one
// task goroutine (no locks). Entries live in a slice linked into a
// recency list by index, so a hit moves an entry to the front without
// allocating and eviction reuses the slot.
type cache[K comparable, V any] struct {
	idx        map[K]int32
	ents       []centry[K, V]
	head, tail int32 // most and least recently used; nilSlot when empty
	free       int32 // free slots, linked through next
	max        int
	ttl        int64 // ms
	negTTL     int64 // ms; < 0: misses are not cached
}

type centry[K comparable, V any] struct {
	key        K
	val        V
	found      bool
	expires    int64 // Unix ms
	prev, next int32
}

const nilSlot = -1

func newCache[K comparable, V any](max int, ttl, negTTL int64) *cache[K, V] {
	return &cache[K, V]{
		idx: make(map[K]int32, min(max, 1<<16)), ents: make([]centry[K, V], 0, min(max, 1<<16)),
		head: nilSlot, tail: nilSlot, free: nilSlot, max: max, ttl: ttl, negTTL: negTTL,
	}
}

// len is the number of cached entries (expired ones included until met).
func (c *cache[K, V]) len() int { return len(c.idx) }

// get returns the cached value of k; hit is false when k is not cached or
// its entry expired (the entry is then dropped).
func (c *cache[K, V]) get(k K, now int64) (v V, found, hit bool) {
	i, ok := c.idx[k]
	if !ok {
		return v, false, false
	}
	e := &c.ents[i]
	if now >= e.expires {
		c.remove(i)
		return v, false, false
	}
	if c.head != i {
		c.unlink(i)
		c.pushFront(i)
	}
	return e.val, e.found, true
}

// put caches k's value (found) or its absence (!found).
func (c *cache[K, V]) put(k K, v V, found bool, now int64) {
	ttl := c.ttl
	if !found {
		ttl = c.negTTL
	}
	i, ok := c.idx[k]
	if ttl <= 0 {
		if ok {
			c.remove(i)
		}
		return
	}
	if !ok {
		i = c.alloc()
		c.idx[k] = i
	} else {
		c.unlink(i)
	}
	e := &c.ents[i]
	e.key, e.val, e.found, e.expires = k, v, found, now+ttl
	c.pushFront(i)
}

// alloc returns a free slot, evicting the least recently used entry when
// the cache is full.
func (c *cache[K, V]) alloc() int32 {
	if len(c.idx) >= c.max && c.tail != nilSlot {
		c.remove(c.tail)
	}
	if c.free != nilSlot {
		i := c.free
		c.free = c.ents[i].next
		return i
	}
	c.ents = append(c.ents, centry[K, V]{})
	return int32(len(c.ents) - 1)
}

func (c *cache[K, V]) remove(i int32) {
	e := &c.ents[i]
	delete(c.idx, e.key)
	c.unlink(i)
	var zero centry[K, V]
	*e = zero
	e.next = c.free
	c.free = i
}

func (c *cache[K, V]) unlink(i int32) {
	e := &c.ents[i]
	if e.prev != nilSlot {
		c.ents[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nilSlot {
		c.ents[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nilSlot, nilSlot
}

func (c *cache[K, V]) pushFront(i int32) {
	e := &c.ents[i]
	e.prev, e.next = nilSlot, c.head
	if c.head != nilSlot {
		c.ents[c.head].prev = i
	}
	c.head = i
	if c.tail == nilSlot {
		c.tail = i
	}
}
