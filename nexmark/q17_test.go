package nexmark_test

import "testing"

// TestQ17Days checks the (auction, day) rows over three dates against the
// hand loop, at parallelism 1 and more.
func TestQ17Days(t *testing.T) { testMultiDay(t, "q17") }
