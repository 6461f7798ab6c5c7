package operators

import "slices"

// Channels is the runtime's side of an exchange as one producing subtask
// sees it: one channel per consuming subtask reached by the edge.
type Channels interface {
	// Len is the number of channels.
	Len() int
	// Send hands a batch to channel ch. It never blocks and never drops:
	// when the channel is full the runtime keeps the batch and parks the
	// producing task until the channel drains.
	Send(ch int, batch any)
	// Recycle returns an empty batch the consumer of ch handed back, or nil.
	Recycle(ch int) any
	// Watermark sends wm to every channel, after the batches sent before.
	Watermark(wm int64)
	// EndInput sends the end of input to every channel.
	EndInput()
}

// Mode is how an exchange routes records.
type Mode int

// Exchange modes.
const (
	Forward   Mode = iota // everything to the single channel
	Rebalance             // whole batches round-robin over the channels
	Broadcast             // every record to every channel
)

// NewWriter returns the writer of a non-hash exchange for records of type T.
func NewWriter[T any](mode Mode, ch Channels, batchSize int) Output {
	w := &passWriter[T]{mode: mode, ch: ch, size: batchSizeOr(batchSize)}
	w.pending = make([]*Batch[T], ch.Len())
	return w
}

func batchSizeOr(n int) int {
	if n <= 0 {
		return DefaultBatchSize
	}
	return n
}

// send seals p (Batch.Seal) and hands it to channel i.
func send[T any](ch Channels, i int, p *Batch[T]) {
	p.Seal()
	ch.Send(i, p)
}

func takeBatch[T any](ch Channels, i, size int, keyed bool) *Batch[T] {
	if r := ch.Recycle(i); r != nil {
		b := r.(*Batch[T])
		b.Refill() // sent full, mostly: Seal zeroes what is not overwritten
		return b
	}
	b := NewBatch[T](size)
	if keyed {
		b.KeyGroups = make([]uint16, 0, size)
	}
	return b
}

type passWriter[T any] struct {
	mode    Mode
	ch      Channels
	size    int
	next    int
	pending []*Batch[T]
}

func (w *passWriter[T]) Push(batch any) error {
	b := batch.(*Batch[T])
	switch w.mode {
	case Broadcast:
		for i := range w.pending {
			w.appendTo(i, b)
		}
	case Rebalance:
		w.appendTo(w.next, b)
		w.next = (w.next + 1) % len(w.pending)
	default:
		w.appendTo(0, b)
	}
	return nil
}

func (w *passWriter[T]) appendTo(i int, b *Batch[T]) {
	vals, times := b.Values, b.Times
	for len(vals) > 0 {
		p := w.pending[i]
		if p == nil {
			p = takeBatch[T](w.ch, i, w.size, false)
			w.pending[i] = p
		}
		n := min(w.size-len(p.Values), len(vals))
		p.Values = append(p.Values, vals[:n]...)
		p.Times = append(p.Times, times[:n]...)
		vals, times = vals[n:], times[n:]
		if len(p.Values) >= w.size {
			send(w.ch, i, p)
			w.pending[i] = nil
		}
	}
}

func (w *passWriter[T]) Flush() error {
	for i, p := range w.pending {
		if p != nil && len(p.Values) > 0 {
			send(w.ch, i, p)
			w.pending[i] = nil
		}
	}
	return nil
}

func (w *passWriter[T]) Watermark(wm int64) error {
	w.Flush()
	w.ch.Watermark(wm)
	return nil
}

func (w *passWriter[T]) EndInput() error {
	w.Flush()
	w.ch.EndInput()
	return nil
}

// NewHashWriter returns the writer of a hash exchange: every record goes to
// the channel owning the key group of key(record), with its key group set.
func NewHashWriter[T any, K comparable](key func(T) K, hash func(K) uint64, maxParallelism int, ch Channels, batchSize int) Output {
	n := ch.Len()
	w := &hashWriter[T, K]{keyGrouper: newKeyGrouper(key, hash, maxParallelism), ch: ch, size: batchSizeOr(batchSize)}
	w.pending = make([]*Batch[T], n)
	w.idx = make([][]int32, n)
	w.route = make([]int32, maxParallelism)
	for kg := range maxParallelism {
		w.route[kg] = int32(SubtaskOf(kg, maxParallelism, n))
	}
	return w
}

// keyGrouper computes the key groups of records.
type keyGrouper[T any, K comparable] struct {
	key     func(T) K
	hash    func(K) uint64
	maxP    uint64
	mask    uint64 // maxP-1 when maxP is a power of two, else 0
	scratch []uint16
}

func newKeyGrouper[T any, K comparable](key func(T) K, hash func(K) uint64, maxParallelism int) keyGrouper[T, K] {
	g := keyGrouper[T, K]{key: key, hash: hash, maxP: uint64(maxParallelism)}
	if maxParallelism&(maxParallelism-1) == 0 {
		g.mask = uint64(maxParallelism - 1) // h % maxP without a division
	}
	return g
}

type hashWriter[T any, K comparable] struct {
	keyGrouper[T, K]
	idx     [][]int32 // per channel: indexes of the records of a batch
	route   []int32   // key group -> channel
	ch      Channels
	size    int
	pending []*Batch[T]
}

func (w *hashWriter[T, K]) Push(batch any) error {
	b := batch.(*Batch[T])
	kgs := w.keyGroups(b.Values)
	if len(w.pending) == 1 {
		w.appendAll(b, kgs)
		return nil
	}
	// Group record indexes by channel, then copy channel by channel: two
	// tight loops instead of one with a branchy per-record lookup.
	for c := range w.idx {
		w.idx[c] = w.idx[c][:0]
	}
	for i, kg := range kgs {
		c := w.route[kg]
		w.idx[c] = append(w.idx[c], int32(i))
	}
	for c, idx := range w.idx {
		w.gather(c, b, kgs, idx)
	}
	return nil
}

// gather appends the records at idx to channel c's pending batches.
func (w *hashWriter[T, K]) gather(c int, b *Batch[T], kgs []uint16, idx []int32) {
	for len(idx) > 0 {
		p := w.pending[c]
		if p == nil {
			p = takeBatch[T](w.ch, c, w.size, true)
			w.pending[c] = p
		}
		n := min(w.size-len(p.Values), len(idx))
		at := len(p.Values)
		// grow once, then assign: no capacity check per record
		p.Values = slices.Grow(p.Values, n)[:at+n]
		p.Times = slices.Grow(p.Times, n)[:at+n]
		p.KeyGroups = slices.Grow(p.KeyGroups, n)[:at+n]
		vals, times, groups := p.Values[at:], p.Times[at:], p.KeyGroups[at:]
		for j, i := range idx[:n] {
			vals[j] = b.Values[i]
			times[j] = b.Times[i]
			groups[j] = kgs[i]
		}
		idx = idx[n:]
		if len(p.Values) >= w.size {
			send(w.ch, c, p)
			w.pending[c] = nil
		}
	}
}

// keyGroups computes the key group of every value in one tight loop, into
// a slice reused by the next call.
func (w *keyGrouper[T, K]) keyGroups(vals []T) []uint16 {
	kgs := w.scratch[:0]
	if w.mask != 0 {
		for _, v := range vals {
			kgs = append(kgs, uint16(w.hash(w.key(v))&w.mask))
		}
	} else {
		for _, v := range vals {
			kgs = append(kgs, uint16(w.hash(w.key(v))%w.maxP))
		}
	}
	w.scratch = kgs
	return kgs
}

// appendAll is the single-channel path: whole runs are copied.
func (w *hashWriter[T, K]) appendAll(b *Batch[T], kgs []uint16) {
	vals, times := b.Values, b.Times
	for len(vals) > 0 {
		p := w.pending[0]
		if p == nil {
			p = takeBatch[T](w.ch, 0, w.size, true)
			w.pending[0] = p
		}
		n := min(w.size-len(p.Values), len(vals))
		p.Values = append(p.Values, vals[:n]...)
		p.Times = append(p.Times, times[:n]...)
		p.KeyGroups = append(p.KeyGroups, kgs[:n]...)
		vals, times, kgs = vals[n:], times[n:], kgs[n:]
		if len(p.Values) >= w.size {
			send(w.ch, 0, p)
			w.pending[0] = nil
		}
	}
}

func (w *hashWriter[T, K]) Flush() error {
	for i, p := range w.pending {
		if p != nil && len(p.Values) > 0 {
			send(w.ch, i, p)
			w.pending[i] = nil
		}
	}
	return nil
}

func (w *hashWriter[T, K]) Watermark(wm int64) error {
	w.Flush()
	w.ch.Watermark(wm)
	return nil
}

func (w *hashWriter[T, K]) EndInput() error {
	w.Flush()
	w.ch.EndInput()
	return nil
}

// Tee is an Output that hands everything to several outputs (a stream with
// several consumers).
type Tee []Output

// Push implements Output.
func (t Tee) Push(b any) error {
	for _, o := range t {
		if err := o.Push(b); err != nil {
			return err
		}
	}
	return nil
}

// Watermark implements Output.
func (t Tee) Watermark(wm int64) error {
	for _, o := range t {
		if err := o.Watermark(wm); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements Output.
func (t Tee) Flush() error {
	for _, o := range t {
		if err := o.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// EndInput implements Output.
func (t Tee) EndInput() error {
	for _, o := range t {
		if err := o.EndInput(); err != nil {
			return err
		}
	}
	return nil
}

// NewKeyGroupWriter returns the output of a hash exchange between a
// producer and a consumer chained into one task (both of parallelism 1, so
// the consumer owns every key group): it hands each batch on to next as it
// is, with the key groups of its records set as a hash writer sets them,
// so keyed state is laid out as behind an exchange, and the records are
// neither copied nor queued.
func NewKeyGroupWriter[T any, K comparable](key func(T) K, hash func(K) uint64, maxParallelism int, next Output) Output {
	return &keyGroupWriter[T, K]{keyGrouper: newKeyGrouper(key, hash, maxParallelism), next: next}
}

type keyGroupWriter[T any, K comparable] struct {
	keyGrouper[T, K]
	next Output
}

func (w *keyGroupWriter[T, K]) Push(batch any) error {
	b := batch.(*Batch[T])
	own := b.KeyGroups // the batch belongs to the producer: leave it as it was
	b.KeyGroups = w.keyGroups(b.Values)
	err := w.next.Push(b)
	b.KeyGroups = own
	return err
}

func (w *keyGroupWriter[T, K]) Watermark(wm int64) error { return w.next.Watermark(wm) }
func (w *keyGroupWriter[T, K]) Flush() error             { return w.next.Flush() }
func (w *keyGroupWriter[T, K]) EndInput() error          { return w.next.EndInput() }
