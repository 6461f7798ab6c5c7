package nexmark

import (
	"fmt"
	"slices"
	"testing"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// runEvents runs build over evs (in order, ascending event time) at
// parallelism p and returns what it emitted.
func runEvents[R any](t *testing.T, evs []Event, p int, build func(stream.DataStream[Event]) stream.DataStream[R]) []testkit.Record[R] {
	t.Helper()
	job := stream.NewJob("test")
	out := testkit.Collect(build(stream.FromSlice(job, "events", evs)))
	testkit.Run(t, job, runtime.Parallelism(p))
	return out.Records()
}

// TestQ6Order: closed auctions of a seller that come out of order are
// taken in order of (expiry, auction id) once the watermark passes them,
// and the average covers the last Q6Auctions of them.
func TestQ6Order(t *testing.T) {
	h, err := testkit.NewHarness(func(w Winner[int64]) int64 { return w.A }, &q6Fn{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	win := func(auction, expires, price int64) {
		t.Helper()
		w := Winner[int64]{Auction: auction, Expires: at(expires).UnixMilli(), A: 7, Bid: WinBid{Price: price}}
		if err := h.Push(w, at(expires)); err != nil {
			t.Fatal(err)
		}
	}
	win(5, 20, 100)
	win(4, 10, 40)
	win(3, 10, 30)
	if err := h.AdvanceWatermark(at(9)); err != nil {
		t.Fatal(err)
	}
	if got := h.TakeOutput(); len(got) != 0 {
		t.Fatalf("results before the watermark passed the expiries: %v", got)
	}
	if err := h.AdvanceWatermark(at(20)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range h.TakeOutput() {
		got = append(got, fmt.Sprintf("a=%d avg=%d at=%d", r.Value.Auction, r.Value.Avg, r.Time-t0.UnixMilli()))
	}
	wantLines(t, got, "a=3 avg=30 at=10", "a=4 avg=35 at=10", "a=5 avg=56 at=20")
	// 10 more: prices 1..10 after 30, 40, 100; the last 10 are 1..10
	for i := range int64(10) {
		win(10+i, 30+i, i+1)
	}
	if err := h.EndInput(); err != nil {
		t.Fatal(err)
	}
	out := h.TakeOutput()
	if last := out[len(out)-1].Value; len(out) != 10 || last.Auction != 19 || last.Avg != 5 { // 55/10
		t.Errorf("last of %d results: %+v, want auction 19, average 5", len(out), last)
	}
	if r := out[0].Value; r.Avg != (30+40+100+1)/4 {
		t.Errorf("first result %+v, want the average of the 4 prices so far, %d", r, (30+40+100+1)/4)
	}
}

// TestQ6Sequence compares the whole sequence of results of every seller,
// not only the last, with the hand-written loop: at parallelism 1 and 3,
// each seller's results come in the same order with the same values.
func TestQ6Sequence(t *testing.T) {
	seed := testseed.Seed(t)
	opts := gen.Options{Seed: seed, Events: 150_000}
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]string{}
	handQ6(src, opts.Events, func(r Q6Result) { want[r.Seller] = append(want[r.Seller], FormatQ6(r)) })
	long := 0
	for _, rs := range want {
		if len(rs) > Q6Auctions {
			long++
		}
	}
	if long == 0 {
		t.Fatalf("no seller with more than %d closed auctions: the window is not exercised", Q6Auctions)
	}
	for _, p := range []int{1, 3} {
		job := stream.NewJob("q6")
		events, err := Events(job, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := testkit.Collect(Q6(events))
		testkit.Run(t, job, runtime.Parallelism(p))
		got := map[int64][]string{}
		for _, r := range out.Values() {
			got[r.Seller] = append(got[r.Seller], FormatQ6(r))
		}
		if len(got) != len(want) {
			t.Errorf("p=%d: results for %d sellers, want %d", p, len(got), len(want))
		}
		for s, w := range want {
			if !slices.Equal(got[s], w) {
				t.Fatalf("p=%d: seller %d: %v", p, s, EqualLines(got[s], w))
			}
		}
	}
}
