package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/vfs"
)

// The crash tests run the job binary as a subprocess with checkpoints,
// SIGKILL it at random moments and rerun the same command until a run
// exits 0; then the committed output must equal a plain-Go reference:
// nothing lost, nothing twice.
const (
	crashLines    = 300_000
	crashKeys     = 400
	crashInterval = "50ms"
	// crashThrottle makes an uninterrupted run last at least
	// crashLines/1000 * crashThrottle (5.4 s), so kills land mid-way.
	crashThrottle = "18ms"
	maxRuns       = 200
)

var (
	binMu   sync.Mutex
	binDir  string
	binPath = map[bool]string{} // by race mode

	inputOnce sync.Once
	inputPath string
	inputWant []string
	inputErr  error
)

// jobBinary builds the job binary once per test process (with -race when
// the tests run with it).
func jobBinary(t *testing.T) string { return jobBinaryMode(t, raceEnabled) }

// jobBinaryMode builds the job binary with -race or without, once per test
// process and mode.
func jobBinaryMode(t *testing.T, race bool) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binPath[race]; ok {
		return p
	}
	if binDir == "" {
		dir, err := os.MkdirTemp("", "windowsum-bin")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	// Both binaries are named windowsum, the job's name in messages.
	p := filepath.Join(binDir, "plain", "windowsum")
	args := []string{"build", "-o", p}
	if race {
		p = filepath.Join(binDir, "race", "windowsum")
		args = []string{"build", "-o", p, "-race"}
	}
	start := time.Now()
	out, err := exec.Command(goTool(), append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s (race %v) in %v", p, race, time.Since(start).Round(time.Millisecond))
	binPath[race] = p
	return p
}

func cleanupBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if inputPath != "" {
		os.RemoveAll(filepath.Dir(inputPath))
	}
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if root := goruntime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

var (
	seedOnce sync.Once
	seedVal  uint64
)

// seed is WEIR_SEED or the time, chosen once per test process: the input
// and the kill times of every test derive from it.
func seed(t *testing.T) uint64 {
	t.Helper()
	seedOnce.Do(func() {
		seedVal = uint64(time.Now().UnixNano())
		if v := os.Getenv("WEIR_SEED"); v != "" {
			var err error
			if seedVal, err = strconv.ParseUint(v, 10, 64); err != nil {
				panic(fmt.Sprintf("WEIR_SEED=%q: %v", v, err))
			}
		}
	})
	t.Logf("seed %d (rerun with WEIR_SEED=%d)", seedVal, seedVal)
	return seedVal
}

// crashInput writes the input once per test process: crashLines events of
// crashKeys keys, 2 ms apart on average, each up to 1.9 s earlier than its
// slot (out of order by less than the 2 s watermark delay, so none is
// late), spanning about 60 windows. It returns the path and the expected
// rows.
func crashInput(t *testing.T) (string, []string) {
	t.Helper()
	inputOnce.Do(func() {
		rng := rand.New(rand.NewPCG(seed(t), 2))
		dir, err := os.MkdirTemp("", "windowsum-input")
		if err != nil {
			inputErr = err
			return
		}
		inputPath = filepath.Join(dir, "events.csv")
		events := make([]Event, crashLines)
		base := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
		for i := range events {
			slot := base.Add(time.Duration(i) * 2 * time.Millisecond)
			events[i] = Event{
				Key:   "k" + strconv.Itoa(rng.IntN(crashKeys)),
				TS:    slot.Add(-time.Duration(rng.IntN(1900)) * time.Millisecond),
				Value: rng.Int64N(2001) - 1000,
			}
		}
		var b bytes.Buffer
		b.WriteString(Header + "\n")
		for _, e := range events {
			fmt.Fprintf(&b, "%s,%s,%d\n", e.Key, e.TS.Format(Layout), e.Value)
		}
		inputErr = os.WriteFile(inputPath, b.Bytes(), 0o644)
		inputWant = reference(events)
	})
	if inputErr != nil {
		t.Fatal(inputErr)
	}
	return inputPath, inputWant
}

// crasher runs the binary again and again, killing runs at random moments.
type crasher struct {
	t        *testing.T
	bin      string
	rng      *rand.Rand
	kills    int
	runs     int
	restores int // runs that restored a checkpoint
	partial  int // most rows committed before the last run
}

// run starts the binary with args and SIGKILLs it after delay (< 0:
// never), counted from the first checkpoint the run completes if
// afterCheckpoint (so that a loaded machine, which makes start-up and
// restore slower, still sees runs that checkpoint before they are
// killed). It returns whether the kill ended it, and its stderr.
func (c *crasher) run(args []string, delay time.Duration, afterCheckpoint bool) (killed bool, stderr string, err error) {
	ckpt := ""
	if afterCheckpoint {
		ckpt = argValue(c.t, args, "--checkpoint-dir")
	}
	before := newestCheckpoint(ckpt)
	cmd := exec.Command(c.bin, args...)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.runs++
	exited := make(chan struct{})
	defer close(exited)
	kill := func() { _ = cmd.Process.Signal(syscall.SIGKILL) }
	switch {
	case delay < 0:
	case afterCheckpoint:
		go func() {
			for newestCheckpoint(ckpt) <= before {
				select {
				case <-exited:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			select {
			case <-exited:
			case <-time.After(delay):
				kill()
			}
		}()
	default:
		timer := time.AfterFunc(delay, kill)
		defer timer.Stop()
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		c.kills++
		return true, errb.String(), err
	}
	return false, errb.String(), err
}

// delay picks when to kill: one time in six during start-up and restore
// (under 40 ms from the start), else within 0-360 ms after the run's first
// completed checkpoint.
func (c *crasher) delay() (d time.Duration, afterCheckpoint bool) {
	if c.rng.IntN(6) == 0 {
		return time.Duration(c.rng.IntN(40)) * time.Millisecond, false
	}
	return time.Duration(c.rng.IntN(360)) * time.Millisecond, true
}

// argValue returns the value after flag in args.
func argValue(t *testing.T, args []string, flag string) string {
	t.Helper()
	for i, a := range args[:len(args)-1] {
		if a == flag {
			return args[i+1]
		}
	}
	t.Fatalf("no %s in %q", flag, args)
	return ""
}

// newestCheckpoint returns the name of the newest checkpoint in dir with
// a readable manifest ("" when there is none, dir is "" or cannot be
// read). It does not fail the test: run polls it from a goroutine.
func newestCheckpoint(dir string) string {
	if dir == "" {
		return ""
	}
	if valid, err := readValidCheckpoints(dir); err == nil && len(valid) > 0 {
		return valid[0]
	}
	return ""
}

// untilDone reruns the command args(run) until a run exits 0, killing the
// first kills runs at random moments; after each kill it calls between (if
// not nil). It returns the stderr of every run. out is the output
// directory; the runs must log at level info.
func (c *crasher) untilDone(kills int, out string, args func(run int) []string, between func(run int, stderr string)) []string {
	c.t.Helper()
	var logs []string
	for run := 0; ; run++ {
		if run >= maxRuns {
			c.t.Fatalf("no successful run after %d runs (%d kills)", run, c.kills)
		}
		d, afterCheckpoint := time.Duration(-1), false
		if c.kills < kills {
			d, afterCheckpoint = c.delay()
		}
		a := args(run)
		killed, stderr, err := c.run(a, d, afterCheckpoint)
		logs = append(logs, stderr)
		if strings.Contains(stderr, "restoring checkpoint") {
			c.restores++
		}
		if killed {
			if n := len(committed(c.t, out)); n > c.partial {
				c.partial = n
			}
			if between != nil {
				between(run, stderr)
			}
			continue
		}
		if err != nil {
			c.t.Fatalf("run %d %q failed: %v\n%s", run, a, err, stderr)
		}
		if c.kills < kills {
			c.t.Errorf("the job finished after %d kills, want %d: make it slower (--throttle)", c.kills, kills)
		}
		// Checkpoints must really have been taken and restored, and
		// output committed before the end: else the test proves nothing.
		if c.restores < c.kills/2 || c.partial == 0 {
			c.t.Errorf("only %d of %d runs restored a checkpoint, at most %d rows were committed before the last run",
				c.restores, c.runs, c.partial)
		}
		return logs
	}
}

func newCrasher(t *testing.T) *crasher {
	return &crasher{t: t, bin: jobBinary(t), rng: rand.New(rand.NewPCG(seed(t), 3))}
}

// checkOutput compares the committed rows with want.
func checkOutput(t *testing.T, out string, want []string) {
	t.Helper()
	got := committed(t, out)
	if slices.Equal(got, want) {
		return
	}
	n := map[string]int{}
	for _, l := range got {
		n[l]++
	}
	missing, twice, extra := 0, 0, 0
	for _, l := range want {
		switch {
		case n[l] == 0:
			if missing++; missing <= 5 {
				t.Logf("missing: %s", l)
			}
		case n[l] > 1:
			if twice++; twice <= 5 {
				t.Logf("%d times: %s", n[l], l)
			}
		}
		delete(n, l)
	}
	for l := range n {
		if extra++; extra <= 5 {
			t.Logf("unexpected: %s", l)
		}
	}
	t.Fatalf("committed %d rows, want %d: %d missing, %d repeated, %d unexpected", len(got), len(want), missing, twice, extra)
}

func baseArgs(in, out, ckpt string) []string {
	return []string{"--input", in, "--output", out, "--checkpoint-dir", ckpt,
		"--checkpoint-interval", crashInterval, "--throttle", crashThrottle, "--log-level", "info"}
}

// TestCrashExactlyOnce: at least 20 SIGKILLs at random moments, the same
// command rerun after each, then the committed output is exactly the
// reference.
func TestCrashExactlyOnce(t *testing.T) {
	in, want := crashInput(t)
	c := newCrasher(t)
	out, ckpt := t.TempDir(), t.TempDir()
	start := time.Now()
	args := append(baseArgs(in, out, ckpt), "--parallelism", "2")
	c.untilDone(20, out, func(int) []string { return args }, nil)
	checkOutput(t, out, want)
	t.Logf("%d runs, %d kills, %d restores, %d rows exactly once in %v", c.runs, c.kills, c.restores, len(want), time.Since(start).Round(time.Millisecond))
}

// TestCrashRescale: the parallelism changes between restarts (1 <-> 2).
func TestCrashRescale(t *testing.T) {
	in, want := crashInput(t)
	c := newCrasher(t)
	out, ckpt := t.TempDir(), t.TempDir()
	start := time.Now()
	c.untilDone(12, out, func(run int) []string {
		return append(baseArgs(in, out, ckpt), "--parallelism", strconv.Itoa(1+run%2))
	}, nil)
	checkOutput(t, out, want)
	t.Logf("%d runs, %d kills, %d restores, %d rows exactly once in %v", c.runs, c.kills, c.restores, len(want), time.Since(start).Round(time.Millisecond))
}

// pebbleRace is whether TestCrashPebble runs the -race binary when the
// tests run with -race.
const pebbleRace = false // the race-built pebble binary is too slow to checkpoint between kills (~75 s, few restores)

// TestCrashPebble: TestCrashExactlyOnce with the window state in Pebble
// databases (--state pebble, in the default <checkpoint-dir>.state): at
// least 10 SIGKILLs, the parallelism changed once (2, then 1 from the
// sixth kill on), then the committed output is exactly the reference and
// the checkpoints hold Pebble handles.
func TestCrashPebble(t *testing.T) {
	in, want := crashInput(t)
	c := newCrasher(t)
	c.bin = jobBinaryMode(t, raceEnabled && pebbleRace)
	probe := exec.Command(c.bin, "--input", filepath.Join("testdata", "events.csv"), "--output", t.TempDir(), "--state", StatePebble)
	if msg, err := probe.CombinedOutput(); err != nil {
		skipIfNoPointers(t, string(msg))
		t.Fatalf("--state pebble on testdata/events.csv: %v\n%s", err, msg)
	}
	out, ckpt := t.TempDir(), t.TempDir()
	start := time.Now()
	rescaledAt := -1
	stateSeen := false
	c.untilDone(10, out, func(run int) []string {
		p := "2"
		if c.kills >= 5 {
			p = "1"
			if rescaledAt < 0 {
				rescaledAt = run
			}
		}
		return append(baseArgs(in, out, ckpt), "--parallelism", p, "--state", StatePebble)
	}, func(int, string) {
		// a kill may come before the process opened its state
		if fi, err := os.Stat(ckpt + stateDirSuffix); err == nil && fi.IsDir() {
			stateSeen = true
		}
	})
	if !stateSeen {
		t.Errorf("no state directory %s after any killed run", ckpt+stateDirSuffix)
	}
	checkOutput(t, out, want)
	if rescaledAt < 1 {
		t.Errorf("the parallelism never changed (rescaled at run %d)", rescaledAt)
	}
	checkPebbleHandles(t, ckpt)
	t.Logf("%d runs (p=1 from run %d), %d kills, %d restores, %d rows exactly once in %v",
		c.runs, rescaledAt, c.kills, c.restores, len(want), time.Since(start).Round(time.Millisecond))
}

// skipIfNoPointers fails the test if msg is the window operator's old
// refusal of a backend without statebackend.Pointers (windowing now
// buffers entries for such backends).
func skipIfNoPointers(t *testing.T, msg string) {
	t.Helper()
	if strings.Contains(msg, "lack in-place updates") {
		t.Fatalf("the window operator refused a backend without Pointers: %s", strings.TrimSpace(msg))
	}
}

// checkPebbleHandles checks that the newest checkpoint of dir holds the
// window state as Pebble handles.
func checkPebbleHandles(t *testing.T, dir string) {
	t.Helper()
	valid := validCheckpoints(t, dir)
	if len(valid) == 0 {
		t.Fatal("no valid checkpoint left")
	}
	fs, err := vfs.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := runtime.ReadManifest(fs, valid[0])
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, v := range m.Vertices {
		for _, s := range v.Subtasks {
			for _, h := range s.Handles {
				kinds[h.Backend]++
			}
		}
	}
	if kinds[pebblestate.Kind] == 0 || len(kinds) != 1 {
		t.Errorf("checkpoint %s holds state handles %v, want pebble ones only", valid[0], kinds)
	}
}

// TestCrashCorruptCheckpoints: between restarts the newest checkpoint's
// MANIFEST is damaged (a flipped byte or a truncation); the next run
// skips it, restores the checkpoint before it and the output still ends
// exactly once. Once, every checkpoint is damaged: that run fails with a
// clear error and changes nothing, and the test repairs them.
func TestCrashCorruptCheckpoints(t *testing.T) {
	in, want := crashInput(t)
	c := newCrasher(t)
	out, ckpt := t.TempDir(), t.TempDir()
	start := time.Now()
	args := append(baseArgs(in, out, ckpt), "--parallelism", "2")
	var damaged []string // newest checkpoints damaged, in order
	pending := ""        // damaged before the latest run
	fellBack, allCorrupt := 0, false
	logs := c.untilDone(12, out, func(int) []string { return args }, func(run int, stderr string) {
		if pending != "" {
			fellBack += checkFallback(t, stderr, pending)
			pending = ""
		}
		valid := validCheckpoints(t, ckpt)
		if !allCorrupt && len(valid) > 0 && run >= 4 {
			allCorrupt = true
			checkAllCorrupt(t, c, args, ckpt, out)
			return
		}
		if len(valid) >= 2 && c.rng.IntN(3) > 0 {
			damage(t, filepath.Join(ckpt, valid[0], "MANIFEST"), c.rng)
			damaged = append(damaged, valid[0])
			pending = valid[0]
		}
	})
	if pending != "" {
		fellBack += checkFallback(t, logs[len(logs)-1], pending)
	}
	checkOutput(t, out, want)
	if !allCorrupt || len(damaged) == 0 || fellBack == 0 {
		t.Errorf("the test did not exercise enough: all corrupt %v, %d damaged, %d fallbacks seen", allCorrupt, len(damaged), fellBack)
	}
	t.Logf("%d runs, %d kills, %d manifests damaged, %d fallbacks seen, %d rows exactly once in %v",
		c.runs, c.kills, len(damaged), fellBack, len(want), time.Since(start).Round(time.Millisecond))
}

// validCheckpoints lists the checkpoints of dir whose manifests pass their
// checks, newest first.
func validCheckpoints(t *testing.T, dir string) []string {
	t.Helper()
	valid, err := readValidCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	return valid
}

// readValidCheckpoints is validCheckpoints without a test to fail.
func readValidCheckpoints(dir string) ([]string, error) {
	fs, err := vfs.NewLocal(dir)
	if err != nil {
		return nil, err
	}
	list, err := runtime.ListCheckpoints(fs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range list {
		if _, err := runtime.ReadManifest(fs, c.Dir); err == nil && !c.Savepoint {
			out = append(out, c.Dir)
		}
	}
	return out, nil
}

// damage flips a byte of the manifest or truncates it.
func damage(t *testing.T, manifest string, rng *rand.Rand) {
	t.Helper()
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if rng.IntN(2) == 0 {
		data[rng.IntN(len(data))] ^= byte(1 + rng.IntN(255))
	} else {
		data = data[:rng.IntN(len(data))]
	}
	if err := os.WriteFile(manifest, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkFallback checks the log of a run after the manifest of checkpoint
// bad was damaged: if the run got as far as restoring, it skipped bad and
// restored an older checkpoint. It returns 1 if it saw that.
func checkFallback(t *testing.T, stderr, bad string) int {
	t.Helper()
	restored := ""
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, "restoring checkpoint") {
			_, after, _ := strings.Cut(l, `"dir": "`)
			restored, _, _ = strings.Cut(after, `"`)
		}
	}
	if restored == "" {
		return 0 // killed before it restored
	}
	if !strings.Contains(stderr, "skipping unusable checkpoint") || !strings.Contains(stderr, bad+"/MANIFEST") {
		t.Errorf("a run after %s was damaged did not report skipping it:\n%s", bad, stderr)
	}
	if restored >= bad {
		t.Errorf("a run restored %s after %s was damaged", restored, bad)
	}
	return 1
}

// checkAllCorrupt damages every checkpoint, checks that a run fails with a
// clear error and leaves the output alone, and repairs them.
func checkAllCorrupt(t *testing.T, c *crasher, args []string, ckpt, out string) {
	t.Helper()
	fs, _ := vfs.NewLocal(ckpt)
	all, _ := runtime.ListCheckpoints(fs)
	var list []runtime.CheckpointInfo // those with a manifest (the rest were in progress)
	for _, ci := range all {
		if ok, _ := fs.Exists(ci.Dir + "/MANIFEST"); ok {
			list = append(list, ci)
		}
	}
	saved := map[string][]byte{}
	for _, ci := range list {
		name := filepath.Join(ckpt, ci.Dir, "MANIFEST")
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		saved[name] = data
		damage(t, name, c.rng)
	}
	before := committed(t, out)
	killed, stderr, err := c.run(args, -1, false)
	var exit *exec.ExitError
	if killed || !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("every checkpoint corrupt: %v, want exit status 1\n%s", err, stderr)
	}
	for _, s := range []string{"weir: windowsum: checkpoint directory " + ckpt + " holds no usable checkpoint: every one is corrupt",
		"\n  " + list[0].Dir + "/MANIFEST: "} {
		if !strings.Contains(stderr, s) {
			t.Errorf("every checkpoint corrupt: stderr lacks %q:\n%s", s, stderr)
		}
	}
	if after := committed(t, out); !slices.Equal(before, after) {
		t.Errorf("the failed run changed the output: %d rows before, %d after", len(before), len(after))
	}
	for name, data := range saved {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, msg, _ := strings.Cut(stderr, "weir: windowsum: ")
	t.Logf("every checkpoint corrupt: weir: windowsum: %s", msg)
}
