package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/jobmain"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupBinary()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// runArgs runs the job in-process with args after the program name; its
// own flags are parsed the way Main parses them: with the standard ones.
func runArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var c Config
	var stderr strings.Builder
	err := jobmain.RunOptions(context.Background(), append([]string{"windowsum"}, args...), c.AddFlags, func(job *stream.Job) error {
		return Build(job, c)
	}, func(fs *flag.FlagSet) ([]runtime.Option, func(), error) { return c.StateOptions(fs) }, &stderr)
	return stderr.String(), err
}

func committed(t *testing.T, dir string) []string {
	t.Helper()
	lines, err := file.ReadCommitted(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestSample runs the job on testdata/events.csv at parallelism 1 and 2,
// with either state backend,
// and compares the committed rows with testdata/events.out (sorted), which
// the plain-Go reference reproduces too.
func TestSample(t *testing.T) {
	in := filepath.Join("testdata", "events.csv")
	want := readLines(t, filepath.Join("testdata", "events.out"))
	if ref := reference(readEvents(t, in)); !slices.Equal(ref, want) {
		t.Fatalf("reference disagrees with testdata/events.out:\n%s", strings.Join(ref, "\n"))
	}
	for _, run := range []struct{ p, state string }{{"1", StateMem}, {"2", StateMem}, {"1", StatePebble}, {"2", StatePebble}} {
		p := run.p + "/" + run.state
		out := t.TempDir()
		if stderr, err := runArgs(t, "--input", in, "--output", out, "--parallelism", run.p, "--state", run.state); err != nil {
			t.Fatalf("p=%s: %v\n%s", p, err, stderr)
		}
		if got := committed(t, out); !slices.Equal(got, want) {
			t.Errorf("p=%s: got\n%s\nwant\n%s", p, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		files, _ := filepath.Glob(filepath.Join(out, "windowsum-*.csv"))
		if len(files) == 0 {
			t.Errorf("p=%s: no committed windowsum-*.csv file", p)
		}
		for _, f := range files {
			if head := readLines(t, f)[0]; head != "key,window_start,window_end,sum" {
				t.Errorf("%s starts with %q", f, head)
			}
		}
	}
}

// TestBadInput: a malformed line fails the job with an error naming the
// file and the line; so do a wrong header and a missing file.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := "a,2024-05-01 12:00:01.000,5\n"
	for _, c := range []struct {
		name, data, want string
	}{
		{"fields.csv", Header + "\n" + good + good + "a,2024-05-01 12:00:02.000\n", `fields.csv:4: 2 fields, want 3 (key,ts,value)`},
		{"ts.csv", Header + "\n" + good + "b,yesterday,1\n", `ts.csv:3: ts "yesterday" is not a time YYYY-MM-DD HH:MM:SS[.fff]`},
		{"value.csv", Header + "\n" + good + "\n" + "b,2024-05-01 12:00:02.000,1.5\n", `value.csv:4: value "1.5" is not an integer`},
		{"key.csv", Header + "\n" + ",2024-05-01 12:00:02.000,1\n", `key.csv:2: empty key`},
		{"header.csv", "k,t,v\n" + good, `header.csv:1: header "k,t,v", want "key,ts,value"`},
	} {
		in := filepath.Join(dir, c.name)
		if err := os.WriteFile(in, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		stderr, err := runArgs(t, "--input", in, "--output", out, "--parallelism", "2")
		if !errors.Is(err, file.ErrBadInput) || jobmain.ExitCode(err) != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: err %v (exit %d), stderr %q; want it to contain %q", c.name, err, jobmain.ExitCode(err), stderr, c.want)
		}
		if got := committed(t, out); len(got) != 0 {
			t.Errorf("%s: a failed job committed %d rows", c.name, len(got))
		}
	}
	missing := filepath.Join(dir, "missing.csv")
	stderr, err := runArgs(t, "--input", missing, "--output", t.TempDir())
	if err == nil || !strings.Contains(stderr, missing) || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing input: %v, stderr %q", err, stderr)
	}
}

func TestFlags(t *testing.T) {
	in := filepath.Join("testdata", "events.csv")
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--output", "x"}, "build: --input is required", 1},
		{[]string{"--input", in}, "build: --output is required", 1},
		{[]string{"--input", in, "--output", "x", "--throttle", "-1s"}, "build: --throttle -1s is negative", 1},
		{[]string{"--input", in, "--output", "x", "--throttle", "soon"}, `invalid value "soon" for flag -throttle`, 2},
		{[]string{"--input", in, "--output", "x", "--state", "rocks"}, `build: --state "rocks" is not memstate or pebble`, 1},
		{[]string{"--input", in, "--output", "x", "--state-dir", "s"}, "build: --state-dir needs --state pebble", 1},
	} {
		stderr, err := runArgs(t, c.args...)
		if jobmain.ExitCode(err) != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, jobmain.ExitCode(err), stderr, c.code, c.want)
		}
	}
}

// reference computes the expected output rows, sorted, with plain Go.
func reference(events []Event) []string {
	type win struct {
		key   string
		start int64 // ms
	}
	sums := map[win]int64{}
	size := WindowSize.Milliseconds()
	for _, e := range events {
		ms := e.TS.UnixMilli()
		start := ms - ((ms%size)+size)%size
		sums[win{e.Key, start}] += e.Value
	}
	out := make([]string, 0, len(sums))
	for w, s := range sums {
		start := time.UnixMilli(w.start).UTC()
		out = append(out, fmt.Sprintf("%s,%s,%s,%d", w.key, start.Format(Layout), start.Add(WindowSize).Format(Layout), s))
	}
	slices.Sort(out)
	return out
}

func readEvents(t *testing.T, path string) []Event {
	t.Helper()
	var out []Event
	for i, l := range readLines(t, path)[1:] {
		if l == "" {
			continue
		}
		e, err := ParseEvent(l)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+2, err)
		}
		out = append(out, e)
	}
	return out
}
