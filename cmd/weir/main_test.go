package main

import (
	"encoding/json"
	goruntime "runtime"
	"strings"
	"testing"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errb strings.Builder
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestNoArgsPrintsUsage(t *testing.T) {
	code, out, errs := runArgs()
	if code != 2 || out != "" || !strings.Contains(errs, "Usage:") {
		t.Errorf("no args: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestUnknownCommand(t *testing.T) {
	for _, name := range []string{"frobnicate", "Demo", "-x", ""} {
		code, out, errs := runArgs(name, "x")
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q", name, code, out)
		}
		if !strings.HasPrefix(errs, "weir: unknown command ") || !strings.Contains(errs, "weir demo") {
			t.Errorf("%q: stderr lacks the error or the usage:\n%s", name, errs)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, errs := runArgs(args...)
		if code != 0 || errs != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "weir "+c.name) {
				t.Errorf("%q: usage lacks %q:\n%s", args, c.name, out)
			}
		}
	}
	code, out, _ := runArgs("help", "demo")
	if code != 0 || !strings.Contains(out, "-events") || !strings.Contains(out, "-parallelism") {
		t.Errorf("help demo: exit %d:\n%s", code, out)
	}
	if code, _, errs := runArgs("help", "nope"); code != 2 || !strings.Contains(errs, `unknown command "nope"`) {
		t.Errorf("help nope: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := runArgs("help", "a", "b"); code != 2 {
		t.Errorf("help a b: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runArgs(args...)
		if code != 0 || errs != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
		if !strings.HasPrefix(out, "weir ") || !strings.Contains(out, goruntime.Version()) || !strings.HasSuffix(out, "\n") {
			t.Errorf("%q: %q", args, out)
		}
	}
	if code, _, _ := runArgs("version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d", code)
	}
}

func TestNotImplemented(t *testing.T) {
	for _, args := range [][]string{
		{"sql", "run", "x.sql"},
		{"kafka-dev"},
	} {
		code, out, errs := runArgs(args...)
		want := "weir " + args[0] + ": not implemented yet (see issues)\n"
		if code != 2 || out != "" || errs != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", args, code, out, errs, want)
		}
	}
}

func TestDemo(t *testing.T) {
	code, out, errs := runArgs("demo", "-events", "20000", "-parallelism", "2")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	for _, want := range []string{"check: OK", "events generated: 20,000\n", "parallelism:      2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "-events", "x"},
		{"demo", "-events", "-1"},
		{"demo", "-parallelism", "-4"},
		{"demo", "-what"},
		{"demo", "stray"},
	} {
		code, out, errs := runArgs(args...)
		if code != 2 || out != "" || errs == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if code, _, errs := runArgs("demo", "-h"); code != 0 || !strings.Contains(errs, "-events") {
		t.Errorf("demo -h: exit %d, stderr %q", code, errs)
	}
}

func TestNexmark(t *testing.T) {
	for _, q := range []string{"q0", "q1", "q2"} {
		code, out, errs := runArgs("nexmark", "--query", q, "--events", "50000", "--parallelism", "2", "--json", "--baseline")
		if code != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", q, code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: want a weir and a baseline line, got %q", q, out)
		}
		var runs [2]struct {
			Query, Engine string
			Events        int64
			EventsPerSec  float64 `json:"events_per_sec"`
			Results       int64
		}
		for i, l := range lines {
			if err := json.Unmarshal([]byte(l), &runs[i]); err != nil {
				t.Fatalf("%s: %v: %q", q, err, l)
			}
		}
		if runs[0].Engine != "weir" || runs[1].Engine != "baseline" || runs[0].Query != q || runs[0].Events != 50000 ||
			runs[0].EventsPerSec <= 0 || runs[0].Results != runs[1].Results || runs[0].Results == 0 {
			t.Fatalf("%s: runs %+v", q, runs)
		}
	}
	if code, _, _ := runArgs("nexmark", "--query", "q99", "--events", "10"); code != 1 {
		t.Fatalf("unknown query: exit %d, want 1", code)
	}
}
