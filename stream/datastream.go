package stream

import (
	"fmt"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/timeapi"
)

// DataStream is a stream of records of type T. It is a small value: copies
// refer to the same stream. Methods add operators to the stream's job.
type DataStream[T any] struct {
	job *Job
	n   *node
}

// sourceSpec keeps a source's watermark strategy until the job is built.
type sourceSpec[T any] struct {
	src operators.Source[T]
	ws  timeapi.WatermarkStrategy[T]
}

// FromSource adds a source. Its parallelism is one subtask per split, up to
// the job's parallelism.
func FromSource[T any](job *Job, name string, src operators.Source[T]) DataStream[T] {
	if src == nil {
		job.addErr("%w: source %q is nil", ErrNilFunc, name)
	}
	spec := &sourceSpec[T]{src: src}
	n := job.add("Source", &node{name: name, srcWM: spec})
	n.source = func() operators.ErasedSource { return operators.EraseSource(spec.src, spec.ws) }
	return DataStream[T]{job: job, n: n}
}

// FromSlice adds a bounded single-split source over values, in order.
func FromSlice[T any](job *Job, name string, values []T) DataStream[T] {
	return FromSource[T](job, name, &operators.SliceSource[T]{Values: values})
}

// FromChannel adds a source reading c until it is closed.
func FromChannel[T any](job *Job, name string, c <-chan T) DataStream[T] {
	return FromSource[T](job, name, &operators.ChanSource[T]{C: c})
}

// FromGenerator adds a source of n records f(0), ..., f(n-1) (n < 0:
// unbounded), generated in parallel: subtask s of p makes ids s, s+p, ...
func FromGenerator[T any](job *Job, name string, n int64, f func(i int64) T) DataStream[T] {
	if f == nil {
		job.addErr("%w: generator %q", ErrNilFunc, name)
	}
	return FromSource[T](job, name, operators.Generate(n, f))
}

// Job is the job the stream belongs to.
func (s DataStream[T]) Job() *Job { return s.job }

// Name names the operator that produces the stream (unique within the job;
// it appears in errors and logs).
func (s DataStream[T]) Name(name string) DataStream[T] {
	if name == "" {
		s.job.addErr("%w: empty name for %q", ErrBadSetting, s.n.name)
		return s
	}
	s.n.name = name
	return s
}

// Parallelism sets the number of subtasks of the operator that produces the
// stream. Records of one key keep their order only when the operators
// between a source and a KeyBy run at the source's parallelism (the
// default).
func (s DataStream[T]) Parallelism(n int) DataStream[T] {
	if n < 1 {
		s.job.addErr("%w: parallelism %d of %q", ErrBadSetting, n, s.n.name)
		return s
	}
	s.n.par = n
	return s
}

func forwardEdge[T any](from *node) *edge {
	return &edge{from: from, kind: jobgraph.Forward, newWriter: func(ch operators.Channels, _, bs int) operators.Output {
		return operators.NewWriter[T](operators.Forward, ch, bs)
	}}
}

// then adds a one-input operator fed by s through a forward edge.
func then[I, O any](s DataStream[I], kind string, newOp func() operators.Operator) DataStream[O] {
	n := s.job.add(kind, &node{newOp: newOp, inputs: []*edge{forwardEdge[I](s.n)}})
	return DataStream[O]{job: s.job, n: n}
}

// Map applies f to every record; the event time is kept.
func (s DataStream[T]) Map[U any](f func(T) U) DataStream[U] {
	if f == nil {
		s.job.addErr("%w: Map after %q", ErrNilFunc, s.n.name)
	}
	return then[T, U](s, "Map", func() operators.Operator { return operators.Drive(&operators.MapOp[T, U]{F: f}) })
}

// FlatMap calls f for every record; f emits any number of results through
// its second argument, each with the record's event time.
func (s DataStream[T]) FlatMap[U any](f func(T, func(U))) DataStream[U] {
	if f == nil {
		s.job.addErr("%w: FlatMap after %q", ErrNilFunc, s.n.name)
	}
	return then[T, U](s, "FlatMap", func() operators.Operator { return operators.Drive(&operators.FlatMapOp[T, U]{F: f}) })
}

// FlatMapRef is FlatMap with f given a pointer to the record, for large
// records: calling f with a record by value copies it (a few percent of a
// light job for a record of several hundred bytes). The record is the
// stream's, shared with its other consumers: f must not change it, nor
// keep the pointer after it returns.
func (s DataStream[T]) FlatMapRef[U any](f func(*T, func(U))) DataStream[U] {
	if f == nil {
		s.job.addErr("%w: FlatMapRef after %q", ErrNilFunc, s.n.name)
	}
	return then[T, U](s, "FlatMap", func() operators.Operator { return operators.Drive(&operators.FlatMapOp[T, U]{FRef: f}) })
}

// Filter keeps the records for which f returns true.
func (s DataStream[T]) Filter(f func(T) bool) DataStream[T] {
	if f == nil {
		s.job.addErr("%w: Filter after %q", ErrNilFunc, s.n.name)
	}
	return then[T, T](s, "Filter", func() operators.Operator { return operators.Drive(&operators.FilterOp[T]{F: f}) })
}

// Union merges s with others (all of the same job) into one stream.
// Records of each input keep their order; inputs interleave.
func (s DataStream[T]) Union(others ...DataStream[T]) DataStream[T] {
	ins := []*edge{forwardEdge[T](s.n)}
	for _, o := range others {
		if o.job != s.job {
			s.job.addErr("%w: Union of %q with %q", ErrOtherJob, s.n.name, o.n.name)
			continue
		}
		ins = append(ins, forwardEdge[T](o.n))
	}
	n := s.job.add("Union", &node{newOp: func() operators.Operator { return &passOp{} }, inputs: ins})
	return DataStream[T]{job: s.job, n: n}
}

// WithWatermarks sets how event time is read and watermarks generated. On a
// source stream the strategy runs per split inside the source (the
// recommended place); elsewhere an operator stamps records and generates
// watermarks per subtask, replacing upstream watermarks.
func (s DataStream[T]) WithWatermarks(ws timeapi.WatermarkStrategy[T]) DataStream[T] {
	if err := ws.Validate(); err != nil {
		s.job.addErr("WithWatermarks after %q: %w", s.n.name, err)
		return s
	}
	if ws.IsZero() {
		s.job.addErr("%w: WithWatermarks after %q: empty strategy", ErrNilFunc, s.n.name)
		return s
	}
	if spec, ok := s.n.srcWM.(*sourceSpec[T]); ok && s.n.users == 0 {
		spec.ws = ws
		return s
	}
	return then[T, T](s, "Watermarks", func() operators.Operator { return &watermarkOp[T]{ws: ws} })
}

// SinkTo writes the stream to sink, one writer per subtask.
func (s DataStream[T]) SinkTo(sink operators.Sink[T]) {
	if sink == nil {
		s.job.addErr("%w: SinkTo after %q: nil sink", ErrNilFunc, s.n.name)
	}
	then[T, struct{}](s, "Sink", func() operators.Operator { return operators.SinkOperator(sink) })
	s.job.sinks++
}

// Print writes every record to standard output.
func (s DataStream[T]) Print() { s.SinkTo(operators.Print[T]()) }

// KeyBy partitions the stream by key: records with equal keys go to the
// same subtask, in the order their source split produced them.
func (s DataStream[T]) KeyBy[K comparable](key func(T) K) KeyedStream[K, T] {
	if key == nil {
		s.job.addErr("%w: KeyBy after %q", ErrNilFunc, s.n.name)
	}
	if err := operators.CheckKeyType[K](); err != nil {
		s.job.addErr("KeyBy after %q: %w", s.n.name, err)
	}
	return KeyedStream[K, T]{in: s, key: key}
}

func (s DataStream[T]) String() string { return fmt.Sprintf("DataStream(%s)", s.n.name) }
