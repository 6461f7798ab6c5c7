package file_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads every split of src from its start in batches of size, and
// returns the records and the final position of each split.
func readAll[T any](t *testing.T, src operators.Source[T], size int) ([]T, error) {
	t.Helper()
	splits, err := src.Splits(1)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, sp := range splits {
		got, _, err := readFrom(src, sp, nil, size, -1)
		out = append(out, got...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// readFrom opens split at pos and reads batches of size until the end or
// until stopAfter batches (-1: no limit); it returns the records and the
// position after them.
func readFrom[T any](src operators.Source[T], sp operators.Split, pos []byte, size, stopAfter int) ([]T, []byte, error) {
	r, err := src.Open(&operators.Context{}, sp, pos)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var out []T
	for n := 0; stopAfter < 0 || n < stopAfter; n++ {
		b := operators.NewBatch[T](size)
		err := r.Read(b)
		out = append(out, b.Values...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, nil, err
		}
	}
	p, err := r.Position()
	return out, p, err
}

func TestLineSourceLines(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "in.txt", "a\r\n\nb,c\n  \nlast without newline")
	for _, c := range []struct {
		opts file.LineOptions
		want []string
	}{
		{file.LineOptions{}, []string{"a", "", "b,c", "  ", "last without newline"}},
		{file.LineOptions{SkipEmpty: true}, []string{"a", "b,c", "  ", "last without newline"}},
		{file.LineOptions{SkipHeader: true}, []string{"", "b,c", "  ", "last without newline"}},
		{file.LineOptions{Header: "a", SkipEmpty: true}, []string{"b,c", "  ", "last without newline"}},
	} {
		for _, size := range []int{1, 2, 1024} {
			got, err := readAll[string](t, file.NewLineSource(path, c.opts), size)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%+v, batches of %d: got %q, %v; want %q", c.opts, size, got, err, c.want)
			}
		}
	}
	empty := writeFile(t, dir, "empty.txt", "")
	if got, err := readAll[string](t, file.NewLineSource(empty, file.LineOptions{}), 4); err != nil || len(got) != 0 {
		t.Errorf("empty file: %q, %v", got, err)
	}
}

func TestLineSourceBadInput(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "in.csv", "key,ts,value\nshort\n"+strings.Repeat("x", 100)+"\n")

	_, err := readAll[string](t, file.NewLineSource(path, file.LineOptions{Header: "k,v"}), 8)
	var le *file.LineError
	if !errors.As(err, &le) || le.Line != 1 || le.Path != path || !errors.Is(err, file.ErrBadInput) {
		t.Fatalf("wrong header: %v", err)
	}
	if want := path + `:1: header "key,ts,value", want "k,v"`; err.Error() != want {
		t.Errorf("wrong header: %q, want %q", err, want)
	}

	got, err := readAll[string](t, file.NewLineSource(path, file.LineOptions{MaxLineBytes: 50}), 8)
	if want := path + ":3: line longer than 50 bytes"; err == nil || err.Error() != want {
		t.Errorf("long line: %v, want %q", err, want)
	}
	if !slices.Equal(got, []string{"key,ts,value", "short"}) {
		t.Errorf("long line: read %q before it", got)
	}
	// A line longer than the read buffer is fine under the limit.
	long := strings.Repeat("y", 200<<10)
	big := writeFile(t, dir, "big.txt", "a\n"+long+"\r\nb")
	if got, err := readAll[string](t, file.NewLineSource(big, file.LineOptions{}), 8); err != nil || !slices.Equal(got, []string{"a", long, "b"}) {
		t.Errorf("long line under the limit: %d lines, %v", len(got), err)
	}

	if _, err := readAll[string](t, file.NewLineSource(path, file.LineOptions{MaxLineBytes: -1}), 8); err == nil {
		t.Error("negative MaxLineBytes accepted")
	}
}

func TestLineSourceMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such.csv")
	src := file.NewLineSource(missing, file.LineOptions{})
	if _, err := src.Splits(1); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Splits: %v, want an error naming %s", err, missing)
	}
	if _, err := src.RestoreSplit("no-such.csv"); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("RestoreSplit: %v, want an error naming %s", err, missing)
	}
	if _, err := file.NewLineSource(t.TempDir(), file.LineOptions{}).Splits(1); err == nil || !strings.Contains(err.Error(), "no input files") {
		t.Errorf("empty directory: %v", err)
	}

	// Through a job: the run fails and the message names the file.
	job := stream.NewJob("missing")
	stream.FromSource[string](job, "in", src).SinkTo(operators.Discard[string]())
	err := runtime.Run(context.Background(), job, runtime.Parallelism(1))
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("run: %v, want an error naming %s", err, missing)
	}
}

func TestLineSourceDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "part-10.txt", "c\n")
	writeFile(t, dir, "part-2.txt", "a\nb\n")
	writeFile(t, dir, ".hidden", "x\n")
	writeFile(t, dir, "_pending", "y\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := file.NewLineSource(dir, file.LineOptions{})
	splits, err := src.Splits(4)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sp := range splits {
		ids = append(ids, sp.SplitID())
	}
	if !slices.Equal(ids, []string{"part-2.txt", "part-10.txt"}) {
		t.Errorf("splits %q", ids)
	}
	if got, err := readAll[string](t, src, 16); err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("read %q, %v", got, err)
	}
	sp, err := src.RestoreSplit("part-10.txt")
	if err != nil || sp.SplitID() != "part-10.txt" {
		t.Fatalf("RestoreSplit: %v, %v", sp, err)
	}
	for _, bad := range []string{"../etc/passwd", "gone.txt", ""} {
		if _, err := src.RestoreSplit(bad); err == nil {
			t.Errorf("RestoreSplit(%q) accepted", bad)
		}
	}
	one := file.NewLineSource(filepath.Join(dir, "part-2.txt"), file.LineOptions{})
	if _, err := one.RestoreSplit("part-10.txt"); err == nil {
		t.Error("a file source restored another file's split")
	}
}

// TestLineSourceRestore: for random files and batch sizes, stopping after
// any batch and resuming a new reader at the position reads every line
// exactly once, and line numbers in errors stay right after a restore.
func TestLineSourceRestore(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WEIR_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with WEIR_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	for iter := range 50 {
		var b strings.Builder
		var want []string
		for i := range rng.IntN(200) {
			line := strings.Repeat(strconv.Itoa(i), rng.IntN(5))
			want = append(want, line)
			b.WriteString(line)
			if rng.IntN(4) == 0 {
				b.WriteString("\r")
			}
			b.WriteString("\n")
		}
		if len(want) > 0 && want[len(want)-1] != "" && rng.IntN(2) == 0 { // no line end after the last line
			s := strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), "\r")
			b.Reset()
			b.WriteString(s)
		}
		path := writeFile(t, dir, fmt.Sprintf("f%d.txt", iter), b.String())
		src := file.NewLineSource(path, file.LineOptions{})
		splits, err := src.Splits(1)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var pos []byte
		for restarts := 0; ; restarts++ {
			if restarts > len(want)+2 {
				t.Fatalf("iter %d: no progress", iter)
			}
			sp, err := src.RestoreSplit(splits[0].SplitID())
			if err != nil {
				t.Fatal(err)
			}
			part, p, err := readFrom[string](src, sp, pos, 1+rng.IntN(7), 1+rng.IntN(3))
			if err != nil {
				t.Fatalf("iter %d: %v", iter, err)
			}
			got = append(got, part...)
			if slices.Equal(p, pos) && len(part) == 0 {
				break
			}
			pos = p
		}
		if !slices.Equal(got, want) {
			t.Fatalf("iter %d: got %d lines %q, want %d %q", iter, len(got), got, len(want), want)
		}
	}
}

func TestParse(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "nums.csv", "n\n1\n2\n3\n4\nfive\n6\n")
	src := file.Parse(file.NewLineSource(path, file.LineOptions{Header: "n"}), strconv.Atoi)
	splits, err := src.Splits(1)
	if err != nil {
		t.Fatal(err)
	}
	got, pos, err := readFrom[int](src, splits[0], nil, 2, 2)
	if err != nil || !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("first reader: %v, %v", got, err)
	}
	_, _, err = readFrom[int](src, splits[0], pos, 2, -1)
	var le *file.LineError
	if !errors.As(err, &le) || le.Line != 6 || !errors.Is(err, strconv.ErrSyntax) {
		t.Fatalf("restored reader: %v, want line 6", err)
	}
	if want := path + `:6: strconv.Atoi: parsing "five": invalid syntax`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestLineSourceBadPosition: a position that does not fit the file (it
// changed since the checkpoint) or cannot be decoded fails Open.
func TestLineSourceBadPosition(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "in.txt", "aaaa\nbbbb\ncccc\n")
	src := file.NewLineSource(path, file.LineOptions{})
	splits, _ := src.Splits(1)
	_, pos, err := readFrom[string](src, splits[0], nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := readFrom[string](src, splits[0], pos, 8, -1); err != nil || !slices.Equal(got, []string{"bbbb", "cccc"}) {
		t.Fatalf("resume: %q, %v", got, err)
	}
	writeFile(t, dir, "in.txt", "aaaaaa\nbbbb\n") // offset 5 is now inside a line
	if _, _, err := readFrom[string](src, splits[0], pos, 8, -1); !errors.Is(err, operators.ErrBadPosition) || !strings.Contains(err.Error(), "changed") {
		t.Errorf("changed file: %v", err)
	}
	writeFile(t, dir, "in.txt", "a\n") // shorter than the position
	if _, _, err := readFrom[string](src, splits[0], pos, 8, -1); !errors.Is(err, operators.ErrBadPosition) {
		t.Errorf("truncated file: %v", err)
	}
	for _, bad := range [][]byte{{}, {1, 2, 3}, append([]byte{9}, make([]byte, 16)...)} {
		if _, _, err := readFrom[string](src, splits[0], bad, 8, -1); !errors.Is(err, operators.ErrBadPosition) {
			t.Errorf("position %x: %v", bad, err)
		}
	}
}

// TestLineSourceJob runs a parsed file through the runtime with
// checkpoints, stops it mid-way and restores it: the sum of the output is
// the sum of the input.
func TestLineSourceJob(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("v\n")
	const n = 100_000
	for i := range n {
		fmt.Fprintf(&b, "%d\n", i)
	}
	in := writeFile(t, dir, "in.csv", b.String())
	build := func(out string) *stream.Job {
		job := stream.NewJob("lines")
		src := file.Parse(file.NewLineSource(in, file.LineOptions{Header: "v"}), func(s string) (int64, error) {
			v, err := strconv.ParseInt(s, 10, 64)
			if v%2000 == 0 {
				time.Sleep(time.Millisecond)
			}
			return v, err
		})
		stream.FromSource[int64](job, "in", src).
			Map(func(v int64) string { return strconv.FormatInt(v, 10) }).
			SinkTo(file.NewSink(out, file.Lines(func(s string) string { return s }), file.Options{}))
		return job
	}
	ckpt, out := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err := runtime.Run(ctx, build(out), runtime.Parallelism(2), runtime.Checkpointing(ckpt, 5*time.Millisecond))
	cancel()
	if err != nil && !errors.Is(err, runtime.ErrCanceled) {
		t.Fatal(err)
	}
	before, _ := file.ReadCommitted(out)
	if err := runtime.Run(context.Background(), build(out), runtime.Parallelism(1), runtime.Checkpointing(ckpt, 5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	got, err := file.ReadCommitted(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, n)
	for _, l := range got {
		v, err := strconv.Atoi(l)
		if err != nil || v < 0 || v >= n || seen[v] {
			t.Fatalf("bad or repeated line %q", l)
		}
		seen[v] = true
	}
	if len(got) != n {
		t.Fatalf("%d lines, want %d", len(got), n)
	}
	t.Logf("%d lines committed before the restore", len(before))
}

// FuzzLineSourcePosition: Open with any position either fails with
// ErrBadPosition or reads a suffix of the file's lines (a position that
// passes the checks is the start of a line).
func FuzzLineSourcePosition(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(path, []byte("alpha\nbeta\r\n\ngamma\ndelta"), 0o644); err != nil {
		f.Fatal(err)
	}
	src := file.NewLineSource(path, file.LineOptions{})
	splits, err := src.Splits(1)
	if err != nil {
		f.Fatal(err)
	}
	all, _, err := readFrom[string](src, splits[0], nil, 16, -1)
	if err != nil {
		f.Fatal(err)
	}
	for n := range 3 {
		_, pos, err := readFrom[string](src, splits[0], nil, 1, n+1)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pos)
	}
	f.Add([]byte(nil))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, pos []byte) {
		got, _, err := readFrom[string](src, splits[0], pos, 3, -1)
		if err != nil {
			if !errors.Is(err, operators.ErrBadPosition) {
				t.Fatalf("position %x: %v, want ErrBadPosition", pos, err)
			}
			return
		}
		if len(got) > len(all) || !slices.Equal(got, all[len(all)-len(got):]) {
			t.Fatalf("position %x: read %q, not a suffix of %q", pos, got, all)
		}
	})
}

// A parsed CSV file with a header; a bad line names the file and line.
func ExampleParse() {
	dir, err := os.MkdirTemp("", "weir-lines-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "prices.csv")
	if err := os.WriteFile(path, []byte("item,price\napple,3\npear,x\n"), 0o644); err != nil {
		panic(err)
	}
	type price struct {
		Item  string
		Cents int
	}
	src := file.Parse(file.NewLineSource(path, file.LineOptions{Header: "item,price"}), func(line string) (price, error) {
		item, cents, ok := strings.Cut(line, ",")
		if !ok {
			return price{}, errors.New("want item,price")
		}
		n, err := strconv.Atoi(cents)
		return price{item, n}, err
	})
	splits, _ := src.Splits(1)
	r, _ := src.Open(&operators.Context{}, splits[0], nil)
	defer r.Close()
	b := operators.NewBatch[price](10)
	err = r.Read(b)
	fmt.Println(b.Values)
	fmt.Println(strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)))
	// Output:
	// [{apple 3}]
	// prices.csv:3: strconv.Atoi: parsing "x": invalid syntax
}
