package jobmain

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
)

const childEnv = "WEIR_JOBMAIN_TEST_CHILD"

// TestMain doubles as a job binary: with childEnv set, the test binary
// runs Main the way a job's main function does, with a flag of its own.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain()
		return
	}
	goleak.VerifyTestMain(m)
}

func childMain() {
	rows := flag.Int("rows", 3, "rows to print")
	fail := flag.Bool("fail", false, "fail while building")
	var mu sync.Mutex
	Main(func(job *stream.Job) error {
		if *fail {
			return errors.New("asked to fail")
		}
		vals := make([]int, *rows)
		for i := range vals {
			vals[i] = i + 1
		}
		stream.FromSlice(job, "rows", vals).
			Map(func(v int) string { return fmt.Sprintf("%s row %d", job.Name(), v) }).
			SinkTo(operators.SinkFunc[string](func(_ *operators.Context, b *operators.Batch[string]) error {
				mu.Lock() // one line per record, whatever the sink's parallelism
				defer mu.Unlock()
				for _, v := range b.Values {
					if _, err := fmt.Println(v); err != nil {
						return err
					}
				}
				return nil
			}))
		return nil
	})
}

func TestMainProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{nil, 0, "jobmain.test row 1\njobmain.test row 2\njobmain.test row 3\n", ""},
		{[]string{"--rows", "1", "--parallelism", "1", "--log-level", "error"}, 0, "jobmain.test row 1\n", ""},
		{[]string{"--fail"}, 1, "", "weir: jobmain.test: build: asked to fail\n"},
		{[]string{"--parallelism", "x"}, 2, "", `invalid value "x" for flag -parallelism`},
		{[]string{"--admin-addr", ":8081"}, 2, "", "weir: jobmain.test: --admin-addr is not supported yet"},
		{[]string{"--restore", "/no/such/ckpt"}, 1, "", "weir: jobmain.test: weir/runtime: restore: stat /no/such/ckpt: no such file or directory"},
		{[]string{"stray"}, 2, "", `weir: jobmain.test: unexpected argument "stray"`},
		{[]string{"-h"}, 0, "", "-rows"},
	} {
		cmd := exec.Command(exe, c.args...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if code != c.code {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", c.args, code, c.code, &stderr)
		}
		if stdout.String() != c.stdout {
			t.Errorf("%q: stdout %q, want %q", c.args, stdout.String(), c.stdout)
		}
		if !strings.Contains(stderr.String(), c.inStderr) {
			t.Errorf("%q: stderr lacks %q:\n%s", c.args, c.inStderr, &stderr)
		}
	}
}
