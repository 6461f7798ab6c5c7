package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weirstream/weir/connectors/postgres"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/operators/lookup"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

const serverAddr = "127.0.0.1:5432"

func dsn(addr string) string {
	return "postgres://postgres@" + addr + "/test?sslmode=disable&connect_timeout=2"
}

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

// seeded creates a users table unique to the test (dropped at cleanup)
// with a row for every even id below n, and returns its name.
func seeded(t testing.TB, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn(serverAddr))
	needService(t, "postgres at "+serverAddr, err)
	defer conn.Close(ctx)
	name := fmt.Sprintf("weir_lookup_%d", rand.Uint32())
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (id bigint PRIMARY KEY, name text NOT NULL, tier int NOT NULL)`, name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if c, err := pgx.Connect(ctx, dsn(serverAddr)); err == nil {
			_, _ = c.Exec(ctx, "DROP TABLE IF EXISTS "+name)
			c.Close(ctx)
		}
	})
	if _, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s SELECT i, 'user' || i, i %% 3 FROM generate_series(0, $1::bigint - 1, 2) i`, name), n); err != nil {
		t.Fatal(err)
	}
	return name
}

type user struct {
	Name string
	Tier int32
}

type click struct {
	User int64
	At   int64
}

func clicks(n, users int, seed uint64) []click {
	r := rand.New(rand.NewPCG(seed, 0))
	out := make([]click, n)
	for i := range out {
		out[i] = click{User: int64(r.IntN(users + 10)), At: int64(i)}
	}
	return out
}

func joinUser(c click, u user, ok bool) string {
	if !ok {
		return fmt.Sprintf("%d:%d:?", c.At, c.User)
	}
	return fmt.Sprintf("%d:%d:%s/%d", c.At, c.User, u.Name, u.Tier)
}

func reference(in []click, users int) []string {
	var out []string
	for _, c := range in {
		ok := c.User%2 == 0 && c.User < int64(users)
		out = append(out, joinUser(c, user{fmt.Sprintf("user%d", c.User), int32(c.User % 3)}, ok))
	}
	return out
}

func usersTable(t testing.TB, pool *pgxpool.Pool, name string) *postgres.Table[int64, user] {
	tbl, err := postgres.NewTable(pool, postgres.Options[int64, user]{
		Table: name, KeyColumn: "id", Columns: []string{"name", "tier"},
		Decode: func(row pgx.CollectableRow) (int64, user, error) {
			var id int64
			var u user
			err := row.Scan(&id, &u.Name, &u.Tier)
			return id, u, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func newPool(t testing.TB, addr string) *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), dsn(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func run(t *testing.T, job *stream.Job, par int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := runtime.Run(ctx, job, runtime.Parallelism(par), runtime.Pinning(false)); err != nil {
		t.Fatal(err)
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

// TestTableJob enriches a stream from a PostgreSQL table in both modes,
// with and without the cache, and compares with a reference.
func TestTableJob(t *testing.T) {
	const users = 3000
	name := seeded(t, users)
	pool := newPool(t, serverAddr)
	in := clicks(20000, users, 1)
	want := reference(in, users)
	for _, opts := range []lookup.Options{{}, {CacheSize: -1, MaxBatchKeys: 200}, {Mode: lookup.Unordered, CacheSize: 100}} {
		t.Run(fmt.Sprintf("%v-cache%d", opts.Mode, opts.CacheSize), func(t *testing.T) {
			job := stream.NewJob("pg-lookup")
			out := stream.LookupJoin(stream.FromSlice(job, "clicks", in), usersTable(t, pool, name), func(c click) int64 { return c.User }, joinUser, opts)
			col := testkit.Collect(out)
			run(t, job, 1)
			got, w := col.Values(), want
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

func TestNewTableErrors(t *testing.T) {
	if _, err := postgres.NewTable[int64, user](nil, postgres.Options[int64, user]{}); !errors.Is(err, postgres.ErrBadOptions) {
		t.Fatalf("got %v", err)
	}
	tbl, err := postgres.NewTable(&pgxpool.Pool{}, postgres.Options[int64, user]{Table: "app.users", KeyColumn: "id", Columns: []string{"name"},
		Decode: func(pgx.CollectableRow) (int64, user, error) { return 0, user{}, nil }})
	if err != nil || tbl.SQL() != `SELECT "id", "name" FROM "app"."users" WHERE "id" = ANY($1)` {
		t.Fatalf("got %q, %v", tbl.SQL(), err)
	}
}

// proxy is a TCP proxy to the real server that a test can cut (every
// connection closed, new ones refused) and restore, to simulate an outage
// without touching the shared server.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Go(func() { _, _ = io.Copy(s, c); s.Close() })
		p.wg.Go(func() { _, _ = io.Copy(c, s); c.Close() })
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestOutage cuts the connection to PostgreSQL in the middle of a job
// (cache off) for 300 ms: the job completes with the reference output.
func TestOutage(t *testing.T) {
	const users = 1000
	name := seeded(t, users)
	px := newProxy(t, serverAddr)
	pool := newPool(t, px.addr())
	in := clicks(3000, users, 3)
	ch := make(chan click)
	job := stream.NewJob("pg-outage")
	out := stream.LookupJoin(stream.FromChannel(job, "clicks", ch), usersTable(t, pool, name), func(c click) int64 { return c.User }, joinUser,
		lookup.Options{CacheSize: -1, RetryBackoff: 5 * time.Millisecond, RetryMaxBackoff: 100 * time.Millisecond, Timeout: 2 * time.Second, FailAfter: 30 * time.Second})
	col := testkit.Collect(out)
	go func() {
		defer close(ch)
		for i, x := range in {
			if i == len(in)/2 {
				px.cut()
				time.Sleep(300 * time.Millisecond)
				px.restore()
			}
			if i%100 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			ch <- x
		}
	}()
	start := time.Now()
	run(t, job, 1)
	t.Logf("job with a 300ms PostgreSQL outage took %v", time.Since(start))
	if got, want := col.Values(), reference(in, users); !slices.Equal(got, want) {
		t.Fatalf("got %d records, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

// TestTableDownFailsJob: the proxy stays cut, so the job fails after
// FailAfter with an error naming the table and the key count.
func TestTableDownFailsJob(t *testing.T) {
	name := seeded(t, 10)
	px := newProxy(t, serverAddr)
	px.cut()
	pool := newPool(t, px.addr())
	job := stream.NewJob("pg-down")
	stream.LookupJoin(stream.FromSlice(job, "s", []click{{User: 1}, {User: 2}}), usersTable(t, pool, name), func(c click) int64 { return c.User },
		joinUser, lookup.Options{FailAfter: 300 * time.Millisecond}).SinkTo(operators.Discard[string]())
	err := runtime.Run(context.Background(), job, runtime.Parallelism(1), runtime.Pinning(false))
	if !errors.Is(err, lookup.ErrTableDown) || !strings.Contains(err.Error(), `table "postgres `+name+`"`) || !strings.Contains(err.Error(), "2 keys") {
		t.Fatalf("got %v", err)
	}
}
