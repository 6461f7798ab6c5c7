package operators

import "math"

// DefaultBatchSize is the number of records in a full batch.
const DefaultBatchSize = 1024

// Batch is a group of records moving through a chain or an exchange.
// Values, Times and (when set) KeyGroups have the same length.
type Batch[T any] struct {
	Values    []T
	Times     []int64  // event time of each record, Unix ms (timeapi.NoTimestamp if none)
	KeyGroups []uint16 // key group of each record, set by a hash exchange; nil otherwise
	// stale is the end of the records an earlier fill left in Values'
	// backing array past its length (Refill), for Seal to zero.
	stale int
}

// NewBatch returns an empty batch with room for capacity records.
func NewBatch[T any](capacity int) *Batch[T] {
	return &Batch[T]{Values: make([]T, 0, capacity), Times: make([]int64, 0, capacity)}
}

// Len is the number of records in the batch.
func (b *Batch[T]) Len() int { return len(b.Values) }

// FirstTime returns the time of the first record, or math.MinInt64 for an
// empty batch.
func (b *Batch[T]) FirstTime() int64 {
	if len(b.Times) == 0 {
		return math.MinInt64
	}
	return b.Times[0]
}

// Append adds one record with event time ts.
func (b *Batch[T]) Append(v T, ts int64) {
	b.Values = append(b.Values, v)
	b.Times = append(b.Times, ts)
}

// Reset empties the batch, keeping its memory. Values are zeroed so the batch
// does not keep records alive.
func (b *Batch[T]) Reset() {
	clear(b.Values[:max(len(b.Values), b.staleEnd())])
	b.stale = 0
	b.truncate()
}

// Refill empties the batch to be filled again without zeroing its
// records: the next fill overwrites them. Call Seal once the batch is
// filled, before handing it on; it zeroes the records the fill did not
// overwrite, so the batch keeps none alive. A batch of large records that
// is refilled every time (a source's, an exchange's) is then written once
// per record instead of twice.
func (b *Batch[T]) Refill() {
	b.stale = max(b.stale, len(b.Values))
	b.truncate()
}

// Seal zeroes the records an earlier fill left past the batch's length
// (see Refill).
func (b *Batch[T]) Seal() {
	if end := b.staleEnd(); end > len(b.Values) {
		clear(b.Values[len(b.Values):end])
	}
	b.stale = 0
}

// staleEnd is stale within the capacity of Values (which a kernel may
// have replaced).
func (b *Batch[T]) staleEnd() int { return min(b.stale, cap(b.Values)) }

func (b *Batch[T]) truncate() {
	b.Values = b.Values[:0]
	b.Times = b.Times[:0]
	if b.KeyGroups != nil {
		b.KeyGroups = b.KeyGroups[:0]
	}
}

// Emitter collects an operator's output records into a batch and pushes the
// batch to the next Output when it is full or flushed. It keeps the first
// downstream error; Err reports it.
type Emitter[T any] struct {
	b     *Batch[T]
	out   Output
	limit int
	err   error
}

// NewEmitter returns an emitter writing batches of up to size records to out.
func NewEmitter[T any](out Output, size int) *Emitter[T] {
	if size <= 0 {
		size = DefaultBatchSize
	}
	return &Emitter[T]{b: NewBatch[T](size), out: out, limit: size}
}

// Emit appends one record; a full batch is pushed downstream.
func (e *Emitter[T]) Emit(v T, ts int64) {
	b := e.b
	b.Values = append(b.Values, v)
	b.Times = append(b.Times, ts)
	if len(b.Values) >= e.limit {
		e.push()
	}
}

// EmitAll appends vals, all with event time ts, pushing each batch that
// fills: a block copy per batch instead of a call per record, for an
// operator that releases records it held (a window's results at its end).
// It returns the first downstream error seen so far.
func (e *Emitter[T]) EmitAll(vals []T, ts int64) error {
	for len(vals) > 0 {
		b := e.b
		n := min(e.Room(), len(vals))
		b.Values = append(b.Values, vals[:n]...)
		for range n {
			b.Times = append(b.Times, ts)
		}
		vals = vals[n:]
		if e.Full() {
			if e.push(); e.err != nil {
				return e.err // the rest would be dropped too
			}
		}
	}
	return e.err
}

// Batch exposes the pending output batch so a kernel can append in a tight
// loop; call Full after appending and Flush when Full reports true.
func (e *Emitter[T]) Batch() *Batch[T] { return e.b }

// Room is the number of records that fit before the batch is full.
func (e *Emitter[T]) Room() int { return e.limit - len(e.b.Values) }

// Full reports whether the pending batch is full.
func (e *Emitter[T]) Full() bool { return len(e.b.Values) >= e.limit }

func (e *Emitter[T]) push() {
	e.b.Seal()
	if e.err == nil {
		e.err = e.out.Push(e.b)
	}
	e.b.Refill()
}

// Flush pushes the pending records downstream (if any) and returns the
// first downstream error seen so far.
func (e *Emitter[T]) Flush() error {
	if len(e.b.Values) > 0 {
		e.push()
	}
	return e.err
}

// Err returns the first downstream error.
func (e *Emitter[T]) Err() error { return e.err }

// Output returns the downstream Output.
func (e *Emitter[T]) Output() Output { return e.out }
