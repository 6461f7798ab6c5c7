package nexmark

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

// ckptQuery is a windowed query with local operator state, for
// TestWindowedCheckpointRestore.
type ckptQuery struct {
	name string
	// job builds the query into a job ending in an exactly-once file sink;
	// gate, when not nil, counts the events of a first run that is shut
	// off half-way (gatedSource), so that it is killed there.
	job  func(t *testing.T, opts Options, dir string, gate *atomic.Int64) *stream.Job
	want func(events winEvents) []string
}

func ckptCase[R any](name string, build func(stream.DataStream[Event]) stream.DataStream[R],
	hand func(winEvents, func(R)), format func(R) string) ckptQuery {
	return ckptQuery{
		name: name,
		job: func(t *testing.T, opts Options, dir string, gate *atomic.Int64) *stream.Job {
			job := stream.NewJob("ckpt-" + name)
			src, err := gen.NewSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			// the query's watermarks are generated per split in the source
			gated := gatedSource{Source: src, limit: gatedLimit(opts), read: gate}
			events := stream.FromSource[Event](job, "nexmark", gated)
			build(events).SinkTo(file.NewSink(dir, file.Lines(format), file.Options{}))
			return job
		},
		want: func(events winEvents) []string {
			var out []string
			hand(events, func(r R) { out = append(out, format(r)) })
			slices.Sort(out)
			return out
		},
	}
}

// gatedSource is the generator for a first run that is to be killed
// half-way: its readers together hand out at most limit events, a few
// dozen at a time with a pause between reads, and then only empty batches
// until the run is canceled. So the run cannot finish, however the test
// is scheduled, and the checkpoints it takes fall inside the input.
type gatedSource struct {
	*gen.Source
	limit int64
	read  *atomic.Int64 // events handed out by all readers
}

// gatedLimit is where a gatedSource shuts: half of the input.
func gatedLimit(opts Options) int64 { return int64(opts.Events / 2) }

func (s gatedSource) Open(ctx *operators.Context, sp operators.Split, pos []byte) (operators.Reader[Event], error) {
	r, err := s.Source.Open(ctx, sp, pos)
	if err != nil || s.read == nil {
		return r, err
	}
	return gatedReader{r, s}, nil
}

// gatedCrash is when CrashRun kills a gated first run: once its file
// sink in outDir committed some output, or once a checkpoint in ckDir
// completed after the gate shut (for queries whose output comes only at
// the end of the input).
func gatedCrash(opts Options, gate *atomic.Int64, ckDir, outDir string) func() bool {
	shutAt := int64(-1) // the latest checkpoint when the gate was seen shut
	return func() bool {
		if HasCommitted(outDir)() {
			return true
		}
		id := int64(-1)
		if fs, err := vfs.NewLocal(ckDir); err == nil {
			if m, _, _, err := runtime.LatestManifest(fs); err == nil {
				id = int64(m.ID)
			}
		}
		if shutAt < 0 && gate.Load() >= gatedLimit(opts) {
			shutAt = id
		}
		return shutAt >= 0 && id > shutAt
	}
}

type gatedReader struct {
	operators.Reader[Event]
	s gatedSource
}

func (r gatedReader) Read(b *operators.Batch[Event]) error {
	time.Sleep(2 * time.Millisecond)
	room := min(int64(64), r.s.limit-r.s.read.Load())
	if room <= 0 {
		return nil // the gate is shut: idle until canceled
	}
	vals, n := b.Values, len(b.Values)
	b.Values = vals[:n:min(cap(vals), n+int(room))]
	err := r.Reader.Read(b)
	r.s.read.Add(int64(len(b.Values) - n))
	b.Values = vals[:len(b.Values)]
	return err
}

// TestWindowedCheckpointRestore kills a job of each query with local
// operator state (the local maxima of q5 and q7, q8's held results, q11's
// combining) after some output is committed, and restores it at another
// parallelism: the committed output is the hand-written
// loop's, nothing lost and nothing twice. A restore hands every subtask
// the local state of all old subtasks; only the first keeps it.
func TestWindowedCheckpointRestore(t *testing.T) {
	// a slow event-time rate: windows close every few thousand events
	opts := Options{Seed: 5, Events: 60_000, Rate: 500}
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	queries := []ckptQuery{
		ckptCase("q5", Q5, handQ5On, formatQ5),
		ckptCase("q7", Q7, handQ7On, formatQ7),
		ckptCase("q11", Q11, handQ11On, formatQ11),
		ckptCase("q5", Q5, handQ5On, formatQ5),
		ckptCase("q8", Q8, handQ8On, formatQ8),
	}
	for i, q := range queries {
		ps := [][2]int{{2, 1}, {1, 3}, {3, 2}, {2, 3}, {1, 2}}[i]
		t.Run(fmt.Sprintf("%s/p=%d->%d", q.name, ps[0], ps[1]), func(t *testing.T) {
			want := q.want(winGen(src, opts.Events))
			ckDir, outDir := t.TempDir(), t.TempDir()
			// q11's sessions mostly close at the end of the input
			gate := new(atomic.Int64)
			CrashRun(t, q.job(t, opts, outDir, gate), ps[0], ckDir, 20*time.Millisecond, gatedCrash(opts, gate, ckDir, outDir))
			before := Committed(t, outDir)
			if len(before) >= len(want) {
				t.Fatalf("%d of %d lines committed before the crash; want a partial output", len(before), len(want))
			}
			got := RestoreRun(t, q.job(t, opts, outDir, nil), ps[1], ckDir, 20*time.Millisecond, outDir)
			if err := EqualLines(got, want); err != nil {
				t.Error(err)
			}
			t.Logf("%d of %d lines committed before the crash", len(before), len(want))
		})
	}
}
