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
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// The hand-written single-goroutine implementations the jobs are checked
// against: one loop over the same events.

func handQ0(src *gen.Source, n int64) []nexmark.Bid {
	var out []nexmark.Bid
	var e nexmark.Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid {
			out = append(out, e.Bid)
		}
	}
	return out
}

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

func handQ2(src *gen.Source, n int64) []nexmark.Q2Result {
	var out []nexmark.Q2Result
	var e nexmark.Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid && e.Bid.Auction%123 == 0 {
			out = append(out, nexmark.Q2Result{Auction: e.Bid.Auction, Price: e.Bid.Price})
		}
	}
	return out
}

func fmtBid(b nexmark.Bid) string {
	return fmt.Sprintf("auction=%d bidder=%d price=%d channel=%s url=%s t=%s extra=%q",
		b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime.Format(time.RFC3339Nano), b.Extra)
}

func fmtQ1(r nexmark.Q1Result) string {
	return fmt.Sprintf("auction=%d bidder=%d price=%.4f t=%s extra=%q",
		r.Auction, r.Bidder, r.Price, r.DateTime.Format(time.RFC3339Nano), r.Extra)
}

func fmtQ2(r nexmark.Q2Result) string { return fmt.Sprintf("auction=%d price=%d", r.Auction, r.Price) }

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

// query runs one query as a job and returns its formatted output (in
// order at parallelism 1, sorted otherwise) and the hand-written one.
type query struct {
	name string
	run  func(t *testing.T, opts nexmark.Options, p int) (got []string)
	hand func(src *gen.Source, n int64) []string
}

func runQuery[R any](q func(stream.DataStream[nexmark.Event]) stream.DataStream[R], f func(R) string,
	check func(t *testing.T, r testkit.Record[R])) func(*testing.T, nexmark.Options, int) []string {
	return func(t *testing.T, opts nexmark.Options, p int) []string {
		t.Helper()
		job := stream.NewJob("nexmark")
		events, err := nexmark.Events(job, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := testkit.Collect(q(events))
		testkit.Run(t, job, runtime.Parallelism(p))
		var lines []string
		for _, r := range out.Records() {
			check(t, r)
			lines = append(lines, f(r.Value))
		}
		return lines
	}
}

func timeIs(t *testing.T, rec, want int64) {
	if rec != want {
		t.Fatalf("record time %d, want the bid's %d", rec, want)
	}
}

var queries = []query{
	{"q0",
		runQuery(nexmark.Q0, fmtBid, func(t *testing.T, r testkit.Record[nexmark.Bid]) { timeIs(t, r.Time, r.Value.DateTime.UnixMilli()) }),
		func(s *gen.Source, n int64) []string { return mapLines(handQ0(s, n), fmtBid) }},
	{"q1",
		runQuery(nexmark.Q1, fmtQ1, func(t *testing.T, r testkit.Record[nexmark.Q1Result]) {
			timeIs(t, r.Time, r.Value.DateTime.UnixMilli())
		}),
		func(s *gen.Source, n int64) []string { return mapLines(handQ1(s, n), fmtQ1) }},
	{"q2",
		runQuery(nexmark.Q2, fmtQ2, func(t *testing.T, r testkit.Record[nexmark.Q2Result]) {
			if r.Value.Auction%123 != 0 {
				t.Fatalf("q2 emitted auction %d", r.Value.Auction)
			}
		}),
		func(s *gen.Source, n int64) []string { return mapLines(handQ2(s, n), fmtQ2) }},
}

// TestGolden runs each query on 20 000 events of seed 42 at parallelism 1,
// checks it against the golden file and the hand-written loop, in order.
func TestGolden(t *testing.T) {
	opts := nexmark.Options{Seed: 42, Events: 20_000}
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			got := q.run(t, opts, 1)
			want := q.hand(src, opts.Events)
			if len(want) == 0 {
				t.Fatal("the hand-written query returned nothing; the test checks nothing")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("job gave %d results, hand-written loop %d; first difference at %d",
					len(got), len(want), firstDiff(got, want))
			}
			golden(t, q.name+".golden", summary(got))
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

// TestParallelMatchesHand runs each query at a random parallelism on a
// random seed and compares the results as multisets with the hand-written
// loop.
func TestParallelMatchesHand(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	for _, q := range queries {
		opts := nexmark.Options{Seed: rnd.Uint64(), Events: 5_000 + rnd.Int64N(20_000)}
		p := 2 + rnd.IntN(6)
		t.Run(fmt.Sprintf("%s/p=%d/events=%d", q.name, p, opts.Events), func(t *testing.T) {
			src, err := gen.NewSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			got, want := q.run(t, opts, p), q.hand(src, opts.Events)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("job gave %d results, hand-written loop %d; first difference at %d",
					len(got), len(want), firstDiff(got, want))
			}
		})
	}
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
