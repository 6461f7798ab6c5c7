package nexmark_test

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// The hand-written single-goroutine implementations the jobs are checked
// against: one loop over the same events.

func handQ1(src *gen.Source, n int64) []nexmark.Q1Result {
	var out []nexmark.Q1Result
	var e nexmark.Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid {
			b := &e.Bid
			out = append(out, nexmark.Q1Result{Auction: b.Auction, Bidder: b.Bidder, Price: float64(b.Price) * 0.908, DateTime: b.DateTime, Extra: b.Extra})
		}
	}
	return out
}

func fmtQ1(r nexmark.Q1Result) string {
	return fmt.Sprintf("auction=%d bidder=%d price=%.4f t=%s extra=%q",
		r.Auction, r.Bidder, r.Price, r.DateTime.Format(time.RFC3339Nano), r.Extra)
}

// summary is a golden file's text: the count, the first lines and a
// checksum of all lines in order.
func summary(lines []string) string {
	h := fnv.New64a()
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "results %d\nfnv64a %016x\n", len(lines), h.Sum64())
	for _, l := range lines[:min(len(lines), 12)] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (rerun with -rewrite and review the diff)\ngot:\n%s", path, got)
	}
}

func mapLines[T any](vs []T, f func(T) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}

// runQuery runs q as a job on opts at parallelism p and returns its
// formatted results (Query.Collect).
func runQuery(t *testing.T, q nexmark.Query, opts nexmark.Options, p int) []string {
	t.Helper()
	job := stream.NewJob("nexmark-" + q.Name())
	events, err := nexmark.Events(job, opts)
	if err != nil {
		t.Fatal(err)
	}
	lines := q.Collect(events)
	testkit.Run(t, job, runtime.Parallelism(p))
	return lines()
}

// TestGolden runs every registered query at parallelism 1 on seed 42 and
// its TestEvents, and checks it against the hand-written loop and the
// golden file testdata/<query>.golden.
func TestGolden(t *testing.T) {
	for _, q := range nexmark.Queries() {
		t.Run(q.Name(), func(t *testing.T) {
			opts := nexmark.Options{Seed: 42, Events: q.TestEvents()}
			src, err := gen.NewSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			got := runQuery(t, q, opts, 1)
			want := q.HandLines(src, opts.Events)
			if len(want) == 0 {
				t.Fatal("the hand-written query returned nothing; the test checks nothing")
			}
			if err := q.Compare(got, want); err != nil {
				t.Fatal(err)
			}
			golden(t, q.Name()+".golden", summary(got))
		})
	}
}

// TestAllQueriesRegistered: q0 to q22 are all there.
func TestAllQueriesRegistered(t *testing.T) {
	var missing []string
	for i := range 23 {
		if _, ok := nexmark.Lookup(fmt.Sprintf("q%d", i)); !ok {
			missing = append(missing, fmt.Sprintf("q%d", i))
		}
	}
	if len(missing) > 0 {
		t.Errorf("queries not registered: %v", missing)
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

// TestParallelMatchesHand runs each query at a random parallelism on a
// random seed and compares the results with the hand-written loop.
func TestParallelMatchesHand(t *testing.T) {
	seed := testseed.Seed(t)
	rnd := rand.New(rand.NewPCG(seed, 1))
	for _, q := range nexmark.Queries() {
		n := q.TestEvents()
		opts := nexmark.Options{Seed: rnd.Uint64(), Events: n/4 + rnd.Int64N(n)}
		p := 2 + rnd.IntN(3)
		t.Run(fmt.Sprintf("%s/p=%d/events=%d", q.Name(), p, opts.Events), func(t *testing.T) {
			src, err := gen.NewSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := matchParallel(q, runQuery(t, q, opts, p), q.HandLines(src, opts.Events)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// matchParallel compares the lines of a run at parallelism > 1 with the
// hand-written loop's: in any order where the query's order is the
// sources' (Ordered), which at parallelism > 1 interleave by batch.
func matchParallel(q nexmark.Query, got, want []string) error {
	if q.Ordered() && !q.Upsert() {
		slices.Sort(got)
		slices.Sort(want)
	}
	return q.Compare(got, want)
}

func TestQ1Price(t *testing.T) {
	r := nexmark.ToEuro(nexmark.Bid{Auction: 1, Bidder: 2, Price: 1000})
	if r.Price != 908 || r.Auction != 1 || r.Bidder != 2 {
		t.Errorf("ToEuro = %+v, want price 908", r)
	}
}

func TestEventsBadOptions(t *testing.T) {
	if _, err := nexmark.Events(stream.NewJob("x"), nexmark.Options{Rate: -5}); err == nil {
		t.Error("Events accepted a negative rate")
	}
}
