package windowing_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// TestGolden runs the golden files in testdata/ against the window
// operator. Commands (times in ms, processing time in ms since the epoch):
//
//	assigner tumbling size=10 [offset=2] | sliding size=10 slide=5 |
//	         session gap=5 | cumulate step=5 max=15 | global
//	         [lateness=5] [emit=update|every:10] [trigger=count:3] [late-output]
//	         [proc]           (windows of processing time: ByProcessingTime)
//	add key=a ts=5 [v=1]      (or one "key ts [v]" per input line; ts=none: no event time)
//	watermark 10
//	process-time 30           (sets the clock; calls back if one is due)
//	callback                  (the pending processing-time callback)
//	end                       (the maximum watermark, then end of input)
//	state                     (state entries, timers, dropped late elements)
//	timeline                  (the result table as bars on a time axis)
//
// Every command prints the rows emitted meanwhile. Regenerate with
// go test ./windowing -run TestGolden -rewrite.
func TestGolden(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var h *harness
		tab := table{}
		defer func() {
			if h != nil {
				_ = h.close()
			}
		}()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "assigner" {
				if h != nil {
					_ = h.close()
				}
				var err error
				h, err = newHarness(parseAssigner(t, d))
				tab = table{}
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				return "ok\n"
			}
			if h == nil {
				t.Fatalf("%s: no assigner", d.Pos)
			}
			extra, err := runCmd(t, h, d)
			rows := h.take()
			tab.apply(rows)
			var sb strings.Builder
			for _, r := range rows {
				sb.WriteString(formatRow(r) + "\n")
			}
			if err != nil {
				sb.WriteString("error: " + err.Error() + "\n")
			}
			sb.WriteString(extra)
			if d.Cmd == "timeline" {
				sb.WriteString(tab.timeline())
			}
			if sb.Len() == 0 {
				return "ok\n"
			}
			return sb.String()
		})
	})
}

func runCmd(t *testing.T, h *harness, d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "add":
		evs, ts := parseAdds(t, d)
		return "", h.add(evs, ts)
	case "watermark":
		return "", h.watermark(parseInt(t, d.CmdArgs[0].Key))
	case "process-time":
		return "", h.processTime(parseInt(t, d.CmdArgs[0].Key))
	case "end":
		return "", h.end()
	case "callback":
		if h.timers.at == math.MaxInt64 {
			return "callback none\n", nil
		}
		return fmt.Sprintf("callback %d\n", h.timers.at), nil
	case "state":
		s := h.op.Stats()
		return fmt.Sprintf("entries=%d timers=%d dropped=%d\n", s.Entries, s.Timers, s.DroppedLate), nil
	case "timeline":
		return "", nil
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return "", nil
}

func parseInt(t *testing.T, s string) int64 {
	switch s {
	case "max":
		return timeapi.MaxWatermark
	case "none":
		return timeapi.NoTimestamp
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return n
}

func arg(t *testing.T, d *datadriven.TestData, name string) (int64, bool) {
	for _, a := range d.CmdArgs {
		if a.Key == name && len(a.Vals) > 0 {
			return parseInt(t, a.Vals[0]), true
		}
	}
	return 0, false
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func parseAssigner(t *testing.T, d *datadriven.TestData) harnessOptions {
	var ho harnessOptions
	get := func(name string) int64 { v, _ := arg(t, d, name); return v }
	switch d.CmdArgs[0].Key {
	case "tumbling":
		ho.assigner = windowing.Tumbling(ms(get("size")))
	case "sliding":
		ho.assigner = windowing.Sliding(ms(get("size")), ms(get("slide")))
	case "session":
		ho.assigner = windowing.Session(ms(get("gap")))
	case "cumulate":
		ho.assigner = windowing.Cumulate(ms(get("step")), ms(get("max")))
	case "global":
		ho.assigner = windowing.Global()
	default:
		t.Fatalf("%s: unknown assigner %q", d.Pos, d.CmdArgs[0].Key)
	}
	if off, ok := arg(t, d, "offset"); ok {
		ho.assigner = ho.assigner.WithOffset(ms(off))
	}
	ho.lateness = ms(get("lateness"))
	for _, a := range d.CmdArgs {
		switch {
		case a.Key == "late-output":
			ho.lateOut = true
		case a.Key == "proc":
			ho.assigner = ho.assigner.ByProcessingTime()
		case a.Key == "emit" && a.Vals[0] == "update":
			ho.emit = windowing.OnUpdate()
		case a.Key == "emit" && strings.HasPrefix(a.Vals[0], "every:"):
			ho.emit = windowing.Every(ms(parseInt(t, strings.TrimPrefix(a.Vals[0], "every:"))))
		case a.Key == "trigger" && strings.HasPrefix(a.Vals[0], "count:"):
			ho.trigger = windowing.CountTrigger(parseInt(t, strings.TrimPrefix(a.Vals[0], "count:")))
		case a.Key == "trigger" && strings.HasPrefix(a.Vals[0], "fire-every:"):
			n := parseInt(t, strings.TrimPrefix(a.Vals[0], "fire-every:"))
			ho.trigger = windowing.TriggerFunc(func(_ windowing.Window, _ time.Time, c int64) windowing.TriggerAction {
				if c%n == 0 {
					return windowing.Fire
				}
				return windowing.Continue
			})
		}
	}
	return ho
}

// parseAdds reads "add key=a ts=5 [v=1]" or input lines "a 5 [v]".
func parseAdds(t *testing.T, d *datadriven.TestData) ([]event, []int64) {
	var evs []event
	var ts []int64
	if len(d.CmdArgs) > 0 {
		e := event{V: 1}
		for _, a := range d.CmdArgs {
			if a.Key == "key" {
				e.Key = a.Vals[0]
			}
		}
		if v, ok := arg(t, d, "v"); ok {
			e.V = v
		}
		at, _ := arg(t, d, "ts")
		return []event{e}, []int64{at}
	}
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("%s: bad add line %q", d.Pos, line)
		}
		e := event{Key: f[0], V: 1}
		if len(f) > 2 {
			e.V = parseInt(t, f[2])
		}
		evs = append(evs, e)
		ts = append(ts, parseInt(t, f[1]))
	}
	return evs, ts
}
