package operators_test

import (
	"io"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// timedSource is one split of records that are their own event times
// (Unix ms), read one per Read; its reader bounds its next times when
// bound is set.
type timedSource struct {
	times []int64
	bound bool
}

type timedSplit struct{}

func (timedSplit) SplitID() string { return "timed" }

func (s *timedSource) Splits(int) ([]operators.Split, error) {
	return []operators.Split{timedSplit{}}, nil
}
func (s *timedSource) Bounded() bool { return true }
func (s *timedSource) Open(*operators.Context, operators.Split, []byte) (operators.Reader[int64], error) {
	r := &timedReader{times: s.times}
	if s.bound {
		return &boundedReader{r}, nil
	}
	return r, nil
}

type timedReader struct {
	times []int64
	next  int
}

func (r *timedReader) Read(b *operators.Batch[int64]) error {
	if r.next == len(r.times) {
		return io.EOF
	}
	b.Values = append(b.Values, r.times[r.next])
	b.Times = append(b.Times, r.times[r.next])
	r.next++
	return nil
}
func (r *timedReader) Position() ([]byte, error) { return nil, nil }
func (r *timedReader) Close() error              { return nil }

type boundedReader struct{ *timedReader }

func (r *boundedReader) NextTimestamp() int64 {
	if r.next == len(r.times) {
		return timeapi.NoTimestamp
	}
	return r.times[r.next]
}

type discard struct{}

func (discard) Push(any) error        { return nil }
func (discard) Watermark(int64) error { return nil }
func (discard) Flush() error          { return nil }
func (discard) EndInput() error       { return nil }

// TestTimeBounder: under a strategy over native timestamps the split's
// watermark moves to just below its reader's bound on the times to come;
// without the capability, or under a strategy that extracts times from
// the records, it follows the records read.
func TestTimeBounder(t *testing.T) {
	own := func(v int64) time.Time { return time.UnixMilli(v) }
	for _, tc := range []struct {
		name  string
		bound bool
		ws    timeapi.WatermarkStrategy[int64]
		want  int64 // after reading the record at 10, with 50 next
	}{
		{"bounded, record timestamps", true, timeapi.RecordTimestamps[int64](0), 49},
		{"bounded, record timestamps, 5ms late", true, timeapi.RecordTimestamps[int64](5 * time.Millisecond), 44},
		{"bounded, ascending with record timestamps", true, timeapi.Ascending(own).WithRecordTimestamps(), 49},
		{"unbounded reader", false, timeapi.RecordTimestamps[int64](0), 9},
		{"bounded, extracted times", true, timeapi.Ascending(own), 9},
	} {
		ctx := &operators.Context{Operator: "source", Parallelism: 1, BatchSize: 8, Clock: timeapi.SystemClock{}}
		src := operators.EraseSource[int64](&timedSource{times: []int64{10, 50, 60}, bound: tc.bound}, tc.ws)
		splits, _ := src.Splits(1)
		r, err := src.OpenReader(ctx, splits, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := r.Poll(discard{}, 0); n != 1 || err != nil {
			t.Fatalf("%s: Poll = %d, %v", tc.name, n, err)
		}
		if wm := r.Watermark(0); wm != tc.want {
			t.Errorf("%s: watermark %d after the record at 10, want %d", tc.name, wm, tc.want)
		}
		r.Close()
	}
}
