package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// checkpointed runs a small keyed job with checkpoints in a new directory:
// a checkpoint and a savepoint taken by hand while it runs, then the final
// checkpoint. It returns the directory.
func checkpointed(t *testing.T) (dir string, savepoint string) {
	t.Helper()
	dir = t.TempDir()
	job := stream.NewJob("sums")
	stream.FromGenerator(job, "gen", 50_000, func(i int64) int64 {
		if i%1000 == 0 {
			time.Sleep(time.Millisecond)
		}
		return i
	}).
		KeyBy(func(v int64) int64 { return v % 7 }).
		Reduce(func(a, b int64) int64 { return a + b }).
		Map(func(v int64) string { return fmt.Sprint(v) }).
		SinkTo(file.NewSink(t.TempDir(), file.Lines(func(s string) string { return s }), file.Options{}))
	ctl := runtime.NewController()
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(context.Background(), job, runtime.Parallelism(2),
			runtime.Checkpointing(dir, 0), runtime.WithController(ctl))
	}()
	var err error
	for range 1000 {
		if _, err = ctl.TriggerCheckpoint(context.Background()); !errors.Is(err, runtime.ErrNotRunning) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if savepoint, err = ctl.TriggerSavepoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return dir, savepoint
}

func TestCheckpointsListAndInspect(t *testing.T) {
	dir, sp := checkpointed(t)
	code, out, errs := runArgs("checkpoints", "list", dir)
	if code != 0 || errs != "" {
		t.Fatalf("list: exit %d, stderr %q", code, errs)
	}
	t.Logf("list:\n%s", out)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("list: want a header and 3 rows:\n%s", out)
	}
	// Newest first: the final checkpoint, the savepoint, the checkpoint.
	for i, want := range [][]string{
		{"3 ", " checkpoint ", " yes ", "Map-2,Reduce-1,Sink-3,gen", "chk-00000003", " ok"},
		{"2 ", " savepoint ", " no ", "savepoint-00000002", " ok"},
		{"1 ", " checkpoint ", " no ", "chk-00000001", " ok"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) || !strings.HasPrefix(lines[i+1], want[0]) {
				t.Errorf("list row %d lacks %q: %q", i+1, w, lines[i+1])
			}
		}
	}

	code, out, errs = runArgs("checkpoints", "inspect", filepath.Join(dir, sp))
	if code != 0 || errs != "" {
		t.Fatalf("inspect: exit %d, stderr %q", code, errs)
	}
	t.Logf("inspect:\n%s", out)
	for _, want := range []string{
		`savepoint savepoint-00000002 (id 2) of job "sums"`,
		"max parallelism 128, 4 vertices",
		`vertex "gen": parallelism 2`,
		`split "gen-0/2" at 00000000`, // 8-byte big-endian count
		`vertex "Reduce-1": parallelism 2`,
		"handle memstate key groups [0,64): ",
		"handle memstate key groups [64,128): ",
		"savepoint-00000002/",
		`vertex "Sink-3": parallelism 2`,
		"operator state: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q", want)
		}
	}

	// By number, and as JSON.
	code, out2, _ := runArgs("checkpoints", "inspect", filepath.Join(dir, "2"))
	if code != 0 || out2 != out {
		t.Errorf("inspect DIR/2: exit %d, output differs:\n%s", code, out2)
	}
	code, js, _ := runArgs("checkpoints", "inspect", "--json", filepath.Join(dir, "3"))
	var m runtime.Manifest
	if err := json.Unmarshal([]byte(js), &m); code != 0 || err != nil || m.ID != 3 || !m.Final || len(m.Vertices) != 4 {
		t.Errorf("inspect --json: exit %d, %v, %+v", code, err, m)
	}
}

func TestCheckpointsCorrupt(t *testing.T) {
	dir, _ := checkpointed(t)
	flip := filepath.Join(dir, "chk-00000001", "MANIFEST")
	data, err := os.ReadFile(flip)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-10] ^= 1
	if err := os.WriteFile(flip, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "chk-00000003", "MANIFEST")
	if err := os.Truncate(cut, 100); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runArgs("checkpoints", "list", dir)
	if code != 0 || errs != "" {
		t.Fatalf("list: exit %d, stderr %q", code, errs)
	}
	t.Logf("list:\n%s", out)
	lines := strings.Split(out, "\n")
	for i, want := range []string{
		"corrupt: chk-00000003/MANIFEST: body has ",
		"savepoint-00000002",
		"corrupt: chk-00000001/MANIFEST: crc32c ",
	} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("row %d lacks %q: %q", i+1, want, lines[i+1])
		}
	}
	code, out, errs = runArgs("checkpoints", "inspect", filepath.Join(dir, "chk-00000003"))
	if code != 1 || out != "" || !strings.Contains(errs, "corrupt checkpoint") || !strings.Contains(errs, "truncated") {
		t.Errorf("inspect corrupt: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestCheckpointsBadUsage(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(empty, "nope")
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"checkpoints"}, 2, "", "usage:"},
		{[]string{"checkpoints", "frob"}, 2, "", `unknown subcommand "frob"`},
		{[]string{"checkpoints", "list"}, 2, "", "usage:"},
		{[]string{"checkpoints", "list", "a", "b"}, 2, "", "usage:"},
		{[]string{"checkpoints", "inspect"}, 2, "", "usage:"},
		{[]string{"checkpoints", "inspect", "--yaml", "x"}, 2, "", "flag provided but not defined"},
		{[]string{"checkpoints", "list", missing}, 1, "", missing},
		{[]string{"checkpoints", "list", empty}, 0, "no checkpoints in " + empty + "\n", ""},
		{[]string{"checkpoints", "inspect", filepath.Join(empty, "7")}, 1, "", "no checkpoint or savepoint with id 7 in " + empty},
		{[]string{"checkpoints", "inspect", filepath.Join(missing, "chk-00000001")}, 1, "", missing},
		{[]string{"checkpoints", "--help"}, 0, "usage:", ""},
	} {
		code, out, errs := runArgs(c.args...)
		if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errs, c.stderr) || (c.stdout == "" && out != "") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, out, errs, c.code, c.stdout, c.stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("list created the missing directory")
	}
}
