package nexmark_test

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/operators"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

func newSource(t testing.TB, o nexmark.Options) *nexmark.Source {
	t.Helper()
	s, err := nexmark.NewSource(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Format renders an event on one line for golden files.
func format(e nexmark.Event) string {
	ts := func(t time.Time) string { return t.Format("15:04:05.000") }
	switch e.Kind {
	case nexmark.KindPerson:
		p := e.Person
		return fmt.Sprintf("person id=%d name=%q email=%q card=%q city=%q state=%q t=%s extra=%d",
			p.ID, p.Name, p.EmailAddress, p.CreditCard, p.City, p.State, ts(p.DateTime), len(p.Extra))
	case nexmark.KindAuction:
		a := e.Auction
		return fmt.Sprintf("auction id=%d item=%q desc=%d initial=%d reserve=%d t=%s expires=%s seller=%d cat=%d extra=%d",
			a.ID, a.ItemName, len(a.Description), a.InitialBid, a.Reserve, ts(a.DateTime), ts(a.Expires), a.Seller, a.Category, len(a.Extra))
	}
	b := e.Bid
	return fmt.Sprintf("bid auction=%d bidder=%d price=%d channel=%q url=%q t=%s extra=%d",
		b.Auction, b.Bidder, b.Price, b.Channel, b.URL, ts(b.DateTime), len(b.Extra))
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

func TestGoldenEvents(t *testing.T) {
	s := newSource(t, nexmark.Options{Seed: 42})
	var b strings.Builder
	for n := range int64(60) {
		fmt.Fprintf(&b, "%2d %s\n", n, format(s.Event(n)))
	}
	golden(t, "events.golden", b.String())
}

func TestDeterministic(t *testing.T) {
	a, b := newSource(t, nexmark.Options{Seed: 7}), newSource(t, nexmark.Options{Seed: 7})
	c := newSource(t, nexmark.Options{Seed: 8})
	same := 0
	for n := range int64(2000) {
		ea, eb, ec := a.Event(n), b.Event(n), c.Event(n)
		if !reflect.DeepEqual(ea, eb) {
			t.Fatalf("event %d differs for the same seed:\n%s\n%s", n, format(ea), format(eb))
		}
		if reflect.DeepEqual(ea, ec) {
			same++
		}
	}
	if same > 20 {
		t.Errorf("%d of 2000 events equal under different seeds", same)
	}
}

func TestKindsIDsAndTimes(t *testing.T) {
	s := newSource(t, nexmark.Options{Seed: 1, Rate: 10_000})
	const n = 50_000
	var kinds [3]int
	nextPerson, nextAuction := int64(1000), int64(1000)
	base := nexmark.DefaultBaseTime
	for i := range int64(n) {
		e := s.Event(i)
		kinds[e.Kind]++
		if want := base.Add(time.Duration(i) * 100 * time.Microsecond).Truncate(time.Millisecond); !e.Time().Equal(want) {
			t.Fatalf("event %d at %v, want %v", i, e.Time(), want)
		}
		if got := s.TimestampMillis(i); got != e.Time().UnixMilli() {
			t.Fatalf("TimestampMillis(%d) = %d, event says %d", i, got, e.Time().UnixMilli())
		}
		switch e.Kind {
		case nexmark.KindPerson:
			if e.Person.ID != nextPerson {
				t.Fatalf("event %d: person %d, want %d", i, e.Person.ID, nextPerson)
			}
			nextPerson++
		case nexmark.KindAuction:
			a := e.Auction
			if a.ID != nextAuction {
				t.Fatalf("event %d: auction %d, want %d", i, a.ID, nextAuction)
			}
			nextAuction++
			if !a.Expires.After(a.DateTime) || a.Reserve < a.InitialBid || a.Seller >= nextPerson+10 ||
				a.Category < 10 || a.Category >= 15 {
				t.Fatalf("event %d: bad auction %s", i, format(e))
			}
		case nexmark.KindBid:
			b := e.Bid
			if b.Auction < 1000 || b.Auction >= nextAuction+10 || b.Bidder < 1000 || b.Bidder >= nextPerson+10 ||
				b.Price < 100 || b.Price > 100_000_000 || b.Channel == "" || !strings.HasPrefix(b.URL, "https://") {
				t.Fatalf("event %d: bad bid %s", i, format(e))
			}
		}
		if s.KindOf(i) != e.Kind {
			t.Fatalf("KindOf(%d) = %v, event is %v", i, s.KindOf(i), e.Kind)
		}
	}
	if kinds != [3]int{n / 50, n / 50 * 3, n / 50 * 46} {
		t.Errorf("kinds %v, want 1:3:46 of %d", kinds, n)
	}
}

// TestDistributions checks the hot ratios and the average record sizes
// against the defaults.
func TestDistributions(t *testing.T) {
	s := newSource(t, nexmark.Options{Seed: 3})
	var bids, hotAuction, hotBidder, hotChannel, hotSeller, auctions float64
	var size [3]float64
	var count [3]float64
	for i := range int64(200_000) {
		e := s.Event(i)
		count[e.Kind]++
		switch e.Kind {
		case nexmark.KindPerson:
			p := e.Person
			size[0] += float64(8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra))
		case nexmark.KindAuction:
			a := e.Auction
			auctions++
			size[1] += float64(8 + len(a.ItemName) + len(a.Description) + 40 + len(a.Extra))
			if (a.Seller-1000)%100 == 0 {
				hotSeller++
			}
		case nexmark.KindBid:
			b := e.Bid
			bids++
			size[2] += float64(32 + len(b.Extra))
			if (b.Auction-1000)%100 == 0 {
				hotAuction++
			}
			if (b.Bidder-1000)%100 == 1 {
				hotBidder++
			}
			if !strings.HasPrefix(b.Channel, "channel-") {
				hotChannel++
			}
		}
	}
	near := func(name string, got, want, tol float64) {
		if got < want-tol || got > want+tol {
			t.Errorf("%s = %.3f, want %.3f ± %.3f", name, got, want, tol)
		}
	}
	// hot shares: 1-1/ratio, plus the cold picks that land on a hot id
	near("hot auction share", hotAuction/bids, 0.5, 0.03)
	near("hot bidder share", hotBidder/bids, 0.75, 0.03)
	near("hot seller share", hotSeller/auctions, 0.75, 0.03)
	near("hot channel share", hotChannel/bids, 0.5, 0.01)
	near("person size", size[0]/count[0], 200, 10)
	near("auction size", size[1]/count[1], 500, 10)
	near("bid size", size[2]/count[2], 100, 5)
}

func TestFillDoesNotAllocate(t *testing.T) {
	s := newSource(t, nexmark.Options{Seed: 5})
	var e nexmark.Event
	n := int64(0)
	if a := testing.AllocsPerRun(10_000, func() { s.Fill(n, &e); n++ }); a != 0 {
		t.Errorf("Fill allocates %.2f times per event", a)
	}
}

// TestFillReuse: Fill into one Event over and over, in event order (a
// batch slot refilled, with every change of kind) and in a random order,
// makes exactly Event(n) every time: a record of the kind the Event held
// before is cleared when the kind changes.
func TestFillReuse(t *testing.T) {
	s := newSource(t, nexmark.Options{Seed: 7})
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 0))
	var e nexmark.Event
	kinds := map[nexmark.Kind]int{}
	check := func(n int64) {
		t.Helper()
		s.Fill(n, &e)
		kinds[e.Kind]++
		if want := s.Event(n); !reflect.DeepEqual(e, want) {
			t.Fatalf("Fill(%d) into a reused Event = %+v, want %+v", n, e, want)
		}
	}
	for n := range int64(500) {
		check(n)
	}
	for range 2000 {
		check(rnd.Int64N(1_000_000))
	}
	if len(kinds) != 3 {
		t.Fatalf("kinds filled %v, want all three", kinds)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []nexmark.Options{
		{Rate: -1},
		{Rate: 2_000_000_000},
		{PersonProportion: 1, AuctionProportion: 0, BidProportion: 5},
		{HotAuctionRatio: -2},
		{NumActivePeople: -1},
		{AvgAuctionByteSize: 1 << 20},
	} {
		if _, err := nexmark.NewSource(o); !errors.Is(err, nexmark.ErrBadOptions) {
			t.Errorf("NewSource(%+v) = %v, want ErrBadOptions", o, err)
		}
	}
}

// readSplit reads split sp of s from position pos in batches of up to batch
// events until the end or until limit events (< 0: no limit); it returns the
// events, their times and the position to resume at (nil at the end).
func readSplit(t *testing.T, s *nexmark.Source, sp operators.Split, pos []byte, batch, limit int) ([]nexmark.Event, []int64, []byte) {
	t.Helper()
	r, err := s.Open(nil, sp, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var evs []nexmark.Event
	var times []int64
	b := operators.NewBatch[nexmark.Event](batch)
	bound := r.(operators.TimeBounder)
	for limit < 0 || len(evs) < limit {
		b.Reset()
		least := bound.NextTimestamp()
		err := r.Read(b)
		if len(b.Times) != len(b.Values) {
			t.Fatalf("read %d values and %d times", len(b.Values), len(b.Times))
		}
		for _, ts := range b.Times {
			if ts < least {
				t.Fatalf("split %s: read time %d below the bound %d given before", sp.SplitID(), ts, least)
			}
		}
		evs = append(evs, b.Values...)
		times = append(times, b.Times...)
		if errors.Is(err, io.EOF) {
			return evs, times, nil
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := r.Position()
	if err != nil {
		t.Fatal(err)
	}
	return evs, times, p
}

// TestSplitsAndPositions reads every split at random parallelism and batch
// sizes, checkpointing and restoring at random points (via RestoreSplit),
// and checks the splits partition the events, each in its order.
func TestSplitsAndPositions(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	for range 20 {
		events := int64(rnd.IntN(3000))
		s := newSource(t, nexmark.Options{Seed: rnd.Uint64(), Events: events, SplitBlock: int64(rnd.IntN(40))})
		splits, err := s.Splits(1 + rnd.IntN(9))
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, events)
		for _, sp := range splits {
			var pos []byte
			var got []nexmark.Event
			var times []int64
			for {
				restored, err := s.RestoreSplit(sp.SplitID())
				if err != nil {
					t.Fatal(err)
				}
				evs, ts, p := readSplit(t, s, restored, pos, 1+rnd.IntN(300), rnd.IntN(500)-50)
				got, times, pos = append(got, evs...), append(times, ts...), p
				if pos == nil {
					break
				}
			}
			for _, e := range got {
				n := indexOf(t, s, e, seen)
				seen[n] = true
			}
			for i := 1; i < len(times); i++ {
				if times[i] < times[i-1] {
					t.Fatalf("split %s: times not ascending at %d", sp.SplitID(), i)
				}
			}
		}
		for n, ok := range seen {
			if !ok {
				t.Fatalf("event %d of %d never read", n, events)
			}
		}
	}
}

// indexOf finds the event number of e by regenerating candidates from the
// event time (events per ms at the default rate is 10).
func indexOf(t *testing.T, s *nexmark.Source, e nexmark.Event, seen []bool) int {
	t.Helper()
	lo := (e.Time().UnixMilli() - nexmark.DefaultBaseTime.UnixMilli()) * 10
	for n := lo; n < lo+10 && n < int64(len(seen)); n++ {
		if !seen[n] && reflect.DeepEqual(s.Event(n), e) {
			return int(n)
		}
	}
	t.Fatalf("event %s read twice or not generated", format(e))
	return 0
}

func TestRestoreSplitRejects(t *testing.T) {
	s := newSource(t, nexmark.Options{Events: 10})
	for _, id := range []string{"", "gen-0/1/1", "nexmark-2/2/1", "nexmark--1/2/1", "nexmark-0/0/1", "nexmark-01/2/1",
		"nexmark-0/1/0", "nexmark-0/1/-3", "nexmark-0/1/07", "nexmark-2/2", "nexmark-01/2"} {
		if _, err := s.RestoreSplit(id); err == nil {
			t.Errorf("RestoreSplit(%q) succeeded", id)
		}
	}
	sp, err := s.RestoreSplit("nexmark-0/1/7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(nil, sp, []byte{1, 2}); !errors.Is(err, operators.ErrBadPosition) {
		t.Errorf("Open with a 2-byte position: %v, want ErrBadPosition", err)
	}
	// 10 events in blocks of 3 over 2 splits: split 1 makes 3, 4, 5 and 9
	sp, _ = s.RestoreSplit("nexmark-1/2/3")
	for pos, ok := range map[uint64]bool{0: true, 4: true, 5: false, 1 << 63: false} {
		_, err := s.Open(nil, sp, binary.BigEndian.AppendUint64(nil, pos))
		if ok != (err == nil) || (err != nil && !errors.Is(err, operators.ErrBadPosition)) {
			t.Errorf("Open at position %d: %v", pos, err)
		}
	}
}

func TestSplitCount(t *testing.T) {
	for _, tc := range []struct {
		events int64
		p, n   int
	}{{100, 4, 4}, {3, 8, 3}, {0, 4, 1}, {-1, 16, 16}, {10, 0, 1}} {
		s := newSource(t, nexmark.Options{Events: tc.events})
		sp, err := s.Splits(tc.p)
		if err != nil || len(sp) != tc.n {
			t.Errorf("events %d: Splits(%d) = %d splits, %v; want %d", tc.events, tc.p, len(sp), err, tc.n)
		}
		if s.Bounded() != (tc.events >= 0) {
			t.Errorf("events %d: Bounded() = %v", tc.events, s.Bounded())
		}
	}
}

func BenchmarkFill(b *testing.B) {
	s := newSource(b, nexmark.Options{Seed: 1})
	var e nexmark.Event
	b.ReportAllocs()
	for i := range int64(b.N) {
		s.Fill(i, &e)
	}
}

// TestSplitBlocks checks the layout of the splits: split s of p makes the
// blocks s, s+p, ... of SplitBlock consecutive events.
func TestSplitBlocks(t *testing.T) {
	s := newSource(t, nexmark.Options{Events: 10, SplitBlock: 3})
	splits, err := s.Splits(2)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]int64{{0, 1, 2, 6, 7, 8}, {3, 4, 5, 9}} {
		got, _, _ := readSplit(t, s, splits[i], nil, 4, -1)
		if len(got) != len(want) {
			t.Fatalf("split %d: %d events, want %d", i, len(got), len(want))
		}
		for j, n := range want {
			if !reflect.DeepEqual(got[j], s.Event(n)) {
				t.Errorf("split %d: event %d is not event number %d", i, j, n)
			}
		}
	}
	// a split of a checkpoint from before the blocks: every p-th event
	legacy, err := s.RestoreSplit("nexmark-1/2")
	if err != nil || legacy.SplitID() != "nexmark-1/2" {
		t.Fatalf("RestoreSplit(nexmark-1/2) = %v, %v", legacy, err)
	}
	got, _, _ := readSplit(t, s, legacy, nil, 4, -1)
	if len(got) != 5 {
		t.Fatalf("legacy split: %d events, want 5", len(got))
	}
	for j, n := range []int64{1, 3, 5, 7, 9} {
		if j >= len(got) || !reflect.DeepEqual(got[j], s.Event(n)) {
			t.Fatalf("legacy split: event %d of %d is not event number %d", j, len(got), n)
		}
	}
	if def := newSource(t, nexmark.Options{Rate: 5_000_000}).Options().SplitBlock; def != 5000 {
		t.Errorf("default SplitBlock at 5M events/s = %d, want 5000 (1 ms)", def)
	}
}
