package runtime

import (
	"testing"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// TestPickReadsInputsInEventTimeOrder: a task with several inputs reads
// next the input whose next event stands earliest in event time, stays on
// the current one on a tie, skips inputs held by a barrier and empty ones,
// and reads every event of every input in the end.
func TestPickReadsInputsInEventTimeOrder(t *testing.T) {
	w := newWorker(0, timeapi.SystemClock{})
	oc := &outChannels{}
	tk := &task{worker: w}
	for i := range 3 {
		c := newChannel(8, w, w)
		c.input = i
		oc.chans = append(oc.chans, c)
		tk.inputs = append(tk.inputs, c)
	}
	batch := func(ts ...int64) *operators.Batch[int] {
		b := operators.NewBatch[int](len(ts))
		for _, x := range ts {
			b.Append(0, x)
		}
		return b
	}
	oc.Send(0, batch(30, 31))
	oc.Send(0, batch(50))
	oc.Send(1, batch(10, 40))
	oc.Send(1, batch(60))
	oc.chans[2].send(event{wm: 20, at: 20, kind: evWatermark})
	var order []int64
	for {
		c := tk.pick()
		if c == nil {
			break
		}
		ev, _ := c.data.TryPop()
		order = append(order, ev.at)
	}
	want := []int64{10, 20, 30, 50, 60}
	if len(order) != len(want) {
		t.Fatalf("read %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("read %v, want %v", order, want)
		}
	}
	// a tie stays on the input read last; a barrier-held input is skipped
	oc.Send(0, batch(70))
	oc.Send(1, batch(70))
	if c := tk.pick(); c != tk.inputs[1] {
		t.Fatalf("tie: picked input %d, want 1 (read last)", c.input)
	}
	tk.inputs[1].blocked = true
	if c := tk.pick(); c != tk.inputs[0] {
		t.Fatalf("picked input %d, want 0 (1 is held by a barrier)", c.input)
	}
	// control events stand at MinWatermark: read before batches
	oc.chans[2].send(event{at: timeapi.MinWatermark, kind: evIdle})
	if c := tk.pick(); c != tk.inputs[2] {
		t.Fatalf("picked input %d, want 2 (an idle event)", c.input)
	}
	// an input whose events are always earliest does not keep another
	// waiting for more than maxStreak events
	tk.inputs[1].blocked = false
	for tk.pick() != nil { // drain
		c := tk.pick()
		c.data.TryPop()
	}
	oc.Send(1, batch(1000))
	reads := 0
	for ; reads <= 3*maxStreak; reads++ {
		if !oc.chans[0].data.Full() {
			oc.Send(0, batch(int64(reads)))
		}
		c := tk.pick()
		c.data.TryPop()
		if c == tk.inputs[1] {
			break
		}
	}
	if reads != maxStreak {
		t.Fatalf("the late input was read after %d events of the early one, want %d", reads, maxStreak)
	}
}
