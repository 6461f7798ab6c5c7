package runtime

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// plan is a graph laid out on workers: parallelism per vertex, chains,
// tasks and queues.
type plan struct {
	g       *jobgraph.Graph
	opts    *Options
	par     []int               // parallelism per vertex
	splits  [][]operators.Split // per source vertex
	chained []bool              // per edge: runs inside one task
	workers []*worker
	tasks   []*task
	inputs  map[[2]int][]*channel   // (vertex, subtask) -> input queues
	outs    map[[3]int]*outChannels // (edge, subtask) -> output queues
	ckpt    *checkpointer           // nil without checkpointing
	restore *restoreState           // nil without a restore
	align   map[int]*alignGroup     // source vertex -> its subtasks' watermarks
}

func newPlan(g *jobgraph.Graph, o *Options, ck *checkpointer, rs *restoreState) (*plan, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	p := &plan{g: g, opts: o, inputs: map[[2]int][]*channel{}, outs: map[[3]int]*outChannels{}, ckpt: ck, restore: rs}
	if err := rs.check(g, o.AllowNonRestored); err != nil {
		return nil, err
	}
	if err := p.resolveParallelism(); err != nil {
		return nil, err
	}
	p.chain()
	for i := range o.Parallelism {
		p.workers = append(p.workers, newWorker(i, o.Clock))
	}
	p.wire()
	return p, nil
}

func (p *plan) resolveParallelism() error {
	P := p.opts.Parallelism
	p.par = make([]int, len(p.g.Vertices))
	p.splits = make([][]operators.Split, len(p.g.Vertices))
	for _, v := range p.g.Vertices {
		par := v.Parallelism
		switch {
		case v.Source != nil:
			splits, err := p.sourceSplits(v)
			if err != nil {
				return fmt.Errorf("weir/runtime: source %q: splits: %w", v.Name, err)
			}
			p.splits[v.ID] = splits
			if par == 0 {
				par = max(1, min(len(splits), P))
			}
		case par == 0:
			par = 0
			for _, e := range p.g.Inputs(v.ID) {
				if e.Kind != jobgraph.Forward {
					par = P
					break
				}
				par = max(par, p.par[e.From])
			}
		}
		if par > p.opts.MaxParallelism && v.Keyed {
			return fmt.Errorf("weir/runtime: operator %q: parallelism %d > max parallelism %d", v.Name, par, p.opts.MaxParallelism)
		}
		p.par[v.ID] = par
	}
	return nil
}

// sourceSplits returns the splits a source vertex reads: the ones a
// restored checkpoint recorded when the source can rebuild them, else
// fresh ones for the job's parallelism.
func (p *plan) sourceSplits(v *jobgraph.Vertex) ([]operators.Split, error) {
	if pos := p.restore.positions(v.Name); len(pos) > 0 {
		ids := make([]string, 0, len(pos))
		for id := range pos {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		splits, ok, err := v.Source.RestoreSplits(ids)
		if ok || err != nil {
			return splits, err
		}
	}
	return v.Source.Splits(p.opts.Parallelism)
}

// chain marks the edges whose two ends run in one task: same parallelism,
// the only input of the downstream vertex, and forward, or hash between
// single subtasks (a queue would hand every record to the one consumer).
func (p *plan) chain() {
	p.chained = make([]bool, len(p.g.Edges))
	for i, e := range p.g.Edges {
		p.chained[i] = p.par[e.From] == p.par[e.To] && len(p.g.Inputs(e.To)) == 1 &&
			(e.Kind == jobgraph.Forward || e.Kind == jobgraph.Hash && p.par[e.To] == 1 && e.NewChained != nil)
	}
}

func (p *plan) workerOf(subtask int) *worker { return p.workers[subtask%len(p.workers)] }

// wire creates the queues of every unchained edge and one task per chain
// head and subtask.
func (p *plan) wire() {
	for ei, e := range p.g.Edges {
		if p.chained[ei] {
			continue
		}
		up, down := p.par[e.From], p.par[e.To]
		for i := range up {
			oc := &outChannels{}
			targets := make([]int, 0, down)
			if e.Kind == jobgraph.Forward {
				targets = append(targets, i%down)
			} else {
				for j := range down {
					targets = append(targets, j)
				}
			}
			for _, j := range targets {
				c := newChannel(p.opts.RingSize, p.workerOf(i), p.workerOf(j))
				key := [2]int{e.To, j}
				c.input = len(p.inputs[key])
				p.inputs[key] = append(p.inputs[key], c)
				oc.chans = append(oc.chans, c)
			}
			p.outs[[3]int{ei, i, 0}] = oc
		}
	}
	for _, v := range p.g.Vertices {
		if p.isChainHead(v.ID) {
			for i := range p.par[v.ID] {
				p.newTask(v, i)
			}
		}
	}
}

func (p *plan) isChainHead(id int) bool {
	for ei, e := range p.g.Edges {
		if e.To == id && p.chained[ei] {
			return false
		}
	}
	return true
}

func (p *plan) newTask(v *jobgraph.Vertex, i int) {
	w := p.workerOf(i)
	t := &task{name: fmt.Sprintf("%s#%d", v.Name, i), worker: w, wm: timeapi.MinWatermark, ckpt: p.ckpt, batchSize: p.opts.BatchSize}
	t.isSource = v.Source != nil
	if t.isSource && p.opts.AlignDrift > 0 {
		if p.align == nil {
			p.align = map[int]*alignGroup{}
		}
		g := p.align[v.ID]
		if g == nil {
			g = newAlignGroup(p.par[v.ID], p.opts.AlignDrift.Milliseconds())
			p.align[v.ID] = g
		}
		t.align, t.alignIdx = g, i
	}
	if p.ckpt != nil {
		t.injected = p.ckpt.nextID - 1 // barriers of this run start after the restored checkpoint
	}
	t.inputs = p.inputs[[2]int{v.ID, i}]
	if len(t.inputs) > 0 {
		t.tracker = timeapi.NewTracker(len(t.inputs))
	}
	w.tasks = append(w.tasks, t)
	p.tasks = append(p.tasks, t)
	t.build = func() error { return p.buildChain(t, v, i) }
}

// context returns the operator context of vertex v's subtask i.
func (p *plan) context(t *task, v *jobgraph.Vertex, i int) *operators.Context {
	o := p.opts
	ctx := &operators.Context{
		Operator: v.Name, Subtask: i, Parallelism: p.par[v.ID], MaxParallelism: o.MaxParallelism,
		BatchSize: o.BatchSize, Clock: o.Clock, Logger: o.Logger.Named(v.Name),
		Checkpointing: p.ckpt != nil,
	}
	if v.Keyed {
		ctx.KeyGroups = operators.KeyGroupRangeFor(i, o.MaxParallelism, p.par[v.ID])
	}
	r := &timerReq{at: noTimer}
	ctx.Timers = r
	t.ctxs = append(t.ctxs, ctx)
	return ctx
}

// buildChain opens the chain of task t, whose head is vertex v: downstream
// steps first, so every step is opened with an opened Output.
func (p *plan) buildChain(t *task, v *jobgraph.Vertex, i int) error {
	if v.Source != nil {
		ctx := p.context(t, v, i)
		out, err := p.output(t, v, i)
		if err != nil {
			return err
		}
		var mine []operators.Split
		for j, s := range p.splits[v.ID] {
			if j%p.par[v.ID] == i {
				mine = append(mine, s)
			}
		}
		r, err := v.Source.OpenReader(ctx, mine, p.restore.positions(v.Name))
		if err != nil {
			return err
		}
		t.source, t.head = r, out
		t.members = append(t.members, member{name: v.Name, ctx: ctx})
		return nil
	}
	head, err := p.operator(t, v, i)
	t.head = head
	return err
}

// operator builds and opens vertex v's subtask i inside task t.
func (p *plan) operator(t *task, v *jobgraph.Vertex, i int) (operators.Operator, error) {
	out, err := p.output(t, v, i)
	if err != nil {
		return nil, err
	}
	ctx := p.context(t, v, i)
	if v.Keyed {
		b, err := p.opts.State.NewBackend(statebackend.TaskInfo{
			Operator: v.Name, Subtask: i, KeyGroups: ctx.KeyGroups, MaxParallelism: p.opts.MaxParallelism})
		if err != nil {
			return nil, fmt.Errorf("weir/runtime: operator %q: state backend: %w", v.Name, err)
		}
		t.states = append(t.states, b)
		ctx.State = b
		if err := p.restore.backend(v.Name, b); err != nil {
			return nil, err
		}
	}
	op := v.NewOperator()
	t.ops = append(t.ops, op)
	if h, ok := op.(operators.ProcessingTimeHandler); ok {
		r := ctx.Timers.(*timerReq)
		r.op = h
		t.timers = append(t.timers, r)
	}
	if err := op.Open(ctx, out); err != nil {
		return nil, err
	}
	t.members = append(t.members, member{name: v.Name, ctx: ctx, op: op, state: ctx.State})
	if err := p.restore.operator(v.Name, ctx, op); err != nil {
		return nil, err
	}
	return op, nil
}

// output builds what vertex v's subtask i writes to: chained operators and
// the writers of its unchained edges.
func (p *plan) output(t *task, v *jobgraph.Vertex, i int) (operators.Output, error) {
	var tee operators.Tee
	for ei, e := range p.g.Edges {
		if e.From != v.ID {
			continue
		}
		if p.chained[ei] {
			op, err := p.operator(t, p.g.Vertices[e.To], i)
			if err != nil {
				return nil, err
			}
			if e.Kind == jobgraph.Hash {
				tee = append(tee, e.NewChained(op, p.opts.MaxParallelism))
			} else {
				tee = append(tee, op)
			}
			continue
		}
		oc := p.outs[[3]int{ei, i, 0}]
		t.outs = append(t.outs, oc)
		tee = append(tee, e.NewWriter(oc, p.opts.MaxParallelism, p.opts.BatchSize))
	}
	switch len(tee) {
	case 0:
		return discardOutput{}, nil
	case 1:
		return tee[0], nil
	}
	return tee, nil
}

// discardOutput ends a chain that has no consumer (a sink's output).
type discardOutput struct{}

func (discardOutput) Push(any) error        { return nil }
func (discardOutput) Watermark(int64) error { return nil }
func (discardOutput) Flush() error          { return nil }
func (discardOutput) EndInput() error       { return nil }
