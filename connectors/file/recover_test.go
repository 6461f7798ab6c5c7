package file_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/connectors/file"
)

// crashedRun writes txn 1 (committed), txn 2 (prepared at checkpoint 2,
// not committed) and more records after it, then "crashes": the writer is
// neither closed nor used again. It returns both handles.
func crashedRun(t *testing.T, s *file.Sink[row]) (h1, h2 []byte) {
	t.Helper()
	w := open(t, s, 0, 1)
	write(t, w, rows("t1", 0, 5)...)
	h1 = preCommit(t, w, 1)
	must(t, w.Commit(h1))
	write(t, w, rows("t2", 0, 5)...)
	h2 = preCommit(t, w, 2)
	write(t, w, rows("t3", 0, 5)...)
	must(t, w.EndOfInput()) // the in-progress file is on disk
	return h1, h2
}

func TestRecoverAfterCrashCommitsRestoredTransaction(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{RollSize: 16})
	h1, h2 := crashedRun(t, s)
	hiddenPrefix := func() (n int) {
		for _, name := range ls(t, dir) {
			if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				n++
			}
		}
		return n
	}
	if hiddenPrefix() == 0 {
		t.Fatal("the crashed run left no uncommitted files to clean")
	}

	// Restore from checkpoint 2: the runtime commits its handles, then
	// the new writer recovers.
	w := open(t, s, 0, 1)
	must(t, w.Commit(h2))
	must(t, w.Recover([][]byte{h1, h2}))
	want := csvLines(append(rows("t1", 0, 5), rows("t2", 0, 5)...))
	equal(t, "committed after recovery", readCommitted(t, dir), want)
	if n := hiddenPrefix(); n != 0 {
		t.Errorf("Recover left uncommitted files: %v", ls(t, dir))
	}

	// The replay continues with checkpoint 3.
	write(t, w, rows("t3", 0, 5)...)
	must(t, w.Commit(preCommit(t, w, 3)))
	equal(t, "committed after the replay", readCommitted(t, dir),
		append(want, csvLines(rows("t3", 0, 5))...))
}

func TestRecoverDeletesTransactionsAfterCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{RollSize: 16})
	h1, _ := crashedRun(t, s)

	// Restore from checkpoint 1: txn 2 was never part of a complete
	// checkpoint, so its pending files go.
	w := open(t, s, 0, 1)
	must(t, w.Commit(h1))
	must(t, w.Recover([][]byte{h1}))
	equal(t, "committed", readCommitted(t, dir), csvLines(rows("t1", 0, 5)))
	for _, name := range ls(t, dir) {
		if !strings.HasPrefix(name, "part-0-1-") {
			t.Errorf("left %s after Recover([h1])", name)
		}
	}
}

func TestRecoverKeepsPendingFilesNamedByHandles(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{})
	w := open(t, s, 0, 1)
	write(t, w, row{"a", 1})
	h := preCommit(t, w, 1)
	// Not committed yet (another writer's Commit may still be on its way):
	// Recover must not delete what a restored handle names.
	must(t, open(t, s, 0, 1).Recover([][]byte{h}))
	must(t, w.Commit(h))
	equal(t, "committed", readCommitted(t, dir), []string{"a,1"})
}

func TestRecoverOnlyBeforeWrite(t *testing.T) {
	w := open(t, file.NewSink(t.TempDir(), rowCSV(), file.Options{}), 0, 1)
	must(t, w.Recover(nil))
	write(t, w, row{"a", 1})
	if err := w.Recover(nil); err == nil {
		t.Fatal("Recover after Write succeeded")
	}
}

// leftovers prepares checkpoint 1 on every subtask of parallelism p and
// leaves an in-progress file for each, without committing anything.
func leftovers(t *testing.T, s *file.Sink[row], p int) {
	t.Helper()
	for sub := range p {
		w := open(t, s, sub, p)
		write(t, w, row{"x", sub})
		preCommit(t, w, 1)
		write(t, w, row{"y", sub})
		must(t, w.EndOfInput())
	}
}

// subtasksWithFiles returns the subtasks that own "."/"_" files in dir.
func subtasksWithFiles(t *testing.T, dir string) []string {
	t.Helper()
	var subs []string
	for _, name := range ls(t, dir) {
		f := strings.Split(name[1:], "-")
		if len(f) > 1 && !slices.Contains(subs, f[1]) {
			subs = append(subs, f[1])
		}
	}
	slices.Sort(subs)
	return subs
}

func TestRecoverAfterRescaleDown(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{})
	leftovers(t, s, 4)
	equal(t, "owners before", subtasksWithFiles(t, dir), []string{"0", "1", "2", "3"})

	// Restore at parallelism 2 from a checkpoint before 1. Subtask 1
	// cleans only its own files; it has started writing when subtask 0
	// recovers, and subtask 0 must leave its in-progress file alone.
	w1 := open(t, s, 1, 2)
	must(t, w1.Recover(nil))
	equal(t, "owners after subtask 1", subtasksWithFiles(t, dir), []string{"0", "2", "3"})
	write(t, w1, row{"new", 1})
	must(t, w1.EndOfInput())

	w0 := open(t, s, 0, 2)
	must(t, w0.Recover(nil))
	equal(t, "owners after subtask 0", subtasksWithFiles(t, dir), []string{"1"})

	h := preCommit(t, w1, 2)
	must(t, w1.Commit(h))
	equal(t, "committed", readCommitted(t, dir), []string{"new,1"})
}

func TestRecoverAfterRescaleUp(t *testing.T) {
	dir := t.TempDir()
	s := file.NewSink(dir, rowCSV(), file.Options{})
	leftovers(t, s, 2)
	for sub := range 4 {
		must(t, open(t, s, sub, 4).Recover(nil))
	}
	equal(t, "files", ls(t, dir), nil)
}

func TestRecoverIgnoresOtherPrefixesAndFiles(t *testing.T) {
	dir := t.TempDir()
	other := file.NewSink(dir, rowCSV(), file.Options{Prefix: "part-1"})
	leftovers(t, other, 1) // .part-1-0-... and _part-1-0-1-0.pending
	foreign := []string{"_SUCCESS", ".hidden", "_part-0-x-0.pending", ".part-0-1.inprogress", "notes.txt"}
	for _, n := range foreign {
		must(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	before := ls(t, dir)
	for sub := range 2 {
		must(t, open(t, file.NewSink(dir, rowCSV(), file.Options{}), sub, 2).Recover(nil))
	}
	equal(t, "files", ls(t, dir), before)
}
