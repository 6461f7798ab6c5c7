package lookup

import (
	"math/rand/v2"
	"testing"
)

func TestCacheLRUAndTTL(t *testing.T) {
	c := newCache[string, int](2, 100, 10)
	c.put("a", 1, true, 0)
	c.put("b", 2, true, 0)
	if v, f, hit := c.get("a", 1); !hit || !f || v != 1 {
		t.Fatalf("get a = %d %v %v", v, f, hit)
	}
	c.put("c", 3, true, 1) // evicts b, the least recently used
	if _, _, hit := c.get("b", 2); hit {
		t.Fatal("b survived eviction")
	}
	if _, _, hit := c.get("a", 99); !hit {
		t.Fatal("a evicted or expired early")
	}
	if _, _, hit := c.get("a", 100); hit {
		t.Fatal("a not expired at its TTL")
	}
	c.put("x", 0, false, 200) // negative entry, TTL 10
	if _, f, hit := c.get("x", 205); !hit || f {
		t.Fatalf("negative entry: found=%v hit=%v", f, hit)
	}
	if _, _, hit := c.get("x", 210); hit {
		t.Fatal("negative entry not expired")
	}
	nc := newCache[string, int](4, 100, -1)
	nc.put("y", 0, false, 0)
	if nc.len() != 0 {
		t.Fatal("miss cached with negative TTL < 0")
	}
}

// TestCacheAgainstReference runs random operations against a plain map
// with LRU order kept in a slice.
func TestCacheAgainstReference(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	const max = 8
	c := newCache[int, int](max, 50, 20)
	type ent struct{ v, exp int }
	ref := map[int]ent{}
	var order []int // least recently used first
	touch := func(k int) {
		for i, x := range order {
			if x == k {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		order = append(order, k)
	}
	drop := func(k int) {
		delete(ref, k)
		for i, x := range order {
			if x == k {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
	}
	now := 0
	for range 20000 {
		now += r.IntN(3)
		k := r.IntN(16)
		if r.IntN(2) == 0 {
			found := r.IntN(4) != 0
			ttl := 50
			if !found {
				ttl = 20
			}
			if _, ok := ref[k]; !ok && len(ref) >= max {
				drop(order[0])
			}
			ref[k] = ent{v: k * 10, exp: now + ttl}
			if !found {
				ref[k] = ent{v: -1, exp: now + ttl}
			}
			touch(k)
			c.put(k, k*10, found, int64(now))
			continue
		}
		v, f, hit := c.get(k, int64(now))
		e, ok := ref[k]
		if ok && now >= e.exp {
			drop(k)
			ok = false
		}
		if ok {
			touch(k)
		}
		if hit != ok || (hit && f != (e.v >= 0)) || (hit && f && v != e.v) {
			t.Fatalf("get %d at %d: got %d %v %v, want %+v %v", k, now, v, f, hit, e, ok)
		}
	}
}
