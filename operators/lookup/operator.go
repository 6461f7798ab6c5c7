package lookup

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// Operator is the lookup join: for every record it looks up key(record) in
// a Table (through its cache) and emits join(record, value, found) with the
// record's event time. See the package documentation for the model.
//
// It implements operators.Operator directly rather than through
// operators.Drive because it holds watermarks back while earlier records
// are still being looked up. All methods run on the task's goroutine; the
// lookups themselves run on MaxInFlight helper goroutines started by Open
// and stopped by Close.
type Operator[T any, K comparable, V, O any] struct {
	table Table[K, V]
	key   func(T) K
	join  func(T, V, bool) O
	opts  Options
	name  string

	ctx    *operators.Context
	out    *operators.Emitter[O]
	next   operators.Output
	cache  *cache[K, V]
	now    int64 // processing time of the current call, Unix ms
	pollMs int64

	// ring holds records (and held watermarks) by sequence number in
	// [head, tail); firstWM is the first watermark in it (noWM: none).
	ring             []slot[T, V]
	mask             int64
	head, tail       int64
	firstWM          int64
	inflight         map[K]keyRef[K, V] // keys being fetched or about to be
	building         *request[K, V]     // request collecting this batch's misses
	ready            []*request[K, V]   // complete requests waiting for a fetcher
	free             []*request[K, V]
	active           int // requests at the fetchers
	reqs             chan *request[K, V]
	done             chan *request[K, V]
	cancel           context.CancelFunc
	wg               sync.WaitGroup
	err              error // first lookup failure; the operator is dead after it
	stats            Stats
	openErr, invalid error
}

// Stats counts what an Operator did (per subtask).
type Stats struct {
	Records   int64 // records processed
	CacheHits int64 // records answered from the cache
	Keys      int64 // keys sent to the table (distinct per request)
	Requests  int64 // GetBatch requests completed
}

type slot[T, V any] struct {
	v     T
	ts    int64
	val   V
	found bool
	state uint8
	wm    int64
}

const (
	sPending uint8 = iota
	sDone
	sEmitted
	sWatermark
)

const noWM = -1

type keyRef[K comparable, V any] struct {
	req *request[K, V]
	idx int32
}

// New returns a lookup join operator (one per subtask: the runtime calls
// a constructor like this from the vertex's NewOperator). Invalid options
// or a nil argument are reported by Open.
func New[T any, K comparable, V, O any](table Table[K, V], key func(T) K, join func(T, V, bool) O, opts Options) *Operator[T, K, V, O] {
	o := &Operator[T, K, V, O]{table: table, key: key, join: join, opts: opts.withDefaults()}
	if table == nil || key == nil || join == nil {
		o.invalid = fmt.Errorf("%w: nil table, key or join function", operators.ErrNilFunc)
	} else if err := opts.Validate(); err != nil {
		o.invalid = err
	}
	return o
}

// Stats returns the operator's counters. Call it from the task's goroutine
// (or after the job ended).
func (o *Operator[T, K, V, O]) Stats() Stats { return o.stats }

// Open implements operators.Operator: it starts the helper goroutines.
func (o *Operator[T, K, V, O]) Open(ctx *operators.Context, next operators.Output) (err error) {
	o.ctx, o.next = ctx, next
	if o.invalid != nil {
		return operators.Wrap(ctx, o.invalid)
	}
	o.name = tableName(o.table, o.opts.TableName)
	o.out = operators.NewEmitter[O](next, ctx.BatchSize)
	if o.opts.CacheSize > 0 {
		o.cache = newCache[K, V](o.opts.CacheSize, o.opts.CacheTTL.Milliseconds(), o.opts.NegativeTTL.Milliseconds())
	}
	size := 1 << bits.Len(uint(o.opts.Capacity-1))
	o.ring, o.mask, o.firstWM = make([]slot[T, V], size), int64(size-1), noWM
	o.inflight = make(map[K]keyRef[K, V], o.opts.MaxBatchKeys)
	o.pollMs = max(1, o.opts.PollInterval.Milliseconds())
	o.reqs = make(chan *request[K, V], o.opts.MaxInFlight)
	o.done = make(chan *request[K, V], o.opts.MaxInFlight)
	runCtx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	f := &fetcher[K, V]{table: o.table, name: o.name, opts: o.opts}
	for range o.opts.MaxInFlight {
		o.wg.Go(func() { f.run(runCtx, o.reqs, o.done) })
	}
	return nil
}

// Close implements operators.Operator: it stops the helper goroutines
// (lookups in progress are canceled). The table is not closed.
func (o *Operator[T, K, V, O]) Close() error {
	if o.cancel != nil {
		o.cancel()
		close(o.reqs)
		o.wg.Wait()
		o.cancel = nil
	}
	return nil
}

// Push implements operators.Operator: cache hits are joined at once (in
// ordered mode only while no earlier record waits); misses are queued and
// their keys, deduplicated, sent to the table in one request per batch.
// When Capacity records are held, Push waits for lookups to complete.
func (o *Operator[T, K, V, O]) Push(batch any) (err error) {
	defer operators.Recover(o.ctx, &err)
	b, ok := batch.(*operators.Batch[T])
	if !ok {
		return operators.Wrap(o.ctx, fmt.Errorf("weir: got %T, want %T", batch, b))
	}
	if err := o.begin(); err != nil {
		return err
	}
	o.stats.Records += int64(len(b.Values))
	for i, v := range b.Values {
		ts, k := b.Times[i], o.key(v)
		if o.cache != nil {
			if val, found, hit := o.cache.get(k, o.now); hit {
				o.stats.CacheHits++
				if o.direct() {
					o.out.Emit(o.join(v, val, found), ts)
					continue
				}
				if err := o.room(); err != nil {
					return o.fail(err)
				}
				o.pushSlot(slot[T, V]{v: v, ts: ts, val: val, found: found, state: sDone})
				continue
			}
		}
		if err := o.room(); err != nil {
			return o.fail(err)
		}
		o.miss(v, ts, k)
	}
	o.flushBuilding()
	o.dispatch()
	o.arm()
	return o.out.Err()
}

// Watermark implements operators.Operator: the watermark moves on at once
// when no record is held, else it waits in line behind the held records.
func (o *Operator[T, K, V, O]) Watermark(wm int64) (err error) {
	defer operators.Recover(o.ctx, &err)
	if err := o.begin(); err != nil {
		return err
	}
	if o.head == o.tail {
		if err := o.out.Flush(); err != nil {
			return err
		}
		return o.next.Watermark(wm)
	}
	if last := &o.ring[(o.tail-1)&o.mask]; last.state == sWatermark {
		last.wm = max(last.wm, wm)
		return nil
	}
	if err := o.room(); err != nil {
		return o.fail(err)
	}
	if o.head == o.tail { // room() emitted everything held
		if err := o.out.Flush(); err != nil {
			return err
		}
		return o.next.Watermark(wm)
	}
	if o.firstWM == noWM && o.opts.Mode == Unordered {
		o.firstWM = o.tail
	}
	o.pushSlot(slot[T, V]{state: sWatermark, wm: wm})
	o.arm()
	return nil
}

// Flush implements operators.Operator: completed lookups are emitted and
// the pending output batch moves on. When the job takes checkpoints, Flush
// (which the runtime calls before a barrier passes) waits for every
// lookup in progress, so no record is in flight across a checkpoint.
func (o *Operator[T, K, V, O]) Flush() (err error) {
	defer operators.Recover(o.ctx, &err)
	if err := o.begin(); err != nil {
		return err
	}
	if o.ctx.Checkpointing {
		if err := o.drainAll(); err != nil {
			return o.fail(err)
		}
	}
	if err := o.out.Flush(); err != nil {
		return err
	}
	return o.next.Flush()
}

// EndInput implements operators.Operator: it waits for every lookup in
// progress and emits all held records and watermarks first.
func (o *Operator[T, K, V, O]) EndInput() (err error) {
	defer operators.Recover(o.ctx, &err)
	if err := o.begin(); err != nil {
		return err
	}
	if err := o.drainAll(); err != nil {
		return o.fail(err)
	}
	if err := o.out.Flush(); err != nil {
		return err
	}
	return o.next.EndInput()
}

// OnProcessingTime implements operators.ProcessingTimeHandler: the poll
// for completed lookups the operator asked for while some were running.
func (o *Operator[T, K, V, O]) OnProcessingTime(now int64) (err error) {
	defer operators.Recover(o.ctx, &err)
	if o.err != nil {
		return o.fail(o.err)
	}
	o.now = now
	if err := o.poll(); err != nil {
		return o.fail(err)
	}
	o.arm()
	return o.out.Err()
}

// begin reads the clock and takes in completed lookups.
func (o *Operator[T, K, V, O]) begin() error {
	if o.err != nil {
		return o.fail(o.err)
	}
	o.now = timeapi.NowMillis(o.ctx.Clock)
	if err := o.poll(); err != nil {
		return o.fail(err)
	}
	return nil
}

func (o *Operator[T, K, V, O]) fail(err error) error {
	if o.err == nil {
		o.err = err
	}
	return operators.Wrap(o.ctx, err)
}

// direct reports whether a resolved record may be emitted at once.
func (o *Operator[T, K, V, O]) direct() bool {
	if o.opts.Mode == Unordered {
		return o.firstWM == noWM
	}
	return o.head == o.tail
}

func (o *Operator[T, K, V, O]) pushSlot(s slot[T, V]) {
	o.ring[o.tail&o.mask] = s
	o.tail++
}

// miss queues record v and attaches it to the request fetching k.
func (o *Operator[T, K, V, O]) miss(v T, ts int64, k K) {
	seq := o.tail
	o.pushSlot(slot[T, V]{v: v, ts: ts})
	ref, ok := o.inflight[k]
	if !ok {
		r := o.building
		if r == nil {
			r = o.newRequest()
			o.building = r
		}
		ref = keyRef[K, V]{req: r, idx: int32(len(r.keys))}
		r.keys = append(r.keys, k)
		o.inflight[k] = ref
		if len(r.keys) >= o.opts.MaxBatchKeys {
			o.flushBuilding()
		}
	}
	ref.req.waiters = append(ref.req.waiters, waiter{seq: seq, idx: ref.idx})
}

func (o *Operator[T, K, V, O]) newRequest() *request[K, V] {
	if n := len(o.free); n > 0 {
		r := o.free[n-1]
		o.free = o.free[:n-1]
		return r
	}
	return &request[K, V]{keys: make([]K, 0, o.opts.MaxBatchKeys)}
}

// flushBuilding closes the request being built.
func (o *Operator[T, K, V, O]) flushBuilding() {
	if o.building != nil {
		o.ready = append(o.ready, o.building)
		o.building = nil
	}
}

// dispatch hands ready requests to free fetchers (never blocks: reqs has
// room for MaxInFlight).
func (o *Operator[T, K, V, O]) dispatch() {
	n := 0
	for ; n < len(o.ready) && o.active < o.opts.MaxInFlight; n++ {
		o.reqs <- o.ready[n]
		o.active++
	}
	if n > 0 {
		m := copy(o.ready, o.ready[n:])
		clear(o.ready[m:])
		o.ready = o.ready[:m]
	}
}

// arm asks for a poll while lookups are in progress.
func (o *Operator[T, K, V, O]) arm() {
	if o.ctx.Timers != nil && (o.head < o.tail || o.active > 0 || len(o.ready) > 0) {
		o.ctx.Timers.CallbackAt(o.now + o.pollMs)
	}
}

// poll takes in the completed requests without waiting.
func (o *Operator[T, K, V, O]) poll() error {
	for o.active > 0 {
		select {
		case r := <-o.done:
			o.complete(r)
			continue
		default:
		}
		break
	}
	o.dispatch()
	if o.err != nil {
		return o.err
	}
	return o.advance()
}

// room waits until the ring has room for one more entry (backpressure).
func (o *Operator[T, K, V, O]) room() error {
	for o.tail-o.head >= int64(o.opts.Capacity) {
		o.flushBuilding()
		o.dispatch()
		if o.active == 0 {
			return errors.New("weir/lookup: internal error: queue full with no lookup in progress")
		}
		o.complete(<-o.done)
		o.dispatch()
		if o.err != nil {
			return o.err
		}
		if err := o.advance(); err != nil {
			return err
		}
	}
	return nil
}

// drainAll waits for every lookup and emits everything held.
func (o *Operator[T, K, V, O]) drainAll() error {
	for {
		o.flushBuilding()
		o.dispatch()
		if err := o.advance(); err != nil {
			return err
		}
		if o.active == 0 {
			break
		}
		o.complete(<-o.done)
		if o.err != nil {
			return o.err
		}
	}
	if o.head != o.tail {
		return fmt.Errorf("weir/lookup: internal error: %d entries held after all lookups completed", o.tail-o.head)
	}
	return nil
}

// complete takes in a finished request: results go to the cache and to
// the records waiting for them; in unordered mode those before the first
// held watermark are emitted at once.
func (o *Operator[T, K, V, O]) complete(r *request[K, V]) {
	o.active--
	if r.err != nil {
		if o.err == nil {
			o.err = r.err
		}
		return
	}
	o.stats.Requests++
	o.stats.Keys += int64(len(r.keys))
	for i, k := range r.keys {
		if o.cache != nil {
			o.cache.put(k, r.values[i], r.found[i], o.now)
		}
		delete(o.inflight, k)
	}
	unordered := o.opts.Mode == Unordered
	for _, w := range r.waiters {
		s := &o.ring[w.seq&o.mask]
		s.val, s.found, s.state = r.values[w.idx], r.found[w.idx], sDone
		if unordered && (o.firstWM == noWM || w.seq < o.firstWM) {
			o.emit(s)
		}
	}
	clear(r.keys)
	r.keys, r.waiters = r.keys[:0], r.waiters[:0]
	r.values, r.found = nil, nil
	o.free = append(o.free, r)
}

func (o *Operator[T, K, V, O]) emit(s *slot[T, V]) {
	o.out.Emit(o.join(s.v, s.val, s.found), s.ts)
	s.state = sEmitted
}

// advance emits resolved entries from the head of the ring and the
// watermarks they held back.
func (o *Operator[T, K, V, O]) advance() error {
	for o.head < o.tail {
		s := &o.ring[o.head&o.mask]
		switch s.state {
		case sPending:
			return nil
		case sDone:
			o.emit(s)
		case sWatermark:
			if err := o.out.Flush(); err != nil {
				return err
			}
			if err := o.next.Watermark(s.wm); err != nil {
				return err
			}
		}
		wm := s.state == sWatermark
		*s = slot[T, V]{}
		o.head++
		if wm {
			o.nextSegment()
		}
	}
	return nil
}

// nextSegment finds the first held watermark after a watermark left; in
// unordered mode it emits the resolved records before it.
func (o *Operator[T, K, V, O]) nextSegment() {
	o.firstWM = noWM
	if o.opts.Mode == Ordered {
		return // ordered mode emits from the head only; no segment bookkeeping
	}
	for seq := o.head; seq < o.tail; seq++ {
		s := &o.ring[seq&o.mask]
		if s.state == sWatermark {
			o.firstWM = seq
			return
		}
		if s.state == sDone {
			o.emit(s)
		}
	}
}
