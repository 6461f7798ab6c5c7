package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Layout is the timestamp format of the input and the output, in UTC. The
// input may omit the fraction or give any number of its digits; the output
// always has milliseconds.
const Layout = "2006-01-02 15:04:05.000"

// Header is the header line the input must start with.
const Header = "key,ts,value"

// OutputHeader is the header line of every output file.
var OutputHeader = []string{"key", "window_start", "window_end", "sum"}

const (
	// WindowSize is the size of the tumbling windows.
	WindowSize = 10 * time.Second
	// MaxDelay is how far out of order events may be.
	MaxDelay = 2 * time.Second
	// throttleEvery is the number of records after which --throttle pauses.
	throttleEvery = 1000
)

// Event is one input line.
type Event struct {
	Key   string
	TS    time.Time
	Value int64
}

// Config is the job's own command line.
type Config struct {
	Input    string        // the CSV file to read
	Output   string        // the directory to write
	Throttle time.Duration // pause after every 1000 records (tests)
	State    string        // the keyed state backend: StateMem (default) or StatePebble
	StateDir string        // where StatePebble keeps its databases ("": see StateOptions)
}

// The values of --state.
const (
	StateMem    = "memstate"
	StatePebble = "pebble"
)

// AddFlags defines --input, --output and --throttle on fs.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Input, "input", "", "CSV `file` to read (header key,ts,value)")
	fs.StringVar(&c.Output, "output", "", "`directory` of the committed CSV output (created if missing)")
	fs.DurationVar(&c.Throttle, "throttle", 0, "pause for `duration` after every 1000 records (slows the job down for crash tests)")
	fs.StringVar(&c.State, "state", StateMem, "keyed state `backend`: "+StateMem+" (in memory) or "+StatePebble+" (on disk)")
	fs.StringVar(&c.StateDir, "state-dir", "", "`directory` of the "+StatePebble+" databases (default: <checkpoint-dir>.state, or a temporary directory without --checkpoint-dir)")
}

// Build adds the job to job: the lines of c.Input parsed into events with
// 2 s bounded-out-of-order watermarks, keyed by key, summed per 10 s
// tumbling window, written to c.Output by a transactional file sink.
func Build(job *stream.Job, c Config) error {
	switch {
	case c.Input == "":
		return errors.New("--input is required")
	case c.Output == "":
		return errors.New("--output is required")
	case c.Throttle < 0:
		return fmt.Errorf("--throttle %v is negative", c.Throttle)
	case c.State != StateMem && c.State != StatePebble:
		return fmt.Errorf("--state %q is not %s or %s", c.State, StateMem, StatePebble)
	case c.StateDir != "" && c.State != StatePebble:
		return fmt.Errorf("--state-dir needs --state %s", StatePebble)
	}
	lines := file.NewLineSource(c.Input, file.LineOptions{Header: Header, SkipEmpty: true})
	events := stream.FromSource[Event](job, "input", file.Parse(lines, ParseEvent)).
		WithWatermarks(timeapi.BoundedOutOfOrder(func(e Event) time.Time { return e.TS }, MaxDelay))
	if c.Throttle > 0 {
		events = events.Map(throttle(c.Throttle)).Name("throttle")
	}
	events.
		KeyBy(func(e Event) string { return e.Key }).
		Window(windowing.Tumbling(WindowSize)).
		Aggregate(stream.Sum(func(e Event) int64 { return e.Value })).Name("window-sum").
		SinkTo(file.NewSink(c.Output, file.CSV(OutputHeader, Row), file.Options{Prefix: "windowsum"}))
	return nil
}

// ParseEvent parses one input line, "key,ts,value".
func ParseEvent(line string) (Event, error) {
	f := strings.Split(line, ",")
	if len(f) != 3 {
		return Event{}, fmt.Errorf("%d fields, want 3 (key,ts,value)", len(f))
	}
	key, ts, val := f[0], f[1], f[2]
	switch {
	case key == "":
		return Event{}, errors.New("empty key")
	case strings.ContainsRune(key, '"'):
		return Event{}, fmt.Errorf("key %q: quoted keys are not supported", key)
	}
	t, err := time.Parse(time.DateTime, ts) // a fraction after the seconds is accepted too
	if err != nil {
		return Event{}, fmt.Errorf("ts %q is not a time YYYY-MM-DD HH:MM:SS[.fff]", ts)
	}
	v, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("value %q is not an integer", val)
	}
	return Event{Key: key, TS: t, Value: v}, nil
}

// Row is the output row of a window result.
func Row(r windowing.Result[string, int64]) []string {
	return []string{r.Key, r.Window.Start.UTC().Format(Layout), r.Window.End.UTC().Format(Layout), strconv.FormatInt(r.Value, 10)}
}

// throttle returns an identity map that sleeps d after every 1000 records
// (over all subtasks).
func throttle(d time.Duration) func(Event) Event {
	var n atomic.Int64
	return func(e Event) Event {
		if n.Add(1)%throttleEvery == 0 {
			time.Sleep(d)
		}
		return e
	}
}
