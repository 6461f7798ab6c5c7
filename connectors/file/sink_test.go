package file_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/operators"
)

type row struct {
	K string
	N int
}

func rowCSV() file.Format[row] {
	return file.CSV([]string{"k", "n"}, func(r row) []string { return []string{r.K, strconv.Itoa(r.N)} })
}

func rows(k string, from, to int) []row {
	var rs []row
	for i := from; i < to; i++ {
		rs = append(rs, row{k, i})
	}
	return rs
}

func csvLines(rs []row) []string {
	var ls []string
	for _, r := range rs {
		ls = append(ls, r.K+","+strconv.Itoa(r.N))
	}
	return ls
}

// open opens the writer of subtask of parallelism, closed at the end of t.
func open[T any](t *testing.T, s *file.Sink[T], subtask, parallelism int) *file.Writer[T] {
	t.Helper()
	w, err := s.Open(&operators.Context{Operator: "sink", Subtask: subtask, Parallelism: parallelism})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w.(*file.Writer[T])
}

func write[T any](t *testing.T, w *file.Writer[T], vs ...T) {
	t.Helper()
	b := operators.NewBatch[T](len(vs))
	for _, v := range vs {
		b.Append(v, 0)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

func preCommit[T any](t *testing.T, w *file.Writer[T], id int64) []byte {
	t.Helper()
	h, err := w.PreCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ls returns the names in dir, sorted.
func ls(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func hiddenOnly(t *testing.T, dir string) {
	t.Helper()
	for _, n := range ls(t, dir) {
		if !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_") {
			t.Errorf("visible file %s before commit (all: %v)", n, ls(t, dir))
		}
	}
}

func readCommitted(t *testing.T, dir string) []string {
	t.Helper()
	got, err := file.ReadCommitted(dir)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func TestCommitMakesFilesVisible(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	write(t, w, rows("a", 0, 3)...)
	hiddenOnly(t, dir)
	h := preCommit(t, w, 1)
	hiddenOnly(t, dir)
	equal(t, "files after PreCommit", ls(t, dir), []string{"_part-0-1-0.pending"})
	if got := readCommitted(t, dir); len(got) != 0 {
		t.Fatalf("ReadCommitted before commit = %q", got)
	}
	must(t, w.Commit(h))
	equal(t, "files after Commit", ls(t, dir), []string{"part-0-1-0.csv"})
	data, err := os.ReadFile(filepath.Join(dir, "part-0-1-0.csv"))
	must(t, err)
	if want := "k,n\na,0\na,1\na,2\n"; string(data) != want {
		t.Fatalf("content %q, want %q", data, want)
	}
}

func TestHandleFormat(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, file.Lines(strconv.Itoa), file.Options{Prefix: "out"}), 2, 3)
	write(t, w, 1)
	h := preCommit(t, w, 7)
	var got map[string]any
	must(t, json.Unmarshal(h, &got))
	want := `{"version":1,"subtask":2,"checkpoint":7,"files":[{"pending":"_out-2-7-0.pending","final":"out-2-7-0.txt"}]}`
	if string(h) != want {
		t.Fatalf("handle %s, want %s", h, want)
	}
}

func TestEmptyTransaction(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	h := preCommit(t, w, 1)
	if !strings.Contains(string(h), `"files":[]`) {
		t.Fatalf("empty handle %s lists files", h)
	}
	must(t, w.Commit(h))
	must(t, w.Abort(h))
	equal(t, "files", ls(t, dir), nil)
}

func TestCommitIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{})
	w := open(t, s, 0, 1)
	write(t, w, rows("a", 0, 2)...)
	h := preCommit(t, w, 1)
	must(t, w.Commit(h))
	must(t, w.Commit(h))
	// Another writer (a restored job) commits the same handle again.
	must(t, open(t, s, 0, 1).Commit(h))
	equal(t, "committed", readCommitted(t, dir), csvLines(rows("a", 0, 2)))
	equal(t, "files", ls(t, dir), []string{"part-0-1-0.csv"})
}

func TestCommitLostFile(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	write(t, w, row{"a", 1})
	h := preCommit(t, w, 1)
	must(t, os.Remove(filepath.Join(dir, "_part-0-1-0.pending")))
	err := w.Commit(h)
	if !errors.Is(err, file.ErrLost) || !strings.Contains(err.Error(), "_part-0-1-0.pending") ||
		!strings.Contains(err.Error(), "part-0-1-0.csv") {
		t.Fatalf("Commit of a lost file: %v, want ErrLost naming both files", err)
	}
}

func TestAbortDeletesPendingFiles(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{RollSize: 10}), 0, 1)
	write(t, w, rows("a", 0, 5)...)
	h := preCommit(t, w, 1)
	if n := len(ls(t, dir)); n < 2 {
		t.Fatalf("want several pending parts, got %v", ls(t, dir))
	}
	must(t, w.Abort(h))
	equal(t, "files after Abort", ls(t, dir), nil)
	must(t, w.Abort(h)) // idempotent
	if err := w.Commit(h); !errors.Is(err, file.ErrLost) {
		t.Fatalf("Commit after Abort: %v, want ErrLost", err)
	}
}

func TestAbortKeepsCommittedFiles(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	write(t, w, row{"a", 1})
	h := preCommit(t, w, 1)
	must(t, w.Commit(h))
	must(t, w.Abort(h))
	equal(t, "committed", readCommitted(t, dir), []string{"a,1"})
}

func TestTransactionsAreSeparate(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	write(t, w, rows("a", 0, 2)...)
	h1 := preCommit(t, w, 1)
	write(t, w, rows("b", 0, 2)...)
	h2 := preCommit(t, w, 2)
	must(t, w.Commit(h2))
	equal(t, "after commit of txn 2", readCommitted(t, dir), csvLines(rows("b", 0, 2)))
	must(t, w.Commit(h1))
	equal(t, "after both", readCommitted(t, dir), csvLines(append(rows("a", 0, 2), rows("b", 0, 2)...)))
}

func TestRollBySize(t *testing.T) {
	dir := t.TempDir()
	// The header "k,n\n" is 4 bytes and every row "a,N\n" 4 or 5: with
	// RollSize 12 a part holds the header and two rows.
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{RollSize: 12, BufferSize: 3}), 0, 1)
	in := rows("a", 0, 25)
	write(t, w, in...)
	must(t, w.Commit(preCommit(t, w, 3)))
	names := ls(t, dir)
	if len(names) != 13 {
		t.Fatalf("got %d parts %v, want 13", len(names), names)
	}
	for i := range 13 {
		name := "part-0-3-" + strconv.Itoa(i) + ".csv"
		data, err := os.ReadFile(filepath.Join(dir, name))
		must(t, err)
		if !strings.HasPrefix(string(data), "k,n\n") {
			t.Errorf("%s has no header: %q", name, data)
		}
		if n := strings.Count(string(data), "\n") - 1; n != 2 && !(i == 12 && n == 1) {
			t.Errorf("%s holds %d rows: %q", name, n, data)
		}
	}
	equal(t, "committed", readCommitted(t, dir), csvLines(in))
}

func TestPartNamesRestartPerCheckpoint(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, file.Lines(strconv.Itoa), file.Options{RollSize: 3}), 1, 2)
	write(t, w, 10, 11, 12)
	must(t, w.Commit(preCommit(t, w, 5)))
	write(t, w, 13)
	must(t, w.Commit(preCommit(t, w, 6)))
	equal(t, "files", ls(t, dir), []string{"part-1-5-0.txt", "part-1-5-1.txt", "part-1-5-2.txt", "part-1-6-0.txt"})
}

// TestReplayGivesSameNames runs the same input with the same checkpoints
// twice into two directories: committed names and contents must be equal.
func TestReplayGivesSameNames(t *testing.T) {
	run := func() map[string]string {
		dir := t.TempDir()
		w := open(t, file.NewSink(dir, rowCSV(), file.Options{RollSize: 20}), 0, 1)
		for id := int64(1); id <= 3; id++ {
			write(t, w, rows("k", int(id)*10, int(id)*10+7)...)
			must(t, w.Commit(preCommit(t, w, id)))
		}
		got := map[string]string{}
		for _, n := range ls(t, dir) {
			data, err := os.ReadFile(filepath.Join(dir, n))
			must(t, err)
			got[n] = string(data)
		}
		return got
	}
	a, b := run(), run()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("runs differ: %v vs %v", a, b)
	}
	for n, data := range a {
		if b[n] != data {
			t.Errorf("%s: %q vs %q", n, data, b[n])
		}
	}
}

func TestEndOfInputThenFinalCommit(t *testing.T) {
	// What the runtime does at the end of a bounded input: EndOfInput,
	// then PreCommit with the final checkpoint id and Commit, then Close.
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	write(t, w, rows("a", 0, 3)...)
	must(t, w.EndOfInput())
	hiddenOnly(t, dir)
	h := preCommit(t, w, 1)
	must(t, w.Commit(h))
	must(t, w.Close())
	equal(t, "committed", readCommitted(t, dir), csvLines(rows("a", 0, 3)))
	equal(t, "files", ls(t, dir), []string{"part-0-1-0.csv"})
}

func TestEndOfInputFlushes(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, file.Lines(strconv.Itoa), file.Options{}), 0, 1)
	write(t, w, 1, 2)
	must(t, w.EndOfInput())
	names := ls(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], ".part-0-") || !strings.HasSuffix(names[0], ".inprogress") {
		t.Fatalf("files %v, want one in-progress file", names)
	}
	data, err := os.ReadFile(filepath.Join(dir, names[0]))
	must(t, err)
	if string(data) != "1\n2\n" {
		t.Fatalf("in-progress content %q after EndOfInput", data)
	}
}

func TestCloseWithoutCommitLeavesNoVisibleData(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{RollSize: 10})
	w := open(t, s, 0, 1)
	write(t, w, rows("a", 0, 4)...)
	preCommit(t, w, 1) // prepared, never committed
	write(t, w, rows("b", 0, 4)...)
	must(t, w.EndOfInput())
	must(t, w.Close())
	hiddenOnly(t, dir)
	for _, n := range ls(t, dir) {
		if !strings.HasPrefix(n, "_part-0-1-") {
			t.Errorf("Close left %s; want only the pending files of checkpoint 1", n)
		}
	}
	if got := readCommitted(t, dir); len(got) != 0 {
		t.Fatalf("visible data %q", got)
	}
	must(t, w.Close()) // twice is fine
	if err := w.Write(operators.NewBatch[row](0)); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	ctx := &operators.Context{Subtask: 0, Parallelism: 1}
	for _, tc := range []struct {
		name string
		opts file.Options
	}{
		{"hidden prefix", file.Options{Prefix: ".x"}},
		{"underscore prefix", file.Options{Prefix: "_x"}},
		{"path prefix", file.Options{Prefix: "a/b"}},
		{"negative roll", file.Options{RollSize: -1}},
		{"negative buffer", file.Options{BufferSize: -1}},
	} {
		if _, err := file.NewSink(t.TempDir(), rowCSV(), tc.opts).Open(ctx); err == nil {
			t.Errorf("%s: Open succeeded", tc.name)
		}
	}
	if _, err := file.NewSink[row](t.TempDir(), nil, file.Options{}).Open(ctx); err == nil {
		t.Error("nil format: Open succeeded")
	}
	if _, err := file.NewSink(t.TempDir(), rowCSV(), file.Options{}).Open(&operators.Context{Subtask: 2, Parallelism: 2}); err == nil {
		t.Error("subtask 2 of 2: Open succeeded")
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	w := open(t, file.NewSink(dir, rowCSV(), file.Options{}), 0, 1)
	write(t, w, row{"x", 1})
	must(t, w.Commit(preCommit(t, w, 1)))
	equal(t, "committed in a created dir", readCommitted(t, dir), []string{"x,1"})
}

func TestBadHandles(t *testing.T) {
	w := open(t, file.NewSink(t.TempDir(), rowCSV(), file.Options{}), 0, 1)
	for _, h := range []string{
		`not json`,
		`{"version":2,"files":[]}`,
		`{"version":1,"files":[{"pending":"../_x.pending","final":"x.csv"}]}`,
		`{"version":1,"files":[{"pending":"_x.pending","final":"../x.csv"}]}`,
		`{"version":1,"files":[{"pending":"x.pending","final":"x.csv"}]}`,
		`{"version":1,"files":[{"pending":"_x.pending","final":".x.csv"}]}`,
	} {
		for name, f := range map[string]func([]byte) error{"Commit": w.Commit, "Abort": w.Abort,
			"Recover": func(b []byte) error { return w.Recover([][]byte{b}) }} {
			if err := f([]byte(h)); !errors.Is(err, file.ErrBadHandle) {
				t.Errorf("%s(%s) = %v, want ErrBadHandle", name, h, err)
			}
		}
	}
	if _, err := w.PreCommit(-1); err == nil {
		t.Error("PreCommit(-1) succeeded")
	}
}

func TestEncodeErrorFailsWriter(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, file.JSONLines[any](), file.Options{}), 0, 1)
	b := operators.NewBatch[any](2)
	b.Append(1, 0)
	b.Append(make(chan int), 0)
	if err := w.Write(b); err == nil {
		t.Fatal("Write of a channel as JSON succeeded")
	}
	if _, err := w.PreCommit(1); err == nil {
		t.Fatal("PreCommit after a failed Write succeeded")
	}
	must(t, w.Close())
	equal(t, "files after Close", ls(t, dir), nil)
}

// TestConcurrentCommits commits one handle from several writers at once
// (a restore may hand the same handle to more than one): exactly one
// renames, the others see a committed file.
func TestConcurrentCommits(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{RollSize: 8})
	w := open(t, s, 0, 1)
	write(t, w, rows("a", 0, 6)...)
	h := preCommit(t, w, 1)
	ws := make([]*file.Writer[row], 8)
	for i := range ws {
		ws[i] = open(t, s, 0, 1)
	}
	errs := make(chan error, len(ws))
	for _, cw := range ws {
		go func() { errs <- cw.Commit(h) }()
	}
	for range ws {
		must(t, <-errs)
	}
	equal(t, "committed", readCommitted(t, dir), csvLines(rows("a", 0, 6)))
}

// TestCommitReplacesOnReprepare: a checkpoint id prepared again (a rerun
// restored from an older checkpoint) replaces the committed file by a
// rename; it never appends to it.
func TestCommitReplacesOnReprepare(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{})
	w := open(t, s, 0, 1)
	write(t, w, row{"old", 1})
	must(t, w.Commit(preCommit(t, w, 1)))
	w2 := open(t, s, 0, 1)
	write(t, w2, row{"new", 1})
	must(t, w2.Commit(preCommit(t, w2, 1)))
	equal(t, "committed", readCommitted(t, dir), []string{"new,1"})
}
