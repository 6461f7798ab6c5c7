// Package testseed gives randomized tests their seed: WEIR_SEED when set
// (to replay a run), else a fresh one; either way the seed is logged so a
// failure can be replayed.
package testseed

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Seed returns the seed of a randomized test and logs it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WEIR_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WEIR_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with WEIR_SEED=%d)", seed, seed)
	return seed
}
