package nexmark

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir/timeapi"
)

func q5Line(end time.Duration, auction, count int64) string {
	e := wat(end)
	return formatQ5(Q5Result{Auction: auction, Count: count, Start: e.Add(-Q5Size), End: e})
}

// TestQ5Windows: two auctions tie for the first pane's windows, a third
// is alone in the later ones; windows of no bids give nothing.
func TestQ5Windows(t *testing.T) {
	s := time.Second
	var events []Event
	for i := range 3 {
		events = append(events, bidAt(time.Duration(500+i)*time.Millisecond, 1, 10, 1))
		events = append(events, bidAt(time.Duration(1000+i)*time.Millisecond, 2, 11, 1))
	}
	events = append(events, bidAt(3*s, 3, 12, 1), bidAt(3*s+time.Millisecond, 3, 12, 1))
	var want []string
	for end := 2 * s; end <= 10*s; end += 2 * s {
		want = append(want, q5Line(end, 1, 3), q5Line(end, 2, 3))
	}
	want = append(want, q5Line(12*s, 3, 2))
	checkLines(t, "hand-written loop", handOn(events, handQ5On, formatQ5), want)
	for p := 1; p <= 3; p++ {
		checkLines(t, fmt.Sprintf("job at p=%d", p), runOn(t, Q5, formatQ5, events, p), want)
	}
}

// TestQ5Gap: a silence longer than a window between bids: the windows in
// between have no result, and each group's windows see only it.
func TestQ5Gap(t *testing.T) {
	s := time.Second
	events := []Event{bidAt(s, 1, 10, 1), bidAt(30*s, 2, 10, 1), bidAt(31*s, 2, 10, 1)}
	var want []string
	for end := 2 * s; end <= 10*s; end += 2 * s {
		want = append(want, q5Line(end, 1, 1))
	}
	for end := 32 * s; end <= 40*s; end += 2 * s {
		want = append(want, q5Line(end, 2, 2))
	}
	checkLines(t, "hand-written loop", handOn(events, handQ5On, formatQ5), want)
	checkLines(t, "job", runOn(t, Q5, formatQ5, events, 2), want)
}

// TestQ5PanesSnapshot: the local phase's open panes survive a snapshot;
// a restore gives them to the first subtask only, which emits them when
// the watermark passes the pane's end.
func TestQ5PanesSnapshot(t *testing.T) {
	op := &q5Panes{}
	d, _ := openLocal(t, op, 1)
	pushEvents(t, d, bidAt(100*time.Millisecond, 7, 1, 1), bidAt(200*time.Millisecond, 7, 1, 1), bidAt(2500*time.Millisecond, 8, 1, 1))
	data, err := op.SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	var restored [2]*q5Panes
	var outs [2]*collectOut[q5Count]
	for s := range restored {
		restored[s] = &q5Panes{}
		d, out := openLocal(t, restored[s], s)
		if err := restored[s].RestoreState(data); err != nil {
			t.Fatal(err)
		}
		pushEvents(t, d, bidAt(300*time.Millisecond, 7, 1, 1))
		if err := d.Watermark(timeapi.Millis(wat(2 * time.Second))); err != nil {
			t.Fatal(err)
		}
		outs[s] = out
	}
	if got := outs[0].vals; len(got) != 1 || got[0] != (q5Count{Auction: 7, Count: 3}) || outs[0].times[0] != timeapi.Millis(wat(2*time.Second))-1 {
		t.Errorf("subtask 0 emitted %v at %v, want auction 7 with 3 bids at the pane's last instant", got, outs[0].times)
	}
	if got := outs[1].vals; len(got) != 1 || got[0] != (q5Count{Auction: 7, Count: 1}) {
		t.Errorf("subtask 1 emitted %v, want only its own bid", got)
	}
	if len(restored[0].panes) != 1 || restored[0].panes[0].Counts[8] != 1 {
		t.Errorf("subtask 0 kept %v open, want the pane of auction 8", restored[0].panes)
	}
	if err := restored[0].RestoreState([]byte{9}); err == nil {
		t.Error("a snapshot of an unknown format was accepted")
	}
}
