package windowing_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

const ckMaxP = 16 // few key groups, so that subtasks share keys' groups unevenly

// cluster is one window operator run by p harnesses, each owning the key
// groups operators.KeyGroupRangeFor gives it, like a job's subtasks.
type cluster struct {
	hs   []*harness
	hash func(string) uint64
}

// ckpt is a checkpoint of a cluster: persisted backend state, the
// operator's key-group state and its operator state, per subtask.
type ckpt struct {
	fs      *vfs.Mem
	handles []statebackend.Handle
	kgs     map[int][]byte
	ops     [][]byte
}

// newCluster opens p subtasks; with ck they restore it, at processing
// time now, the way the runtime does: backend first, then Open, then the
// key groups each subtask owns, then the operator state of every old
// subtask.
func newCluster(t *testing.T, ho harnessOptions, p int, ck *ckpt, now int64) *cluster {
	t.Helper()
	c := &cluster{hash: operators.HashFunc[string]()}
	for i := range p {
		r := operators.KeyGroupRangeFor(i, ckMaxP, p)
		h, err := openSubtask(ho, i, p, r, ck, now)
		if err != nil {
			t.Fatalf("subtask %d of %d: %v", i, p, err)
		}
		c.hs = append(c.hs, h)
	}
	return c
}

func openSubtask(ho harnessOptions, i, p int, r statebackend.KeyGroupRange, ck *ckpt, now int64) (*harness, error) {
	h := &harness{clock: timeapi.NewManualClock(time.UnixMilli(now)), wm: timeapi.MinWatermark}
	h.timers.at = math.MaxInt64
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "window", Subtask: i, KeyGroups: r, MaxParallelism: ckMaxP})
	if err != nil {
		return nil, err
	}
	if ck != nil {
		if err := be.(statebackend.Restorer).Restore(ck.fs, ck.handles); err != nil {
			return nil, err
		}
	}
	h.ctx = &operators.Context{Operator: "window", Subtask: i, Parallelism: p, MaxParallelism: ckMaxP, BatchSize: 4,
		KeyGroups: r, State: be, Clock: h.clock, Logger: zap.NewNop(), Timers: &h.timers}
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
	if err := h.drv.Open(h.ctx, &h.out); err != nil {
		return nil, err
	}
	if ck == nil {
		return h, nil
	}
	for kg, data := range ck.kgs {
		if r.Contains(kg) {
			if err := h.op.RestoreKeyGroup(kg, data); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range ck.ops {
		if err := h.op.RestoreState(st); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// checkpoint snapshots every subtask at a barrier (between two steps).
func (c *cluster) checkpoint(t *testing.T) *ckpt {
	t.Helper()
	ck := &ckpt{fs: vfs.NewMem(), kgs: map[int][]byte{}}
	for i, h := range c.hs {
		snap, err := h.ctx.State.Snapshot(h.ctx.KeyGroups)
		if err != nil {
			t.Fatal(err)
		}
		kgs, err := h.op.SnapshotKeyGroups(h.ctx.KeyGroups)
		if err != nil {
			t.Fatal(err)
		}
		st, err := h.op.SnapshotState(int64(i))
		if err != nil {
			t.Fatal(err)
		}
		dir := "chk/" + strconv.Itoa(i)
		if err := ck.fs.MkdirAll(dir); err != nil {
			t.Fatal(err)
		}
		hd, err := snap.(statebackend.Persister).Persist(ck.fs, dir)
		snap.Release()
		if err != nil {
			t.Fatal(err)
		}
		ck.handles = append(ck.handles, hd)
		for kg, b := range kgs {
			if !h.ctx.KeyGroups.Contains(kg) {
				t.Fatalf("subtask %d snapshotted key group %d outside %v", i, kg, h.ctx.KeyGroups)
			}
			ck.kgs[kg] = b
		}
		ck.ops = append(ck.ops, st)
	}
	return ck
}

// step feeds one step to the subtasks owning its keys and returns what
// they emitted.
func (c *cluster) step(t *testing.T, s ckStep) []row {
	t.Helper()
	for _, h := range c.hs {
		var evs []event
		var ts []int64
		for i, e := range s.evs {
			if h.ctx.KeyGroups.Contains(operators.KeyGroupOf(c.hash(e.Key), ckMaxP)) {
				evs, ts = append(evs, e), append(ts, s.ts[i])
			}
		}
		if err := h.add(evs, ts); err != nil {
			t.Fatal(err)
		}
		if err := h.processTime(s.now); err != nil {
			t.Fatal(err)
		}
		if err := h.watermark(s.wm); err != nil {
			t.Fatal(err)
		}
	}
	return c.take()
}

func (c *cluster) end(t *testing.T) []row {
	t.Helper()
	for _, h := range c.hs {
		if err := h.end(); err != nil {
			t.Fatal(err)
		}
	}
	return c.take()
}

func (c *cluster) take() []row {
	var out []row
	for _, h := range c.hs {
		out = append(out, h.take()...)
	}
	return out
}

// lines formats rows, sorted (subtasks interleave differently).
func lines(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = formatRow(r)
	}
	slices.Sort(out)
	return out
}

func (c *cluster) timers() int { return c.stats().Timers }

func (c *cluster) stats() windowing.Stats {
	var s windowing.Stats
	for _, h := range c.hs {
		hs := h.op.Stats()
		s.Entries += hs.Entries
		s.Timers += hs.Timers
		s.DroppedLate += hs.DroppedLate
	}
	return s
}

func (c *cluster) close() {
	for _, h := range c.hs {
		_ = h.close()
	}
}

type ckStep struct {
	evs    []event
	ts     []int64
	wm     int64
	now    int64 // processing time
	cutAft bool
}

func ckSteps(rng *rand.Rand, n int) []ckStep {
	steps := make([]ckStep, n)
	for i := range steps {
		now := int64(i) * 10
		s := ckStep{now: now, wm: now - 5}
		for range rng.IntN(9) {
			s.evs = append(s.evs, event{Key: "k" + strconv.Itoa(rng.IntN(12)), V: rng.Int64N(5) + 1})
			s.ts = append(s.ts, now+rng.Int64N(10)-rng.Int64N(30)) // some late
		}
		steps[i] = s
	}
	return steps
}

// TestCheckpointRestore: a window operator snapshotted between two steps
// and restored into fresh subtasks (1, 2 or 3 of them, twice in a row)
// emits, step by step, what an uninterrupted operator emits: timers fire at
// the same watermarks, cleanup timers free state, late elements are late,
// and periodic (Every) emissions happen at the same processing times.
// Processing-time windows fire at the same processing times: the restored
// operator asks for the callback of its restored timers.
func TestCheckpointRestore(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 4))
	assigners := []windowing.Assigner{
		windowing.Tumbling(10 * time.Millisecond), windowing.Sliding(20*time.Millisecond, 5*time.Millisecond),
		windowing.Session(4 * time.Millisecond), windowing.Cumulate(5*time.Millisecond, 20*time.Millisecond),
		windowing.Global(),
		// longer than a step (10ms of processing time), so that timers are
		// pending between steps
		windowing.Tumbling(30 * time.Millisecond).ByProcessingTime(),
		windowing.Sliding(40*time.Millisecond, 15*time.Millisecond).ByProcessingTime(),
		windowing.Session(15 * time.Millisecond).ByProcessingTime(),
	}
	opts := []harnessOptions{
		{},
		{lateness: 15 * time.Millisecond, lateOut: true},
		{emit: windowing.Every(25 * time.Millisecond), lateness: 10 * time.Millisecond},
		{trigger: windowing.CountTrigger(4)},
	}
	cases, restored := 0, 0
	for _, a := range assigners {
		for _, ho := range opts {
			ho.assigner, ho.maxP = a, ckMaxP
			if a == windowing.Global() && ho.trigger == nil && !ho.emit.IsEarly() {
				continue // a global window fires at the end only: nothing to compare mid-way
			}
			if a.IsProcessingTime() {
				if ho.lateOut {
					continue // nothing is late in processing time
				}
				ho.lateness = 0
			}
			for _, ps := range [][2]int{{1, 1}, {2, 3}, {3, 1}} {
				name := fmt.Sprintf("%v/lateness=%v/emit=%v/trigger=%v/p=1->%d->%d", a, ho.lateness, ho.emit, ho.trigger != nil, ps[0], ps[1])
				restored += checkRestore(t, name, ho, ps, ckSteps(rng, 120), rng)
				cases++
			}
		}
	}
	t.Logf("%d cases, %d restores", cases, restored)
	if restored < 2*cases*9/10 {
		t.Fatalf("only %d restores in %d cases: the test does not test", restored, cases)
	}
}

// checkRestore runs steps through a reference cluster and through one
// restored twice (at two random cuts, into ps[0] then ps[1] subtasks) and
// compares their output step by step. Periodic emission (Every) depends
// on how keys are spread over subtasks, so with another parallelism only
// the final result tables are compared. Cuts fall where timers are
// pending; it returns the number of restores.
func checkRestore(t *testing.T, name string, ho harnessOptions, ps [2]int, steps []ckStep, rng *rand.Rand) int {
	ref := newCluster(t, ho, 1, nil, 0)
	defer ref.close()
	cur := newCluster(t, ho, 1, nil, 0)
	cuts := []int{60 + rng.IntN(40), 20 + rng.IntN(40)} // popped from the end
	exact := !ho.emit.IsEarly() || ho.emit == windowing.OnUpdate() || ps == [2]int{1, 1}
	refTab, curTab := table{}, table{}
	restores := 0
	for i, s := range steps {
		wantRows, gotRows := ref.step(t, s), cur.step(t, s)
		refTab.apply(wantRows)
		curTab.apply(gotRows)
		if want, got := lines(wantRows), lines(gotRows); exact && !slices.Equal(got, want) {
			t.Fatalf("%s: step %d (wm %d, now %d): got\n%v\nwant\n%v", name, i, s.wm, s.now, got, want)
		}
		if got, want := cur.stats().Entries, ref.stats().Entries; exact && got != want {
			t.Fatalf("%s: step %d: %d state entries, want %d", name, i, got, want)
		}
		// Cut at the first step from cuts[j] on with pending timers.
		if j := len(cuts) - 1; j >= 0 && i >= cuts[j] && i < len(steps)-4 && cur.timers() > 0 {
			cuts = cuts[:j]
			restores++
			ck := cur.checkpoint(t)
			// The old subtasks go on a little: the checkpoint must not
			// share memory with them.
			for _, more := range steps[i+1 : min(i+4, len(steps))] {
				cur.step(t, more)
			}
			cur.close()
			cur = newCluster(t, ho, ps[1-j], ck, s.now)
			if cur.timers() == 0 && ref.timers() > 0 {
				t.Fatalf("%s: restored at step %d without timers; the reference has %d", name, i, ref.timers())
			}
		}
	}
	defer cur.close()
	wantRows, gotRows := ref.end(t), cur.end(t)
	refTab.apply(wantRows)
	curTab.apply(gotRows)
	if want, got := lines(wantRows), lines(gotRows); exact && !slices.Equal(got, want) {
		t.Fatalf("%s: at the end: got\n%v\nwant\n%v", name, got, want)
	}
	if st := cur.stats(); st.Entries != 0 || st.Timers != 0 {
		t.Fatalf("%s: after the end %+v, want no state and no timers", name, st)
	}
	if !maps.Equal(curTab, refTab) {
		t.Fatalf("%s: final results differ: got\n%swant\n%s", name, curTab.timeline(), refTab.timeline())
	}
	return restores
}

// TestRestoreKeyGroupErrors: corrupt or foreign key-group state is an
// error, never a panic or a silently wrong timer.
func TestRestoreKeyGroupErrors(t *testing.T) {
	ho := harnessOptions{assigner: windowing.Tumbling(10 * time.Millisecond), maxP: ckMaxP}
	c := newCluster(t, ho, 1, nil, 0)
	defer c.close()
	c.step(t, ckStep{evs: []event{{Key: "a", V: 1}}, ts: []int64{3}, wm: 0})
	kgs, err := c.hs[0].op.SnapshotKeyGroups(c.hs[0].ctx.KeyGroups)
	if err != nil || len(kgs) != 1 {
		t.Fatalf("snapshot: %v, %d key groups", err, len(kgs))
	}
	var kg int
	var data []byte
	for kg, data = range kgs {
	}
	h := c.hs[0]
	for name, bad := range map[string]struct {
		kg   int
		data []byte
	}{
		"version":     {kg, append([]byte{9}, data[1:]...)},
		"truncated":   {kg, data[:len(data)-1]},
		"trailing":    {kg, append(slices.Clone(data), 0)},
		"empty":       {kg, nil},
		"huge count":  {kg, []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		"wrong group": {(kg + 1) % ckMaxP, data},
	} {
		if err := h.op.RestoreKeyGroup(bad.kg, bad.data); err == nil {
			t.Errorf("%s: restored without error", name)
		}
	}
	for _, st := range [][]byte{nil, {9, 0, 0}, {1}, {1, 0, 0, 0}} {
		if err := h.op.RestoreState(st); err == nil {
			t.Errorf("operator state %x: restored without error", st)
		}
	}
}

// TestSnapshotKeyGroupsDeterministic: a key group's timers are written in
// time order, so the same state gives the same bytes, however the
// operator's buckets (a map by time) iterate.
func TestSnapshotKeyGroupsDeterministic(t *testing.T) {
	ho := harnessOptions{assigner: windowing.Tumbling(10 * time.Millisecond), maxP: ckMaxP}
	c := newCluster(t, ho, 1, nil, 0)
	defer c.close()
	var st ckStep
	for i := range 40 { // 40 windows, so 40 timer buckets, of one key
		st.evs = append(st.evs, event{Key: "a", V: int64(i)})
		st.ts = append(st.ts, int64(i)*10)
	}
	c.step(t, st)
	first, err := c.hs[0].op.SnapshotKeyGroups(c.hs[0].ctx.KeyGroups)
	if err != nil || len(first) != 1 {
		t.Fatalf("snapshot: %v, %d key groups", err, len(first))
	}
	for range 10 {
		again, err := c.hs[0].op.SnapshotKeyGroups(c.hs[0].ctx.KeyGroups)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(first, again, slices.Equal) {
			t.Fatal("two snapshots of the same timers differ")
		}
	}
}

// BenchmarkSnapshotKeyGroups snapshots the timers of 100k session windows
// (one per key, ending at 20k distinct times over 128 key groups): the
// part of a checkpoint the task does itself, before it goes on.
func BenchmarkSnapshotKeyGroups(b *testing.B) {
	h, err := newHarness(harnessOptions{assigner: windowing.Session(10 * time.Second), maxP: 128})
	if err != nil {
		b.Fatal(err)
	}
	const keys = 100_000
	evs, ts := make([]event, keys), make([]int64, keys)
	for i := range keys {
		evs[i], ts[i] = event{Key: "k" + strconv.Itoa(i), V: 1}, int64(i/5)
	}
	if err := h.add(evs, ts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		kgs, err := h.op.SnapshotKeyGroups(h.ctx.KeyGroups)
		if err != nil || len(kgs) != 128 {
			b.Fatalf("%d key groups, %v", len(kgs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys, "ns/timer")
}
