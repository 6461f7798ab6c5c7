package demojob

import (
	"fmt"
	"sync"

	"github.com/weirstream/weir/operators"
)

// summarySink keeps, per sink subtask, the number of records it received
// and the last Spend of every user it saw. Each writer works on its own
// dense slice (no lock per record) and publishes it once, at the end of
// the input.
type summarySink struct {
	mu        sync.Mutex
	perTask   map[int]int64 // records received, by subtask
	last      []Spend       // last Spend by user; Count 0: never seen
	owner     []int         // subtask+1 that reported the user; 0: none
	conflicts []string      // users reported by two subtasks
	finished  int           // subtasks that reached the end of input
}

func newSummarySink() *summarySink {
	return &summarySink{perTask: map[int]int64{}, last: make([]Spend, Users), owner: make([]int, Users)}
}

// Open implements operators.Sink.
func (s *summarySink) Open(ctx *operators.Context) (operators.Writer[Spend], error) {
	return &summaryWriter{s: s, subtask: ctx.Subtask, last: make([]Spend, Users)}, nil
}

type summaryWriter struct {
	s       *summarySink
	subtask int
	n       int64
	last    []Spend
}

// Write implements operators.Writer.
func (w *summaryWriter) Write(b *operators.Batch[Spend]) error {
	w.n += int64(len(b.Values))
	for _, v := range b.Values {
		if v.User < 0 || v.User >= Users {
			return fmt.Errorf("demojob: user %d out of range [0, %d)", v.User, Users)
		}
		w.last[v.User] = v
	}
	return nil
}

// EndOfInput implements operators.EndOfInput: the writer's results are
// complete, so it publishes them.
func (w *summaryWriter) EndOfInput() error {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perTask[w.subtask] += w.n
	s.finished++
	for u, v := range w.last {
		if v.Count == 0 {
			continue
		}
		if s.owner[u] != 0 {
			s.conflicts = append(s.conflicts, fmt.Sprintf("user %d reached subtasks %d and %d", u, s.owner[u]-1, w.subtask))
		}
		s.owner[u] = w.subtask + 1
		s.last[u] = v
	}
	return nil
}

// Close implements operators.Writer.
func (w *summaryWriter) Close() error { return nil }
