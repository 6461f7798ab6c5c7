// Package jobgraph is the plain-data plan of a job: vertices (sources and
// operators) and the edges between them. The stream package builds it; the
// runtime executes it. Types are erased here: every vertex and edge carries
// factories that the typed code built, so the runtime never names a record
// type, an operator or a connector.
package jobgraph

import (
	"errors"
	"fmt"

	"github.com/weirstream/weir/operators"
)

// EdgeKind is how records move along an edge.
type EdgeKind int

// Edge kinds.
const (
	// Forward sends upstream subtask i to downstream subtask i % p (same
	// parallelism: chained into one task, no queue).
	Forward EdgeKind = iota
	// Hash sends each record to the subtask owning its key group (chained
	// between single subtasks, see Edge.NewChained).
	Hash
	// Rebalance spreads whole batches round-robin.
	Rebalance
	// Broadcast sends every record to every downstream subtask.
	Broadcast
)

func (k EdgeKind) String() string {
	switch k {
	case Forward:
		return "forward"
	case Hash:
		return "hash"
	case Rebalance:
		return "rebalance"
	case Broadcast:
		return "broadcast"
	}
	return fmt.Sprintf("EdgeKind(%d)", int(k))
}

// Vertex is a source or an operator.
type Vertex struct {
	ID   int
	Name string
	// Parallelism is the number of subtasks; 0 means the default (for a
	// source: one per split up to the job parallelism; for an operator fed
	// only by forward edges: its inputs' parallelism; else the job's).
	Parallelism int
	// Source is set for sources.
	Source operators.ErasedSource
	// NewOperator is set for operators: a fresh instance per subtask.
	NewOperator func() operators.Operator
	// Keyed operators get a state backend for their key groups.
	Keyed bool
}

// Edge connects two vertices.
type Edge struct {
	From, To int
	Kind     EdgeKind
	// NewWriter builds the typed writer of one producing subtask over the
	// channels the runtime gives it. Required for every edge kind.
	NewWriter func(ch operators.Channels, maxParallelism, batchSize int) operators.Output
	// NewChained, optional for a Hash edge, builds the output of a
	// producing subtask chained to the consuming one, which the runtime
	// does when both vertices have parallelism 1 (every key group goes to
	// the one consumer): it hands batches on to next with their key groups
	// set, as the exchange would deliver them. Without it a Hash edge
	// always has a queue.
	NewChained func(next operators.Output, maxParallelism int) operators.Output
}

// Graph is a job's plan.
type Graph struct {
	Name     string
	Vertices []*Vertex
	Edges    []*Edge
}

// Inputs returns the edges into vertex id, in the order they were added.
func (g *Graph) Inputs(id int) []*Edge {
	var out []*Edge
	for _, e := range g.Edges {
		if e.To == id {
			out = append(out, e)
		}
	}
	return out
}

// Outputs returns the edges out of vertex id, in the order they were added.
func (g *Graph) Outputs(id int) []*Edge {
	var out []*Edge
	for _, e := range g.Edges {
		if e.From == id {
			out = append(out, e)
		}
	}
	return out
}

// Validate checks the graph's structure: ids match positions, every edge
// joins existing vertices forward (sources first, no cycles), sources have
// no inputs and operators have at least one.
func (g *Graph) Validate() error {
	if len(g.Vertices) == 0 {
		return errors.New("weir/jobgraph: empty graph")
	}
	for i, v := range g.Vertices {
		if v.ID != i {
			return fmt.Errorf("weir/jobgraph: vertex %q has id %d at position %d", v.Name, v.ID, i)
		}
		if (v.Source == nil) == (v.NewOperator == nil) {
			return fmt.Errorf("weir/jobgraph: vertex %q must be a source or an operator", v.Name)
		}
		if v.Parallelism < 0 {
			return fmt.Errorf("weir/jobgraph: vertex %q: negative parallelism", v.Name)
		}
	}
	for _, e := range g.Edges {
		if e.From < 0 || e.To >= len(g.Vertices) || e.From >= e.To {
			return fmt.Errorf("weir/jobgraph: bad edge %d->%d", e.From, e.To)
		}
		if e.NewWriter == nil {
			return fmt.Errorf("weir/jobgraph: edge %d->%d has no writer", e.From, e.To)
		}
		if g.Vertices[e.To].Source != nil {
			return fmt.Errorf("weir/jobgraph: source %q has an input", g.Vertices[e.To].Name)
		}
	}
	for _, v := range g.Vertices {
		if v.NewOperator != nil && len(g.Inputs(v.ID)) == 0 {
			return fmt.Errorf("weir/jobgraph: operator %q has no input", v.Name)
		}
	}
	return nil
}
