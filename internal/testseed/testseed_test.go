package testseed_test

import (
	"testing"

	"github.com/weirstream/weir/internal/testseed"
)

func TestSeedFromEnv(t *testing.T) {
	t.Setenv("WEIR_SEED", "12345")
	if got := testseed.Seed(t); got != 12345 {
		t.Fatalf("got %d, want 12345", got)
	}
}
