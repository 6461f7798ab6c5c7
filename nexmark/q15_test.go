package nexmark_test

import (
	"testing"

	"github.com/weirstream/weir/nexmark"
)

// TestQ15Days checks the daily rows over three dates against the hand
// loop, at parallelism 1 and more.
func TestQ15Days(t *testing.T) { testMultiDay(t, "q15") }

// TestQ15CheckpointRestore restores Q15's buckets (distinct sets in window
// state) from a checkpoint taken in the middle of a day.
func TestQ15CheckpointRestore(t *testing.T) {
	testCheckpointRestore(t, nexmark.Q15, plusV[nexmark.Q15Result])
}
