package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/weirstream/weir/operators"
)

// Source is an operators.Source over a Log, for input that cannot be
// replayed from where it comes (values pushed from Go code, HTTP
// requests): Push appends values to the log before it returns, the job
// reads them back, and a checkpoint stores the reader's sequence number,
// so a value Push accepted reaches the job exactly once across failures
// (within the log's SyncPolicy).
//
// It has one split and is unbounded until EndInput (or Close): readers
// then return io.EOF after the last record pushed. A Source should be the
// only writer of its Log. It does not own the Log: close the Log after
// the job has stopped.
type Source[T any] struct {
	log   *Log
	codec Codec[T]

	mu     sync.RWMutex // Push holds it shared, EndInput exclusively
	ended  atomic.Bool
	endSeq atomic.Uint64 // last record of the input, once ended
	bufs   sync.Pool     // *pushBuf
}

type pushBuf struct {
	data     []byte
	payloads [][]byte
}

// NewSource returns a source over log whose values are encoded by codec.
func NewSource[T any](log *Log, codec Codec[T]) *Source[T] {
	return &Source[T]{log: log, codec: codec}
}

// Log is the log the source reads.
func (s *Source[T]) Log() *Log { return s.log }

// Push encodes vs and appends them to the log as one batch; with
// SyncEachBatch they are durable when Push returns, so a value Push
// accepted is never lost. It is safe for concurrent use. After EndInput
// it returns ErrEnded.
func (s *Source[T]) Push(vs ...T) (err error) {
	if len(vs) == 0 {
		return nil
	}
	b, _ := s.bufs.Get().(*pushBuf)
	if b == nil {
		b = &pushBuf{}
	}
	defer s.putBuf(b)
	if err := s.encode(b, vs); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ended.Load() {
		return ErrEnded
	}
	_, err = s.log.Append(b.payloads...)
	return err
}

func (s *Source[T]) putBuf(b *pushBuf) {
	if cap(b.data) > 1<<20 {
		return
	}
	clear(b.payloads)
	s.bufs.Put(b)
}

// encode encodes vs into b, turning a codec's panic into an error.
func (s *Source[T]) encode(b *pushBuf, vs []T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("weir/wal: encode: %v", p)
		}
	}()
	b.data, b.payloads = b.data[:0], b.payloads[:0]
	ends := make([]int, 0, 16)
	for _, v := range vs {
		b.data = s.codec.Encode(b.data, v)
		ends = append(ends, len(b.data))
	}
	start := 0
	for _, end := range ends {
		b.payloads = append(b.payloads, b.data[start:end:end])
		start = end
	}
	return nil
}

// EndInput marks the end of the input: Push fails from now on and
// readers return io.EOF after the last value pushed. It waits for Pushes
// in flight and syncs the log so the last values become visible.
func (s *Source[T]) EndInput() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended.Load() {
		return nil
	}
	s.endSeq.Store(s.log.LastSeq())
	s.ended.Store(true)
	if err := s.log.Sync(); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// Close is EndInput. It does not close the Log.
func (s *Source[T]) Close() error { return s.EndInput() }

type walSplit struct{}

// SplitID implements operators.Split.
func (walSplit) SplitID() string { return "wal" }

// Splits implements operators.Source: one split.
func (s *Source[T]) Splits(int) ([]operators.Split, error) { return []operators.Split{walSplit{}}, nil }

// Bounded implements operators.Source: false, the input ends only at
// EndInput.
func (s *Source[T]) Bounded() bool { return false }

// Open implements operators.Source. pos nil starts at the oldest record
// the log keeps; a position from Position resumes after the last record
// read before it was taken. A position before the log's first record
// (truncated) is ErrTruncated.
func (s *Source[T]) Open(ctx *operators.Context, sp operators.Split, pos []byte) (operators.Reader[T], error) {
	if sp.SplitID() != (walSplit{}).SplitID() {
		return nil, fmt.Errorf("weir/wal: unknown split %q", sp.SplitID())
	}
	next, err := decodePosition(pos)
	if err != nil {
		return nil, err
	}
	r, err := s.log.NewReader(next)
	if err != nil {
		return nil, err
	}
	logger := zap.NewNop()
	if ctx != nil && ctx.Logger != nil {
		logger = ctx.Logger
	}
	return &reader[T]{src: s, r: r, logger: logger}, nil
}

const positionVersion = 1

func encodePosition(next uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{positionVersion}, next)
}

// decodePosition returns the next sequence number a position names; 0
// for nil (start at the oldest record).
func decodePosition(p []byte) (uint64, error) {
	if p == nil {
		return 0, nil
	}
	if len(p) != 9 || p[0] != positionVersion {
		return 0, fmt.Errorf("%w: wal position of %d bytes (version %d), want 9 bytes version %d",
			operators.ErrBadPosition, len(p), firstByte(p), positionVersion)
	}
	return binary.BigEndian.Uint64(p[1:]), nil
}

func firstByte(p []byte) int {
	if len(p) == 0 {
		return -1
	}
	return int(p[0])
}

// maxCaptures bounds the positions a reader remembers for truncation.
const maxCaptures = 16

// capture is a position handed out by Position: the n-th call returned
// next.
type capture struct{ n, next uint64 }

// reader reads the source's one split.
type reader[T any] struct {
	src    *Source[T]
	r      *Reader
	logger *zap.Logger

	calls    uint64    // Position calls so far
	notified uint64    // CheckpointComplete calls so far
	caps     []capture // increasing n; the oldest kept
}

// Read implements operators.Reader.
func (r *reader[T]) Read(b *operators.Batch[T]) error {
	for len(b.Values) < cap(b.Values) {
		rec, ok, err := r.r.TryNext()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		v, err := r.src.codec.Decode(rec.Payload)
		if err != nil {
			return fmt.Errorf("weir/wal: decode record %d: %w", rec.Seq, err)
		}
		b.Values = append(b.Values, v)
	}
	if r.src.ended.Load() && r.r.NextSeq() > r.src.endSeq.Load() {
		return io.EOF
	}
	return nil
}

// Position implements operators.Reader: the sequence number of the next
// record. The runtime calls it at each checkpoint barrier; the reader
// remembers it to truncate the log once that checkpoint completes.
func (r *reader[T]) Position() ([]byte, error) {
	next := r.r.NextSeq()
	r.calls++
	c := capture{n: r.calls, next: next}
	if len(r.caps) < maxCaptures {
		r.caps = append(r.caps, c)
	} else {
		r.caps[len(r.caps)-1] = c // forget the newest but one: only costs precision
	}
	return encodePosition(next), nil
}

// CheckpointComplete implements operators.CheckpointListener: it deletes
// the log segments holding only records before the completed
// checkpoint's position.
//
// Position does not learn the checkpoint id, so the reader maps
// completions to positions by counting: the k-th completed checkpoint
// this reader is told about took its position at the k-th Position call
// or later (each checkpoint takes one, in order; after the end of input
// the position no longer moves), so truncating before the k-th position
// never deletes a record the checkpoint needs. When completions are
// skipped (a failed checkpoint, two completing at once) the log keeps
// more than it must. A failed truncation is logged, not returned: a
// later checkpoint retries it, and the job need not fail over disk
// space it still has.
func (r *reader[T]) CheckpointComplete(id int64) error {
	r.notified = min(r.notified+1, r.calls)
	i := -1
	for j, c := range r.caps {
		if c.n <= r.notified {
			i = j
		}
	}
	if i < 0 {
		return nil
	}
	seq := r.caps[i].next
	r.caps = append(r.caps[:0], r.caps[i:]...)
	if err := r.src.log.TruncateBefore(seq); err != nil && !errors.Is(err, ErrClosed) {
		r.logger.Warn("wal: truncate after checkpoint failed", zap.Int64("checkpoint", id), zap.Uint64("before", seq), zap.Error(err))
	}
	return nil
}

// Close implements operators.Reader.
func (r *reader[T]) Close() error { return r.r.Close() }
