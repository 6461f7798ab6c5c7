package stream

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
)

// Errors reported when a job is built.
var (
	ErrNoSink     = errors.New("weir/stream: job has no sink")
	ErrNilFunc    = errors.New("weir/stream: nil function")
	ErrOtherJob   = errors.New("weir/stream: stream belongs to another job")
	ErrRunning    = errors.New("weir/stream: job is already running")
	ErrBadSetting = errors.New("weir/stream: invalid setting")
)

// Job is a dataflow under construction: sources, operators and sinks added
// through the fluent API. Mistakes made while building (a nil function, a
// stream of another job) are collected and reported by Graph, so a chain of
// calls never needs error checks in between. A Job is built by one
// goroutine; runtime.Run may then run it (not twice at once).
type Job struct {
	name    string
	nodes   []*node
	errs    []error
	sinks   int
	running atomic.Bool
}

// NewJob returns an empty job.
func NewJob(name string) *Job { return &Job{name: name} }

// Name is the job's name.
func (j *Job) Name() string { return j.name }

// node is one vertex under construction.
type node struct {
	id     int
	name   string
	par    int
	source func() operators.ErasedSource // sources
	srcWM  any                           // *sourceSpec[T] while the strategy may still change
	newOp  func() operators.Operator     // operators
	keyed  bool
	inputs []*edge
	users  int // consumers attached so far
}

type edge struct {
	from       *node
	kind       jobgraph.EdgeKind
	newWriter  func(ch operators.Channels, maxParallelism, batchSize int) operators.Output
	newChained func(next operators.Output, maxParallelism int) operators.Output // jobgraph.Edge.NewChained
}

func (j *Job) addErr(format string, args ...any) {
	j.errs = append(j.errs, fmt.Errorf(format, args...))
}

func (j *Job) add(kind string, n *node) *node {
	n.id = len(j.nodes)
	if n.name == "" {
		n.name = kind + "-" + strconv.Itoa(n.id)
	}
	for _, e := range n.inputs {
		e.from.users++
	}
	j.nodes = append(j.nodes, n)
	return n
}

// Graph validates the job and returns its plan. It reports every mistake
// made while building, joined.
func (j *Job) Graph() (*jobgraph.Graph, error) {
	errs := append([]error(nil), j.errs...)
	if j.sinks == 0 {
		errs = append(errs, fmt.Errorf("%w: job %q", ErrNoSink, j.name))
	}
	names := map[string]bool{}
	for _, n := range j.nodes {
		if names[n.name] {
			errs = append(errs, fmt.Errorf("%w: two operators named %q", ErrBadSetting, n.name))
		}
		names[n.name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g := &jobgraph.Graph{Name: j.name}
	for _, n := range j.nodes {
		v := &jobgraph.Vertex{ID: n.id, Name: n.name, Parallelism: n.par, NewOperator: n.newOp, Keyed: n.keyed}
		if n.source != nil {
			v.Source = n.source()
		}
		g.Vertices = append(g.Vertices, v)
		for _, e := range n.inputs {
			g.Edges = append(g.Edges, &jobgraph.Edge{From: e.from.id, To: n.id, Kind: e.kind,
				NewWriter: e.newWriter, NewChained: e.newChained})
		}
	}
	return g, g.Validate()
}

// Start marks the job running; runtime.Run calls it so one job does not
// run twice at once.
func (j *Job) Start() (stop func(), err error) {
	if !j.running.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: %q", ErrRunning, j.name)
	}
	return func() { j.running.Store(false) }, nil
}
