package windowing_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

type resultRow = windowing.Result[string, int64]

// rowsOut collects Result rows with their event times.
type rowsOut struct {
	rows  []resultRow
	times []int64
}

func (c *rowsOut) Push(batch any) error {
	b := batch.(*operators.Batch[resultRow])
	c.rows = append(c.rows, b.Values...)
	c.times = append(c.times, b.Times...)
	return nil
}
func (c *rowsOut) Watermark(int64) error { return nil }
func (c *rowsOut) Flush() error          { return nil }
func (c *rowsOut) EndInput() error       { return nil }

// openRows opens a window operator emitting its Result rows, with no Out
// (as stream's Aggregate does).
func openRows(t *testing.T, a windowing.Assigner, clock *timeapi.ManualClock, timers *fakeTimers, out operators.Output) operators.Operator {
	t.Helper()
	ctx, err := windowContext(0, 2, clock, timers)
	if err != nil {
		t.Fatal(err)
	}
	d := operators.Drive[event, resultRow](windowing.NewOperator(windowing.Options[string, event, int64, int64, resultRow]{
		Assigner: a, Key: func(e event) string { return e.Key }, Agg: sumAgg{},
	}))
	if err := d.Open(ctx, out); err != nil {
		t.Fatal(err)
	}
	return d
}

func pushEvents(t *testing.T, d operators.Operator, ts int64, evs ...event) {
	t.Helper()
	b := operators.NewBatch[event](len(evs))
	for _, e := range evs {
		b.Append(e, ts)
	}
	if err := d.Push(b); err != nil {
		t.Fatal(err)
	}
}

// TestOutNilEmitsRows: without Out, the operator emits each result row as
// it is, with the window's last millisecond as its time, both when the
// watermark fires a window (one key's timer) and when processing time
// closes one (a sweep of every key).
func TestOutNilEmitsRows(t *testing.T) {
	for _, proc := range []bool{false, true} {
		a := windowing.Tumbling(10 * time.Millisecond)
		if proc {
			a = a.ByProcessingTime()
		}
		clock := timeapi.NewManualClock(time.UnixMilli(0))
		timers := &fakeTimers{at: math.MaxInt64}
		out := &rowsOut{}
		d := openRows(t, a, clock, timers, out)
		clock.Set(time.UnixMilli(3))
		pushEvents(t, d, 3, event{"a", 1}, event{"b", 2}, event{"a", 4})
		clock.Set(time.UnixMilli(12))
		pushEvents(t, d, 12, event{"b", 8})
		var err error
		if proc {
			err = d.(operators.ProcessingTimeHandler).OnProcessingTime(10)
		} else {
			err = d.Watermark(10)
		}
		if err == nil {
			err = d.Flush()
		}
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for i, r := range out.rows {
			if r.Window.Start != time.UnixMilli(0).UTC() || r.Window.End != time.UnixMilli(10).UTC() || r.Kind != windowing.Insert || out.times[i] != 9 {
				t.Errorf("proc=%v: row %+v at %d, want window [0, 10ms) Insert at 9", proc, r, out.times[i])
			}
			got[r.Key] += r.Value
		}
		if len(out.rows) != 2 || got["a"] != 5 || got["b"] != 2 {
			t.Errorf("proc=%v: rows %+v, want a=5 and b=2", proc, out.rows)
		}
		d.Close()
	}
}

// TestOutNilNeedsResultRows: without Out, an operator whose outputs are
// not its Result rows fails to open and says so.
func TestOutNilNeedsResultRows(t *testing.T) {
	ctx, err := windowContext(0, 2, timeapi.NewManualClock(time.UnixMilli(0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := operators.Drive[event, row](windowing.NewOperator(windowing.Options[string, event, int64, int64, row]{
		Assigner: windowing.Tumbling(time.Second), Key: func(e event) string { return e.Key }, Agg: sumAgg{},
	}))
	err = d.Open(ctx, &collectOut{})
	if err == nil || !strings.Contains(err.Error(), "Out is required") {
		t.Fatalf("Open: %v, want an error saying Out is required", err)
	}
}
