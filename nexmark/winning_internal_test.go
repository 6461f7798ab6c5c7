package nexmark

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/weirstream/weir/internal/testseed"
)

// TestClosedAuctionsForget: an id is remembered from its add until the
// first add whose now reaches its until, across many chunks of the FIFO.
func TestClosedAuctionsForget(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	c := newClosedAuctions()
	until := map[int64]int64{}
	now := int64(0)
	for id := int64(0); id < 5*closedChunk; id++ {
		now += int64(rng.IntN(3))
		// auctions close in time order, and each is kept as long
		c.add(id, now+1000, now)
		until[id] = now + 1000
		for k, u := range until {
			if u <= now && k != id {
				delete(until, k)
			}
		}
		if id%97 == 0 {
			for k := max(0, id-3000); k <= id; k++ {
				_, want := until[k]
				if got := c.has(k); got != want {
					t.Fatalf("seed %d: after adding %d at %d: has(%d) = %v, want %v", seed, id, now, k, got, want)
				}
			}
		}
	}
	if len(c.queue) > 2 {
		t.Fatalf("seed %d: %d chunks kept for %d live ids", seed, len(c.queue), c.ids.size())
	}
}

// TestIDTableRemoveMatchesMap adds, removes and looks up random ids (from
// a small range, so that probe runs collide and wrap; some negative, which
// the table keeps apart) in an idTable and a Go map.
func TestIDTableRemoveMatchesMap(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 6))
	for _, span := range []int64{50, 3000, 1 << 40} {
		s := newIDTable()
		m := map[int64]bool{}
		for step := range 200_000 {
			id := rng.Int64N(span)
			if rng.IntN(50) == 0 {
				id = -1 - id
			}
			switch rng.IntN(3) {
			case 0:
				s.or(id, 1)
				m[id] = true
			case 1:
				s.remove(id)
				delete(m, id)
			}
			if got := s.get(id) != 0; got != m[id] {
				t.Fatalf("seed %d span %d step %d: has(%d) = %v, want %v", seed, span, step, id, got, m[id])
			}
			if n := s.size(); n != len(m) {
				t.Fatalf("seed %d span %d step %d: %d ids, want %d", seed, span, step, n, len(m))
			}
		}
		for id := range m {
			if s.get(id) == 0 {
				t.Fatalf("seed %d span %d: lost %d", seed, span, id)
			}
		}
	}
}

// TestIDTableRemoveWraps: ids whose probe runs wrap past the table's end
// are found after removals in any order.
func TestIDTableRemoveWraps(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	s := newIDTable()
	var tail []int64
	for id := int64(1); len(tail) < 12; id++ {
		if s.segs[0].home(id) >= len(s.segs[0].slots)-4 {
			tail = append(tail, id)
		}
	}
	for round := range 200 {
		rng.Shuffle(len(tail), func(i, j int) { tail[i], tail[j] = tail[j], tail[i] })
		for _, id := range tail {
			s.or(id, 1)
		}
		k := rng.IntN(len(tail))
		for _, id := range tail[:k] {
			s.remove(id)
		}
		for i, id := range tail {
			if got := s.get(id) != 0; got != (i >= k) {
				t.Fatalf("seed %d round %d: has(%d) = %v after removing %v", seed, round, id, got, tail[:k])
			}
		}
		for _, id := range tail[k:] {
			s.remove(id)
		}
	}
}

// TestIDTableSplits: a large table is idSegs segments whose load limits
// differ, so that they grow at different times.
func TestIDTableSplits(t *testing.T) {
	s := newIDTable()
	for id := range int64(100_000) {
		s.or(id, 1)
	}
	if len(s.segs) != idSegs || s.size() != 100_000 {
		t.Fatalf("%d segments holding %d ids, want %d holding 100000", len(s.segs), s.size(), idSegs)
	}
	loads := map[float64]bool{}
	for _, g := range s.segs {
		load := float64(g.limit) / float64(len(g.slots))
		if load < 3.0/8 || load > 0.5 || g.n > g.limit {
			t.Fatalf("a segment of %d slots holds %d of at most %d ids", len(g.slots), g.n, g.limit)
		}
		loads[load] = true
	}
	if len(loads) < idSegs/2 {
		t.Errorf("%d segments grow at %d loads only", idSegs, len(loads))
	}
}

// TestIDTableSplitsClustered: ids whose blocks all go to one segment
// split the table without overfilling that segment.
func TestIDTableSplitsClustered(t *testing.T) {
	s := newIDTable()
	var ids []int64
	for id := int64(0); len(ids) < 4*idSplit; id += 8 {
		if blockHash(id)>>(64-idSegBits) == 5 {
			for j := range int64(8) {
				ids = append(ids, id+j)
			}
		}
	}
	for _, id := range ids {
		s.or(id, 1)
	}
	for _, id := range ids {
		if s.get(id) != 1 {
			t.Fatalf("lost id %d", id)
		}
	}
	if len(s.segs) != idSegs || s.segs[5].n != len(ids) {
		t.Fatalf("%d segments, segment 5 holds %d of %d ids", len(s.segs), s.segs[5].n, len(ids))
	}
}

// TestWinInSize: the winning-bids record, which crosses a hash exchange,
// stays a cache line for a word-sized A, and an auction's times read back.
func TestWinInSize(t *testing.T) {
	if n := unsafe.Sizeof(winIn[int64]{}); n > 64 {
		t.Errorf("winIn[int64] is %d bytes, want at most 64", n)
	}
	in := auctionIn(7, 100, 200, int64(3))
	if in.auction != 7 || in.start() != 100 || in.expires() != 200 || in.a != 3 || in.isBid {
		t.Errorf("auctionIn(7, 100, 200, 3) = %+v", in)
	}
}
