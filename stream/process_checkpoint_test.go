package stream_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

const pcMaxP = 16

// pcKey is a struct key: its timers use keycodec's plain struct encoding.
type pcKey struct {
	Region string
	ID     int32
}

type pcEvent struct {
	Key   pcKey
	V     int64
	Delay int64 // ms after the event time for the event-time timer
}

// timerFunc keeps a running sum per key and sets event-time and
// processing-time timers; timers emit the sum and sometimes set more
// timers or delete one. Outputs name the watermark when it matters, so a
// wrong restored watermark shows.
type timerFunc struct {
	sum *stream.ValueState[pcKey, int64]
}

func (f *timerFunc) Open(ctx *stream.OpenContext[pcKey]) (err error) {
	f.sum, err = stream.NewValueState[int64](ctx, "sum")
	return err
}

func (f *timerFunc) ProcessElement(ctx *stream.Context[pcKey, string], e pcEvent) error {
	s, _ := f.sum.Value()
	f.sum.Update(s + e.V)
	ts := ctx.Timestamp()
	if !ts.After(ctx.Watermark()) {
		ctx.Emit(fmt.Sprintf("late %v ts=%d wm=%d", ctx.Key(), ts.UnixMilli(), ctx.Watermark().UnixMilli()))
	}
	ctx.RegisterEventTimeTimer(ts.Add(time.Duration(e.Delay) * time.Millisecond))
	if e.V == 3 {
		ctx.DeleteEventTimeTimer(ts.Add(10 * time.Millisecond))
	}
	if e.V%2 == 0 {
		ctx.RegisterProcessingTimeTimer(ctx.ProcessingTime().Add(time.Duration(e.V*7) * time.Millisecond))
	}
	return nil
}

func (f *timerFunc) OnTimer(ctx *stream.Context[pcKey, string], tm stream.Timer) error {
	s, _ := f.sum.Value()
	ctx.Emit(fmt.Sprintf("%v %v at=%d sum=%d", ctx.Key(), tm.Domain, tm.Time.UnixMilli(), s))
	if tm.Domain == stream.EventTime && s > 20 {
		f.sum.Update(0)
		ctx.RegisterEventTimeTimer(tm.Time.Add(15 * time.Millisecond))
	}
	return nil
}

// pcSubtask is one ProcessOperator subtask driven by hand.
type pcSubtask struct {
	op     *stream.ProcessOperator[pcKey, pcEvent, string]
	drv    operators.Operator
	ctx    *operators.Context
	clock  *timeapi.ManualClock
	timers pcTimers
	out    pcOut
}

type pcTimers struct{ at int64 }

func (f *pcTimers) CallbackAt(at int64) { f.at = min(f.at, at) }

type pcOut struct{ lines []string }

func (c *pcOut) Push(batch any) error {
	b := batch.(*operators.Batch[string])
	for i, v := range b.Values {
		c.lines = append(c.lines, fmt.Sprintf("%s @%d", v, b.Times[i]))
	}
	return nil
}
func (c *pcOut) Watermark(int64) error { return nil }
func (c *pcOut) Flush() error          { return nil }
func (c *pcOut) EndInput() error       { return nil }

// pcCluster is p subtasks of the operator, each owning the key groups
// operators.KeyGroupRangeFor gives it.
type pcCluster struct {
	subs []*pcSubtask
	hash func(pcKey) uint64
}

type pcCkpt struct {
	fs      *vfs.Mem
	handles []statebackend.Handle
	kgs     map[int][]byte
	ops     [][]byte
}

// newPCCluster opens p subtasks at processing time now; with ck they
// restore it like the runtime does: backend, Open, owned key groups, then
// the operator state of every old subtask.
func newPCCluster(t *testing.T, p int, ck *pcCkpt, now int64) *pcCluster {
	t.Helper()
	c := &pcCluster{hash: operators.HashFunc[pcKey]()}
	for i := range p {
		s, err := openPCSubtask(i, p, ck, now)
		if err != nil {
			t.Fatalf("subtask %d of %d: %v", i, p, err)
		}
		c.subs = append(c.subs, s)
	}
	return c
}

func openPCSubtask(i, p int, ck *pcCkpt, now int64) (*pcSubtask, error) {
	r := operators.KeyGroupRangeFor(i, pcMaxP, p)
	s := &pcSubtask{clock: timeapi.NewManualClock(time.UnixMilli(now)), timers: pcTimers{at: math.MaxInt64}}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "process", Subtask: i, KeyGroups: r, MaxParallelism: pcMaxP})
	if err != nil {
		return nil, err
	}
	if ck != nil {
		if err := be.(statebackend.Restorer).Restore(ck.fs, ck.handles); err != nil {
			return nil, err
		}
	}
	s.ctx = &operators.Context{Operator: "process", Subtask: i, Parallelism: p, MaxParallelism: pcMaxP, BatchSize: 3,
		KeyGroups: r, State: be, Clock: s.clock, Logger: zap.NewNop(), Timers: &s.timers}
	s.op = stream.NewProcessOperator(func(e pcEvent) pcKey { return e.Key }, stream.KeyedProcessFunc[pcKey, pcEvent, string](&timerFunc{}))
	s.drv = operators.Drive[pcEvent, string](s.op)
	if err := s.drv.Open(s.ctx, &s.out); err != nil {
		return nil, err
	}
	if ck == nil {
		return s, nil
	}
	for kg, data := range ck.kgs {
		if r.Contains(kg) {
			if err := s.op.RestoreKeyGroup(kg, data); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range ck.ops {
		if err := s.op.RestoreState(st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (c *pcCluster) checkpoint(t *testing.T) *pcCkpt {
	t.Helper()
	ck := &pcCkpt{fs: vfs.NewMem(), kgs: map[int][]byte{}}
	for i, s := range c.subs {
		snap, err := s.ctx.State.Snapshot(s.ctx.KeyGroups)
		if err != nil {
			t.Fatal(err)
		}
		kgs, err := s.op.SnapshotKeyGroups(s.ctx.KeyGroups)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.op.SnapshotState(1)
		if err != nil {
			t.Fatal(err)
		}
		dir := "chk/" + strconv.Itoa(i)
		if err := ck.fs.MkdirAll(dir); err != nil {
			t.Fatal(err)
		}
		h, err := snap.(statebackend.Persister).Persist(ck.fs, dir)
		snap.Release()
		if err != nil {
			t.Fatal(err)
		}
		ck.handles = append(ck.handles, h)
		for kg, b := range kgs {
			if !s.ctx.KeyGroups.Contains(kg) {
				t.Fatalf("subtask %d snapshotted key group %d outside %v", i, kg, s.ctx.KeyGroups)
			}
			ck.kgs[kg] = b
		}
		ck.ops = append(ck.ops, st)
	}
	return ck
}

type pcStep struct {
	evs []pcEvent
	ts  []int64
	wm  int64
	now int64
}

// step feeds one step (records, then processing time, then the
// watermark) and returns the output, sorted.
func (c *pcCluster) step(t *testing.T, st pcStep) []string {
	t.Helper()
	for _, s := range c.subs {
		b := operators.NewBatch[pcEvent](len(st.evs))
		for i, e := range st.evs {
			if s.ctx.KeyGroups.Contains(operators.KeyGroupOf(c.hash(e.Key), pcMaxP)) {
				b.Append(e, st.ts[i])
			}
		}
		if err := s.drv.Push(b); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(time.UnixMilli(st.now))
		if s.timers.at <= st.now {
			s.timers.at = math.MaxInt64
			if err := s.drv.(operators.ProcessingTimeHandler).OnProcessingTime(st.now); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.drv.Watermark(st.wm); err != nil {
			t.Fatal(err)
		}
	}
	return c.take()
}

func (c *pcCluster) take() []string {
	var out []string
	for _, s := range c.subs {
		_ = s.drv.Flush()
		out = append(out, s.out.lines...)
		s.out.lines = nil
	}
	slices.Sort(out)
	return out
}

func (c *pcCluster) pending() int {
	n := 0
	for _, s := range c.subs {
		n += s.op.PendingTimerCount()
	}
	return n
}

func pcSteps(rng *rand.Rand, n int) []pcStep {
	steps := make([]pcStep, n)
	for i := range steps {
		now := int64(i) * 10
		st := pcStep{now: now, wm: now - 5}
		for range rng.IntN(8) {
			k := pcKey{Region: []string{"eu", "us", "ap"}[rng.IntN(3)], ID: int32(rng.IntN(6))}
			st.evs = append(st.evs, pcEvent{Key: k, V: rng.Int64N(6) + 1, Delay: rng.Int64N(30)})
			st.ts = append(st.ts, now+rng.Int64N(10)-rng.Int64N(20)) // some late
		}
		steps[i] = st
	}
	return steps
}

// TestProcessTimersRestore: a ProcessOperator snapshotted between two
// steps and restored into fresh subtasks (twice, at the same or another
// parallelism) emits, step by step, what an uninterrupted one emits:
// event-time timers fire at the same watermarks, processing-time timers at
// the same times, deleted timers stay deleted, and the watermark (hence
// lateness) is the same.
func TestProcessTimersRestore(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 5))
	restores := 0
	for _, ps := range [][2]int{{1, 1}, {2, 2}, {1, 3}, {3, 2}, {4, 1}} {
		for range 4 {
			restores += checkPCRestore(t, fmt.Sprintf("p=%d->%d->%d", ps[0], ps[0], ps[1]), ps, pcSteps(rng, 100), rng)
		}
	}
	t.Logf("%d restores", restores)
}

func checkPCRestore(t *testing.T, name string, ps [2]int, steps []pcStep, rng *rand.Rand) int {
	ref := newPCCluster(t, 1, nil, 0)
	cur := newPCCluster(t, ps[0], nil, 0)
	cuts := []int{55 + rng.IntN(30), 15 + rng.IntN(30)} // popped from the end
	restores := 0
	for i, st := range steps {
		want, got := ref.step(t, st), cur.step(t, st)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: step %d (wm %d, now %d): got\n%v\nwant\n%v", name, i, st.wm, st.now, got, want)
		}
		if got, want := cur.pending(), ref.pending(); got != want {
			t.Fatalf("%s: step %d: %d pending timers, want %d", name, i, got, want)
		}
		if j := len(cuts) - 1; j >= 0 && i >= cuts[j] && cur.pending() > 0 {
			cuts = cuts[:j]
			restores++
			ck := cur.checkpoint(t)
			for _, more := range steps[i+1 : min(i+4, len(steps))] {
				cur.step(t, more) // the old subtasks go on: the checkpoint must not share their memory
			}
			cur = newPCCluster(t, ps[1-j], ck, st.now)
			if got, want := cur.pending(), ref.pending(); got != want {
				t.Fatalf("%s: restored %d timers at step %d, want %d", name, got, i, want)
			}
		}
	}
	end := pcStep{wm: timeapi.MaxWatermark, now: steps[len(steps)-1].now + 1000}
	if want, got := ref.step(t, end), cur.step(t, end); !slices.Equal(got, want) {
		t.Fatalf("%s: at the end: got\n%v\nwant\n%v", name, got, want)
	}
	if cur.pending() != 0 {
		t.Fatalf("%s: %d timers pending after the end", name, cur.pending())
	}
	return restores
}

// TestProcessTimersSnapshotFormat pins what a snapshot holds: only key
// groups with timers, in a format that restores the same timers, and
// corrupt or foreign data is an error, not a panic.
func TestProcessTimersSnapshotFormat(t *testing.T) {
	c := newPCCluster(t, 1, nil, 0)
	k := pcKey{Region: "eu", ID: 7}
	c.step(t, pcStep{evs: []pcEvent{{Key: k, V: 2, Delay: 5}}, ts: []int64{100}, wm: 0, now: 0})
	s := c.subs[0]
	kgs, err := s.op.SnapshotKeyGroups(s.ctx.KeyGroups)
	if err != nil {
		t.Fatal(err)
	}
	kg := operators.KeyGroupOf(c.hash(k), pcMaxP)
	if len(kgs) != 1 || kgs[kg] == nil {
		t.Fatalf("snapshot has key groups %v, want only %d", slices.Collect(maps.Keys(kgs)), kg)
	}
	data := kgs[kg]
	// The snapshot is a copy: registering more timers does not change it.
	before := slices.Clone(data)
	c.step(t, pcStep{evs: []pcEvent{{Key: k, V: 4, Delay: 1}}, ts: []int64{50}, wm: 1, now: 1})
	if !slices.Equal(before, data) {
		t.Fatal("the snapshot changed after the operator went on")
	}
	fresh := newPCCluster(t, 1, nil, 0)
	op := fresh.subs[0].op
	if err := op.RestoreKeyGroup(kg, data); err != nil {
		t.Fatal(err)
	}
	want := []stream.Timer{
		{Time: time.UnixMilli(14).UTC(), Domain: stream.ProcessingTime},
		{Time: time.UnixMilli(105).UTC(), Domain: stream.EventTime},
	}
	if got := op.PendingTimers(k); !slices.Equal(got, want) {
		t.Fatalf("restored timers %v, want %v", got, want)
	}
	if fresh.subs[0].timers.at != 14 {
		t.Fatalf("restored processing-time timer asked for a callback at %d, want 14", fresh.subs[0].timers.at)
	}
	for name, bad := range map[string]struct {
		kg   int
		data []byte
	}{
		"version":     {kg, append([]byte{9}, data[1:]...)},
		"truncated":   {kg, data[:len(data)-1]},
		"trailing":    {kg, append(slices.Clone(data), 0)},
		"empty":       {kg, nil},
		"huge count":  {kg, []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		"domain":      {kg, []byte{1, 1, 7, 2, 1, 0}},
		"wrong group": {(kg + 1) % pcMaxP, data},
	} {
		err := newPCCluster(t, 1, nil, 0).subs[0].op.RestoreKeyGroup(bad.kg, bad.data)
		if err == nil {
			t.Errorf("%s: restored without error", name)
		}
		if name == "truncated" && !errors.Is(err, keycodec.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	for _, st := range [][]byte{nil, {9, 0}, {1}, {1, 0, 0}} {
		if err := op.RestoreState(st); err == nil {
			t.Errorf("operator state %x: restored without error", st)
		}
	}
}

// TestProcessTimersRestoreOrder: after a restore, timers due at one time
// fire in registration order (restored ones first), and the restored
// watermark does not go back when the restarted input's first watermark
// is lower.
func TestProcessTimersRestoreOrder(t *testing.T) {
	a, b := pcKey{Region: "a"}, pcKey{Region: "b"}
	c := newPCCluster(t, 1, nil, 0)
	// Timers of a at 50, 60, 70 and 100: the one at 100 is the 4th.
	c.step(t, pcStep{
		evs: []pcEvent{{Key: a, V: 1, Delay: 10}, {Key: a, V: 1, Delay: 19}, {Key: a, V: 1, Delay: 28}, {Key: a, V: 1, Delay: 50}},
		ts:  []int64{40, 41, 42, 50}, wm: 30,
	})
	r := newPCCluster(t, 1, c.checkpoint(t), 0)
	s := r.subs[0]
	if err := s.drv.Watermark(20); err != nil { // the restarted source's first watermark
		t.Fatal(err)
	}
	b1 := operators.NewBatch[pcEvent](2)
	b1.Append(pcEvent{Key: b, V: 1, Delay: 10}, 90) // b's timer at 100, registered after a's
	b1.Append(pcEvent{Key: b, V: 1, Delay: 100}, 25)
	if err := s.drv.Push(b1); err != nil {
		t.Fatal(err)
	}
	if err := s.drv.Watermark(100); err != nil {
		t.Fatal(err)
	}
	_ = s.drv.Flush()
	want := []string{
		"late {b 0} ts=25 wm=30 @25",
		"{a 0} event-time at=50 sum=4 @50",
		"{a 0} event-time at=60 sum=4 @60",
		"{a 0} event-time at=70 sum=4 @70",
		"{a 0} event-time at=100 sum=4 @100",
		"{b 0} event-time at=100 sum=2 @100",
	}
	if !slices.Equal(s.out.lines, want) {
		t.Fatalf("got\n%q\nwant\n%q", s.out.lines, want)
	}
}
