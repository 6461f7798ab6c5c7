package file

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weirstream/weir/operators"
)

// Partitioning says which partition directory of a PartitionedSink a
// record goes to.
type Partitioning[T any, P comparable] struct {
	// Key returns the partition of a record. It runs for every record, so
	// it should not allocate: return a small comparable value (a struct of
	// strings the record holds, a day number) and let Path name it.
	Key func(T) P
	// Path is the directory of partition p relative to the sink's
	// directory: one or more names separated by "/", none empty, "." or
	// "..", none starting with "." or "_" (Hive style:
	// "dt=2026-01-01/hm=10:00"). It runs once per partition and
	// transaction. A bad path fails the job.
	Path func(P) string
}

// PartitionedSink is an exactly-once file sink that writes each record
// into a partition directory below its root (see Partitioning). Every
// partition directory holds part files named and committed exactly like
// those of a Sink (see the package documentation); one transaction of a
// subtask spans all the partitions it wrote to, and its handle names the
// pending files of each.
//
// A writer keeps one open part per partition with records since the last
// checkpoint and drops them all at PreCommit, so a stream whose
// partitions move on (one per hour, say) keeps few files open.
type PartitionedSink[T any, P comparable] struct {
	dir    string
	format Format[T]
	part   Partitioning[T, P]
	opts   Options
}

// NewPartitionedSink returns a sink writing into the partition directories
// below dir (created when missing). Options apply within each partition.
func NewPartitionedSink[T any, P comparable](dir string, format Format[T], part Partitioning[T, P], opts Options) *PartitionedSink[T, P] {
	return &PartitionedSink[T, P]{dir: dir, format: format, part: part, opts: opts}
}

// Open implements operators.Sink: it returns the *PartitionedWriter of
// subtask ctx.Subtask of ctx.Parallelism.
func (s *PartitionedSink[T, P]) Open(ctx *operators.Context) (operators.Writer[T], error) {
	if s.part.Key == nil || s.part.Path == nil {
		return nil, errors.New("weir/file: partitioned sink without Key or Path")
	}
	// A writer of the root checks the options and the format once.
	root := &Sink[T]{dir: s.dir, format: s.format, opts: s.opts}
	w, err := root.open(ctx.Subtask, ctx.Parallelism)
	if err != nil {
		return nil, err
	}
	return &PartitionedWriter[T, P]{sink: s, root: w, open: map[P]*partWriter[T]{}, synced: map[string]bool{}}, nil
}

// PartitionedWriter writes the records of one subtask of a
// PartitionedSink. It implements operators.Writer,
// operators.TwoPhaseCommitWriter and operators.EndOfInput with the
// semantics of Writer, over all partitions.
type PartitionedWriter[T any, P comparable] struct {
	sink    *PartitionedSink[T, P]
	root    *Writer[T]           // names, subtask and parallelism; never writes
	open    map[P]*partWriter[T] // partitions with records in the open transaction
	synced  map[string]bool      // directories whose entries were fsynced
	view    operators.Batch[T]   // a run of records of one partition
	started bool                 // Write or PreCommit ran: Recover is too late
	err     error                // the first failure
	closed  bool
}

type partWriter[T any] struct {
	path string
	w    *Writer[T]
}

var (
	_ operators.Writer[int]          = (*PartitionedWriter[int, int])(nil)
	_ operators.TwoPhaseCommitWriter = (*PartitionedWriter[int, int])(nil)
	_ operators.EndOfInput           = (*PartitionedWriter[int, int])(nil)
)

// Write adds the records of b to the open transaction, each run of
// records of one partition in one go.
func (w *PartitionedWriter[T, P]) Write(b *operators.Batch[T]) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.started = true
	vals, key := b.Values, w.sink.part.Key
	if len(vals) == 0 {
		return nil
	}
	start, cur := 0, key(vals[0])
	for i := 1; i < len(vals); i++ {
		if k := key(vals[i]); k != cur {
			if err := w.writeRun(cur, b, start, i); err != nil {
				return err
			}
			start, cur = i, k
		}
	}
	return w.writeRun(cur, b, start, len(vals))
}

// writeRun writes records [from, to) of b, all of partition k.
func (w *PartitionedWriter[T, P]) writeRun(k P, b *operators.Batch[T], from, to int) error {
	p, err := w.partition(k)
	if err != nil {
		return w.fail(err)
	}
	w.view.Values = b.Values[from:to]
	if b.Times != nil {
		w.view.Times = b.Times[from:to]
	}
	err = p.w.Write(&w.view)
	w.view.Values, w.view.Times = nil, nil
	return w.fail(err)
}

// partition returns the writer of partition k, opening it on its first
// record of the transaction.
func (w *PartitionedWriter[T, P]) partition(k P) (*partWriter[T], error) {
	if p, ok := w.open[k]; ok {
		return p, nil
	}
	path := w.sink.part.Path(k)
	if !partitionPath(path) {
		return nil, fmt.Errorf("weir/file: partition path %q: want names separated by \"/\", none hidden", path)
	}
	s := &Sink[T]{dir: filepath.Join(w.sink.dir, filepath.FromSlash(path)), format: w.sink.format, opts: w.sink.opts}
	pw, err := s.open(w.root.subtask, w.root.parallelism)
	if err != nil {
		return nil, err
	}
	p := &partWriter[T]{path: path, w: pw}
	w.open[k] = p
	return p, nil
}

// EndOfInput implements operators.EndOfInput: it writes the buffered
// records of every partition to their in-progress files.
func (w *PartitionedWriter[T, P]) EndOfInput() error {
	if err := w.usable(); err != nil {
		return err
	}
	for _, p := range w.open {
		if err := p.w.EndOfInput(); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// PreCommit implements operators.TwoPhaseCommitWriter: it prepares the
// open transaction of every partition written since the last PreCommit
// (see Writer.PreCommit) and returns one handle naming them all, then
// closes their writers.
func (w *PartitionedWriter[T, P]) PreCommit(checkpointID int64) ([]byte, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	w.started = true
	parts := make([]*partWriter[T], 0, len(w.open))
	for _, p := range w.open {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b *partWriter[T]) int { return strings.Compare(a.path, b.path) })
	h := partitionedHandle{Kind: partitionedKind, Version: handleVersion, Subtask: w.root.subtask,
		Checkpoint: checkpointID, Partitions: make([]partitionTxn, 0, len(parts))}
	for _, p := range parts {
		ph, err := p.w.prepare(checkpointID)
		if err != nil {
			return nil, w.fail(err)
		}
		if len(ph.Files) > 0 {
			h.Partitions = append(h.Partitions, partitionTxn{Path: p.path, Files: ph.Files})
			if err := w.syncParents(p.path); err != nil {
				return nil, w.fail(err)
			}
		}
	}
	// Prepared writers hold no files: closing them deletes nothing.
	var errs []error
	for k, p := range w.open {
		errs = append(errs, p.w.Close())
		delete(w.open, k)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, w.fail(err)
	}
	return json.Marshal(h)
}

// syncParents makes the directories of partition path durable: it fsyncs
// the root and every directory above the partition's own (which prepare
// synced), once per writer.
func (w *PartitionedWriter[T, P]) syncParents(path string) error {
	dir := w.sink.dir
	segs := strings.Split(path, "/")
	for i := range segs {
		if !w.synced[dir] {
			if err := syncDir(dir); err != nil {
				return err
			}
			w.synced[dir] = true
		}
		if i < len(segs)-1 {
			dir = filepath.Join(dir, segs[i])
		}
	}
	return nil
}

// Commit implements operators.TwoPhaseCommitWriter: it commits the files
// of every partition the handle names (see Writer.Commit; idempotent).
func (w *PartitionedWriter[T, P]) Commit(handle []byte) error {
	h, err := decodePartitioned(handle)
	if err != nil {
		return err
	}
	for _, pt := range h.Partitions {
		if err := commit(w.partitionDir(pt.Path), h.partition(pt)); err != nil {
			return err
		}
	}
	return nil
}

// Abort implements operators.TwoPhaseCommitWriter: it deletes the pending
// files of every partition the handle names.
func (w *PartitionedWriter[T, P]) Abort(handle []byte) error {
	h, err := decodePartitioned(handle)
	if err != nil {
		return err
	}
	for _, pt := range h.Partitions {
		if err := abort(w.partitionDir(pt.Path), h.partition(pt)); err != nil {
			return err
		}
	}
	return nil
}

// Recover implements operators.TwoPhaseCommitWriter with the semantics of
// Writer.Recover, in every partition directory below the sink's root:
// committed files of checkpoints after the restored one are rolled back,
// and in-progress and pending files no handle names are deleted, for the
// subtasks this writer cleans up for.
func (w *PartitionedWriter[T, P]) Recover(committed [][]byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.started {
		return errors.New("weir/file: Recover after Write or PreCommit")
	}
	keep := map[string]map[string]bool{} // partition path -> pending names
	restored, ok := int64(0), false
	for _, b := range committed {
		h, err := decodePartitioned(b)
		if err != nil {
			return err
		}
		if !ok || h.Checkpoint > restored {
			restored, ok = h.Checkpoint, true
		}
		for _, pt := range h.Partitions {
			if keep[pt.Path] == nil {
				keep[pt.Path] = map[string]bool{}
			}
			for _, f := range pt.Files {
				keep[pt.Path][f.Pending] = true
			}
		}
	}
	r := w.root
	mine := func(s int) bool { return s == r.subtask || r.subtask == 0 && s >= r.parallelism }
	return walkPartitions(w.sink.dir, func(dir, path string) error {
		if ok {
			if err := rollback(dir, r.names, restored, mine); err != nil {
				return err
			}
		}
		return cleanup(dir, r.names, keep[path], mine)
	})
}

// Close implements operators.Writer: it closes the writer of every open
// partition, deleting their in-progress files (see Writer.Close).
func (w *PartitionedWriter[T, P]) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	for k, p := range w.open {
		errs = append(errs, p.w.Close())
		delete(w.open, k)
	}
	errs = append(errs, w.root.Close())
	return errors.Join(errs...)
}

func (w *PartitionedWriter[T, P]) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

func (w *PartitionedWriter[T, P]) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

func (w *PartitionedWriter[T, P]) partitionDir(path string) string {
	return filepath.Join(w.sink.dir, filepath.FromSlash(path))
}

// partitionedKind tells a partitioned handle from a Writer's.
const partitionedKind = "partitioned"

// partitionedHandle names the files of one prepared transaction of one
// subtask of a PartitionedSink, per partition (encoded as JSON in
// checkpoint manifests; Version versions the layout).
type partitionedHandle struct {
	Kind       string         `json:"kind"`
	Version    int            `json:"version"`
	Subtask    int            `json:"subtask"`
	Checkpoint int64          `json:"checkpoint"`
	Partitions []partitionTxn `json:"partitions"`
}

// partitionTxn is the part of a transaction in one partition directory.
type partitionTxn struct {
	Path  string     `json:"path"`
	Files []fileName `json:"files"`
}

// partition is the handle of a Writer of pt's directory.
func (h partitionedHandle) partition(pt partitionTxn) handle {
	return handle{Version: handleVersion, Subtask: h.Subtask, Checkpoint: h.Checkpoint, Files: pt.Files}
}

func decodePartitioned(b []byte) (partitionedHandle, error) {
	var h partitionedHandle
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%w: %v", ErrBadHandle, err)
	}
	if h.Kind != partitionedKind || h.Version != handleVersion {
		return h, fmt.Errorf("%w: kind %q version %d, want %q version %d", ErrBadHandle, h.Kind, h.Version, partitionedKind, handleVersion)
	}
	for _, pt := range h.Partitions {
		if !partitionPath(pt.Path) {
			return h, fmt.Errorf("%w: partition path %q", ErrBadHandle, pt.Path)
		}
		if err := checkFileNames(pt.Files); err != nil {
			return h, err
		}
	}
	return h, nil
}

// partitionPath reports whether p is a valid partition path: plain,
// visible names separated by "/".
func partitionPath(p string) bool {
	if p == "" {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if !plainName(seg) || hidden(seg) {
			return false
		}
	}
	return true
}

// walkPartitions calls fn for every directory below root (root included,
// as "."), skipping hidden ones, with its partition path.
func walkPartitions(root string, fn func(dir, path string) error) error {
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if dir != root && hidden(d.Name()) {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return err
		}
		return fn(dir, filepath.ToSlash(rel))
	})
	if err != nil {
		return fmt.Errorf("weir/file: %w", err)
	}
	return nil
}

// ReadCommittedPartitions returns the committed lines of a partitioned
// sink's directory: for every directory below dir (dir itself is ".")
// holding visible files, its lines as ReadCommitted reads them, keyed by
// its path relative to dir with "/" separators. It is meant for tests,
// examples and tools.
func ReadCommittedPartitions(dir string) (map[string][]string, error) {
	out := map[string][]string{}
	err := walkPartitions(dir, func(d, path string) error {
		lines, err := ReadCommitted(d)
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && !hidden(e.Name()) {
				out[path] = lines
				break
			}
		}
		return nil
	})
	return out, err
}
