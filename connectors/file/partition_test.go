package file_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/operators"
)

// rowPart is the partition of a row: its K and N/10.
type rowPart struct {
	K      string
	Decade int
}

// byK partitions rows into "k=<K>/n=<N/10>".
func byK() file.Partitioning[row, rowPart] {
	return file.Partitioning[row, rowPart]{
		Key:  func(r row) rowPart { return rowPart{r.K, r.N / 10} },
		Path: func(p rowPart) string { return "k=" + p.K + "/n=" + strconv.Itoa(p.Decade) },
	}
}

func openPart(t *testing.T, s *file.PartitionedSink[row, rowPart], subtask, parallelism int) *file.PartitionedWriter[row, rowPart] {
	t.Helper()
	w, err := s.Open(&operators.Context{Operator: "sink", Subtask: subtask, Parallelism: parallelism})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w.(*file.PartitionedWriter[row, rowPart])
}

func writePart(t *testing.T, w *file.PartitionedWriter[row, rowPart], vs ...row) {
	t.Helper()
	b := operators.NewBatch[row](len(vs))
	for _, v := range vs {
		b.Append(v, 0)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

func partitions(t *testing.T, dir string) map[string][]string {
	t.Helper()
	got, err := file.ReadCommittedPartitions(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ls := range got {
		slices.Sort(ls)
	}
	return got
}

func equalPartitions(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// allFiles lists every file below dir as slash paths, sorted.
func allFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestPartitionedCommit(t *testing.T) {
	dir := t.TempDir()
	w := openPart(t, file.NewPartitionedSink(dir, rowCSV(), byK(), file.Options{}), 0, 1)
	// runs of partitions, and a partition that comes back in a later run
	writePart(t, w, row{"a", 1}, row{"a", 2}, row{"b", 3}, row{"a", 11}, row{"a", 4})
	writePart(t, w, row{"b", 5})
	for _, f := range allFiles(t, dir) {
		if base := filepath.Base(f); !strings.HasPrefix(base, ".") {
			t.Errorf("visible or pending file %s before PreCommit", f)
		}
	}
	h, err := w.PreCommit(1)
	must(t, err)
	equalPartitions(t, "before Commit", partitions(t, dir), map[string][]string{})
	must(t, w.Commit(h))
	want := map[string][]string{
		"k=a/n=0": {"a,1", "a,2", "a,4"},
		"k=a/n=1": {"a,11"},
		"k=b/n=0": {"b,3", "b,5"},
	}
	equalPartitions(t, "after Commit", partitions(t, dir), want)
	equal(t, "files", allFiles(t, dir), []string{"k=a/n=0/part-0-1-0.csv", "k=a/n=1/part-0-1-0.csv", "k=b/n=0/part-0-1-0.csv"})
	data, err := os.ReadFile(filepath.Join(dir, "k=a", "n=0", "part-0-1-0.csv"))
	must(t, err)
	if string(data) != "k,n\na,1\na,2\na,4\n" {
		t.Errorf("k=a/n=0 holds %q", data)
	}
	must(t, w.Commit(h)) // idempotent

	// The next transaction touches one partition only.
	writePart(t, w, row{"b", 6})
	h2, err := w.PreCommit(2)
	must(t, err)
	if strings.Contains(string(h2), "k=a") {
		t.Errorf("handle of checkpoint 2 names partitions without records: %s", h2)
	}
	must(t, w.Commit(h2))
	want["k=b/n=0"] = []string{"b,3", "b,5", "b,6"}
	equalPartitions(t, "after Commit 2", partitions(t, dir), want)
}

func TestPartitionedAbortAndEmpty(t *testing.T) {
	dir := t.TempDir()
	w := openPart(t, file.NewPartitionedSink(dir, rowCSV(), byK(), file.Options{}), 1, 2)
	h0, err := w.PreCommit(1)
	must(t, err)
	must(t, w.Commit(h0))
	writePart(t, w, row{"a", 1}, row{"b", 1})
	h, err := w.PreCommit(2)
	must(t, err)
	must(t, w.Abort(h))
	must(t, w.Abort(h))
	equal(t, "files after Abort", allFiles(t, dir), nil)
	if err := w.Commit(h); !errors.Is(err, file.ErrLost) {
		t.Errorf("Commit after Abort: %v, want ErrLost", err)
	}
}

func TestPartitionedBadPath(t *testing.T) {
	for _, p := range []string{"", "../x", "a//b", "_tmp", "a/.b", "/abs"} {
		dir := t.TempDir()
		s := file.NewPartitionedSink(dir, rowCSV(), file.Partitioning[row, string]{
			Key: func(r row) string { return r.K }, Path: func(string) string { return p },
		}, file.Options{})
		w, err := s.Open(&operators.Context{Subtask: 0, Parallelism: 1})
		must(t, err)
		b := operators.NewBatch[row](1)
		b.Append(row{"a", 1}, 0)
		if err := w.Write(b); err == nil {
			t.Errorf("path %q accepted", p)
		}
		if err := w.Write(b); err == nil {
			t.Errorf("path %q: the writer works after an error", p)
		}
		must(t, w.Close())
	}
	if _, err := file.NewPartitionedSink(t.TempDir(), rowCSV(), file.Partitioning[row, string]{}, file.Options{}).
		Open(&operators.Context{Subtask: 0, Parallelism: 1}); err == nil {
		t.Error("a sink without Key and Path opened")
	}
}

func TestPartitionedBadHandles(t *testing.T) {
	dir := t.TempDir()
	w := openPart(t, file.NewPartitionedSink(dir, rowCSV(), byK(), file.Options{}), 0, 1)
	// a plain Writer's handle
	plain := open(t, file.NewSink(t.TempDir(), rowCSV(), file.Options{}), 0, 1)
	write(t, plain, row{"a", 1})
	ph := preCommit(t, plain, 1)
	for _, h := range [][]byte{
		ph,
		[]byte(`not json`),
		[]byte(`{"kind":"partitioned","version":1,"partitions":[{"path":"../up","files":[]}]}`),
		[]byte(`{"kind":"partitioned","version":1,"partitions":[{"path":"a","files":[{"pending":"x","final":"y"}]}]}`),
		[]byte(`{"kind":"partitioned","version":2,"partitions":[]}`),
	} {
		if err := w.Commit(h); !errors.Is(err, file.ErrBadHandle) {
			t.Errorf("Commit(%s): %v, want ErrBadHandle", h, err)
		}
		if err := w.Abort(h); !errors.Is(err, file.ErrBadHandle) {
			t.Errorf("Abort(%s): %v, want ErrBadHandle", h, err)
		}
	}
}

// crashedPartitionedRun commits txn 1, prepares txn 2 and writes more
// records after it, in several partitions, then "crashes".
func crashedPartitionedRun(t *testing.T, s *file.PartitionedSink[row, rowPart]) (h1, h2 []byte) {
	t.Helper()
	w := openPart(t, s, 0, 1)
	writePart(t, w, row{"a", 1}, row{"b", 1})
	h1, err := w.PreCommit(1)
	must(t, err)
	must(t, w.Commit(h1))
	writePart(t, w, row{"a", 2}, row{"c", 2})
	h2, err = w.PreCommit(2)
	must(t, err)
	writePart(t, w, row{"a", 3}, row{"d", 3})
	must(t, w.EndOfInput())
	return h1, h2
}

func hiddenFiles(t *testing.T, dir string) (out []string) {
	for _, f := range allFiles(t, dir) {
		if b := filepath.Base(f); strings.HasPrefix(b, ".") || strings.HasPrefix(b, "_") {
			out = append(out, f)
		}
	}
	return out
}

func TestPartitionedRecover(t *testing.T) {
	dir := t.TempDir()
	s := file.NewPartitionedSink(dir, rowCSV(), byK(), file.Options{})
	h1, h2 := crashedPartitionedRun(t, s)
	if len(hiddenFiles(t, dir)) == 0 {
		t.Fatal("the crashed run left no uncommitted files")
	}
	// restore from checkpoint 2
	w := openPart(t, s, 0, 1)
	must(t, w.Commit(h2))
	must(t, w.Recover([][]byte{h1, h2}))
	equalPartitions(t, "after recovery", partitions(t, dir), map[string][]string{
		"k=a/n=0": {"a,1", "a,2"}, "k=b/n=0": {"b,1"}, "k=c/n=0": {"c,2"},
	})
	if hf := hiddenFiles(t, dir); len(hf) != 0 {
		t.Errorf("Recover left %v", hf)
	}
	// Recover only before the first write
	writePart(t, w, row{"a", 3})
	if err := w.Recover(nil); err == nil {
		t.Error("Recover after Write succeeded")
	}
}

func TestPartitionedRecoverRollsBack(t *testing.T) {
	dir := t.TempDir()
	s := file.NewPartitionedSink(dir, rowCSV(), byK(), file.Options{})
	h1, h2 := crashedPartitionedRun(t, s)
	// Checkpoint 2 was committed, but the job restores from checkpoint 1:
	// its files and the pending and in-progress ones go.
	must(t, openPart(t, s, 0, 1).Commit(h2))
	w := openPart(t, s, 0, 1)
	must(t, w.Commit(h1))
	must(t, w.Recover([][]byte{h1}))
	equalPartitions(t, "after recovery", partitions(t, dir), map[string][]string{
		"k=a/n=0": {"a,1"}, "k=b/n=0": {"b,1"},
	})
	if hf := hiddenFiles(t, dir); len(hf) != 0 {
		t.Errorf("Recover left %v", hf)
	}
}

func TestPartitionedRecoverOtherSubtasks(t *testing.T) {
	dir := t.TempDir()
	s := file.NewPartitionedSink(dir, rowCSV(), byK(), file.Options{})
	// subtasks 0..2 of a run at parallelism 3 leave in-progress files
	for sub := range 3 {
		w := openPart(t, s, sub, 3)
		writePart(t, w, row{"a", sub})
		must(t, w.EndOfInput())
	}
	if n := len(hiddenFiles(t, dir)); n != 3 {
		t.Fatalf("%d in-progress files, want 3", n)
	}
	// restored at parallelism 2: subtask 1 cleans its own, subtask 0 its
	// own and those of subtask 2
	w1 := openPart(t, s, 1, 2)
	must(t, w1.Recover(nil))
	if n := len(hiddenFiles(t, dir)); n != 2 {
		t.Fatalf("after subtask 1's Recover: %v", hiddenFiles(t, dir))
	}
	w0 := openPart(t, s, 0, 2)
	must(t, w0.Recover(nil))
	if hf := hiddenFiles(t, dir); len(hf) != 0 {
		t.Errorf("after subtask 0's Recover: %v", hf)
	}
}
