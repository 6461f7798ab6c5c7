package nexmark

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/weirstream/weir/operators"
)

// split s of p generates the event numbers s, s+p, s+2p, ...
type split struct {
	id   string
	s, p int64
}

func (sp split) SplitID() string { return sp.id }

func newSplit(s, p int) split {
	return split{id: "nexmark-" + strconv.Itoa(s) + "/" + strconv.Itoa(p), s: int64(s), p: int64(p)}
}

// Splits implements operators.Source: one split per subtask (fewer when
// there are fewer events than subtasks).
func (s *Source) Splits(parallelism int) ([]operators.Split, error) {
	p := max(parallelism, 1)
	if n := s.opts.Events; n >= 0 && int64(p) > n {
		p = int(max(n, 1))
	}
	out := make([]operators.Split, p)
	for i := range p {
		out[i] = newSplit(i, p)
	}
	return out, nil
}

// Bounded implements operators.Source.
func (s *Source) Bounded() bool { return s.opts.Events >= 0 }

// RestoreSplit implements operators.SplitRestorer: "nexmark-s/p" is the
// split of the event numbers s, s+p, s+2p, ...
func (s *Source) RestoreSplit(id string) (operators.Split, error) {
	var i, p int
	if _, err := fmt.Sscanf(id, "nexmark-%d/%d", &i, &p); err != nil || p < 1 || i < 0 || i >= p {
		return nil, fmt.Errorf("weir/nexmark: not a nexmark split: %q", id)
	}
	if sp := newSplit(i, p); sp.id == id {
		return sp, nil
	}
	return nil, fmt.Errorf("weir/nexmark: not a canonical nexmark split: %q", id)
}

// Open implements operators.Source. A position is the number of events the
// split has produced, as 8 big-endian bytes.
func (s *Source) Open(_ *operators.Context, sp operators.Split, pos []byte) (operators.Reader[Event], error) {
	is, ok := sp.(split)
	if !ok {
		return nil, fmt.Errorf("weir/nexmark: got split %T", sp)
	}
	var done int64
	if pos != nil {
		if len(pos) != 8 {
			return nil, fmt.Errorf("%w: split %s: %d bytes, want 8", operators.ErrBadPosition, is.id, len(pos))
		}
		done = int64(binary.BigEndian.Uint64(pos))
	}
	if s.opts.Pace {
		s.paceStart.CompareAndSwap(0, time.Now().UnixNano())
	}
	next := is.s + done*is.p
	if done < 0 || (s.opts.Events >= 0 && next > max(s.opts.Events, is.s)+is.p) {
		return nil, fmt.Errorf("%w: split %s: position %d past the end", operators.ErrBadPosition, is.id, done)
	}
	return &reader{src: s, next: next, step: is.p, done: done}, nil
}

type reader struct {
	src              *Source
	next, step, done int64
}

// Read implements operators.Reader: it fills the batch in place and
// appends each event's time to b.Times.
func (r *reader) Read(b *operators.Batch[Event]) error {
	n := int64(cap(b.Values) - len(b.Values))
	end := r.src.opts.Events
	if end >= 0 {
		n = min(n, max((end-r.next+r.step-1)/r.step, 0))
	}
	if r.src.opts.Pace {
		due := r.src.dueLimit(time.Now().UnixNano())
		n = min(n, max((due-r.next+r.step-1)/r.step, 0))
	}
	i := len(b.Values)
	b.Values = b.Values[:i+int(n)]
	id, src := r.next, r.src
	for j := i; j < len(b.Values); j++ {
		b.Times = append(b.Times, src.Fill(id, &b.Values[j]))
		id += r.step
	}
	r.next = id
	r.done += n
	if end >= 0 && r.next >= end {
		return io.EOF
	}
	return nil
}

// NextReady implements operators.ReadyHinter: when paced, the wall time
// of the next event.
func (r *reader) NextReady() int64 {
	if !r.src.opts.Pace {
		return 0
	}
	return r.src.releaseAt(r.next)
}

// Position implements operators.Reader.
func (r *reader) Position() ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, uint64(r.done)), nil
}

// Close implements operators.Reader.
func (r *reader) Close() error { return nil }
