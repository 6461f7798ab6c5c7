package wal

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// DefaultSegmentSize is the segment size limit used when
// Options.SegmentSize is zero: 64 MiB.
const DefaultSegmentSize = 64 << 20

// MaxRecordSize is the largest payload one record may carry (1 GiB).
const MaxRecordSize = 1 << 30

// SyncPolicy says when appended records are made durable (fdatasync on
// Linux, fsync elsewhere) and so when readers see them. The zero value is
// SyncEachBatch.
type SyncPolicy int64

const (
	// SyncEachBatch makes every Append durable before it returns: a record
	// Append (or Source.Push) accepted survives a crash of the process or
	// of the machine. Concurrent appenders share one fdatasync (group
	// commit).
	SyncEachBatch SyncPolicy = 0
	// SyncNever never syncs: records are visible to readers as soon as
	// they are written and survive a crash of the process but not of the
	// machine. For tests and benchmarks.
	SyncNever SyncPolicy = -1
)

// SyncInterval returns the policy that syncs in the background every d:
// Append returns once the records are written to the operating system, so
// a crash of the machine loses at most the records appended in the last d
// (plus the time one fdatasync takes). Readers see records only once they
// are durable, so up to d after Append returned: nothing downstream ever
// depends on a record the log could lose. d <= 0 means SyncEachBatch.
func SyncInterval(d time.Duration) SyncPolicy {
	if d <= 0 {
		return SyncEachBatch
	}
	return SyncPolicy(d)
}

// Interval returns the interval of a SyncInterval policy and zero for the
// others.
func (p SyncPolicy) Interval() time.Duration {
	if p > 0 {
		return time.Duration(p)
	}
	return 0
}

// String names the policy.
func (p SyncPolicy) String() string {
	switch {
	case p == SyncEachBatch:
		return "each-batch"
	case p == SyncNever:
		return "never"
	case p > 0:
		return "interval " + time.Duration(p).String()
	}
	return fmt.Sprintf("SyncPolicy(%d)", int64(p))
}

// Options configure a Log. The zero value is valid: 64 MiB segments,
// SyncEachBatch, no logging.
type Options struct {
	// SegmentSize is the size past which Append starts a new segment file
	// (default DefaultSegmentSize). A batch is never split, so a segment
	// exceeds it by at most one batch.
	SegmentSize int64
	// Sync is the fsync policy (default SyncEachBatch).
	Sync SyncPolicy
	// Logger, if set, is told about repairs done by Open, segment rolls
	// and background sync failures.
	Logger *zap.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < headerSize+frameHeaderSize {
		return o, fmt.Errorf("weir/wal: segment size %d < %d", o.SegmentSize, headerSize+frameHeaderSize)
	}
	if o.Sync < SyncNever {
		return o, fmt.Errorf("weir/wal: invalid sync policy %d", int64(o.Sync))
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o, nil
}

var (
	// ErrClosed is returned by operations on a closed Log or Reader, and by
	// Reader.Next once the Log is closed and every record was read.
	ErrClosed = errors.New("weir/wal: closed")
	// ErrCorrupt marks damaged data that is not a torn tail; the error is
	// a *CorruptError naming the file and offset.
	ErrCorrupt = errors.New("weir/wal: corrupt log")
	// ErrTruncated is returned when a reader asks for records that
	// TruncateBefore has deleted.
	ErrTruncated = errors.New("weir/wal: records truncated")
	// ErrBeyondEnd is returned when a reader asks to start past the last
	// record plus one (a position from another log, or records lost).
	ErrBeyondEnd = errors.New("weir/wal: sequence number beyond the end of the log")
	// ErrTooLarge is returned by Append for a payload over MaxRecordSize.
	ErrTooLarge = errors.New("weir/wal: record too large")
	// ErrLocked is returned by Open when another Log has the directory
	// open.
	ErrLocked = errors.New("weir/wal: directory locked by another log")
	// ErrEnded is returned by Source.Push after EndInput.
	ErrEnded = errors.New("weir/wal: source input ended")
)

// CorruptError describes damage found in a segment: a bad record that is
// not a torn tail (one followed by good records, or in a segment other
// than the last), a bad segment header or a gap between segments. It
// matches ErrCorrupt with errors.Is.
type CorruptError struct {
	File   string // path of the segment
	Offset int64  // byte offset of the bad record or header
	Reason string
}

// Error names the file, offset and reason.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("weir/wal: corrupt segment %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Repair describes what Open cut off the last segment: a torn write left
// by a crash (a short or checksum-failing record with no good record
// after it) or an incomplete segment header.
type Repair struct {
	File    string // path of the segment
	Offset  int64  // the segment now ends here
	Dropped int64  // bytes removed
	Reason  string // what was wrong with the first dropped record
}
