package nexmark

import (
	"math/rand/v2"
	"testing"

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
		t.Fatalf("seed %d: %d chunks kept for %d live ids", seed, len(c.queue), len(c.ids))
	}
}
