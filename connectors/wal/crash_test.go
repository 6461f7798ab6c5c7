package wal_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/wal"
)

// crashHelper is the child of TestKilledProcessLosesNothing (TestMain runs
// it instead of the tests when WEIR_WAL_CRASH_DIR is set): it pushes
// batches into the log in dir and prints the last ID of each batch Push
// accepted, until it is killed.
func crashHelper(dir string) {
	l, err := wal.Open(dir, wal.Options{SegmentSize: 64 << 10})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	src := wal.NewSource(l, wal.GobCodec[event]())
	for id := 0; ; {
		var vs []event
		for range 1 + id%50 {
			vs = append(vs, event{ID: id, Name: "crash"})
			id++
		}
		if err := src.Push(vs...); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(id - 1)
	}
}

// TestKilledProcessLosesNothing kills (SIGKILL) a process that pushes
// values as fast as it can and checks that every value whose Push
// returned is in the log when it is opened again.
func TestKilledProcessLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "WEIR_WAL_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(200 * time.Millisecond)
	for sc.Scan() && time.Now().Before(deadline) {
		id, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("helper: %s", sc.Text())
		}
		acked = id
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // acknowledged before the kill landed
		if id, err := strconv.Atoi(sc.Text()); err == nil {
			acked = id
		}
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) {
		t.Fatalf("helper ended with %v", err)
	}
	if acked < 0 {
		t.Fatal("helper acknowledged nothing")
	}
	l := openLog(t, dir, wal.Options{})
	defer l.Close()
	src := wal.NewSource(l, wal.GobCodec[event]())
	src.EndInput()
	r := openReader(t, src, nil)
	defer r.Close()
	var got []event
	for {
		vs, err := read(t, r, 1024)
		got = append(got, vs...)
		if err != nil {
			break
		}
	}
	t.Logf("%d values acknowledged, %d in the log, repair %+v", acked+1, len(got), l.Repair())
	if len(got) < acked+1 {
		t.Fatalf("log has %d values, %d were acknowledged", len(got), acked+1)
	}
	checkExactlyOnceIDs(t, got, len(got))
}
