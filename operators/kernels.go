package operators

import "errors"

// ErrNilFunc is returned when a kernel is built with a nil function.
var ErrNilFunc = errors.New("weir/operators: nil function")

// MapOp applies F to every record, keeping its event time.
type MapOp[I, O any] struct {
	Base
	F   func(I) O
	out *Emitter[O]
}

// Open implements OneInputOperator.
func (m *MapOp[I, O]) Open(_ *Context, out *Emitter[O]) error {
	if m.F == nil {
		return ErrNilFunc
	}
	m.out = out
	return nil
}

// ProcessBatch implements OneInputOperator.
func (m *MapOp[I, O]) ProcessBatch(in *Batch[I]) error {
	vals, times := in.Values, in.Times
	for len(vals) > 0 {
		ob := m.out.Batch()
		n := min(m.out.Room(), len(vals))
		for i := range vals[:n] { // by index: no copy of a large record
			ob.Values = append(ob.Values, m.F(vals[i]))
		}
		ob.Times = append(ob.Times, times[:n]...)
		vals, times = vals[n:], times[n:]
		if m.out.Full() {
			if err := m.out.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// FilterOp keeps the records for which F returns true.
type FilterOp[T any] struct {
	Base
	F   func(T) bool
	out *Emitter[T]
}

// Open implements OneInputOperator.
func (f *FilterOp[T]) Open(_ *Context, out *Emitter[T]) error {
	if f.F == nil {
		return ErrNilFunc
	}
	f.out = out
	return nil
}

// ProcessBatch implements OneInputOperator.
func (f *FilterOp[T]) ProcessBatch(in *Batch[T]) error {
	for i := range in.Values { // by index: no copy of a large record
		if f.F(in.Values[i]) {
			f.out.Emit(in.Values[i], in.Times[i])
		}
	}
	return f.out.Err()
}

// FlatMapOp calls F for every record; F emits any number of results, each
// with the input record's event time.
type FlatMapOp[I, O any] struct {
	Base
	F func(I, func(O))
	// FRef, set instead of F, gets a pointer to the record in the batch,
	// which it must neither keep nor change: a call through a func value
	// copies a record passed by value (an event of several hundred bytes
	// costs a few percent of a light job).
	FRef func(*I, func(O))
	out  *Emitter[O]
	ts   int64
	emit func(O)
}

// Open implements OneInputOperator.
func (f *FlatMapOp[I, O]) Open(_ *Context, out *Emitter[O]) error {
	if (f.F == nil) == (f.FRef == nil) {
		return ErrNilFunc
	}
	f.out = out
	f.emit = func(o O) { f.out.Emit(o, f.ts) } // built once: no allocation per record
	return nil
}

// ProcessBatch implements OneInputOperator.
func (f *FlatMapOp[I, O]) ProcessBatch(in *Batch[I]) error {
	if f.FRef != nil {
		for i := range in.Values {
			f.ts = in.Times[i]
			f.FRef(&in.Values[i], f.emit)
		}
		return f.out.Err()
	}
	for i := range in.Values { // by index: no copy into a range variable
		f.ts = in.Times[i]
		f.F(in.Values[i], f.emit)
	}
	return f.out.Err()
}
