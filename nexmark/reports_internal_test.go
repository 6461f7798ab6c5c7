package nexmark

import (
	"bytes"
	"encoding/gob"
	"maps"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/operators"
)

// setOf reads a rankSet the way a restore does: encoded and decoded.
func setOf(t *testing.T, s rankSet) map[int64]uint8 {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		t.Fatal(err)
	}
	return decodeSet(t, buf.Bytes())
}

func decodeSet(t *testing.T, b []byte) map[int64]uint8 {
	t.Helper()
	var back rankSet
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&back); err != nil {
		t.Fatal(err)
	}
	out := map[int64]uint8{}
	if back.live != nil {
		back.live.each(func(id int64, ranks uint8) { out[id] = ranks })
	}
	return out
}

func liveOf(s rankSet) map[int64]uint8 {
	out := map[int64]uint8{}
	if s.live != nil {
		s.live.each(func(id int64, ranks uint8) { out[id] = ranks })
	}
	return out
}

// randomID draws ids the way the generator makes them (mostly recent,
// consecutive numbers) with some far apart, negative and huge ones.
func randomID(rng *rand.Rand, base int64) int64 {
	switch rng.IntN(20) {
	case 0:
		return -rng.Int64N(1000)
	case 1:
		return math.MaxInt64 - rng.Int64N(1000)
	case 2:
		return rng.Int64() // anywhere
	case 3:
		return 1 << (rng.IntN(62)) // powers of two: the same low bits
	}
	return base + rng.Int64N(2000)
}

// TestIDTableAgainstMap compares idTable with a map under random ids,
// through several growths.
func TestIDTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 2))
	for round := range 20 {
		tab, ref := newIDTable(), map[int64]uint8{}
		n := rng.IntN(5000)
		for i := range n {
			id := randomID(rng, int64(i))
			ranks := uint8(1 + rng.IntN(7))
			now, changed := tab.or(id, ranks)
			old := ref[id]
			ref[id] = old | ranks
			if now != old|ranks || changed != (old|ranks != old) {
				t.Fatalf("round %d: or(%d, %b) = %b, %v; want %b, %v", round, id, ranks, now, changed, old|ranks, old|ranks != old)
			}
		}
		got := map[int64]uint8{}
		tab.each(func(id int64, ranks uint8) {
			if _, dup := got[id]; dup {
				t.Fatalf("round %d: id %d twice", round, id)
			}
			got[id] = ranks
		})
		if !maps.Equal(got, ref) {
			t.Fatalf("round %d: table holds %d ids, want %d", round, len(got), len(ref))
		}
		var c, want [4]int64
		tab.count(&c)
		for _, r := range ref {
			want[0]++
			for b := range 3 {
				want[b+1] += int64(r >> b & 1)
			}
		}
		if c != want {
			t.Fatalf("round %d: count %v, want %v", round, c, want)
		}
	}
}

// TestRankSetSnapshot is the copy-on-write contract of rankSet: a copy
// taken at a snapshot, encoded while the live set goes on adding (on
// another goroutine, as a checkpoint does), encodes the set as it was.
func TestRankSetSnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 3))
	var live rankSet
	ref := map[int64]uint8{}
	for round := range 30 {
		for range rng.IntN(300) {
			id, ranks := randomID(rng, int64(round*50)), uint8(1)<<rng.IntN(3)
			live = live.add(id, ranks)
			ref[id] |= ranks
		}
		snap, want := live, maps.Clone(ref)
		var wg sync.WaitGroup
		var enc bytes.Buffer
		var encErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			encErr = gob.NewEncoder(&enc).Encode(snap)
		}()
		for range rng.IntN(300) {
			id, ranks := randomID(rng, int64(round*50)), uint8(1)<<rng.IntN(3)
			live = live.add(id, ranks)
			ref[id] |= ranks
		}
		wg.Wait()
		if encErr != nil {
			t.Fatal(encErr)
		}
		if got := decodeSet(t, enc.Bytes()); !maps.Equal(got, want) {
			t.Fatalf("round %d: snapshot encodes %d ids, want %d", round, len(got), len(want))
		}
		if !maps.Equal(liveOf(live), ref) {
			t.Fatalf("round %d: live set differs", round)
		}
	}
	if !maps.Equal(setOf(t, live), ref) {
		t.Fatal("the final set does not round-trip")
	}
}

func TestRankSetUnionMerge(t *testing.T) {
	var a, b rankSet
	a = a.add(1, 1).add(2, 2)
	b = b.add(2, 4).add(3, 1)
	m := a.merge(b)
	want := map[int64]uint8{1: 1, 2: 6, 3: 1}
	if !maps.Equal(liveOf(m), want) || !maps.Equal(setOf(t, m), want) {
		t.Errorf("merge: %v, want %v", liveOf(m), want)
	}
	if !maps.Equal(liveOf(a), map[int64]uint8{1: 1, 2: 2}) || !maps.Equal(liveOf(b), map[int64]uint8{2: 4, 3: 1}) {
		t.Error("merge changed its arguments")
	}
	u := a.union(b)
	if !maps.Equal(liveOf(u), want) || !maps.Equal(setOf(t, u), want) {
		t.Errorf("union: %v, want %v", liveOf(u), want)
	}
	var c [4]int64
	u.count(&c)
	if c != [4]int64{3, 2, 1, 1} {
		t.Errorf("count %v, want [3 2 1 1]", c)
	}
	var empty rankSet
	c = [4]int64{}
	empty.count(&c)
	if c != [4]int64{} || len(setOf(t, empty)) != 0 {
		t.Error("the empty set is not empty")
	}
}

func TestRankSetBadEncoding(t *testing.T) {
	var s rankSet
	if err := s.GobDecode([]byte("junk")); err == nil {
		t.Error("decoded junk")
	}
	for _, w := range []rankSetWire{{Format: 2}, {Format: 1, Entries: []rankChange{{ID: 1, Ranks: 0}}}, {Format: 1, Entries: []rankChange{{ID: 1, Ranks: 8}}}} {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(w); err != nil {
			t.Fatal(err)
		}
		if err := s.GobDecode(buf.Bytes()); err == nil {
			t.Errorf("decoded %+v", w)
		}
	}
}

// TestDateLabels checks the labels against time.Format, from several
// goroutines at once (subtasks share them).
func TestDateLabels(t *testing.T) {
	seed := testseed.Seed(t)
	var d dateLabels
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			ms := int64(-5*msPerDay) + int64(g)*msPerHour
			for range 2000 {
				ms += rng.Int64N(3 * msPerMinute)
				l := d.of(ms)
				tm := time.UnixMilli(ms).UTC()
				if l.day != tm.Format("2006-01-02") || l.hm != tm.Format("15:04") {
					t.Errorf("%s: labels %s %s", tm, l.day, l.hm)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestPriceRankAndBidTimeType(t *testing.T) {
	for _, c := range []struct {
		price int64
		rank  uint8
	}{{0, 0}, {9_999, 0}, {10_000, 1}, {999_999, 1}, {1_000_000, 2}, {math.MaxInt64, 2}} {
		if r := priceRank(c.price); r != c.rank {
			t.Errorf("priceRank(%d) = %d, want %d", c.price, r, c.rank)
		}
	}
	want := map[int]string{7: OtherTime, 19: OtherTime}
	for h := range 24 {
		w := want[h]
		switch {
		case h >= 8 && h <= 18:
			w = DayTime
		case h <= 6 || h >= 20:
			w = NightTime
		}
		for _, m := range []int{0, 59} {
			tm := time.Date(2026, 3, 4, h, m, 59, 999e6, time.UTC)
			if got := BidTimeType(tm.UnixMilli()); got != w {
				t.Errorf("BidTimeType(%s) = %s, want %s", tm, got, w)
			}
		}
	}
	// before the epoch: 1969-12-31 19:30 is otherTime
	if got := BidTimeType(time.Date(1969, 12, 31, 19, 30, 0, 0, time.UTC).UnixMilli()); got != OtherTime {
		t.Errorf("BidTimeType before the epoch = %s", got)
	}
}

// TestSpreadKeys: the bucket keys' key groups are distinct and split
// evenly over 2 and 4 subtasks.
func TestSpreadKeys(t *testing.T) {
	keys := spreadKeys(q15Buckets)
	hash := operators.HashFunc[int]()
	for _, p := range []int{2, 4} {
		per := make([]int, p)
		for _, k := range keys {
			per[operators.SubtaskOf(operators.KeyGroupOf(hash(k), 128), 128, p)]++
		}
		for s, n := range per {
			if n != q15Buckets/p {
				t.Errorf("p=%d: subtask %d owns %d buckets, want %d (%v)", p, s, n, q15Buckets/p, per)
			}
		}
	}
}
