package nexmark

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// ckptQuery is a windowed query with local operator state, for
// TestWindowedCheckpointRestore.
type ckptQuery struct {
	name string
	// job builds the query into a job ending in an exactly-once file sink;
	// g, when not nil, shuts a first run's input half-way (gatedEvents),
	// so that it is killed there.
	job  func(t *testing.T, opts Options, dir string, g *gate) *stream.Job
	want func(events winEvents) []string
}

func ckptCase[R any](name string, build func(stream.DataStream[Event]) stream.DataStream[R],
	hand func(winEvents, func(R)), format func(R) string) ckptQuery {
	return ckptQuery{
		name: name,
		job: func(t *testing.T, opts Options, dir string, g *gate) *stream.Job {
			job := stream.NewJob("ckpt-" + name)
			// the query's watermarks are generated per split in the source
			build(gatedEvents(t, job, opts, g)).SinkTo(file.NewSink(dir, file.Lines(format), file.Options{}))
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
			g := newGate(opts)
			CrashRun(t, q.job(t, opts, outDir, g), ps[0], ckDir, 20*time.Millisecond, g.crash(ckDir, outDir))
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
