package nexmark_test

import (
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

// TestQ14Hours runs Q14 over eleven hours of event time (22:00 to 09:06),
// so that bids of every time type pass, at parallelism 1 and 3.
func TestQ14Hours(t *testing.T) {
	q, _ := nexmark.Lookup("q14")
	opts := nexmark.Options{Seed: 14, Events: 40_000, Rate: 1, BaseTime: time.Date(2025, 12, 31, 22, 0, 0, 0, time.UTC)}
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := q.HandLines(src, opts.Events)
	for _, typ := range []string{"type=dayTime", "type=nightTime", "type=otherTime"} {
		if !slices.ContainsFunc(want, func(l string) bool { return strings.Contains(l, typ) }) {
			t.Fatalf("no result with %s", typ)
		}
	}
	for _, p := range []int{1, 3} {
		got := runQuery(t, q, opts, p)
		if p > 1 {
			got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
		}
		if err := q.Compare(got, want); err != nil {
			t.Fatalf("p=%d: %v", p, err)
		}
	}
}

// TestQ14Filter checks the bounds of the price filter (0.908 * price in
// (1 000 000, 50 000 000)) and count_char.
func TestQ14Filter(t *testing.T) {
	at := time.Date(2026, 1, 1, 19, 30, 0, 0, time.UTC)
	var events []nexmark.Event
	for i, price := range []int64{1_101_321, 1_101_322, 55_066_079, 55_066_080, 0, 100_000_000} {
		events = append(events, nexmark.Event{Kind: gen.KindBid, Bid: nexmark.Bid{Auction: int64(i), Price: price, DateTime: at, Extra: "cc-abc-C-c"}})
	}
	events = append(events, nexmark.Event{Kind: gen.KindPerson, Person: nexmark.Person{DateTime: at}})
	job := stream.NewJob("q14")
	out := testkit.Collect(nexmark.Q14(stream.FromSlice(job, "events", events)))
	testkit.Run(t, job, runtime.Parallelism(1))
	got := out.Values()
	if len(got) != 2 || got[0].Auction != 1 || got[1].Auction != 2 {
		t.Fatalf("passed %+v, want auctions 1 and 2", got)
	}
	for _, r := range got {
		if r.CCounts != 4 || r.BidTimeType != nexmark.OtherTime || r.Price != 0.908*float64(events[r.Auction].Bid.Price) {
			t.Errorf("result %+v: want 4 c's, otherTime, price 0.908 * %d", r, events[r.Auction].Bid.Price)
		}
	}
}
