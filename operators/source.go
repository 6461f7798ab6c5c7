package operators

import (
	"errors"
	"fmt"
	"io"

	"github.com/weirstream/weir/timeapi"
)

// Split is one independently readable part of a source's input (a file, a
// partition, a range of generated ids).
type Split interface {
	// SplitID names the split uniquely within its source; checkpoints store
	// positions by it.
	SplitID() string
}

// Source is the contract of every input of a job.
type Source[T any] interface {
	// Splits divides the input. parallelism is the job's parallelism, a hint
	// for sources that can cut their input into any number of splits. The
	// runtime runs min(len(splits), parallelism) source subtasks and gives
	// split i to subtask i % subtasks.
	Splits(parallelism int) ([]Split, error)
	// Open returns a reader of split. pos is nil to start at the beginning,
	// or a value the reader's Position returned earlier.
	Open(ctx *Context, split Split, pos []byte) (Reader[T], error)
	// Bounded reports whether every split ends.
	Bounded() bool
}

// Reader reads one split. It is used by one goroutine.
type Reader[T any] interface {
	// Read appends up to cap(b.Values)-len(b.Values) records to b.Values.
	// It may append to b.Times too (native timestamps, used when the stream
	// has no watermark strategy); the runtime fills them otherwise. It
	// returns io.EOF when a bounded split is exhausted (records appended in
	// the same call count), and may return no records and a nil error when
	// nothing is available right now; it must not block for long. The
	// backing array past len(b.Values) may hold records of an earlier
	// read (Batch.Refill): a reader writing there in place writes whole
	// records.
	Read(b *Batch[T]) error
	// Position encodes where a restored reader resumes: after the last
	// record returned by Read.
	Position() ([]byte, error)
	Close() error
}

// ReadyHinter is an optional Reader capability: a reader that knows when
// its next records become available (a rate-paced generator, a schedule)
// says so, and the runtime sleeps until then rather than polling with a
// growing backoff, which would add up to its maximum to the latency of
// the next records.
type ReadyHinter interface {
	// NextReady is the wall time, in Unix nanoseconds, at which Read will
	// next return records; 0 when unknown.
	NextReady() int64
}

// TimeBounder is an optional Reader capability: a reader that knows a
// lower bound of the native timestamps of its records to come (a
// generator that makes them in time order) says so. Under a watermark
// strategy over native timestamps (timeapi.RecordTimestamps,
// WithRecordTimestamps) the split's watermark then moves up to the bound
// even while the reader has nothing to read, rather than waiting for its
// next records (Generator.Advance).
type TimeBounder interface {
	// NextTimestamp is a lower bound (Unix ms) of the timestamps of the
	// records Read will append from now on; timeapi.NoTimestamp if none
	// is known.
	NextTimestamp() int64
}

// SourceReader is the runtime's view of a source subtask: its readers, the
// watermark generators of its splits, erased to once per batch.
type SourceReader interface {
	// Poll reads at most one batch and pushes it to out. It returns the
	// number of records and io.EOF once every split has ended.
	Poll(out Output, now int64) (int, error)
	// Watermark is the subtask's watermark: the minimum over its live,
	// non-idle splits (timeapi.MaxWatermark when all have ended).
	Watermark(now int64) int64
	// Idle reports whether every live split is idle.
	Idle() bool
	// NextReady is the earliest wall time (Unix nanoseconds) at which a
	// live split's reader will have records, when every live reader
	// implements ReadyHinter; 0 otherwise.
	NextReady() int64
	// Positions returns the position of every split by SplitID.
	Positions() (map[string][]byte, error)
	Close() error
}

// SplitRestorer is an optional Source capability: it rebuilds a split from
// its SplitID. On restore the runtime then reads exactly the splits the
// checkpoint recorded, whatever the new parallelism (needed by sources
// whose splits depend on the parallelism they were cut for).
type SplitRestorer interface {
	RestoreSplit(id string) (Split, error)
}

// ErasedSource is a typed Source with its watermark strategy, as the
// runtime sees it.
type ErasedSource interface {
	Splits(parallelism int) ([]Split, error)
	// RestoreSplits rebuilds the splits of a checkpoint; ok is false when
	// the source cannot (it is then asked for fresh Splits).
	RestoreSplits(ids []string) (splits []Split, ok bool, err error)
	Bounded() bool
	// OpenReader opens the readers of the splits assigned to one subtask.
	// positions maps SplitID to a restored position (nil: start).
	OpenReader(ctx *Context, splits []Split, positions map[string][]byte) (SourceReader, error)
}

// EraseSource adapts src and its watermark strategy (zero: no event time).
func EraseSource[T any](src Source[T], ws timeapi.WatermarkStrategy[T]) ErasedSource {
	return &erasedSource[T]{src: src, ws: ws}
}

type erasedSource[T any] struct {
	src Source[T]
	ws  timeapi.WatermarkStrategy[T]
}

func (e *erasedSource[T]) Splits(p int) ([]Split, error) { return e.src.Splits(p) }
func (e *erasedSource[T]) Bounded() bool                 { return e.src.Bounded() }

func (e *erasedSource[T]) RestoreSplits(ids []string) ([]Split, bool, error) {
	r, ok := e.src.(SplitRestorer)
	if !ok {
		return nil, false, nil
	}
	out := make([]Split, 0, len(ids))
	for _, id := range ids {
		sp, err := r.RestoreSplit(id)
		if err != nil {
			return nil, true, fmt.Errorf("restore split %q: %w", id, err)
		}
		out = append(out, sp)
	}
	return out, true, nil
}

func (e *erasedSource[T]) OpenReader(ctx *Context, splits []Split, pos map[string][]byte) (_ SourceReader, err error) {
	defer Recover(ctx, &err)
	r := &sourceReader[T]{ctx: ctx, tracker: timeapi.NewTracker(max(len(splits), 1))}
	size := ctx.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	r.batch = NewBatch[T](size)
	for _, s := range splits {
		rd, err := e.src.Open(ctx, s, pos[s.SplitID()])
		if err != nil {
			r.Close()
			return nil, Wrap(ctx, fmt.Errorf("open split %s: %w", s.SplitID(), err))
		}
		sp := &splitState[T]{split: s, reader: rd}
		if !e.ws.IsZero() {
			sp.gen = e.ws.NewGenerator()
			if b, ok := rd.(TimeBounder); ok && sp.gen.Native() {
				sp.bound = b
			}
		}
		r.splits = append(r.splits, sp)
	}
	r.live = len(r.splits)
	if r.live == 0 {
		r.wm = timeapi.MaxWatermark
	}
	return r, nil
}

type splitState[T any] struct {
	split  Split
	reader Reader[T]
	gen    *timeapi.Generator[T]
	bound  TimeBounder // the reader, if it bounds its timestamps and gen reads them
	done   bool
}

type sourceReader[T any] struct {
	ctx     *Context
	splits  []*splitState[T]
	tracker *timeapi.Tracker
	batch   *Batch[T]
	next    int // round-robin position over splits
	live    int
	wm      int64
}

func (r *sourceReader[T]) Poll(out Output, now int64) (n int, err error) {
	defer Recover(r.ctx, &err)
	if r.live == 0 {
		return 0, io.EOF
	}
	for range r.splits {
		i := r.next
		r.next = (r.next + 1) % len(r.splits)
		sp := r.splits[i]
		if sp.done {
			continue
		}
		n, err := r.readSplit(i, sp, out, now)
		if err != nil || n > 0 {
			return n, err
		}
	}
	return 0, nil
}

func (r *sourceReader[T]) readSplit(i int, sp *splitState[T], out Output, now int64) (int, error) {
	b := r.batch
	b.Refill() // readers mostly fill it again: Seal zeroes the rest
	rerr := sp.reader.Read(b)
	b.Seal()
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return 0, Wrap(r.ctx, fmt.Errorf("read split %s: %w", sp.split.SplitID(), rerr))
	}
	n := len(b.Values)
	if n > 0 {
		r.stamp(sp, b, now)
		if err := out.Push(b); err != nil {
			return n, err
		}
	}
	if rerr != nil { // io.EOF
		sp.done = true
		r.live--
		r.tracker.Finish(i)
		if r.live == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}

func (r *sourceReader[T]) stamp(sp *splitState[T], b *Batch[T], now int64) {
	n := len(b.Values)
	if sp.gen == nil {
		if len(b.Times) != n {
			b.Times = b.Times[:0]
			for range n {
				b.Times = append(b.Times, timeapi.NoTimestamp)
			}
		}
		return
	}
	if sp.gen.Native() && (len(b.Times) == n || !sp.gen.Extracts()) {
		// the reader's own timestamps; records it gave none have none
		for len(b.Times) < n {
			b.Times = append(b.Times, timeapi.NoTimestamp)
		}
		sp.gen.StampRecorded(b.Times[:n], now)
		return
	}
	if cap(b.Times) < n {
		b.Times = make([]int64, n)
	}
	b.Times = b.Times[:n]
	sp.gen.Stamp(b.Values, b.Times, now)
}

func (r *sourceReader[T]) Watermark(now int64) int64 {
	for i, sp := range r.splits {
		if sp.done || sp.gen == nil {
			continue
		}
		idle := sp.gen.Idle(now)
		if !idle {
			if sp.bound != nil {
				sp.gen.Advance(sp.bound.NextTimestamp())
			}
			r.tracker.Update(i, sp.gen.Watermark())
		}
		r.tracker.SetIdle(i, idle)
	}
	if r.live == 0 {
		return timeapi.MaxWatermark
	}
	return r.tracker.Current()
}

func (r *sourceReader[T]) Idle() bool { return r.live > 0 && r.tracker.AllIdle() }

func (r *sourceReader[T]) NextReady() int64 {
	var next int64
	for _, sp := range r.splits {
		if sp.done {
			continue
		}
		h, ok := sp.reader.(ReadyHinter)
		if !ok {
			return 0
		}
		at := h.NextReady()
		if at == 0 {
			return 0
		}
		if next == 0 || at < next {
			next = at
		}
	}
	return next
}

func (r *sourceReader[T]) Positions() (map[string][]byte, error) {
	m := make(map[string][]byte, len(r.splits))
	for _, sp := range r.splits {
		p, err := sp.reader.Position()
		if err != nil {
			return nil, Wrap(r.ctx, fmt.Errorf("position of split %s: %w", sp.split.SplitID(), err))
		}
		m[sp.split.SplitID()] = p
	}
	return m, nil
}

func (r *sourceReader[T]) Close() error {
	var errs []error
	for _, sp := range r.splits {
		if err := sp.reader.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return Wrap(r.ctx, errors.Join(errs...))
}

// CheckpointComplete tells readers that implement CheckpointListener.
func (r *sourceReader[T]) CheckpointComplete(id int64) (err error) {
	defer Recover(r.ctx, &err)
	for _, sp := range r.splits {
		if l, ok := sp.reader.(CheckpointListener); ok {
			if err := l.CheckpointComplete(id); err != nil {
				return Wrap(r.ctx, err)
			}
		}
	}
	return nil
}
