package timeapi_test

import (
	"fmt"
	"time"

	"github.com/weirstream/weir/timeapi"
)

type click struct {
	user string
	at   time.Time
}

func clickTime(c click) time.Time { return c.at }

func ExampleBoundedOutOfOrder() {
	s := timeapi.BoundedOutOfOrder(clickTime, 5*time.Second)
	if err := s.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	g := s.NewGenerator() // one per source split
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	batch := []click{{"ann", t0.Add(10 * time.Second)}, {"bob", t0}, {"cid", t0.Add(8 * time.Second)}}
	times := make([]int64, len(batch))
	g.Stamp(batch, times, 0)
	for i, ms := range times {
		fmt.Println(batch[i].user, timeapi.Time(ms).Format(time.TimeOnly))
	}
	fmt.Println("watermark", timeapi.FormatWatermark(g.Watermark()))
	// Output:
	// ann 12:00:10
	// bob 12:00:00
	// cid 12:00:08
	// watermark 2024-01-01T12:00:04.999Z
}

func ExampleAscending() {
	g := timeapi.Ascending(func(ms int64) time.Time { return timeapi.Time(ms) }).NewGenerator()
	fmt.Println(timeapi.FormatWatermark(g.Watermark()))
	times := make([]int64, 3)
	g.Stamp([]int64{1000, 2000, 3000}, times, 0)
	fmt.Println(times, g.Watermark())
	// Output:
	// min
	// [1000 2000 3000] 2999
}

func ExamplePunctuated() {
	type event struct {
		ts        int64
		watermark bool // a marker record that promises no older events follow
	}
	s := timeapi.Punctuated(
		func(e event) time.Time { return timeapi.Time(e.ts) },
		func(e event, ts time.Time) (time.Time, bool) { return ts, e.watermark },
	)
	g := s.NewGenerator()
	times := make([]int64, 3)
	g.Stamp([]event{{ts: 10}, {ts: 20, watermark: true}, {ts: 15}}, times, 0)
	fmt.Println(times, g.Watermark())
	// Output: [10 20 15] 20
}

func ExampleWatermarkStrategy_WithIdleness() {
	clock := timeapi.NewManualClock(time.Unix(0, 0))
	s := timeapi.Ascending(clickTime).WithIdleness(time.Minute)
	g := s.NewGenerator()
	times := make([]int64, 1)
	g.Stamp([]click{{"ann", time.Unix(100, 0)}}, times, timeapi.NowMillis(clock))

	clock.Advance(59 * time.Second)
	fmt.Println(s, "idle after 59s:", g.Idle(timeapi.NowMillis(clock)))
	clock.Advance(time.Second)
	fmt.Println(s, "idle after 60s:", g.Idle(timeapi.NowMillis(clock)))
	// Output:
	// Ascending.WithIdleness(1m0s) idle after 59s: false
	// Ascending.WithIdleness(1m0s) idle after 60s: true
}

func ExampleWatermarkStrategy_Validate() {
	s := timeapi.BoundedOutOfOrder(clickTime, -time.Second)
	fmt.Println(s.Validate())
	// Output: weir/timeapi: invalid watermark strategy: negative max delay -1s
}

func ExampleTracker() {
	tr := timeapi.NewTracker(2) // a task with two upstream subtasks
	show := func(wm int64, advanced bool) {
		fmt.Printf("%s advanced=%t allIdle=%t\n", timeapi.FormatWatermark(wm), advanced, tr.AllIdle())
	}
	show(tr.Update(0, 5000))   // input 1 has promised nothing yet
	show(tr.Update(1, 3000))   // min(5000, 3000)
	show(tr.SetIdle(1, true))  // idle inputs are left out
	show(tr.SetIdle(0, true))  // all idle: the task is idle (the most they promised: 5000)
	show(tr.SetIdle(1, false)) // back with 3000: does not pull the output back
	show(tr.Finish(0))
	show(tr.Finish(1)) // every input ended: max fires everything
	// Output:
	// min advanced=false allIdle=false
	// 1970-01-01T00:00:03.000Z advanced=true allIdle=false
	// 1970-01-01T00:00:05.000Z advanced=true allIdle=false
	// 1970-01-01T00:00:05.000Z advanced=false allIdle=true
	// 1970-01-01T00:00:05.000Z advanced=false allIdle=false
	// 1970-01-01T00:00:05.000Z advanced=false allIdle=false
	// max advanced=true allIdle=false
}

func ExampleManualClock() {
	clock := timeapi.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	clock.Advance(90 * time.Second)
	clock.Set(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) // earlier: ignored
	fmt.Println(clock.Now().Format(time.DateTime), timeapi.NowMillis(clock))
	// Output: 2024-01-01 00:01:30 1704067290000
}

func ExampleFormatWatermark() {
	fmt.Println(timeapi.FormatWatermark(timeapi.MinWatermark))
	fmt.Println(timeapi.FormatWatermark(timeapi.Millis(time.Date(2024, 3, 1, 8, 30, 0, 250e6, time.UTC))))
	fmt.Println(timeapi.FormatWatermark(timeapi.MaxWatermark))
	// Output:
	// min
	// 2024-03-01T08:30:00.250Z
	// max
}
