package stream

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// JoinKind says which unmatched records a join emits.
type JoinKind uint8

// Join kinds. An outer join emits the records of its outer side(s) that
// found no partner, with a nil pointer for the missing side.
const (
	InnerJoin      JoinKind = iota // matched pairs only
	LeftOuterJoin                  // plus left records without a match
	RightOuterJoin                 // plus right records without a match
	FullOuterJoin                  // plus unmatched records of both sides
)

func (k JoinKind) String() string {
	switch k {
	case InnerJoin:
		return "inner"
	case LeftOuterJoin:
		return "left outer"
	case RightOuterJoin:
		return "right outer"
	case FullOuterJoin:
		return "full outer"
	}
	return fmt.Sprintf("JoinKind(%d)", int(k))
}

func (k JoinKind) leftOuter() bool  { return k == LeftOuterJoin || k == FullOuterJoin }
func (k JoinKind) rightOuter() bool { return k == RightOuterJoin || k == FullOuterJoin }
func (k JoinKind) valid() bool      { return k <= FullOuterJoin }

// joinIn is the record type of a two-input join vertex: both inputs are
// tagged into it by their exchange writers (tagWriter), so the join is an
// ordinary one-input keyed operator over joinIn whose vertex has two hash
// input edges. The key is computed once, before the exchange.
type joinIn[K comparable, L, R any] struct {
	key   K
	l     L
	r     R
	right bool
}

// tagWriter converts each batch of one join input into a batch of the
// join's record type and hands it to the hash exchange. A tag may drop a
// record (ok == false).
type tagWriter[T, E any] struct {
	tag  func(T) (E, bool)
	buf  *operators.Batch[E]
	next operators.Output
}

func (w *tagWriter[T, E]) Push(batch any) error {
	b, ok := batch.(*operators.Batch[T])
	if !ok {
		return fmt.Errorf("weir/stream: join input got %T, want %T", batch, b)
	}
	out := w.buf
	for i, v := range b.Values {
		if e, ok := w.tag(v); ok {
			out.Values = append(out.Values, e)
			out.Times = append(out.Times, b.Times[i])
		}
	}
	err := w.next.Push(out)
	out.Reset()
	return err
}

func (w *tagWriter[T, E]) Watermark(wm int64) error { return w.next.Watermark(wm) }
func (w *tagWriter[T, E]) Flush() error             { return w.next.Flush() }
func (w *tagWriter[T, E]) EndInput() error          { return w.next.EndInput() }

// joinEdge is the hash exchange of one join input: it tags the input's
// records into E and partitions them by key(E).
func joinEdge[T, E any, K comparable](from *node, tag func(T) (E, bool), key func(E) K) *edge {
	return &edge{from: from, kind: jobgraph.Hash, newWriter: func(ch operators.Channels, maxP, bs int) operators.Output {
		next := operators.NewHashWriter[E, K](key, operators.HashFunc[K](), maxP, ch, bs)
		return &tagWriter[T, E]{tag: tag, buf: operators.NewBatch[E](operators.DefaultBatchSize), next: next}
	}}
}

// twoInputThen adds a keyed join vertex over joinIn[K, L, R] fed by the
// hash exchanges of left and right; rtag turns each right input record
// into the join's right type (or drops it). No DataStream of the internal
// record type is ever made: its generic methods would instantiate the
// join functions with their own parameters wrapped (an instantiation
// cycle).
func twoInputThen[K comparable, L, RI, R, O any](left KeyedStream[K, L], right KeyedStream[K, RI], kind string,
	rtag func(RI) (R, bool), newOp func() operators.Operator) DataStream[O] {
	j := left.in.job
	if right.in.job != j {
		j.addErr("%w: %s of %q with %q", ErrOtherJob, kind, left.in.n.name, right.in.n.name)
	}
	lkey, rkey := left.key, right.key
	if lkey == nil || rkey == nil {
		j.addErr("%w: %s of %q with %q: nil key selector", ErrNilFunc, kind, left.in.n.name, right.in.n.name)
	}
	key := func(e joinIn[K, L, R]) K { return e.key }
	le := joinEdge(left.in.n, func(l L) (joinIn[K, L, R], bool) {
		return joinIn[K, L, R]{key: lkey(l), l: l}, true
	}, key)
	re := joinEdge(right.in.n, func(ri RI) (joinIn[K, L, R], bool) {
		r, ok := rtag(ri)
		return joinIn[K, L, R]{key: rkey(ri), r: r, right: true}, ok
	}, key)
	n := j.add(kind, &node{newOp: newOp, keyed: true, inputs: []*edge{le, re}})
	return DataStream[O]{job: j, n: n}
}

// same is the tag of a right input used as it is.
func same[R any](r R) (R, bool) { return r, true }

// wholeMillis converts d to milliseconds, reporting a build error for
// sub-millisecond parts.
func wholeMillis(j *Job, d time.Duration, what string) int64 {
	if d%time.Millisecond != 0 {
		j.addErr("%w: %s %v is not a whole number of milliseconds", ErrBadSetting, what, d)
	}
	return int64(d / time.Millisecond)
}

// keyGroup returns the key group of record i of in (set by the exchange;
// computed when the batch did not cross one).
func keyGroup[K comparable, T any](in *operators.Batch[T], i int, k K, hash func(K) uint64, maxP int) int {
	if in.KeyGroups != nil {
		return int(in.KeyGroups[i])
	}
	return operators.KeyGroupOf(hash(k), maxP)
}

// expiry is a pending clean-up (or emission) of one key's state at a time:
// the join operators' timers. ns is the state namespace it concerns (a
// timestamp), side which table (the interval join, which keeps one entry
// per key, uses neither).
type expiry[K comparable] struct {
	at   int64
	key  K
	ns   int64
	kg   uint16
	side uint8
}

// The sides of an expiry.
const (
	sideLeft uint8 = iota
	sideRight
)

// expiryQueue is a binary min-heap of expiries by time, then insertion
// order (deterministic). It is derived state: the join operators keep
// every record in state tables and rebuild the queue from them when they
// open (after a restore), so it needs no checkpoint of its own.
type expiryQueue[K comparable] struct {
	items []expiry[K]
	seqs  []uint64
	seq   uint64
}

func (q *expiryQueue[K]) len() int { return len(q.items) }

func (q *expiryQueue[K]) less(i, j int) bool {
	a, b := q.items[i].at, q.items[j].at
	return a < b || (a == b && q.seqs[i] < q.seqs[j])
}

func (q *expiryQueue[K]) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.seqs[i], q.seqs[j] = q.seqs[j], q.seqs[i]
}

func (q *expiryQueue[K]) push(e expiry[K]) {
	q.seq++
	q.items = append(q.items, e)
	q.seqs = append(q.seqs, q.seq)
	for i := len(q.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.swap(i, p)
		i = p
	}
}

// pop removes and returns the earliest expiry at or before upTo.
func (q *expiryQueue[K]) pop(upTo int64) (expiry[K], bool) {
	if len(q.items) == 0 || q.items[0].at > upTo {
		return expiry[K]{}, false
	}
	top := q.items[0]
	n := len(q.items) - 1
	q.swap(0, n)
	q.items[n] = expiry[K]{}
	q.items, q.seqs = q.items[:n], q.seqs[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && q.less(l, m) {
			m = l
		}
		if l+1 < n && q.less(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		q.swap(i, m)
		i = m
	}
	return top, true
}

// peek returns the time of the earliest expiry.
func (q *expiryQueue[K]) peek() (int64, bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	return q.items[0].at, true
}

// forEachEntry calls fn for every entry of table name in the key groups of
// ctx, through a snapshot: the join operators rebuild their expiry queues
// from restored state with it.
func forEachEntry[K comparable, N comparable, V any](ctx *operators.Context, name string, fn func(kg int, k K, ns N, v V)) error {
	if ctx.State == nil {
		return nil
	}
	s, err := ctx.State.Snapshot(ctx.KeyGroups)
	if err != nil {
		return err
	}
	defer s.Release()
	t := s.Table(name)
	if t == nil {
		return nil
	}
	for kg := ctx.KeyGroups.Start; kg < ctx.KeyGroups.End; kg++ {
		if t.Len(kg) == 0 {
			continue
		}
		t.ForEach(kg, func(key, ns, v any) bool {
			fn(kg, key.(K), ns.(N), v.(V))
			return true
		})
	}
	return nil
}

// tableLen sums a table's entries over the key groups of ctx.
func tableLen[K comparable, N comparable, V any](ctx *operators.Context, t statebackend.Table[K, N, V]) int {
	n := 0
	for kg := ctx.KeyGroups.Start; kg < ctx.KeyGroups.End; kg++ {
		n += t.Len(kg)
	}
	return n
}

// holdBack delays the watermarks an operator forwards by d: an operator
// that emits records older than its input watermark (the unmatched rows
// of an outer interval join) holds its output watermark back so they are
// not late downstream.
type holdBack struct {
	operators.Operator
	d int64
}

func (h *holdBack) Open(ctx *operators.Context, out operators.Output) error {
	return h.Operator.Open(ctx, &shiftedOutput{Output: out, d: h.d, last: timeapi.MinWatermark})
}

type shiftedOutput struct {
	operators.Output
	d    int64
	last int64
}

func (s *shiftedOutput) Watermark(wm int64) error {
	if wm != timeapi.MaxWatermark {
		if wm < timeapi.MinWatermark+s.d {
			return nil
		}
		wm -= s.d
	}
	if wm <= s.last {
		return nil
	}
	s.last = wm
	return s.Output.Watermark(wm)
}

var (
	errNoState         = errors.New("weir/stream: keyed operator without state backend")
	errJoinNoTimestamp = errors.New("weir/stream: join input record without event time (set a watermark strategy)")
)

// JoinStats are the counters of a join operator subtask.
type JoinStats struct {
	Buffered    int   // state entries held now (a key's records of one timestamp or of all, or one version)
	Pending     int   // pending clean-ups and emissions
	DroppedLate int64 // records dropped because they arrived behind the watermark
}

// JoinStater is implemented by the join operators (through their driver's
// operator) for tests and metrics.
type JoinStater interface {
	JoinStats() JoinStats
}
