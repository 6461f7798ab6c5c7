package redis_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir/connectors/redis"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/operators/lookup"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

const sharedAddr = "127.0.0.1:6379"

// needService fails the test when CI requires services, else skips it.
func needService(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("WEIR_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is required (WEIR_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable (set WEIR_REQUIRE_SERVICES=1 to fail instead): %v", what, err)
}

// sharedClient connects to the shared server and returns a key prefix
// unique to the test; its keys are deleted at cleanup.
func sharedClient(t testing.TB) (*goredis.Client, string) {
	c := goredis.NewClient(&goredis.Options{Addr: sharedAddr, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		needService(t, "redis at "+sharedAddr, err)
	}
	prefix := fmt.Sprintf("weir-lookup-test:%d:", rand.Uint64())
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return c, prefix
}

// seed writes user names for even ids below n (odd ids have no row), as
// strings under prefix+"s:" and hashes under prefix+"h:".
func seed(t testing.TB, c *goredis.Client, prefix string, n int) {
	ctx := context.Background()
	pipe := c.Pipeline()
	for id := 0; id < n; id += 2 {
		pipe.Set(ctx, prefix+"s:"+strconv.Itoa(id), "user"+strconv.Itoa(id), 0)
		pipe.HSet(ctx, prefix+"h:"+strconv.Itoa(id), "name", "user"+strconv.Itoa(id), "tier", strconv.Itoa(id%3))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

type click struct {
	User int
	At   int64
}

func clicks(n, users int, seed uint64) []click {
	r := rand.New(rand.NewPCG(seed, 0))
	out := make([]click, n)
	for i := range out {
		out[i] = click{User: r.IntN(users + 10), At: int64(i)} // some ids beyond the table
	}
	return out
}

func joinName(c click, name string, ok bool) string {
	if !ok {
		name = "?"
	}
	return fmt.Sprintf("%d:%d:%s", c.At, c.User, name)
}

func reference(in []click, users int) []string {
	var out []string
	for _, c := range in {
		ok := c.User%2 == 0 && c.User < users
		out = append(out, joinName(c, "user"+strconv.Itoa(c.User), ok))
	}
	return out
}

func stringTable(t testing.TB, c goredis.UniversalClient, prefix string) *redis.Table[int, string] {
	tbl, err := redis.NewStringTable(c, func(id int) string { return prefix + "s:" + strconv.Itoa(id) },
		func(_ int, s string) (string, error) { return s, nil })
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func run(t *testing.T, job *stream.Job, par int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := runtime.Run(ctx, job, runtime.Parallelism(par), runtime.Pinning(false)); err != nil {
		t.Fatal(err)
	}
}

// TestStringTableJob enriches a stream from SET values, with and without
// the cache, in both modes, and compares with a reference.
func TestStringTableJob(t *testing.T) {
	c, prefix := sharedClient(t)
	const users = 2000
	seed(t, c, prefix, users)
	in := clicks(20000, users, 1)
	want := reference(in, users)
	for _, opts := range []lookup.Options{{}, {CacheSize: -1, MaxBatchKeys: 100}, {Mode: lookup.Unordered, CacheSize: 64}} {
		t.Run(fmt.Sprintf("%v-cache%d", opts.Mode, opts.CacheSize), func(t *testing.T) {
			job := stream.NewJob("redis-lookup")
			src := stream.FromSlice(job, "clicks", in)
			out := stream.LookupJoin(src, stringTable(t, c, prefix), func(c click) int { return c.User }, joinName, opts)
			col := testkit.Collect(out)
			run(t, job, 1)
			got := col.Values()
			w := want
			if opts.Mode == lookup.Unordered {
				slices.Sort(got)
				w = slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(got, w) {
				t.Fatalf("got %d records, want %d; first difference at %d", len(got), len(w), firstDiff(got, w))
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestHashTableJob enriches from hashes (pipelined HGETALL) at parallelism
// 2 with event time and watermarks.
func TestHashTableJob(t *testing.T) {
	c, prefix := sharedClient(t)
	const users = 500
	seed(t, c, prefix, users)
	type user struct {
		Name string
		Tier int
	}
	tbl, err := redis.NewHashTable(c, func(id int) string { return prefix + "h:" + strconv.Itoa(id) },
		func(_ int, m map[string]string) (user, error) {
			tier, err := strconv.Atoi(m["tier"])
			return user{Name: m["name"], Tier: tier}, err
		})
	if err != nil {
		t.Fatal(err)
	}
	in := clicks(10000, users, 2)
	var want []string
	for _, c := range in {
		if c.User%2 == 0 && c.User < users {
			want = append(want, fmt.Sprintf("%d:user%d:%d", c.At, c.User, c.User%3))
		}
	}
	job := stream.NewJob("redis-hash-lookup")
	src := stream.FromSlice(job, "clicks", in).WithWatermarks(timeapi.Ascending(func(c click) time.Time { return time.UnixMilli(c.At) }))
	out := stream.LookupJoin(src, tbl, func(c click) int { return c.User }, func(c click, u user, ok bool) string {
		if !ok {
			return ""
		}
		return fmt.Sprintf("%d:%s:%d", c.At, u.Name, u.Tier)
	}, lookup.Options{}).Filter(func(s string) bool { return s != "" })
	col := testkit.Collect(out)
	run(t, job, 2)
	got := col.Values()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
}

// TestDecodeErrorFailsJob: a value that does not decode fails the job with
// an error naming the key, without retrying for FailAfter.
func TestDecodeErrorFailsJob(t *testing.T) {
	c, prefix := sharedClient(t)
	c.Set(context.Background(), prefix+"s:1", "not-a-number", 0)
	tbl, err := redis.NewStringTable(c, func(id int) string { return prefix + "s:" + strconv.Itoa(id) }, func(_ int, s string) (int, error) {
		return strconv.Atoi(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	job := stream.NewJob("redis-bad")
	stream.LookupJoin(stream.FromSlice(job, "s", []int{1}), tbl, func(i int) int { return i },
		func(i, v int, ok bool) int { return v }, lookup.Options{FailAfter: time.Hour}).SinkTo(operators.Discard[int]())
	err = runtime.Run(context.Background(), job, runtime.Parallelism(1), runtime.Pinning(false))
	if !lookup.IsPermanent(err) || !strings.Contains(err.Error(), "s:1") {
		t.Fatalf("got %v", err)
	}
}

// TestTableDownFailsJob: with nothing listening, the job fails after
// FailAfter with an error naming the table and the key count.
func TestTableDownFailsJob(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	job := stream.NewJob("redis-down")
	stream.LookupJoin(stream.FromSlice(job, "s", []int{1, 2, 3}), stringTable(t, c, "x:"), func(i int) int { return i },
		func(i int, v string, ok bool) string { return v }, lookup.Options{FailAfter: 300 * time.Millisecond}).SinkTo(operators.Discard[string]())
	err := runtime.Run(context.Background(), job, runtime.Parallelism(1), runtime.Pinning(false))
	if !errors.Is(err, lookup.ErrTableDown) || !strings.Contains(err.Error(), `table "redis 127.0.0.1:`) || !strings.Contains(err.Error(), "3 keys") {
		t.Fatalf("got %v", err)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a redis-server of the test's own on port, persisting to dir
// so a restart keeps the data.
type server struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

func (s *server) start() error {
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", s.dir, "--dbfilename", "dump.rdb", "--daemonize", "no")
	if err := s.cmd.Start(); err != nil {
		return err
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	for range 100 {
		if c.Ping(context.Background()).Err() == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on port %d did not start", s.port)
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// TestRedisRestart kills the test's own Redis in the middle of a job (cache
// off, so every record needs Redis) and starts it again: the job completes
// with exactly the reference output, in order.
func TestRedisRestart(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		needService(t, "redis-server binary", err)
	}
	s := &server{port: freePort(t), dir: t.TempDir()}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	defer s.kill()
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), DialTimeout: 100 * time.Millisecond,
		ReadTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	const users = 1000
	seed(t, c, "", users)
	if err := c.Save(context.Background()).Err(); err != nil { // the restart loads dump.rdb
		t.Fatal(err)
	}
	in := clicks(3000, users, 3)
	ch := make(chan click)
	job := stream.NewJob("redis-restart")
	out := stream.LookupJoin(stream.FromChannel(job, "clicks", ch), stringTable(t, c, ""), func(c click) int { return c.User }, joinName,
		lookup.Options{CacheSize: -1, RetryBackoff: 5 * time.Millisecond, RetryMaxBackoff: 100 * time.Millisecond, Timeout: time.Second, FailAfter: 30 * time.Second})
	col := testkit.Collect(out)
	restarted := make(chan error, 1)
	go func() {
		defer close(ch)
		for i, x := range in {
			if i == len(in)/2 {
				s.kill()
				time.Sleep(300 * time.Millisecond)
				restarted <- s.start()
			}
			if i%100 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			ch <- x
		}
	}()
	start := time.Now()
	run(t, job, 1)
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	t.Logf("job with a 300ms Redis outage took %v", time.Since(start))
	if got, want := col.Values(), reference(in, users); !slices.Equal(got, want) {
		t.Fatalf("got %d records, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}
