package operators_test

import (
	"errors"
	"fmt"
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

// pushes records every batch an Emitter pushes, failing from the push
// numbered failAt (1-based; 0 never).
type pushes struct {
	batches [][]int
	times   [][]int64
	failAt  int
}

func (p *pushes) Push(b any) error {
	bb := b.(*operators.Batch[int])
	p.batches = append(p.batches, append([]int(nil), bb.Values...))
	p.times = append(p.times, append([]int64(nil), bb.Times...))
	if p.failAt > 0 && len(p.batches) >= p.failAt {
		return errors.New("downstream failed")
	}
	return nil
}
func (p *pushes) Watermark(int64) error { return nil }
func (p *pushes) Flush() error          { return nil }
func (p *pushes) EndInput() error       { return nil }

// TestEmitterEmitAll: EmitAll appends after what Emit left pending, pushes
// full batches of the emitter's size in order, stamps every record with
// its time, leaves the rest pending for Flush, and reports a downstream
// error.
func TestEmitterEmitAll(t *testing.T) {
	p := &pushes{}
	e := operators.NewEmitter[int](p, 4)
	e.Emit(-1, 7)
	vals := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	if err := e.EmitAll(vals, 9); err != nil {
		t.Fatal(err)
	}
	if err := e.EmitAll(nil, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	want := [][]int{{-1, 0, 1, 2}, {3, 4, 5, 6}, {7, 8}}
	wantT := [][]int64{{7, 9, 9, 9}, {9, 9, 9, 9}, {9, 9}}
	if fmt.Sprint(p.batches) != fmt.Sprint(want) || fmt.Sprint(p.times) != fmt.Sprint(wantT) {
		t.Fatalf("pushed %v at %v, want %v at %v", p.batches, p.times, want, wantT)
	}

	f := &pushes{failAt: 1}
	e = operators.NewEmitter[int](f, 2)
	if err := e.EmitAll(vals, 0); err == nil {
		t.Fatal("EmitAll after a failed push: no error")
	}
}
