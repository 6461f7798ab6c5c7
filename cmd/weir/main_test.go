package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/nexmark"
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
	code, out, errs := runArgs("nexmark", "--query", "q0,q1,q2", "--events", "50000", "--parallelism", "2", "--json", "--baseline")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("want a weir and a baseline line per query, got %q", out)
	}
	for i, q := range []string{"q0", "q1", "q2"} {
		var runs [2]nexmarkRun
		for j := range runs {
			if err := json.Unmarshal([]byte(lines[2*i+j]), &runs[j]); err != nil {
				t.Fatalf("%s: %v: %q", q, err, lines[2*i+j])
			}
		}
		if runs[0].Engine != "weir" || runs[1].Engine != "baseline" || runs[0].Query != q || runs[0].Events != 50000 ||
			runs[0].EventsPerSec <= 0 || runs[0].Results != runs[1].Results || runs[0].Results == 0 || runs[0].P99LatencyUs != -1 ||
			runs[0].PeakHeapBytes == 0 || runs[0].PeakLiveBytes == 0 || runs[0].PeakLiveBytes > runs[0].PeakHeapBytes {
			t.Fatalf("%s: runs %+v", q, runs)
		}
	}
	if code, out, errs := runArgs("nexmark", "--query", "q1", "--events", "10000", "--no-spare-proc"); code != 0 || !strings.Contains(out, "10000 events") {
		t.Fatalf("--no-spare-proc: exit %d, %q; stderr:\n%s", code, out, errs)
	}
	if code, _, _ := runArgs("nexmark", "--query", "q99", "--events", "10"); code != 1 {
		t.Fatalf("unknown query: exit %d, want 1", code)
	}
	if code, _, _ := runArgs("nexmark", "--events", "-1"); code != 2 {
		t.Fatalf("negative events: exit %d, want 2", code)
	}
}

// TestNexmarkPaced: a paced run takes about its event-time span and
// measures latency.
func TestNexmarkPaced(t *testing.T) {
	start := time.Now()
	code, out, errs := runArgs("nexmark", "--query", "q1", "--events", "40000", "--rate", "200000", "--paced", "--json")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("40000 events paced at 200000/s took %v, want at least 200ms", took)
	}
	var r nexmarkRun
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if !r.Paced || r.Results == 0 || r.P50LatencyUs < 0 || r.P99LatencyUs < r.P50LatencyUs {
		t.Fatalf("paced run %+v: want latency measured", r)
	}
}

// TestNexmarkSlow: --slow prints when in a paced run results slower than
// it reached the sink (every result is slower than a nanosecond), and
// --trace writes an execution trace.
func TestNexmarkSlow(t *testing.T) {
	tr := filepath.Join(t.TempDir(), "run.trace")
	code, out, errs := runArgs("nexmark", "--query", "q1", "--events", "20000", "--rate", "200000", "--paced", "--slow", "1ns", "--trace", tr)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	if fi, err := os.Stat(tr); err != nil || fi.Size() == 0 {
		t.Errorf("--trace wrote no trace: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "episodes of results slower than 1ns") || !strings.Contains(lines[1], " results  max ") {
		t.Fatalf("want a header and episodes, got:\n%s", out)
	}
}

// TestNexmarkCheckpoint: --checkpoint runs the query with periodic
// checkpoints (a paced q20, a join whose state grows, so that some are taken
// while it runs) and reports how many completed, the final one included,
// and the bytes of the last; the results are those of a run without. The
// run is paced to 600 ms, 12 intervals, of which it needs 3: a machine
// that stalls the race build (2 of 6 in 300 ms once, under load) still
// takes them.
func TestNexmarkCheckpoint(t *testing.T) {
	code, out, errs := runArgs("nexmark", "--query", "q20", "--events", "120000", "--rate", "200000", "--paced", "--checkpoint", "50ms", "--json", "--baseline")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var w, b nexmarkRun
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &w) != nil || json.Unmarshal([]byte(lines[1]), &b) != nil {
		t.Fatalf("want a weir and a baseline line, got %q", out)
	}
	if w.Checkpoints < 3 || w.CheckpointBytes <= 0 || w.Results != b.Results || b.Checkpoints != 0 {
		t.Fatalf("a 600 ms run with a checkpoint every 50 ms: %+v, baseline %+v", w, b)
	}
	if code, _, _ := runArgs("nexmark", "--checkpoint", "-1s"); code != 2 {
		t.Fatalf("negative --checkpoint: exit %d, want 2", code)
	}
}

// TestNexmarkStalls: --stalls alone measures the machine's stalls and
// runs no query.
func TestNexmarkStalls(t *testing.T) {
	code, out, errs := runArgs("nexmark", "--stalls", "200ms")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	if !strings.HasPrefix(out, "stalls: a 50µs sleep loop pinned to each of ") || strings.Contains(out, "events/s") ||
		!strings.HasSuffix(out, "; transparent huge pages: "+hugePages()+"; CPU: "+cpuModel()+"\n") {
		t.Fatalf("got %q", out)
	}
}

// TestTHPMode: the selected transparent huge page mode is the bracketed
// word of the kernel's file.
func TestTHPMode(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]":   "never",
		"":                         "unknown",
		"always madvise never":     "unknown",
		"[]":                       "unknown",
	} {
		if got := thpMode(in); got != want {
			t.Errorf("thpMode(%q) = %q, want %q", in, got, want)
		}
	}
	if m := hugePages(); m != "always" && m != "madvise" && m != "never" && m != "unknown" {
		t.Errorf("hugePages() = %q", m)
	}
}

// TestCPUModel: the first processor's model name, with its family and
// model numbers when it has them.
func TestCPUModel(t *testing.T) {
	for in, want := range map[string]string{
		"processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: other\n": "AMD EPYC (family 26, model 2)",
		"processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\n":                                                              "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
		"processor\t: 0\nCPU implementer\t: 0x41\n":                                                                                                  "unknown",
		"": "unknown",
	} {
		if got := cpuinfoModel(in); got != want {
			t.Errorf("cpuinfoModel(%q) = %q, want %q", in, got, want)
		}
	}
	if m := cpuModel(); m == "" {
		t.Error("cpuModel() is empty")
	}
}

// TestMedian: the middle value, the upper middle of an even count.
func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 3}, {[]float64{-1, -1}, -1}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestNexmarkReport runs every registered query through --report on a
// small stream and checks the table has a row for each.
func TestNexmarkReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench", "results.md")
	code, out, errs := runArgs("nexmark", "--query", "all", "--events", "20000", "--parallelism", "2",
		"--latency-events", "20000", "--repeat", "2", "--stalls", "200ms", "--report", path)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	// the rounds interleave: every query's first round before any second
	names := nexmark.Names()
	last1 := strings.Index(out, names[len(names)-1]+" round 1: ")
	first2 := strings.Index(out, names[0]+" round 2: ")
	if last1 < 0 || first2 < 0 || first2 < last1 {
		t.Errorf("%s's first round at %d, %s's second at %d: want the second rounds after all first ones in\n%s", names[len(names)-1], last1, names[0], first2, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "sleep loop pinned to each of") || !strings.Contains(string(data), "medians over 2 paced runs") ||
		!strings.Contains(string(data), "\nWhile the report ran (") || !strings.Contains(string(data), ", transparent huge pages "+hugePages()+" (") ||
		!strings.Contains(string(data), " CPUs ("+cpuModel()+"), ") {
		t.Errorf("the report does not give the machine's stalls, CPU, huge pages or how latency was taken:\n%s", data)
	}
	for _, q := range nexmark.Names() {
		if !strings.Contains(string(data), "\n| "+q+" | ") {
			t.Errorf("no row for %s in\n%s", q, data)
		}
	}
	// every row has the header's cells
	var cells []int
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "|") {
			cells = append(cells, strings.Count(line, "|"))
		}
	}
	if len(cells) != 2+len(nexmark.Names()) {
		t.Fatalf("%d table lines, want %d", len(cells), 2+len(nexmark.Names()))
	}
	for i, c := range cells {
		if c != cells[0] {
			t.Errorf("table line %d has %d cells, the header %d", i, c-1, cells[0]-1)
		}
	}
}

// TestStealLine: the report gives the steal time when the kernel counted
// some, and says that none may mean a hypervisor that does not report it.
func TestStealLine(t *testing.T) {
	if got := stealLine(100, 2, 2); !strings.Contains(got, "the hypervisor took 2.0 s of the 2 CPUs' time (steal: 1.00%)") {
		t.Errorf("steal 2 s of 100 s on 2 CPUs: %q", got)
	}
	if got := stealLine(100, 0, 2); !strings.Contains(got, "counted no steal time") || strings.Contains(got, "took 0.0 s") {
		t.Errorf("no steal: %q", got)
	}
}

// TestParseSteal reads the steal column of /proc/stat's cpu line.
func TestParseSteal(t *testing.T) {
	for _, c := range []struct {
		stat string
		want float64
	}{
		{"cpu  393882 0 45998 290802 2515 0 434 1523 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n", 15.23},
		{"cpu  1 2 3 4 5 6 7\n", 0}, // a kernel without the column
		{"intr 1 2 3\n", 0},
		{"", 0},
	} {
		if got := parseSteal(c.stat); got != c.want {
			t.Errorf("parseSteal(%q) = %v, want %v", c.stat, got, c.want)
		}
	}
}

// TestMedianRun checks that a report takes each figure's median over the
// rounds, column by column, and each ratio's median over the rounds'
// ratios.
func TestMedianRun(t *testing.T) {
	rounds := []reportRound{
		{{EventsPerSec: 3}, {EventsPerSec: 10}},
		{{EventsPerSec: 1}, {EventsPerSec: 30}},
		{{EventsPerSec: 2}, {EventsPerSec: 20}},
	}
	if got := medianRun(rounds, 0).EventsPerSec; got != 2 {
		t.Errorf("median of 3, 1, 2 = %v", got)
	}
	if got := medianRun(rounds, 1).EventsPerSec; got != 20 {
		t.Errorf("median of 10, 30, 20 = %v", got)
	}
	if got := medianRun(rounds[:1], 1).EventsPerSec; got != 10 {
		t.Errorf("median of one round = %v", got)
	}
	// the rounds' ratios are 10/3, 30, 10: their median is 10, where the
	// ratio of the medians would be 20/2
	if got := medianRatio(rounds, 1, 0); got != 10 {
		t.Errorf("median of the ratios 10/3, 30, 10 = %v", got)
	}
}

// TestBaselineCopies checks that the copies run every event each: as many
// results as one loop, times the copies, and all their events counted.
func TestBaselineCopies(t *testing.T) {
	f := nexmarkFlags{events: 20000, par: 1, rate: 10_000_000, seed: 1}
	for _, name := range []string{"q0", "q5", "q18"} {
		q, ok := nexmark.Lookup(name)
		if !ok {
			t.Fatalf("no query %s", name)
		}
		one, err := measureBaseline(q, f)
		if err != nil {
			t.Fatal(err)
		}
		two, err := measureBaselineCopies(q, f, 2)
		if err != nil {
			t.Fatal(err)
		}
		if one.Results == 0 || two.Results != 2*one.Results || two.Events != 2*f.events || two.Parallelism != 2 {
			t.Errorf("%s: one loop %d results; two copies %+v, want %d results over %d events", name, one.Results, two, 2*one.Results, 2*f.events)
		}
	}
}
