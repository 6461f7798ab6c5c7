package wal

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// segment is one file of the log: records [first, next segment's first).
type segment struct {
	first uint64
	size  int64 // bytes; for the active segment, bytes written so far
}

// visible is the durable (or, with SyncNever, written) end of the log
// that readers may read up to.
type visible struct {
	seq uint64 // last visible record (first-1 of the log when none)
	seg uint64 // first sequence number of the segment holding it
	off int64  // end offset of that record in its segment
}

// Log is a write-ahead log of opaque records numbered by consecutive
// sequence numbers starting at 1. It is safe for concurrent use: any
// number of goroutines may Append while any number of Readers read.
//
// After an I/O error while writing or syncing, the Log refuses further
// appends (the state of unsynced data is unknown): Close it and Open the
// directory again, which repairs the tail.
type Log struct {
	dir    string
	opts   Options
	lock   *os.File
	repair *Repair

	// Lock order: syncMu, then mu, then visMu.
	syncMu sync.Mutex // held while syncing and rolling
	synced uint64     // last durable record (guarded by syncMu)

	mu     sync.Mutex
	segs   []segment // oldest first; the last is active
	f      *os.File  // the active segment
	next   uint64    // sequence number of the next record
	buf    []byte
	err    error // sticky write or sync error
	closed bool

	visMu     sync.Mutex
	vis       visible
	waitCh    chan struct{} // closed at the next publish (nil: nobody waits)
	visClosed bool

	ops fileOps

	stop     chan struct{} // ends the background flusher
	done     chan struct{}
	stopOnce sync.Once
}

// fileOps are the writes and syncs of the active segment; tests replace
// them to inject faults.
type fileOps struct {
	write func(f *os.File, b []byte) (int, error)
	sync  func(f *os.File) error
}

func osOps() fileOps { return fileOps{write: (*os.File).Write, sync: datasync} }

// Open opens the log in dir, creating dir and a first segment if needed.
// It validates every segment header and scans the last segment: a torn
// write at its tail (a short record or a checksum mismatch with no good
// record after it) is cut off and reported by Repair and the Logger; any
// other damage is a *CorruptError naming the file and offset.
func Open(dir string, opts Options) (*Log, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("weir/wal: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l, err := open(dir, o, lock)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	if d := o.Sync.Interval(); d > 0 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.flusher(d)
	}
	return l, nil
}

func open(dir string, o Options, lock *os.File) (*Log, error) {
	rec, err := recoverDir(dir, o)
	if err != nil {
		return nil, err
	}
	last := rec.segs[len(rec.segs)-1]
	f, err := os.OpenFile(segmentPath(dir, last.first), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("weir/wal: %w", err)
	}
	if o.Sync != SyncNever {
		// What a crashed process wrote may sit only in the page cache:
		// make it durable before readers see it.
		if err := errors.Join(datasync(f), syncDir(dir)); err != nil {
			f.Close()
			return nil, fmt.Errorf("weir/wal: %w", err)
		}
	}
	l := &Log{dir: dir, opts: o, lock: lock, repair: rec.repair, segs: rec.segs, f: f, next: rec.next, ops: osOps()}
	l.synced = rec.next - 1
	l.vis = visible{seq: rec.next - 1, seg: last.first, off: last.size}
	o.Logger.Debug("wal: opened", zap.String("dir", dir), zap.Int("segments", len(rec.segs)),
		zap.Uint64("next", rec.next), zap.Stringer("sync", o.Sync))
	return l, nil
}

// Repair reports what Open cut off the last segment, or nil.
func (l *Log) Repair() *Repair { return l.repair }

// Dir is the directory of the log.
func (l *Log) Dir() string { return l.dir }

// FirstSeq is the sequence number of the oldest record kept (the next
// record's when the log is empty).
func (l *Log) FirstSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0].first
}

// LastSeq is the sequence number of the last record appended (0 if none
// ever was).
func (l *Log) LastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next - 1
}

// Append writes payloads as consecutive records, in one write, and
// returns the sequence number of the last (with no payloads, the last
// record's so far). With SyncEachBatch the records are durable when it
// returns; see SyncPolicy for the others. A batch is never split across
// segments. Payloads are copied; the caller may reuse them.
//
// After an error the records may or may not be in the log (a write can
// land and its sync fail), and the Log refuses further appends: reopen it
// and read back before retrying if duplicates matter.
func (l *Log) Append(payloads ...[]byte) (lastSeq uint64, err error) {
	size := int64(0)
	for _, p := range payloads {
		if len(p) > MaxRecordSize {
			return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(p))
		}
		size += frameHeaderSize + int64(len(p))
	}
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	if len(payloads) == 0 {
		last := l.next - 1
		l.mu.Unlock()
		return last, nil
	}
	if l.needRoll(size) {
		if err := l.rollLocked(size); err != nil {
			l.mu.Unlock()
			return 0, err
		}
	}
	last, err := l.write(payloads, size)
	if err == nil && l.opts.Sync == SyncNever {
		l.publish(last, l.active())
	}
	l.mu.Unlock()
	if err != nil || l.opts.Sync != SyncEachBatch {
		return last, err
	}
	return last, l.syncTo(last, false)
}

func (l *Log) usable() error {
	if l.closed {
		return ErrClosed
	}
	return l.err
}

func (l *Log) active() *segment { return &l.segs[len(l.segs)-1] }

func (l *Log) needRoll(size int64) bool {
	a := l.active()
	return a.size > headerSize && a.size+size > l.opts.SegmentSize
}

// rollLocked is called with mu held and returns with it held; it takes
// syncMu first, as the lock order wants, and rolls if still needed.
func (l *Log) rollLocked(size int64) error {
	l.mu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if err := l.usable(); err != nil || !l.needRoll(size) {
		return err
	}
	return l.roll()
}

// roll seals the active segment (syncing it, so that only the last
// segment can ever hold a torn write) and starts a new one. Called with
// syncMu and mu held.
func (l *Log) roll() error {
	old := *l.active()
	if l.opts.Sync != SyncNever {
		if err := l.ops.sync(l.f); err != nil {
			return l.fail(err)
		}
		l.synced = l.next - 1
		l.publish(l.next-1, &old)
	}
	if err := l.f.Close(); err != nil {
		return l.fail(err)
	}
	l.f = nil
	f, err := createSegment(l.dir, l.next, l.opts.Sync != SyncNever)
	if err != nil {
		return l.fail(err)
	}
	l.f = f
	l.segs = append(l.segs, segment{first: l.next, size: headerSize})
	l.opts.Logger.Debug("wal: new segment", zap.String("file", f.Name()), zap.Int64("sealed_bytes", old.size))
	return nil
}

// fail records a sticky error (mu held).
func (l *Log) fail(err error) error {
	if l.err == nil {
		l.err = fmt.Errorf("weir/wal: log failed, reopen it: %w", err)
	}
	return l.err
}

// write frames payloads into one buffer and writes it (mu held).
func (l *Log) write(payloads [][]byte, size int64) (uint64, error) {
	buf := l.buf[:0]
	if int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	for _, p := range payloads {
		buf = appendFrame(buf, p)
	}
	if cap(buf) <= 4<<20 {
		l.buf = buf
	}
	if _, err := l.ops.write(l.f, buf); err != nil {
		a := l.active()
		terr := l.f.Truncate(a.size) // best effort: drop a partial write
		return 0, l.fail(errors.Join(err, terr))
	}
	l.active().size += size
	l.next += uint64(len(payloads))
	return l.next - 1, nil
}

// syncTo makes every record up to seq durable and visible. Appenders
// waiting here share one sync: the first to get syncMu syncs everything
// written so far (group commit). force syncs even if seq is durable.
func (l *Log) syncTo(seq uint64, force bool) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= seq && !force {
		return nil
	}
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return err
	}
	f, target, seg := l.f, l.next-1, *l.active()
	l.mu.Unlock()
	// f stays open: only roll and Close close it, and both hold syncMu.
	if err := l.ops.sync(f); err != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.fail(err)
	}
	l.synced = target
	l.publish(target, &seg)
	return nil
}

// Sync makes every record appended so far durable and visible to
// readers, whatever the policy.
func (l *Log) Sync() error {
	l.mu.Lock()
	last := l.next - 1
	l.mu.Unlock()
	return l.syncTo(last, l.opts.Sync == SyncNever)
}

// publish makes records up to seq, which end at seg.size in segment seg,
// visible to readers and wakes those waiting.
func (l *Log) publish(seq uint64, seg *segment) {
	l.visMu.Lock()
	defer l.visMu.Unlock()
	if seq <= l.vis.seq {
		return
	}
	l.vis = visible{seq: seq, seg: seg.first, off: seg.size}
	if l.waitCh != nil {
		close(l.waitCh)
		l.waitCh = nil
	}
}

// visible returns the readable end of the log.
func (l *Log) visible() visible {
	l.visMu.Lock()
	defer l.visMu.Unlock()
	return l.vis
}

// waitFor returns a channel closed once something new is published, nil
// if seq is visible already; closed reports a closed log with seq not
// visible.
func (l *Log) waitFor(seq uint64) (ch <-chan struct{}, closed bool) {
	l.visMu.Lock()
	defer l.visMu.Unlock()
	switch {
	case l.vis.seq >= seq:
		return nil, false
	case l.visClosed:
		return nil, true
	}
	if l.waitCh == nil {
		l.waitCh = make(chan struct{})
	}
	return l.waitCh, false
}

// flusher syncs every d (SyncInterval).
func (l *Log) flusher(d time.Duration) {
	defer close(l.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			last, failed := l.next-1, l.err != nil
			l.mu.Unlock()
			if failed {
				return
			}
			if err := l.syncTo(last, false); err != nil && !errors.Is(err, ErrClosed) {
				l.opts.Logger.Error("wal: background sync failed", zap.String("dir", l.dir), zap.Error(err))
				return
			}
		}
	}
}

// TruncateBefore deletes the segments whose records all have sequence
// numbers below seq; the active segment is never deleted. Call it once
// the records before seq are no longer needed: Source readers call it
// when a checkpoint completes. Readers positioned before the new first
// record get ErrTruncated when they reach a deleted segment (a reader
// that has a deleted segment open reads it to its end on Linux).
func (l *Log) TruncateBefore(seq uint64) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].first <= seq {
		n++
	}
	var err error
	removed := 0
	for ; removed < n; removed++ {
		if err = os.Remove(segmentPath(l.dir, l.segs[removed].first)); err != nil && !errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("weir/wal: truncate: %w", err)
			break
		}
		err = nil
	}
	l.segs = append(l.segs[:0], l.segs[removed:]...)
	l.mu.Unlock()
	if removed > 0 {
		l.opts.Logger.Debug("wal: truncated", zap.String("dir", l.dir), zap.Int("segments", removed), zap.Uint64("before", seq))
		if l.opts.Sync != SyncNever {
			err = errors.Join(err, syncDir(l.dir))
		}
	}
	return err
}

// Close syncs what was appended (unless the policy is SyncNever), closes
// the active segment and releases the directory. Readers keep reading
// what is visible, then get ErrClosed from Next. Close is idempotent.
func (l *Log) Close() error {
	if l.stop != nil {
		l.stopOnce.Do(func() {
			close(l.stop)
			<-l.done
		})
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	if l.f != nil {
		if l.err == nil && l.opts.Sync != SyncNever && l.synced < l.next-1 {
			if err := l.ops.sync(l.f); err != nil {
				errs = append(errs, err)
			} else {
				l.synced = l.next - 1
				l.publish(l.next-1, l.active())
			}
		}
		errs = append(errs, l.f.Close())
	}
	if l.lock != nil {
		errs = append(errs, l.lock.Close())
	}
	l.visMu.Lock()
	l.visClosed = true
	if l.waitCh != nil {
		close(l.waitCh)
		l.waitCh = nil
	}
	l.visMu.Unlock()
	return errors.Join(errs...)
}
