package testkit

import (
	"slices"
	"sync"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Record is a collected value with its event time.
type Record[T any] struct {
	Value T
	Time  int64 // Unix ms; timeapi.NoTimestamp if none
}

// EventTime returns the record's event time.
func (r Record[T]) EventTime() time.Time { return timeapi.Time(r.Time) }

// Collector gathers what a stream emits, per subtask.
type Collector[T any] struct {
	mu   sync.Mutex
	subs map[int][]Record[T]
}

// Collect attaches a collecting sink to s.
func Collect[T any](s stream.DataStream[T]) *Collector[T] {
	c := &Collector[T]{subs: map[int][]Record[T]{}}
	s.SinkTo(operators.SinkFunc[T](func(ctx *operators.Context, b *operators.Batch[T]) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, v := range b.Values {
			c.subs[ctx.Subtask] = append(c.subs[ctx.Subtask], Record[T]{Value: v, Time: b.Times[i]})
		}
		return nil
	}))
	return c
}

// Records returns everything collected: subtask 0's records in arrival
// order, then subtask 1's, and so on.
func (c *Collector[T]) Records() []Record[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]int, 0, len(c.subs))
	for k := range c.subs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []Record[T]
	for _, k := range keys {
		out = append(out, c.subs[k]...)
	}
	return out
}

// Values returns the collected values in the order of Records.
func (c *Collector[T]) Values() []T {
	recs := c.Records()
	out := make([]T, len(recs))
	for i, r := range recs {
		out[i] = r.Value
	}
	return out
}

// Len is the number of records collected so far.
func (c *Collector[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.subs {
		n += len(s)
	}
	return n
}

// Reset forgets everything collected.
func (c *Collector[T]) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = map[int][]Record[T]{}
}
