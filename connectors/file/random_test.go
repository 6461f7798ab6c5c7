package file_test

import (
	"flag"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
)

var seedFlag = flag.Uint64("file.seed", 0, "seed of TestRandomCrashesExactlyOnce (0: time-based)")

// TestRandomCrashesExactlyOnce plays a runtime against the sink: a
// replayable source of the numbers 0..n-1, partitioned over a parallelism
// that changes at every restore, checkpoints, crashes at random points
// (before, during and after pre-commit, completion and commit) and
// restores from the last complete checkpoint. The reference is dumb: the
// committed output must hold every number exactly once.
func TestRandomCrashesExactlyOnce(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -file.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	iters := 12
	if testing.Short() {
		iters = 3
	}
	crashes := 0
	for iter := range iters {
		crashes += randomRun(t, rng, iter)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d runs, %d crashes", iters, crashes)
}

// manifest is what a complete checkpoint stores for the sink.
type manifest struct {
	id      int64
	offset  int // source position after the checkpoint's records
	handles [][]byte
}

func randomRun(t *testing.T, rng *rand.Rand, iter int) (crashes int) {
	const n = 300
	dir := t.TempDir()
	s := file.NewSink(dir, file.Lines(strconv.Itoa),
		file.Options{RollSize: int64(1 + rng.IntN(60)), BufferSize: 1 + rng.IntN(32)})
	var last *manifest // the latest complete checkpoint
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatalf("iter %d: no progress after %d attempts", iter, attempt)
		}
		p := 1 + rng.IntN(3)
		ws := make([]*file.Writer[int], p)
		for i := range ws {
			ws[i] = open(t, s, i, p)
		}
		pos, id := 0, int64(0)
		if attempt > 0 { // a restart; without a complete checkpoint it restores nothing
			var handles [][]byte
			if last != nil {
				handles = last.handles
				pos, id = last.offset, last.id
			}
			for _, h := range handles { // the runtime commits the restored handles
				must(t, ws[0].Commit(h))
			}
			for _, w := range ws {
				must(t, w.Recover(handles))
			}
		}
		if runAttempt(t, rng, ws, &pos, &id, &last, n) {
			break
		}
		crashes++ // the writers are abandoned without Close, like a dead process
	}
	for _, name := range ls(t, dir) {
		if name[0] == '.' || name[0] == '_' {
			t.Errorf("iter %d (%d crashes): %s left behind", iter, crashes, name)
		}
	}
	got, err := file.ReadCommitted(dir)
	must(t, err)
	want := make([]string, n)
	for i := range want {
		want[i] = strconv.Itoa(i)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("iter %d (%d crashes): committed %d lines, want each of 0..%d once:\n%v", iter, crashes, len(got), n-1, got)
	}
	return crashes
}

// runAttempt runs one process lifetime from *pos. It returns true when the
// input is complete and committed, false on a simulated crash.
func runAttempt(t *testing.T, rng *rand.Rand, ws []*file.Writer[int], pos *int, id *int64, last **manifest, n int) bool {
	crash := func() bool { return rng.IntN(12) == 0 }
	p := len(ws)
	for {
		if *pos < n && rng.IntN(3) > 0 { // write a batch, routed by value
			k := min(n-*pos, 1+rng.IntN(20))
			for v := *pos; v < *pos+k; v++ {
				write(t, ws[v%p], v)
			}
			*pos += k
			continue
		}
		final := *pos == n
		if final {
			for _, w := range ws {
				must(t, w.EndOfInput())
			}
		}
		*id++
		m := &manifest{id: *id, offset: *pos}
		for _, w := range ws {
			if crash() {
				return false // during pre-commit
			}
			m.handles = append(m.handles, preCommit(t, w, *id))
		}
		if crash() {
			return false // before the checkpoint is complete
		}
		*last = m
		for _, h := range m.handles {
			if crash() {
				return false // complete, but not (fully) committed
			}
			must(t, ws[rng.IntN(p)].Commit(h))
		}
		if final {
			return true
		}
	}
}
