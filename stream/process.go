package stream

import (
	"reflect"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// KeyedProcessFunc is the lowest-level keyed operation: it sees every
// record of a key with its event time, keeps keyed state (declared in Open
// with NewValueState, NewListState and NewMapState), and sets event-time
// and processing-time timers. An error from any method fails the job.
//
// Every subtask runs its own copy: a pointer to a struct is copied
// shallowly per subtask before Open, so fields set in Open are per subtask
// while pointers and maps the struct held before are shared.
type KeyedProcessFunc[K comparable, T, O any] interface {
	// Open declares state; it runs once per subtask before any record.
	Open(ctx *OpenContext[K]) error
	// ProcessElement handles one record; state is scoped to ctx.Key().
	ProcessElement(ctx *Context[K, O], v T) error
	// OnTimer handles a timer of ctx.Key() firing at ctx.Timestamp().
	OnTimer(ctx *Context[K, O], timer Timer) error
}

// ProcessFuncs builds a KeyedProcessFunc from functions; nil ones do
// nothing (Element is required).
type ProcessFuncs[K comparable, T, O any] struct {
	Setup   func(ctx *OpenContext[K]) error
	Element func(ctx *Context[K, O], v T) error
	Timer   func(ctx *Context[K, O], timer Timer) error
}

// Open implements KeyedProcessFunc.
func (p ProcessFuncs[K, T, O]) Open(ctx *OpenContext[K]) error {
	if p.Setup == nil {
		return nil
	}
	return p.Setup(ctx)
}

// ProcessElement implements KeyedProcessFunc.
func (p ProcessFuncs[K, T, O]) ProcessElement(ctx *Context[K, O], v T) error {
	return p.Element(ctx, v)
}

// OnTimer implements KeyedProcessFunc.
func (p ProcessFuncs[K, T, O]) OnTimer(ctx *Context[K, O], t Timer) error {
	if p.Timer == nil {
		return nil
	}
	return p.Timer(ctx, t)
}

// TimeDomain says which clock a timer follows.
type TimeDomain uint8

// Time domains.
const (
	EventTime TimeDomain = iota
	ProcessingTime
)

func (d TimeDomain) String() string {
	if d == ProcessingTime {
		return "processing-time"
	}
	return "event-time"
}

// Timer is a timer that fired, or one that is pending.
type Timer struct {
	Time   time.Time
	Domain TimeDomain
}

// OpenContext is given to KeyedProcessFunc.Open.
type OpenContext[K comparable] struct {
	op    *operators.Context
	scope *keyScope[K]
}

// Operator is the name of the operator.
func (c *OpenContext[K]) Operator() string { return c.op.Operator }

// Subtask is the index of this subtask.
func (c *OpenContext[K]) Subtask() int { return c.op.Subtask }

// keyScope is the key the operator currently works on.
type keyScope[K comparable] struct {
	key K
	kg  int
}

// Context is given to ProcessElement and OnTimer.
type Context[K comparable, O any] struct {
	scope  *keyScope[K]
	ts     int64
	timers *timerService[K]
	wm     int64
	out    *operators.Emitter[O]
	clock  timeapi.Clock
	now    time.Time // the clock, read once per batch or firing (nowSet)
	nowSet bool
}

// Key is the current key.
func (c *Context[K, O]) Key() K { return c.scope.key }

// Timestamp is the event time of the current record, or the time of the
// firing timer.
func (c *Context[K, O]) Timestamp() time.Time { return timeapi.Time(c.ts) }

// HasTimestamp reports whether the current record has an event time.
func (c *Context[K, O]) HasTimestamp() bool { return c.ts != timeapi.NoTimestamp }

// Emit outputs o with the current event time.
func (c *Context[K, O]) Emit(o O) { c.out.Emit(o, c.ts) }

// EmitAt outputs o with event time t.
func (c *Context[K, O]) EmitAt(o O, t time.Time) { c.out.Emit(o, timeapi.Millis(t)) }

// Watermark is the operator's current event-time watermark.
func (c *Context[K, O]) Watermark() time.Time { return timeapi.Time(c.wm) }

// ProcessingTime is the current processing time. It is read once per
// input batch or timer firing: the records of a batch (microseconds of
// work) see the same time, and a clock read per record was a tenth of a
// per-record job's cost (Nexmark q12).
func (c *Context[K, O]) ProcessingTime() time.Time {
	if !c.nowSet {
		c.now, c.nowSet = c.clock.Now(), true
	}
	return c.now
}

// RegisterEventTimeTimer asks for OnTimer when the watermark passes t, for
// the current key. Registering the same time twice yields one timer.
func (c *Context[K, O]) RegisterEventTimeTimer(t time.Time) {
	c.timers.add(EventTime, c.scope, timeapi.Millis(t))
}

// DeleteEventTimeTimer removes a pending event-time timer of the current key.
func (c *Context[K, O]) DeleteEventTimeTimer(t time.Time) {
	c.timers.remove(EventTime, c.scope, timeapi.Millis(t))
}

// RegisterProcessingTimeTimer asks for OnTimer when processing time reaches
// t, for the current key. Pending processing-time timers are dropped at the
// end of a bounded input.
func (c *Context[K, O]) RegisterProcessingTimeTimer(t time.Time) {
	c.timers.add(ProcessingTime, c.scope, timeapi.Millis(t))
}

// DeleteProcessingTimeTimer removes a pending processing-time timer.
func (c *Context[K, O]) DeleteProcessingTimeTimer(t time.Time) {
	c.timers.remove(ProcessingTime, c.scope, timeapi.Millis(t))
}

// Process applies a KeyedProcessFunc to the keyed stream. Its state and
// pending timers are checkpointed: timers per key group, with keys
// encoded compactly when K is made of integer, float, bool and string
// kinds (arrays and structs of them included) and with encoding/gob
// otherwise, so other key types must be gob-encodable.
func (k KeyedStream[K, T]) Process[O any](fn KeyedProcessFunc[K, T, O]) DataStream[O] {
	if fn == nil {
		k.in.job.addErr("%w: Process after %q", ErrNilFunc, k.in.n.name)
	}
	if pf, ok := any(fn).(ProcessFuncs[K, T, O]); ok && pf.Element == nil {
		k.in.job.addErr("%w: Process after %q: ProcessFuncs without Element", ErrNilFunc, k.in.n.name)
	}
	key := k.key
	return keyedThen[K, T, O](k, "Process", func() operators.Operator {
		return operators.Drive[T, O](NewProcessOperator(key, perSubtask(fn)))
	})
}

// perSubtask gives each subtask its own copy of fn, the way Flink ships a
// serialized copy of a function to every subtask: a pointer to a struct is
// copied shallowly, so the state handles its Open stores are per subtask.
func perSubtask[F any](fn F) F {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fn
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	return c.Interface().(F)
}
