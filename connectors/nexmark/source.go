package nexmark

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/operators"
)

// split s of p generates the blocks of b consecutive event numbers s,
// s+p, s+2p, ... (block k is the numbers k*b .. k*b+b-1).
type split struct {
	id      string
	s, p, b int64
}

func (sp split) SplitID() string { return sp.id }

func newSplit(s, p int, b int64) split {
	return split{id: "nexmark-" + strconv.Itoa(s) + "/" + strconv.Itoa(p) + "/" + strconv.FormatInt(b, 10),
		s: int64(s), p: int64(p), b: b}
}

// event is the number of the c-th event (from 0) of the split.
func (sp split) event(c int64) int64 { return (c/sp.b*sp.p+sp.s)*sp.b + c%sp.b }

// count is how many of the event numbers below n are the split's.
func (sp split) count(n int64) int64 {
	round := sp.p * sp.b
	return n/round*sp.b + min(max(n%round-sp.s*sp.b, 0), sp.b)
}

// Splits implements operators.Source: one split per subtask (fewer when
// there are fewer events than subtasks), of blocks of Options.SplitBlock
// events.
func (s *Source) Splits(parallelism int) ([]operators.Split, error) {
	p := max(parallelism, 1)
	if n := s.opts.Events; n >= 0 && int64(p) > n {
		p = int(max(n, 1))
	}
	out := make([]operators.Split, p)
	for i := range p {
		out[i] = newSplit(i, p, s.opts.SplitBlock)
	}
	return out, nil
}

// Bounded implements operators.Source.
func (s *Source) Bounded() bool { return s.opts.Events >= 0 }

// RestoreSplit implements operators.SplitRestorer: "nexmark-s/p/b" is the
// split of the blocks s, s+p, s+2p, ... of b events. The split keeps its
// block size whatever the source's Options.SplitBlock, since its position
// counts events in its own blocks. "nexmark-s/p", the id of checkpoints
// from before the blocks, is the split of the events s, s+p, s+2p, ...
// (blocks of one event).
func (s *Source) RestoreSplit(id string) (operators.Split, error) {
	var i, p int
	b := int64(1)
	legacy := strings.Count(id, "/") == 1
	var err error
	if legacy {
		_, err = fmt.Sscanf(id, "nexmark-%d/%d", &i, &p)
	} else {
		_, err = fmt.Sscanf(id, "nexmark-%d/%d/%d", &i, &p, &b)
	}
	if err != nil || p < 1 || i < 0 || i >= p || b < 1 {
		return nil, fmt.Errorf("weir/nexmark: not a nexmark split: %q", id)
	}
	sp := newSplit(i, p, b)
	if legacy {
		sp.id = strings.TrimSuffix(sp.id, "/1")
	}
	if sp.id != id {
		return nil, fmt.Errorf("weir/nexmark: not a canonical nexmark split: %q", id)
	}
	return sp, nil
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
		s.startPace()
	}
	if done < 0 || (s.opts.Events >= 0 && done > is.count(s.opts.Events)) {
		return nil, fmt.Errorf("%w: split %s: position %d past the end", operators.ErrBadPosition, is.id, done)
	}
	end := s.opts.Events
	if end < 0 {
		end = math.MaxInt64
	}
	return &reader{src: s, sp: is, next: is.event(done), end: end}, nil
}

type reader struct {
	src  *Source
	sp   split
	next int64 // the number of the next event
	end  int64 // the first event number not to make
}

// Read implements operators.Reader: it fills the batch in place and
// appends each event's time to b.Times.
func (r *reader) Read(b *operators.Batch[Event]) error {
	limit := r.end
	if r.src.opts.Pace {
		limit = min(limit, r.src.dueLimit(r.src.paceElapsed(time.Now())))
	}
	src, id, step := r.src, r.next, (r.sp.p-1)*r.sp.b
	blockEnd := (id/r.sp.b + 1) * r.sp.b
	i := len(b.Values)
	b.Values = b.Values[:cap(b.Values)]
	for ; i < len(b.Values) && id < limit; i++ {
		b.Times = append(b.Times, src.Fill(id, &b.Values[i]))
		if id++; id == blockEnd {
			id += step // the next block of this split
			blockEnd = id + r.sp.b
		}
	}
	b.Values = b.Values[:i]
	r.next = id
	if id >= r.end {
		return io.EOF
	}
	return nil
}

// NextReady implements operators.ReadyHinter: when paced, the wall time
// of the next event (now plus its wait on the pace clock).
func (r *reader) NextReady() int64 {
	if !r.src.opts.Pace {
		return 0
	}
	// on the wall clock the caller compares with: now plus the wait
	now := time.Now()
	return now.UnixNano() + int64(r.src.releaseAfter(r.next)-r.src.paceElapsed(now))
}

// NextTimestamp implements operators.TimeBounder: the split makes its
// events in order of event time, so none to come is earlier than the
// next one. Its watermark then passes the blocks of the other splits
// while this one waits for its next block's time.
func (r *reader) NextTimestamp() int64 { return r.src.TimestampMillis(r.next) }

// Position implements operators.Reader: the events made, those of the
// split below the next.
func (r *reader) Position() ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, uint64(r.sp.count(r.next))), nil
}

// Close implements operators.Reader.
func (r *reader) Close() error { return nil }
