package testkit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

type click struct {
	User string
	Page string
}

// sessionCounter counts clicks per user and emits the count when the user
// has been quiet for 30 s of event time, or after 1 minute of processing
// time since the first click.
type sessionCounter struct {
	count *stream.ValueState[string, int]
	last  *stream.ValueState[string, int64]
}

func (s *sessionCounter) Open(ctx *stream.OpenContext[string]) (err error) {
	if s.count, err = stream.NewValueState[int](ctx, "count"); err != nil {
		return err
	}
	s.last, err = stream.NewValueState[int64](ctx, "last")
	return err
}

func (s *sessionCounter) ProcessElement(ctx *stream.Context[string, string], c click) error {
	if c.Page == "" {
		return errors.New("empty page")
	}
	n, _ := s.count.Value()
	if n == 0 {
		ctx.RegisterProcessingTimeTimer(ctx.ProcessingTime().Add(time.Minute))
	}
	s.count.Update(n + 1)
	if prev, ok := s.last.Value(); ok {
		ctx.DeleteEventTimeTimer(time.UnixMilli(prev).Add(30 * time.Second))
	}
	s.last.Update(ctx.Timestamp().UnixMilli())
	ctx.RegisterEventTimeTimer(ctx.Timestamp().Add(30 * time.Second))
	return nil
}

func (s *sessionCounter) OnTimer(ctx *stream.Context[string, string], tm stream.Timer) error {
	n, _ := s.count.Value()
	ctx.Emit(ctx.Key() + ":" + tm.Domain.String() + ":" + string(rune('0'+n)))
	if tm.Domain == stream.EventTime {
		s.count.Clear()
		s.last.Clear()
	}
	return nil
}

var t0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func TestHarness(t *testing.T) {
	h, err := testkit.NewHarness(func(c click) string { return c.User }, stream.KeyedProcessFunc[string, click, string](&sessionCounter{}))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.Push(click{"ann", "/a"}, t0))
	must(h.Push(click{"ann", "/b"}, t0.Add(10*time.Second)))
	must(h.Push(click{"bob", "/a"}, t0.Add(12*time.Second)))
	want := []stream.Timer{{Time: testkit.Epoch.Add(time.Minute), Domain: stream.ProcessingTime}, {Time: t0.Add(40 * time.Second), Domain: stream.EventTime}}
	if got := h.PendingTimers("ann"); !slices.Equal(got, want) {
		t.Fatalf("ann's timers %v, want %v", got, want)
	}
	if h.PendingTimerCount() != 4 {
		t.Fatalf("pending %d timers, want 4", h.PendingTimerCount())
	}
	must(h.AdvanceWatermark(t0.Add(39 * time.Second)))
	if out := h.TakeOutput(); len(out) != 0 {
		t.Fatalf("early output %v", out)
	}
	must(h.AdvanceWatermark(t0.Add(40 * time.Second)))
	out := h.TakeOutput()
	if len(out) != 1 || out[0].Value != "ann:event-time:2" || !out[0].EventTime().Equal(t0.Add(40*time.Second)) {
		t.Fatalf("after watermark 40s: %v", out)
	}
	must(h.AdvanceProcessingTime(59 * time.Second))
	if out := h.TakeOutput(); len(out) != 0 {
		t.Fatalf("processing timers fired early: %v", out)
	}
	must(h.AdvanceProcessingTime(time.Second))
	out = h.TakeOutput()
	// ann's state was cleared by her event-time timer; bob has 1 click
	if len(out) != 2 || out[0].Value != "ann:processing-time:0" || out[1].Value != "bob:processing-time:1" {
		t.Fatalf("after processing time 1m: %v", out)
	}
	must(h.EndInput())
	if out := h.TakeOutput(); len(out) != 1 || out[0].Value != "bob:event-time:1" {
		t.Fatalf("end of input: %v", out)
	}
	if h.PendingTimerCount() != 0 {
		t.Fatalf("%d timers left", h.PendingTimerCount())
	}
	if err := h.Push(click{"ann", ""}, t0); err == nil || !strings.Contains(err.Error(), "empty page") {
		t.Fatalf("bad record accepted: %v", err)
	}
}

func TestHarnessNil(t *testing.T) {
	if _, err := testkit.NewHarness[string, click, string](nil, &sessionCounter{}); err == nil {
		t.Fatal("nil key accepted")
	}
}
