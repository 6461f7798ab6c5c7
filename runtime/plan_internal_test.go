package runtime

import (
	"testing"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/stream"
)

// TestPlanChainsKeyedEdgeOfSingleSubtasks: a hash exchange between
// vertices of parallelism 1 is chained (no queue), at higher parallelism
// it is a queue; forward edges are chained either way.
func TestPlanChainsKeyedEdgeOfSingleSubtasks(t *testing.T) {
	for _, c := range []struct {
		p      int
		hashed bool // the hash edge is chained
	}{{1, true}, {2, false}, {3, false}} {
		job := stream.NewJob("chain")
		src := stream.FromSlice(job, "src", []int{1, 2, 3, 4})
		sums := src.KeyBy(func(v int) int { return v % 2 }).Reduce(func(a, b int) int { return a + b }).Name("sum")
		sums.Map(func(v int) int { return -v }).Name("neg").SinkTo(operators.Discard[int]())
		g, err := job.Graph()
		if err != nil {
			t.Fatal(err)
		}
		o, err := buildOptions([]Option{Parallelism(c.p)})
		if err != nil {
			t.Fatal(err)
		}
		pl, err := newPlan(g, o, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		kinds := 0
		for i, e := range g.Edges {
			switch e.Kind {
			case jobgraph.Hash:
				kinds |= 1
				if pl.chained[i] != c.hashed {
					t.Errorf("p=%d: hash edge chained %v, want %v", c.p, pl.chained[i], c.hashed)
				}
			case jobgraph.Forward:
				kinds |= 2
				if !pl.chained[i] {
					t.Errorf("p=%d: forward edge not chained", c.p)
				}
			}
		}
		if kinds != 3 {
			t.Fatalf("the job has edge kinds %b, want a hash and a forward edge", kinds)
		}
		// chains: src+sum+neg+sink, or src (one split: one subtask) and
		// sum+neg+sink per subtask
		if want := map[bool]int{true: 1, false: 1 + c.p}[c.hashed]; len(pl.tasks) != want {
			t.Errorf("p=%d: %d tasks, want %d", c.p, len(pl.tasks), want)
		}
	}
}
