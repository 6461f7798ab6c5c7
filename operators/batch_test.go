package operators_test

import (
	"testing"

	"github.com/weirstream/weir/operators"
)

// TestBatchRefillSeal: a refilled batch keeps its records until they are
// overwritten; Seal (and Reset) zero those the new fill left past its
// length, so a batch keeps no record alive past its length.
func TestBatchRefillSeal(t *testing.T) {
	x, y := 1, 2
	b := operators.NewBatch[*int](4)
	for range 4 {
		b.Append(&x, 0)
	}
	b.Refill()
	if b.Len() != 0 {
		t.Fatalf("after Refill: len %d, want 0", b.Len())
	}
	if all := b.Values[:4]; all[3] != &x {
		t.Fatalf("Refill zeroed the records: %v", all)
	}
	b.Append(&y, 0)
	b.Refill() // a second refill before the first was sealed keeps the larger end
	b.Append(&y, 0)
	b.Seal()
	all := b.Values[:4]
	if all[0] != &y || all[1] != nil || all[2] != nil || all[3] != nil {
		t.Fatalf("after Seal: %v, want [&y nil nil nil]", all)
	}

	for range 3 {
		b.Append(&x, 0)
	}
	b.Refill()
	b.Reset()
	if all := b.Values[:4]; all[0] != nil || all[3] != nil {
		t.Fatalf("Reset after Refill left records: %v", all)
	}

	// a kernel replaced Values with a smaller slice: Seal stays inside it
	for range 4 {
		b.Append(&x, 0)
	}
	b.Refill()
	b.Values = make([]*int, 0, 2)
	b.Append(&y, 0)
	b.Seal()
	if got := b.Values[:2]; got[0] != &y || got[1] != nil {
		t.Fatalf("Seal after a smaller Values: %v", got)
	}
}
