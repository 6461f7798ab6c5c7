package file

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/weirstream/weir/operators"
)

// DefaultRollSize is the part file size at which a writer starts a new part
// when Options.RollSize is 0.
const DefaultRollSize = 128 << 20

// DefaultBufferSize is the write buffer of a writer when Options.BufferSize
// is 0.
const DefaultBufferSize = 64 << 10

// DefaultPrefix starts file names when Options.Prefix is empty.
const DefaultPrefix = "part"

// tokenLen is the length of the random hex token in in-progress names.
const tokenLen = 16

// ErrClosed is returned by the methods of a closed Writer that need its
// open transaction (Write, EndOfInput, PreCommit, Recover).
var ErrClosed = errors.New("weir/file: writer closed")

// Options configures a Sink. The zero value is valid.
type Options struct {
	// Prefix starts every file name (default "part"). It must not start
	// with "." or "_" nor contain a path separator. Two sinks may share a
	// directory only with different prefixes.
	Prefix string
	// RollSize is the size in bytes (header included) at which a part file
	// is closed and the next record starts a new one (default 128 MiB). A
	// part exceeds it by less than one record; a record is never split.
	// Checkpoints also end part files.
	RollSize int64
	// BufferSize is the number of bytes a writer buffers before writing to
	// its file (default 64 KiB).
	BufferSize int
}

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if hidden(o.Prefix) || !plainName(o.Prefix) {
		return o, fmt.Errorf("weir/file: prefix %q: must be a plain file name not starting with '.' or '_'", o.Prefix)
	}
	if o.RollSize < 0 || o.BufferSize < 0 {
		return o, fmt.Errorf("weir/file: negative RollSize %d or BufferSize %d", o.RollSize, o.BufferSize)
	}
	if o.RollSize == 0 {
		o.RollSize = DefaultRollSize
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	return o, nil
}

// Sink is an exactly-once file sink: it writes the records of every subtask
// into part files in one directory and makes them visible only when the
// checkpoint that covers them completes (see the package documentation for
// the protocol and the file names).
type Sink[T any] struct {
	dir    string
	format Format[T]
	opts   Options
}

// NewSink returns a sink writing into dir (created when missing) with
// format. Options are checked when a writer opens.
func NewSink[T any](dir string, format Format[T], opts Options) *Sink[T] {
	return &Sink[T]{dir: dir, format: format, opts: opts}
}

// Open implements operators.Sink: it returns the *Writer of subtask
// ctx.Subtask of ctx.Parallelism.
func (s *Sink[T]) Open(ctx *operators.Context) (operators.Writer[T], error) {
	w, err := s.open(ctx.Subtask, ctx.Parallelism)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (s *Sink[T]) open(subtask, parallelism int) (*Writer[T], error) {
	if s.format == nil {
		return nil, errors.New("weir/file: nil format")
	}
	opts, err := s.opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ext := s.format.Extension()
	if ext != "" && (!strings.HasPrefix(ext, ".") || !plainName("x"+ext)) {
		return nil, fmt.Errorf("weir/file: format extension %q: want \"\" or \".name\"", ext)
	}
	if parallelism < 1 || subtask < 0 || subtask >= parallelism {
		return nil, fmt.Errorf("weir/file: subtask %d of parallelism %d", subtask, parallelism)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("weir/file: %w", err)
	}
	var tok [tokenLen / 2]byte
	_, _ = rand.Read(tok[:]) // never fails (crypto/rand)
	return &Writer[T]{
		dir: s.dir, format: s.format, opts: opts,
		names:   names{prefix: opts.Prefix, ext: ext},
		subtask: subtask, parallelism: parallelism,
		token: hex.EncodeToString(tok[:]),
	}, nil
}

// Writer writes the records of one sink subtask. It implements
// operators.Writer, operators.TwoPhaseCommitWriter and
// operators.EndOfInput. Like every writer it is used by one goroutine;
// Commit and Abort only touch the files a handle names, so they may run
// for any subtask's handles. After an error from Write, EndOfInput or
// PreCommit the writer keeps failing; only Close, Commit and Abort work.
type Writer[T any] struct {
	dir         string
	format      Format[T]
	opts        Options
	names       names
	subtask     int
	parallelism int
	token       string // tells this writer's in-progress files from others'

	parts   []string // in-progress names of the open transaction, in order
	f       *os.File // the open part (the last of parts), nil between parts
	buf     []byte   // encoded records not yet written to f
	size    int64    // bytes of the open part, buffered bytes included
	seq     int      // in-progress files opened so far
	started bool     // Write or PreCommit ran: Recover is too late
	err     error    // the first failure; the writer is unusable after it
	closed  bool
}

var (
	_ operators.Sink[int]            = (*Sink[int])(nil)
	_ operators.Writer[int]          = (*Writer[int])(nil)
	_ operators.TwoPhaseCommitWriter = (*Writer[int])(nil)
	_ operators.EndOfInput           = (*Writer[int])(nil)
)

// Write adds the records of b to the open transaction. Part files are
// created on the first record after a checkpoint or a roll, so a
// transaction without records has no files.
func (w *Writer[T]) Write(b *operators.Batch[T]) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.started = true
	for _, v := range b.Values {
		if w.f == nil {
			if err := w.openPart(); err != nil {
				return w.fail(err)
			}
		}
		buf, err := w.format.Append(w.buf, v)
		if err != nil {
			return w.fail(err)
		}
		w.size += int64(len(buf) - len(w.buf))
		w.buf = buf
		switch {
		case w.size >= w.opts.RollSize:
			err = w.closePart()
		case len(w.buf) >= w.opts.BufferSize:
			err = w.flush()
		}
		if err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// EndOfInput implements operators.EndOfInput: it writes the buffered
// records to the in-progress file. The data stays invisible: at the end of
// a bounded input the runtime pre-commits the final transaction
// (PreCommit with the final checkpoint id) and commits it.
func (w *Writer[T]) EndOfInput() error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.f != nil {
		return w.fail(w.flush())
	}
	return nil
}

// PreCommit implements operators.TwoPhaseCommitWriter. It writes, fsyncs
// and closes the open part, renames every part of the open transaction to
// its pending name for checkpointID, fsyncs the directory and returns a
// handle naming the pending files and the names Commit gives them (a
// transaction without records gives a handle without files). The next
// record opens the next transaction. checkpointID must not be negative.
func (w *Writer[T]) PreCommit(checkpointID int64) ([]byte, error) {
	h, err := w.prepare(checkpointID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(h)
}

// prepare is PreCommit without encoding the handle.
func (w *Writer[T]) prepare(checkpointID int64) (handle, error) {
	var h handle
	if err := w.usable(); err != nil {
		return h, err
	}
	if checkpointID < 0 {
		return h, fmt.Errorf("weir/file: negative checkpoint id %d", checkpointID)
	}
	w.started = true
	if w.f != nil {
		if err := w.closePart(); err != nil {
			return h, w.fail(err)
		}
	}
	h = handle{Version: handleVersion, Subtask: w.subtask, Checkpoint: checkpointID,
		Files: make([]fileName, 0, len(w.parts))}
	for i, name := range w.parts {
		fn := fileName{
			Pending: w.names.pending(w.subtask, checkpointID, i),
			Final:   w.names.final(w.subtask, checkpointID, i),
		}
		if err := os.Rename(filepath.Join(w.dir, name), filepath.Join(w.dir, fn.Pending)); err != nil {
			return h, w.fail(fmt.Errorf("weir/file: pre-commit: %w", err))
		}
		h.Files = append(h.Files, fn)
	}
	if len(w.parts) > 0 {
		if err := syncDir(w.dir); err != nil {
			return h, w.fail(err)
		}
	}
	w.parts = w.parts[:0]
	return h, nil
}

// Commit implements operators.TwoPhaseCommitWriter: it renames the pending
// files of handle to their committed names and fsyncs the directory. It is
// idempotent: a file already committed (pending name gone, committed name
// present) is skipped. A file with neither name is an error wrapping
// ErrLost that names it.
func (w *Writer[T]) Commit(handle []byte) error {
	h, err := decodeHandle(handle)
	if err != nil {
		return err
	}
	return commit(w.dir, h)
}

// Abort implements operators.TwoPhaseCommitWriter: it deletes the pending
// files of handle (missing ones are fine). Committed files stay.
func (w *Writer[T]) Abort(handle []byte) error {
	h, err := decodeHandle(handle)
	if err != nil {
		return err
	}
	return abort(w.dir, h)
}

// Recover implements operators.TwoPhaseCommitWriter. It must run before
// any Write or PreCommit. committed holds the handles of the restored
// checkpoint, which the runtime has committed already. Recover deletes
// every in-progress and pending file of this sink that no handle in
// committed names and that belongs to
//
//   - this writer's subtask, or
//   - when this writer is subtask 0, a subtask >= the current parallelism
//     (after a restore at a lower parallelism nobody else owns them).
//
// Files of the other current subtasks are theirs to clean: they may be
// writing already. Committed (visible) files are never touched.
func (w *Writer[T]) Recover(committed [][]byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.started {
		return errors.New("weir/file: Recover after Write or PreCommit")
	}
	keep := map[string]bool{}
	for _, b := range committed {
		h, err := decodeHandle(b)
		if err != nil {
			return err
		}
		for _, f := range h.Files {
			keep[f.Pending] = true
		}
	}
	mine := func(s int) bool { return s == w.subtask || w.subtask == 0 && s >= w.parallelism }
	if id, ok, err := restoredCheckpoint(committed); err != nil {
		return err
	} else if ok {
		if err := rollback(w.dir, w.names, id, mine); err != nil {
			return err
		}
	}
	return cleanup(w.dir, w.names, keep, mine)
}

// Close implements operators.Writer. It deletes the in-progress files of
// the open transaction, which no handle names and so can never be
// committed; pending files stay for Commit or a later Recover. A closed
// writer never leaves visible partial data.
func (w *Writer[T]) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	if w.f != nil {
		errs = append(errs, w.f.Close())
		w.f = nil
	}
	for _, name := range w.parts {
		if err := os.Remove(filepath.Join(w.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	w.parts, w.buf = nil, nil
	return errors.Join(errs...)
}

func (w *Writer[T]) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// fail records the first error; nil passes through.
func (w *Writer[T]) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// openPart creates the next in-progress file and buffers the header.
func (w *Writer[T]) openPart() error {
	name := w.names.inProgress(w.subtask, w.token, w.seq)
	w.seq++
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("weir/file: %w", err)
	}
	w.f = f
	w.parts = append(w.parts, name)
	w.buf = append(w.buf[:0], w.format.Header()...)
	w.size = int64(len(w.buf))
	return nil
}

// flush writes the buffer to the open part.
func (w *Writer[T]) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.f.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		return fmt.Errorf("weir/file: %w", err)
	}
	return nil
}

// closePart flushes, fsyncs and closes the open part.
func (w *Writer[T]) closePart() error {
	err := w.flush()
	f := w.f
	w.f = nil
	if err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("weir/file: %w", err)
	}
	return nil
}
