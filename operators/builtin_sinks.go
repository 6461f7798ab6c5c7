package operators

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// PrintSink writes every record with fmt.Fprintln to W (os.Stdout when nil).
// With more than one subtask each line starts with "subtask> " (Flink's
// print). Writers of all subtasks share W under a mutex.
type PrintSink[T any] struct {
	W  io.Writer
	mu sync.Mutex
}

// Print returns a sink printing to os.Stdout.
func Print[T any]() *PrintSink[T] { return &PrintSink[T]{} }

// Open implements Sink.
func (p *PrintSink[T]) Open(ctx *Context) (Writer[T], error) {
	prefix := ""
	if ctx.Parallelism > 1 {
		prefix = fmt.Sprintf("%d> ", ctx.Subtask+1)
	}
	return &printWriter[T]{p: p, prefix: prefix}, nil
}

type printWriter[T any] struct {
	p      *PrintSink[T]
	prefix string
}

func (w *printWriter[T]) Write(b *Batch[T]) error {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	out := w.p.W
	if out == nil {
		out = os.Stdout
	}
	for _, v := range b.Values {
		if _, err := fmt.Fprint(out, w.prefix, v, "\n"); err != nil {
			return err
		}
	}
	return nil
}

func (w *printWriter[T]) Close() error { return nil }

// DiscardSink drops every record and counts them.
type DiscardSink[T any] struct{ n atomic.Int64 }

// Discard returns a sink that drops everything.
func Discard[T any]() *DiscardSink[T] { return &DiscardSink[T]{} }

// Count is the number of records discarded so far.
func (d *DiscardSink[T]) Count() int64 { return d.n.Load() }

// Open implements Sink.
func (d *DiscardSink[T]) Open(*Context) (Writer[T], error) { return &discardWriter[T]{d: d}, nil }

type discardWriter[T any] struct {
	d *DiscardSink[T]
	n int64
}

func (w *discardWriter[T]) Write(b *Batch[T]) error { w.n += int64(len(b.Values)); return nil }

func (w *discardWriter[T]) Close() error { w.d.n.Add(w.n); w.n = 0; return nil }
