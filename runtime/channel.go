package runtime

import (
	"github.com/weirstream/weir/internal/spsc"
	"github.com/weirstream/weir/timeapi"
)

type evKind uint8

const (
	evBatch evKind = iota
	evWatermark
	evIdle
	evActive
	evEnd
	evBarrier // checkpoint barrier; the id travels in wm
)

// event is what travels through a queue: a batch or an in-band control
// event, in order.
type event struct {
	batch any // *operators.Batch[T]
	wm    int64
	// at is the event time the event stands at, by which a task with
	// several inputs picks the next (task.pick): a batch's first record's
	// time, a watermark's own; MinWatermark for the other kinds.
	at   int64
	kind evKind
}

// firstTimer is implemented by operators.Batch.
type firstTimer interface{ FirstTime() int64 }

// channel is the queue from one producing subtask to one consuming subtask,
// plus a queue in the other direction that returns consumed batches for
// reuse. The producer side and the consumer side are each used by the
// goroutine of their task only.
type channel struct {
	data     *spsc.Ring[event]
	free     *spsc.Ring[any]
	producer *worker
	consumer *worker

	// producer side: events that did not fit; the task is parked while any
	// are left (bounded by what one step produces).
	pending []event

	// consumer side
	input    int // index among the consumer task's inputs
	finished bool
	blocked  bool // delivered the barrier being aligned: not read until alignment ends
}

func newChannel(size int, producer, consumer *worker) *channel {
	return &channel{
		data:     spsc.New[event](size),
		free:     spsc.New[any](size + 2),
		producer: producer,
		consumer: consumer,
	}
}

// send enqueues ev, keeping order with what is pending.
func (c *channel) send(ev event) {
	if len(c.pending) == 0 && c.data.TryPush(ev) {
		c.consumer.notify()
		return
	}
	c.pending = append(c.pending, ev)
}

// drain moves pending events into the queue; it reports whether any moved.
func (c *channel) drain() bool {
	moved := false
	for len(c.pending) > 0 && c.data.TryPush(c.pending[0]) {
		c.pending[0] = event{}
		c.pending = c.pending[1:]
		moved = true
	}
	if len(c.pending) == 0 {
		c.pending = c.pending[:0:0] // let the backing array go once drained
	}
	if moved {
		c.consumer.notify()
	}
	return moved
}

// recycle hands a consumed batch back to the producer.
func (c *channel) recycle(b any) {
	c.free.TryPush(b)
	c.producer.notify()
}

// outChannels is one producing subtask's view of an edge: it implements
// operators.Channels over the queues to each consumer.
type outChannels struct {
	chans []*channel
}

func (o *outChannels) Len() int { return len(o.chans) }

func (o *outChannels) Send(i int, b any) {
	at := int64(timeapi.MinWatermark)
	if f, ok := b.(firstTimer); ok {
		at = f.FirstTime()
	}
	o.chans[i].send(event{batch: b, at: at, kind: evBatch})
}

func (o *outChannels) Recycle(i int) any {
	b, ok := o.chans[i].free.TryPop()
	if !ok {
		return nil
	}
	return b
}

func (o *outChannels) Watermark(wm int64) {
	for _, c := range o.chans {
		c.send(event{wm: wm, at: wm, kind: evWatermark})
	}
}

func (o *outChannels) EndInput() {
	for _, c := range o.chans {
		c.send(event{at: timeapi.MinWatermark, kind: evEnd})
	}
}

func (o *outChannels) barrier(id int64) {
	for _, c := range o.chans {
		c.send(event{wm: id, at: timeapi.MinWatermark, kind: evBarrier})
	}
}

func (o *outChannels) status(idle bool) {
	k := evActive
	if idle {
		k = evIdle
	}
	for _, c := range o.chans {
		c.send(event{at: timeapi.MinWatermark, kind: k})
	}
}

// drain moves pending events; it reports whether anything is still pending.
func (o *outChannels) drain() (moved, blocked bool) {
	for _, c := range o.chans {
		if len(c.pending) > 0 {
			moved = c.drain() || moved
			blocked = blocked || len(c.pending) > 0
		}
	}
	return moved, blocked
}
