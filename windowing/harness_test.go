package windowing_test

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
	"go.uber.org/zap"
)

// event is the input of the test harness.
type event struct {
	Key string
	V   int64
}

// row is the harness operator's output: a result or a late element.
type row struct {
	late bool
	ev   event
	r    windowing.Result[string, int64]
	ts   int64
}

// sumAgg sums V (a count when every V is 1).
type sumAgg struct{}

func (sumAgg) Init() int64                  { return 0 }
func (sumAgg) Add(acc int64, e event) int64 { return acc + e.V }
func (sumAgg) Merge(a, b int64) int64       { return a + b }
func (sumAgg) Result(acc int64) int64       { return acc }

type testOp = windowing.Operator[string, event, int64, int64, row]

// harness drives a window operator directly, like testkit.Harness: a fake
// operators.Context with a heap state backend, a manual clock starting at
// the Unix epoch (so processing time is in ms since 0) and a collecting
// output.
type harness struct {
	op     *testOp
	drv    operators.Operator
	ctx    *operators.Context
	clock  *timeapi.ManualClock
	timers fakeTimers
	out    collectOut
	wm     int64
}

type fakeTimers struct{ at int64 }

func (f *fakeTimers) CallbackAt(at int64) { f.at = min(f.at, at) }

type collectOut struct{ rows []row }

func (c *collectOut) Push(batch any) error {
	b := batch.(*operators.Batch[row])
	for i, v := range b.Values {
		v.ts = b.Times[i]
		c.rows = append(c.rows, v)
	}
	return nil
}
func (c *collectOut) Watermark(int64) error { return nil }
func (c *collectOut) Flush() error          { return nil }
func (c *collectOut) EndInput() error       { return nil }

// harnessOptions are the knobs of newHarness.
type harnessOptions struct {
	assigner windowing.Assigner
	lateness time.Duration
	trigger  windowing.Trigger
	emit     windowing.EmitPolicy
	lateOut  bool
	maxP     int
}

func newHarness(ho harnessOptions) (*harness, error) {
	h := &harness{clock: timeapi.NewManualClock(time.UnixMilli(0)), wm: timeapi.MinWatermark}
	h.timers.at = math.MaxInt64
	var err error
	if h.ctx, err = windowContext(ho.maxP, 4, h.clock, &h.timers); err != nil {
		return nil, err
	}
	opt := windowing.Options[string, event, int64, int64, row]{
		Assigner: ho.assigner, Key: func(e event) string { return e.Key }, Agg: sumAgg{},
		Lateness: ho.lateness, Trigger: ho.trigger, Emit: ho.emit,
		Out: func(r windowing.Result[string, int64], emit func(row)) error { emit(row{r: r}); return nil },
	}
	if ho.lateOut {
		opt.Late = func(e event, emit func(row)) { emit(row{late: true, ev: e}) }
	}
	h.op = windowing.NewOperator(opt)
	h.drv = operators.Drive[event, row](h.op)
	return h, h.drv.Open(h.ctx, &h.out)
}

// windowContext is the context of a window operator run alone: one
// subtask with all maxP key groups (DefaultMaxParallelism if 0), a heap
// state backend, batches of batch records, the clock and timers given.
func windowContext(maxP, batch int, clock timeapi.Clock, timers operators.TimerService) (*operators.Context, error) {
	if maxP == 0 {
		maxP = statebackend.DefaultMaxParallelism
	}
	all := statebackend.KeyGroupRange{Start: 0, End: maxP}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "window", KeyGroups: all, MaxParallelism: maxP})
	if err != nil {
		return nil, err
	}
	return &operators.Context{Operator: "window", Parallelism: 1, MaxParallelism: maxP, BatchSize: batch,
		KeyGroups: all, State: be, Clock: clock, Logger: zap.NewNop(), Timers: timers}, nil
}

func (h *harness) add(evs []event, ts []int64) error {
	if len(evs) == 0 {
		return nil // the runtime pushes no empty batches
	}
	b := operators.NewBatch[event](len(evs))
	for i, e := range evs {
		b.Append(e, ts[i])
	}
	return h.drv.Push(b)
}

func (h *harness) watermark(wm int64) error {
	if wm <= h.wm {
		return nil
	}
	h.wm = wm
	return h.drv.Watermark(wm)
}

func (h *harness) processTime(now int64) error {
	h.clock.Set(time.UnixMilli(now))
	if h.timers.at > now {
		return nil
	}
	h.timers.at = math.MaxInt64
	if err := h.drv.(operators.ProcessingTimeHandler).OnProcessingTime(now); err != nil {
		return err
	}
	return h.drv.Flush()
}

func (h *harness) end() error {
	if err := h.watermark(timeapi.MaxWatermark); err != nil {
		return err
	}
	return h.drv.EndInput()
}

// take returns the rows emitted since the last take.
func (h *harness) take() []row {
	_ = h.drv.Flush()
	out := h.out.rows
	h.out.rows = nil
	return out
}

func (h *harness) close() error { return h.drv.Close() }

// formatRow renders a row for golden files.
func formatRow(r row) string {
	if r.late {
		return fmt.Sprintf("late %s ts=%d v=%d", r.ev.Key, r.ts, r.ev.V)
	}
	return fmt.Sprintf("%s %s %s %d @%s", r.r.Kind, r.r.Key, fmtWindow(r.r.Window), r.r.Value, fmtTS(r.ts))
}

func fmtTS(ts int64) string {
	if ts == math.MaxInt64-1 {
		return "max"
	}
	return strconv.FormatInt(ts, 10)
}

func fmtWindow(w windowing.Window) string {
	if w == (windowing.Window{}) {
		return "global"
	}
	return fmt.Sprintf("[%d,%d)", w.Start.UnixMilli(), w.End.UnixMilli())
}

// table applies changelog rows: the final table of an updating result.
type table map[tableKey]int64

type tableKey struct {
	key        string
	start, end int64
	global     bool
}

func (t table) apply(rows []row) {
	for _, r := range rows {
		if r.late {
			continue
		}
		k := tableKey{key: r.r.Key, start: r.r.Window.Start.UnixMilli(), end: r.r.Window.End.UnixMilli()}
		k.global = r.r.Window == (windowing.Window{})
		if r.r.Kind.IsRetraction() {
			delete(t, k)
		} else {
			t[k] = r.r.Value
		}
	}
}

// timeline draws the table as one line per (key, window), windows as bars
// on a common time axis.
func (t table) timeline() string {
	keys := make([]tableKey, 0, len(t))
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for k := range t {
		keys = append(keys, k)
		if !k.global {
			lo, hi = min(lo, k.start), max(hi, k.end)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.key != b.key {
			return a.key < b.key
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end < b.end
	})
	scale := max((hi-lo+59)/60, 1)
	var sb strings.Builder
	for _, k := range keys {
		if k.global {
			fmt.Fprintf(&sb, "%-3s %-10s %s %d\n", k.key, "global", strings.Repeat("=", 10), t[k])
			continue
		}
		pos, width := int((k.start-lo)/scale), int(max((k.end-k.start)/scale, 2))
		bar := strings.Repeat(" ", pos) + "|" + strings.Repeat("-", width-2) + "|"
		fmt.Fprintf(&sb, "%-3s %-10s %-*s %d\n", k.key, fmt.Sprintf("[%d,%d)", k.start, k.end), int((hi-lo)/scale)+1, bar, t[k])
	}
	return sb.String()
}
