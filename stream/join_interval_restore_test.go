package stream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/timeapi"
)

type ijStep struct {
	k, ts, id int64
	right     bool
	wm        int64 // >0: watermark step
}

type ijH struct {
	op  *intervalJoinOp[int64, int64, int64, string]
	drv operators.Operator
	out collectOut[string]
	be  statebackend.Backend
}

func newIJH(t *testing.T, be statebackend.Backend, lo, up int64, outer bool) *ijH {
	maxP := statebackend.DefaultMaxParallelism
	all := statebackend.KeyGroupRange{Start: 0, End: maxP}
	h := &ijH{be: be}
	h.op = newIntervalJoinOp[int64, int64, int64, string](lo, up, outer, func(l int64, r *int64) string {
		if r == nil {
			return fmt.Sprintf("%d/-", l)
		}
		return fmt.Sprintf("%d/%d", l, *r)
	})
	ctx := &operators.Context{Operator: "join", Parallelism: 1, MaxParallelism: maxP, BatchSize: 1,
		KeyGroups: all, State: be, Clock: timeapi.NewManualClock(time.UnixMilli(0)), Logger: zap.NewNop(), Timers: &procTimer{}}
	h.drv = operators.Drive[joinIn[int64, int64, int64], string](h.op)
	if err := h.drv.Open(ctx, &h.out); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *ijH) step(t *testing.T, s ijStep) {
	if s.wm != 0 {
		if err := h.drv.Watermark(s.wm); err != nil {
			t.Fatal(err)
		}
		return
	}
	b := operators.NewBatch[joinIn[int64, int64, int64]](1)
	e := joinIn[int64, int64, int64]{key: s.k, right: s.right}
	if s.right {
		e.r = s.id
	} else {
		e.l = s.id
	}
	b.Append(e, s.ts)
	if err := h.drv.Push(b); err != nil {
		t.Fatal(err)
	}
}

func (h *ijH) take() []string {
	var out []string
	for i, v := range h.out.vals {
		out = append(out, fmt.Sprintf("%s@%d", v, h.out.times[i]))
	}
	h.out.vals, h.out.times = nil, nil
	return out
}

func memBE(t *testing.T) statebackend.Backend {
	maxP := statebackend.DefaultMaxParallelism
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "join", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: maxP}, MaxParallelism: maxP})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

func TestIJScratch(t *testing.T) {
	bounds := [][2]int64{{-10, 10}, {0, 5}, {-20, -5}, {3, 12}, {0, 0}}
	for seed := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		bd := bounds[seed%len(bounds)]
		outer := seed%2 == 0
		var steps []ijStep
		var maxTs int64 = 100
		var wm int64
		type rec struct{ k, ts, id int64 }
		var ls, rs []rec
		for i := range 3000 {
			if i%37 == 36 {
				wm = max(wm, maxTs-15)
				steps = append(steps, ijStep{wm: wm})
				continue
			}
			maxTs += rng.Int64N(3)
			ts := maxTs - rng.Int64N(20)
			s := ijStep{k: rng.Int64N(1 + int64(seed%3)), ts: ts, id: int64(i), right: rng.IntN(2) == 0}
			steps = append(steps, s)
			if ts > wm {
				if s.right {
					rs = append(rs, rec{s.k, ts, s.id})
				} else {
					ls = append(ls, rec{s.k, ts, s.id})
				}
			}
		}
		steps = append(steps, ijStep{wm: timeapi.MaxWatermark})
		var want []string
		for _, l := range ls {
			m := false
			for _, r := range rs {
				if l.k == r.k && r.ts >= l.ts+bd[0] && r.ts <= l.ts+bd[1] {
					want = append(want, fmt.Sprintf("%d/%d@%d", l.id, r.id, max(l.ts, r.ts)))
					m = true
				}
			}
			if outer && !m {
				want = append(want, fmt.Sprintf("%d/-@%d", l.id, l.ts))
			}
		}
		slices.Sort(want)
		check := func(name string, got []string) {
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d %s: %d results, want %d", seed, name, len(got), len(want))
			}
		}
		// plain memstate
		h := newIJH(t, memBE(t), bd[0], bd[1], outer)
		for _, s := range steps {
			h.step(t, s)
		}
		if st := h.op.JoinStats(); st.Buffered != 0 || st.Pending != 0 {
			t.Fatalf("seed %d: stats %+v", seed, st)
		}
		check("mem", h.take())
		// pebble (no Ptr)
		dir := t.TempDir()
		pbe, err := pebblestate.New(dir, pebblestate.Options{}).NewBackend(statebackend.TaskInfo{Operator: "join", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 128}, MaxParallelism: 128})
		if err != nil {
			t.Fatal(err)
		}
		h = newIJH(t, pbe, bd[0], bd[1], outer)
		if h.op.ptr != nil {
			t.Fatal("pebble has ptr")
		}
		for _, s := range steps {
			h.step(t, s)
		}
		if st := h.op.JoinStats(); st.Buffered != 0 || st.Pending != 0 {
			t.Fatalf("seed %d pebble: stats %+v", seed, st)
		}
		check("pebble", h.take())
		pbe.Close()
		// snapshot held during updates, then restore
		cut := 1000 + seed*20
		h = newIJH(t, memBE(t), bd[0], bd[1], outer)
		var lastWM int64
		for _, s := range steps[:cut] {
			h.step(t, s)
			if s.wm != 0 {
				lastWM = s.wm
			}
		}
		got := h.take()
		snap, err := h.be.Snapshot(statebackend.KeyGroupRange{Start: 0, End: 128})
		if err != nil {
			t.Fatal(err)
		}
		fs := vfs.NewMem()
		fs.MkdirAll("a")
		fs.MkdirAll("b")
		h1, err := snap.(statebackend.Persister).Persist(fs, "a")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps[cut:] { // keep mutating with the view live
			h.step(t, s)
		}
		h2, err := snap.(statebackend.Persister).Persist(fs, "b")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := fs.ReadFile(h1.Files[0])
		b, _ := fs.ReadFile(h2.Files[0])
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("seed %d: snapshot changed under writes (%d vs %d bytes)", seed, len(a), len(b))
		}
		snap.Release()
		nbe := memBE(t)
		if err := nbe.(statebackend.Restorer).Restore(fs, []statebackend.Handle{h1}); err != nil {
			t.Fatal(err)
		}
		h = newIJH(t, nbe, bd[0], bd[1], outer)
		if lastWM != 0 {
			h.step(t, ijStep{wm: lastWM})
		}
		for _, s := range steps[cut:] {
			h.step(t, s)
		}
		check("restored", append(got, h.take()...))
	}
}
