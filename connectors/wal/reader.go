package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Record is one record read from a Log.
type Record struct {
	Seq     uint64
	Payload []byte // valid until the next call on the Reader
}

// Reader reads a Log's records in order, across segments, including
// records appended after it was created. It sees a record once it is
// visible (durable, except with SyncNever). A Reader is used by one
// goroutine; many Readers may read one Log.
type Reader struct {
	log  *Log
	next uint64  // sequence number of the next record to return
	vis  visible // cached readable end

	f      *os.File // open segment (nil: none yet)
	seg    uint64   // its first sequence number
	segEnd uint64   // first sequence number of the following segment (0: not known yet)
	sealed int64    // its size once it is known to be sealed, else -1
	pos    uint64   // sequence number of the frame at off
	off    int64    // offset of the next frame

	buf    []byte
	bufOff int64 // file offset of buf[0]
	closed bool
}

// NewReader returns a reader whose first record is fromSeq; 0 means the
// oldest record kept. It fails with ErrTruncated if fromSeq was truncated
// and with ErrBeyondEnd if fromSeq > LastSeq()+1.
func (l *Log) NewReader(fromSeq uint64) (*Reader, error) {
	l.mu.Lock()
	first, next := l.segs[0].first, l.next
	l.mu.Unlock()
	switch {
	case fromSeq == 0:
		fromSeq = first
	case fromSeq < first:
		return nil, fmt.Errorf("%w: record %d, the log starts at %d", ErrTruncated, fromSeq, first)
	case fromSeq > next:
		return nil, fmt.Errorf("%w: record %d, the next record is %d", ErrBeyondEnd, fromSeq, next)
	}
	return &Reader{log: l, next: fromSeq, sealed: -1}, nil
}

// NextSeq is the sequence number of the record the next successful read
// returns.
func (r *Reader) NextSeq() uint64 { return r.next }

// TryNext returns the next record without waiting; ok is false when no
// record is visible yet. A damaged record is a *CorruptError; a record
// deleted by TruncateBefore before it was read is ErrTruncated.
func (r *Reader) TryNext() (rec Record, ok bool, err error) {
	if r.closed {
		return Record{}, false, ErrClosed
	}
	if r.next > r.vis.seq {
		if r.vis = r.log.visible(); r.next > r.vis.seq {
			return Record{}, false, nil
		}
	}
	for {
		if r.f == nil {
			if err := r.openSegment(); err != nil {
				return Record{}, false, err
			}
		}
		p, err := r.frame()
		if errors.Is(err, io.EOF) {
			if err := r.nextSegment(); err != nil {
				return Record{}, false, err
			}
			continue
		}
		if err != nil {
			return Record{}, false, err
		}
		seq := r.pos
		r.pos++
		if seq == r.next {
			r.next++
			return Record{Seq: seq, Payload: p}, true, nil
		}
	}
}

// Next returns the next record, waiting for one to become visible until
// ctx is done (ctx.Err()) or the log is closed (ErrClosed).
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		rec, ok, err := r.TryNext()
		if ok || err != nil {
			return rec, err
		}
		ch, closed := r.log.waitFor(r.next)
		switch {
		case closed:
			return Record{}, ErrClosed
		case ch == nil:
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
}

// Close releases the reader's file.
func (r *Reader) Close() error {
	r.closed = true
	return r.closeFile()
}

func (r *Reader) closeFile() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.buf = nil, r.buf[:0]
	return err
}

// lookup finds the segment holding record seq: its first sequence number,
// the following segment's (0 if it is the last) and, if sealed, its size
// (else -1).
func (l *Log) lookup(seq uint64) (first, end uint64, sealed int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq < l.segs[0].first {
		return 0, 0, 0, fmt.Errorf("%w: record %d, the log starts at %d", ErrTruncated, seq, l.segs[0].first)
	}
	i := len(l.segs) - 1
	for i > 0 && l.segs[i].first > seq {
		i--
	}
	if i == len(l.segs)-1 {
		return l.segs[i].first, 0, -1, nil
	}
	return l.segs[i].first, l.segs[i+1].first, l.segs[i].size, nil
}

// openSegment opens the segment holding record r.next.
func (r *Reader) openSegment() error {
	first, end, sealed, err := r.log.lookup(r.next)
	if err != nil {
		return err
	}
	f, err := os.Open(segmentPath(r.log.dir, first))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: record %d (segment %s deleted)", ErrTruncated, r.next, segmentName(first))
	}
	if err != nil {
		return fmt.Errorf("weir/wal: %w", err)
	}
	if err := readHeader(f, first); err != nil {
		f.Close()
		return err
	}
	r.f, r.seg, r.segEnd, r.sealed = f, first, end, sealed
	r.pos, r.off, r.bufOff, r.buf = first, headerSize, headerSize, r.buf[:0]
	return nil
}

// nextSegment moves on from a sealed segment read to its end, checking
// that the next one starts where it ended.
func (r *Reader) nextSegment() error {
	if r.pos != r.segEnd {
		return &CorruptError{File: r.f.Name(), Offset: r.off,
			Reason: fmt.Sprintf("segment ends before record %d; the next segment starts at %d", r.pos, r.segEnd)}
	}
	if err := r.closeFile(); err != nil {
		return fmt.Errorf("weir/wal: %w", err)
	}
	return r.openSegment()
}

// limit is how far the open segment may be read: the visible end if it
// holds the visible end, else its sealed size.
func (r *Reader) limit() (int64, error) {
	if r.seg == r.vis.seg {
		return r.vis.off, nil
	}
	if r.sealed < 0 { // sealed since it was opened
		first, end, sealed, err := r.log.lookup(r.seg)
		if err != nil {
			return 0, err
		}
		if first != r.seg || sealed < 0 {
			return 0, fmt.Errorf("weir/wal: segment %s not found sealed", segmentName(r.seg))
		}
		r.segEnd, r.sealed = end, sealed
	}
	return r.sealed, nil
}

// frame reads the record at r.off and checks it; io.EOF means the end of
// a sealed segment.
func (r *Reader) frame() ([]byte, error) {
	lim, err := r.limit()
	if err != nil {
		return nil, err
	}
	if r.off == lim && r.seg != r.vis.seg {
		return nil, io.EOF
	}
	if lim-r.off < frameHeaderSize {
		return nil, r.corrupt("record header cut short")
	}
	hdr, err := r.read(r.off, frameHeaderSize, lim)
	if err != nil {
		return nil, err
	}
	n := int64(binary.LittleEndian.Uint32(hdr))
	if n > MaxRecordSize || r.off+frameHeaderSize+n > lim {
		return nil, r.corrupt(fmt.Sprintf("record length %d runs past the end of the data", n))
	}
	b, err := r.read(r.off, frameHeaderSize+int(n), lim)
	if err != nil {
		return nil, err
	}
	if frameCRC(b[:4], b[frameHeaderSize:]) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, r.corrupt("record checksum mismatch")
	}
	r.off += frameHeaderSize + n
	return b[frameHeaderSize:], nil
}

func (r *Reader) corrupt(reason string) error {
	return &CorruptError{File: r.f.Name(), Offset: r.off, Reason: reason}
}

const readAhead = 256 << 10

// read returns n bytes at offset off of the open segment, reading ahead
// up to lim (never past it: beyond lim a concurrent Append may be
// writing).
func (r *Reader) read(off int64, n int, lim int64) ([]byte, error) {
	if off >= r.bufOff && off+int64(n) <= r.bufOff+int64(len(r.buf)) {
		i := off - r.bufOff
		return r.buf[i : i+int64(n)], nil
	}
	want := int(min(max(int64(n), readAhead), lim-off))
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	r.buf = r.buf[:want]
	got, err := r.f.ReadAt(r.buf, off)
	r.buf, r.bufOff = r.buf[:got], off
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, r.corrupt(fmt.Sprintf("file shorter than its records (%d bytes missing)", n-got))
		}
		return nil, fmt.Errorf("weir/wal: read %s: %w", r.f.Name(), err)
	}
	return r.buf[:n], nil
}
