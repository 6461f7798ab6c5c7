package nexmark_test

import (
	"errors"
	"fmt"
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

func TestGeneratedSideInput(t *testing.T) {
	s := nexmark.NewSideInput()
	if s.Len() != nexmark.Q13Modulus {
		t.Errorf("Len %d, want %d", s.Len(), nexmark.Q13Modulus)
	}
	for _, k := range []int64{0, 1234, nexmark.Q13Modulus - 1} {
		if v := s.Lookup(k); !slices.Equal(v, []string{fmt.Sprint(k)}) {
			t.Errorf("Lookup(%d) = %q", k, v)
		}
	}
	if v := s.Lookup(nexmark.Q13Modulus); v != nil {
		t.Errorf("Lookup(%d) = %q, want none", nexmark.Q13Modulus, v)
	}
}

func TestLoadSideInput(t *testing.T) {
	s, err := nexmark.LoadSideInput(strings.NewReader("0,zero\n1,one\n1,uno\n10000,too big\n-1,negative\n 7 ,\"seven, with a comma\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 4 {
		t.Errorf("Len %d, want 4 (keys 10000 and -1 can never match)", s.Len())
	}
	for k, want := range map[int64][]string{0: {"zero"}, 1: {"one", "uno"}, 7: {"seven, with a comma"}, 2: nil} {
		if got := s.Lookup(k); !slices.Equal(got, want) {
			t.Errorf("Lookup(%d) = %q, want %q", k, got, want)
		}
	}
	for _, bad := range []string{"x,y\n", "1\n", "1,2,3\n", "1,\"unterminated\n"} {
		if _, err := nexmark.LoadSideInput(strings.NewReader(bad)); !errors.Is(err, nexmark.ErrSideInput) {
			t.Errorf("LoadSideInput(%q): %v, want ErrSideInput", bad, err)
		}
	}
}

// TestQ13WithLoadedSideInput joins with a table that lacks keys (bids on
// those auctions are dropped, an inner join) and has several rows for
// others (a bid joins each), at parallelism 1 and 3.
func TestQ13WithLoadedSideInput(t *testing.T) {
	var csv strings.Builder
	rows := map[int64][]string{}
	for k := int64(0); k < nexmark.Q13Modulus; k += 3 {
		n := 1 + int(k%2)
		for i := range n {
			v := fmt.Sprintf("v%d-%d", k, i)
			fmt.Fprintf(&csv, "%d,%s\n", k, v)
			rows[k] = append(rows[k], v)
		}
	}
	side, err := nexmark.LoadSideInput(strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	opts := nexmark.Options{Seed: 13, Events: 20_000}
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	format := func(r nexmark.Q13Result) string {
		return fmt.Sprintf("%d %d %d %s %s", r.Auction, r.Bidder, r.Price, r.DateTime.Format(time.RFC3339Nano), r.Value)
	}
	var want []string
	var e nexmark.Event
	dropped, doubled := 0, 0
	for i := range opts.Events {
		src.Fill(i, &e)
		if e.Kind != gen.KindBid {
			continue
		}
		b := e.Bid
		vs := rows[b.Auction%nexmark.Q13Modulus]
		switch len(vs) {
		case 0:
			dropped++
		case 2:
			doubled++
		}
		for _, v := range vs {
			want = append(want, format(nexmark.Q13Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Value: v}))
		}
	}
	if dropped == 0 || doubled == 0 {
		t.Fatalf("the data should drop some bids (%d) and double others (%d)", dropped, doubled)
	}
	slices.Sort(want)
	for _, p := range []int{1, 3} {
		job := stream.NewJob("q13")
		events, err := nexmark.Events(job, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := testkit.Collect(nexmark.Q13With(events, side))
		testkit.Run(t, job, runtime.Parallelism(p))
		got := mapLines(out.Values(), format)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("p=%d: %d results, want %d; first difference at %d", p, len(got), len(want), firstDiff(got, want))
		}
	}
}
