package wal

import (
	"errors"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
)

// recovered is what Open learned from the segments on disk.
type recovered struct {
	segs   []segment
	next   uint64 // sequence number of the next record
	repair *Repair
}

// recoverDir checks the segments of dir and repairs a torn tail of the
// last one. An empty directory gets a first segment starting at 1.
func recoverDir(dir string, o Options) (*recovered, error) {
	firsts, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(firsts) == 0 {
		f, err := createSegment(dir, 1, o.Sync != SyncNever)
		if err != nil {
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("weir/wal: %w", err)
		}
		return &recovered{segs: []segment{{first: 1, size: headerSize}}, next: 1}, nil
	}
	rec := &recovered{}
	for _, first := range firsts[:len(firsts)-1] {
		size, err := checkSealed(dir, first)
		if err != nil {
			return nil, err
		}
		rec.segs = append(rec.segs, segment{first: first, size: size})
	}
	last := firsts[len(firsts)-1]
	size, count, repair, err := recoverLast(segmentPath(dir, last), last, o)
	if err != nil {
		return nil, err
	}
	rec.segs = append(rec.segs, segment{first: last, size: size})
	rec.next, rec.repair = last+count, repair
	return rec, nil
}

// checkSealed validates the header of a segment other than the last and
// returns its size. Its records are checked when they are read.
func checkSealed(dir string, first uint64) (int64, error) {
	f, err := os.Open(segmentPath(dir, first))
	if err != nil {
		return 0, fmt.Errorf("weir/wal: %w", err)
	}
	defer f.Close()
	if err := readHeader(f, first); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("weir/wal: %w", err)
	}
	return st.Size(), nil
}

// recoverLast scans the last segment. A bad record with no good record
// after it is a torn write: the segment is truncated before it. A bad
// record followed by a good one is corruption and an error. So is a bad
// header with data after it; a short header (a crash while the segment
// was created) is rewritten.
func recoverLast(path string, first uint64, o Options) (size int64, count uint64, repair *Repair, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("weir/wal: %w", err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, nil, fmt.Errorf("weir/wal: %w", err)
	}
	if herr := readHeader(f, first); herr != nil {
		if st.Size() > headerSize {
			return 0, 0, nil, herr
		}
		repair = &Repair{File: path, Offset: headerSize, Dropped: st.Size(), Reason: "incomplete segment header"}
		return headerSize, 0, repair, rewriteHeader(f, first, o, repair)
	}
	s, err := scanSegment(f, st.Size())
	if err != nil || s.reason == "" {
		return s.end, s.count, nil, err
	}
	if err := checkTornTail(f, s); err != nil {
		return 0, 0, nil, err
	}
	repair = &Repair{File: path, Offset: s.end, Dropped: s.size - s.end, Reason: s.reason}
	if err := f.Truncate(s.end); err != nil {
		return 0, 0, nil, fmt.Errorf("weir/wal: repair %s: %w", path, err)
	}
	if err := syncRepair(f, o, repair); err != nil {
		return 0, 0, nil, err
	}
	return s.end, s.count, repair, nil
}

// checkTornTail returns a *CorruptError if a good record follows the bad
// one scan stopped at.
func checkTornTail(f *os.File, s scan) error {
	tail := make([]byte, s.size-s.end)
	if _, err := f.ReadAt(tail, s.end); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("weir/wal: read %s: %w", f.Name(), err)
	}
	at, found, exhausted := findFrame(tail)
	switch {
	case found:
		return &CorruptError{File: f.Name(), Offset: s.end,
			Reason: fmt.Sprintf("%s, but a good record follows at offset %d", s.reason, s.end+int64(at))}
	case exhausted:
		return &CorruptError{File: f.Name(), Offset: s.end,
			Reason: s.reason + ", and the following bytes are too many to prove it a torn write"}
	}
	return nil
}

func rewriteHeader(f *os.File, first uint64, o Options, repair *Repair) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("weir/wal: repair %s: %w", f.Name(), err)
	}
	if _, err := f.WriteAt(appendHeader(nil, first), 0); err != nil {
		return fmt.Errorf("weir/wal: repair %s: %w", f.Name(), err)
	}
	return syncRepair(f, o, repair)
}

func syncRepair(f *os.File, o Options, r *Repair) error {
	if o.Sync != SyncNever {
		if err := datasync(f); err != nil {
			return fmt.Errorf("weir/wal: repair %s: %w", f.Name(), err)
		}
	}
	o.Logger.Warn("wal: repaired torn write", zap.String("file", r.File), zap.Int64("offset", r.Offset),
		zap.Int64("dropped_bytes", r.Dropped), zap.String("reason", r.Reason))
	return nil
}

// createSegment creates the segment whose first record is first, writes
// its header and, with sync, makes file and directory entry durable.
func createSegment(dir string, first uint64, sync bool) (*os.File, error) {
	path := segmentPath(dir, first)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("weir/wal: create segment: %w", err)
	}
	_, err = f.Write(appendHeader(nil, first))
	if err == nil && sync {
		err = datasync(f)
		if err == nil {
			err = syncDir(dir)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("weir/wal: create segment %s: %w", path, err)
	}
	return f, nil
}
