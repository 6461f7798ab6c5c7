package nexmark

import (
	"sync/atomic"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

// gate shuts the input of a first run that is to be killed half-way: its
// readers together hand out about limit events (each may overshoot by
// part of one read), a few dozen at a time with a pause between reads,
// and then only empty batches until the run is canceled. So the run
// cannot finish, however the test is scheduled, and the checkpoints it
// takes fall inside the input.
type gate struct {
	limit int64
	read  atomic.Int64 // events handed out by all readers
}

// newGate returns a gate at half of the input.
func newGate(opts Options) *gate { return &gate{limit: int64(opts.Events / 2)} }

func (g *gate) shut() bool { return g.read.Load() >= g.limit }

// crash is when CrashRun kills a gated first run: once its file sink in
// outDir committed some output, or once a checkpoint in ckDir completed
// after the gate shut (for queries whose output comes only at the end of
// the input).
func (g *gate) crash(ckDir, outDir string) func() bool {
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
		if shutAt < 0 && g.shut() {
			shutAt = id
		}
		return shutAt >= 0 && id > shutAt
	}
}

// gatedEvents is the generator's stream (Events), through g when g is not
// nil.
func gatedEvents(t testing.TB, job *stream.Job, opts Options, g *gate) stream.DataStream[Event] {
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	return stream.FromSource[Event](job, "nexmark", gatedSource{Source: src, g: g})
}

type gatedSource struct {
	*gen.Source
	g *gate
}

func (s gatedSource) Open(ctx *operators.Context, sp operators.Split, pos []byte) (operators.Reader[Event], error) {
	r, err := s.Source.Open(ctx, sp, pos)
	if err != nil || s.g == nil {
		return r, err
	}
	return gatedReader{r, s.g}, nil
}

type gatedReader struct {
	operators.Reader[Event]
	g *gate
}

func (r gatedReader) Read(b *operators.Batch[Event]) error {
	time.Sleep(2 * time.Millisecond)
	room := min(int64(64), r.g.limit-r.g.read.Load())
	if room <= 0 {
		return nil // the gate is shut: idle until canceled
	}
	vals, n := b.Values, len(b.Values)
	b.Values = vals[:n:min(cap(vals), n+int(room))]
	err := r.Reader.Read(b)
	r.g.read.Add(int64(len(b.Values) - n))
	b.Values = vals[:len(b.Values)]
	return err
}
