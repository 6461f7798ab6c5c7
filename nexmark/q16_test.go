package nexmark_test

import (
	"strings"
	"testing"
)

// TestQ16Days checks the (channel, day) rows over three dates against the
// hand loop, at parallelism 1 and more; the latest minutes of the days
// that end are late in the day.
func TestQ16Days(t *testing.T) {
	lines := testMultiDay(t, "q16")
	late := 0
	for _, l := range lines {
		if strings.Contains(l, "channel=Google day=2026-01-01 minute=23:5") {
			late++
		}
	}
	if late != 1 {
		t.Errorf("Google's row of 2026-01-01 should end at 23:5x; rows: %d", late)
	}
}
