package nexmark

import (
	"fmt"
	"testing"
	"time"
)

func q11Line(bidder, count int64, start, end time.Duration) string {
	return formatQ11(Q11Result{Bidder: bidder, Count: count, Start: wat(start), End: wat(end)})
}

// TestQ11Sessions: a session grows while bids come less than the gap
// apart; a bid exactly the gap after the last one starts a new session;
// bidders are independent.
func TestQ11Sessions(t *testing.T) {
	s, ms := time.Second, time.Millisecond
	events := []Event{
		bidAt(0, 1, 10, 1),
		bidAt(5*s, 1, 11, 1),
		bidAt(5*s, 1, 10, 1),
		bidAt(14*s+999*ms, 1, 10, 1), // 9.999 s after the last: same session
		bidAt(20*s, 1, 11, 1),        // 15 s after bidder 11's last bid
		bidAt(24*s+999*ms, 1, 10, 1), // exactly the gap: a new session
		bidAt(30*s, 1, 11, 1),        // exactly the gap: a new session
		bidAt(60*s, 1, 12, 1),
	}
	want := []string{
		q11Line(10, 3, 0, 24*s+999*ms),
		q11Line(10, 1, 24*s+999*ms, 34*s+999*ms),
		q11Line(11, 1, 5*s, 15*s),
		q11Line(11, 1, 20*s, 30*s),
		q11Line(11, 1, 30*s, 40*s),
		q11Line(12, 1, 60*s, 70*s),
	}
	checkLines(t, "hand-written loop", handOn(events, handQ11On, formatQ11), want)
	for p := 1; p <= 3; p++ {
		checkLines(t, fmt.Sprintf("job at p=%d", p), runOn(t, Q11, formatQ11, events, p), want)
	}
}

// TestQ11CombineLongBatch: a batch spanning more than the gap is cut, so
// a bidder's bids in it still form separate sessions.
func TestQ11CombineLongBatch(t *testing.T) {
	s := time.Second
	events := []Event{bidAt(0, 1, 10, 1), bidAt(3*s, 1, 10, 1), bidAt(12*s, 1, 10, 1), bidAt(13*s, 1, 10, 1), bidAt(40*s, 1, 10, 1)}
	op := &q11Combine{}
	d, out := openLocal(t, op, 0)
	pushEvents(t, d, events...)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for i, c := range out.vals {
		got[fmt.Sprint(time.Duration(out.times[i]-wat(0).UnixMilli())*time.Millisecond)] += c.Count
	}
	want := map[string]int64{"0s": 2, "3s": 0, "12s": 2, "13s": 0, "40s": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("combined records (count by time) %v, want %v", got, want)
	}
}
