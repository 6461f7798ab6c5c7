package demojob

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/testkit"
)

func TestRunPrintsSummaryAndChecks(t *testing.T) {
	for _, p := range []int{1, 2, 3} {
		var out strings.Builder
		if err := Run(context.Background(), &out, 50_000, p); err != nil {
			t.Fatalf("p=%d: %v\n%s", p, err, &out)
		}
		ref, kept := reference(50_000)
		distinct := 0
		for _, v := range ref {
			if v.Count > 0 {
				distinct++
			}
		}
		for _, want := range []string{
			"check: OK",
			"events generated: 50,000\n",
			"events processed: " + group(kept) + " (after the filter)\n",
			"distinct keys:    " + group(int64(distinct)) + "\n",
			"parallelism:      " + string(rune('0'+p)) + "\n",
			"  5. user ",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("p=%d: output lacks %q:\n%s", p, want, &out)
			}
		}
		if got := strings.Count(out.String(), " | "); got != p-1 {
			t.Errorf("p=%d: %d per-subtask separators, want %d:\n%s", p, got, p-1, &out)
		}
	}
}

// The deterministic step mode at several parallelisms gives exactly the
// reference loop's totals.
func TestDeterministicMatchesReference(t *testing.T) {
	const n = 30_000
	ref, kept := reference(n)
	for _, p := range []int{1, 2, 4} {
		job, sink := newJob(n)
		testkit.Run(t, job, runtime.Parallelism(p))
		s := sink.summary(n, p, time.Second)
		if err := verify(s, ref, kept); err != nil {
			t.Errorf("p=%d: %v", p, err)
		}
		if len(s.perTask) != p {
			t.Errorf("p=%d: %d sink subtasks reported", p, len(s.perTask))
		}
	}
}

func TestZeroEvents(t *testing.T) {
	var out strings.Builder
	if err := Run(context.Background(), &out, 0, 2); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	for _, want := range []string{"events processed: 0 ", "distinct keys:    0\n", "check: OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
}

func TestVerifyDetectsDifferences(t *testing.T) {
	const n = 5_000
	ref, kept := reference(n)
	good := func() summary {
		return summary{events: n, processed: kept, perTask: []int64{kept}, finished: 1, totals: append([]Spend(nil), ref...)}
	}
	if err := verify(good(), ref, kept); err != nil {
		t.Fatalf("identical results: %v", err)
	}
	cases := map[string]func(s *summary){
		"total":    func(s *summary) { s.totals[7].Total++ },
		"count":    func(s *summary) { s.totals[9].Count-- },
		"missing":  func(s *summary) { s.totals = s.totals[:Users-1] },
		"dropped":  func(s *summary) { s.processed-- },
		"conflict": func(s *summary) { s.conflicts = []string{"user 3 reached subtasks 0 and 1"} },
		"finished": func(s *summary) { s.finished = 0 },
		"many": func(s *summary) {
			for u := range 10 {
				s.totals[u].Total = -1
			}
		},
	}
	for name, corrupt := range cases {
		s := good()
		corrupt(&s)
		err := verify(s, ref, kept)
		if !errors.Is(err, ErrCheck) {
			t.Errorf("%s: verify = %v, want ErrCheck", name, err)
		}
	}
	s := good()
	changed := 0
	for u := range s.totals {
		if s.totals[u].Count > 0 && changed < 4 {
			s.totals[u].Total++
			changed++
		}
	}
	if err := verify(s, ref, kept); err == nil || !strings.Contains(err.Error(), "(4 users differ in all)") {
		t.Errorf("verify = %v, want a count of differing users", err)
	}
}

func TestBadSettings(t *testing.T) {
	for _, c := range []struct {
		events int64
		p      int
	}{{-1, 1}, {10, -1}} {
		var out strings.Builder
		if err := Run(context.Background(), &out, c.events, c.p); !errors.Is(err, ErrBadSetting) {
			t.Errorf("Run(events=%d, p=%d) = %v, want ErrBadSetting", c.events, c.p, err)
		}
		if out.Len() != 0 {
			t.Errorf("Run(events=%d, p=%d) printed %q", c.events, c.p, &out)
		}
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out strings.Builder
	err := Run(ctx, &out, DefaultEvents, 2)
	if !errors.Is(err, runtime.ErrCanceled) {
		t.Fatalf("Run with a canceled context = %v, want runtime.ErrCanceled", err)
	}
}

func TestMakeEvent(t *testing.T) {
	users := map[int64]bool{}
	dropped := 0
	const n = 200_000
	for i := range int64(n) {
		e := MakeEvent(i)
		if e != MakeEvent(i) {
			t.Fatalf("MakeEvent(%d) is not deterministic", i)
		}
		if e.User < 0 || e.User >= Users {
			t.Fatalf("MakeEvent(%d).User = %d, outside [0, %d)", i, e.User, Users)
		}
		users[e.User] = true
		if !Keep(e) {
			dropped++
		}
	}
	if len(users) != Users {
		t.Errorf("%d distinct users in %d events, want %d", len(users), n, Users)
	}
	if frac := float64(dropped) / n; frac < 0.03 || frac > 0.07 {
		t.Errorf("filter drops %.3f of events, want about 0.05", frac)
	}
}

func TestTopUsers(t *testing.T) {
	totals := []Spend{{0, 5, 1}, {1, 9, 2}, {}, {3, 9, 1}, {4, 1, 1}}
	got := topUsers(totals, 3)
	want := []Spend{{1, 9, 2}, {3, 9, 1}, {0, 5, 1}}
	if len(got) != len(want) {
		t.Fatalf("topUsers = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("topUsers = %v, want %v", got, want)
		}
	}
	if got := topUsers(totals, 10); len(got) != 4 {
		t.Errorf("topUsers(10) = %v, want the 4 seen users", got)
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 20_000_000: "20,000,000",
		-1234567: "-1,234,567", 123456: "123,456",
	} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}
