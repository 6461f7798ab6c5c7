package statebackend

import (
	"slices"
	"testing"
)

// TestCloneFaulted checks that the clone a snapshot's first write makes
// is an equal copy in memory of its own, small or large (prefaulted).
func TestCloneFaulted(t *testing.T) {
	if c := cloneFaulted([]int64(nil)); c != nil {
		t.Fatalf("clone of nil: %v, want nil", c)
	}
	for _, n := range []int{0, 3, 3 * prefaultMin} {
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(i)*7 + 1
		}
		c := cloneFaulted(s)
		if c == nil || !slices.Equal(c, s) {
			t.Fatalf("clone of %d values differs", n)
		}
		if n > 0 {
			c[n-1]++
			if s[n-1] == c[n-1] {
				t.Fatalf("clone of %d values shares the original's memory", n)
			}
		}
	}
}
