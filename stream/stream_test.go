package stream_test

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

func TestBuildErrors(t *testing.T) {
	other := stream.NewJob("other")
	otherStream := stream.FromSlice(other, "o", []int{1})
	cases := []struct {
		name  string
		build func(*stream.Job)
		want  error
		text  string
	}{
		{"no sink", func(j *stream.Job) { stream.FromSlice(j, "s", []int{1}).Map(func(i int) int { return i }) }, stream.ErrNoSink, "no sink"},
		{"nil map", func(j *stream.Job) {
			stream.FromSlice(j, "s", []int{1}).Map((func(int) int)(nil)).Print()
		}, stream.ErrNilFunc, `Map after "s"`},
		{"nil filter", func(j *stream.Job) { stream.FromSlice(j, "s", []int{1}).Filter(nil).Print() }, stream.ErrNilFunc, "Filter"},
		{"nil flatmapref", func(j *stream.Job) {
			stream.FromSlice(j, "s", []int{1}).FlatMapRef((func(*int, func(int)))(nil)).Print()
		}, stream.ErrNilFunc, `FlatMapRef after "s"`},
		{"nil key", func(j *stream.Job) {
			stream.FromSlice(j, "s", []int{1}).KeyBy((func(int) int)(nil)).Reduce(func(a, b int) int { return a }).Print()
		}, stream.ErrNilFunc, "KeyBy"},
		{"nil reduce", func(j *stream.Job) {
			stream.FromSlice(j, "s", []int{1}).KeyBy(func(i int) int { return i }).Reduce(nil).Print()
		}, stream.ErrNilFunc, "Reduce"},
		{"nil sink", func(j *stream.Job) { stream.FromSlice(j, "s", []int{1}).SinkTo(nil) }, stream.ErrNilFunc, "nil sink"},
		{"other job", func(j *stream.Job) { stream.FromSlice(j, "s", []int{1}).Union(otherStream).Print() }, stream.ErrOtherJob, "Union"},
		{"bad parallelism", func(j *stream.Job) { stream.FromSlice(j, "s", []int{1}).Parallelism(0).Print() }, stream.ErrBadSetting, "parallelism 0"},
		{"duplicate names", func(j *stream.Job) {
			s := stream.FromSlice(j, "s", []int{1})
			s.Map(func(i int) int { return i }).Name("m").Map(func(i int) int { return i }).Name("m").Print()
		}, stream.ErrBadSetting, `two operators named "m"`},
		{"pointer key", func(j *stream.Job) {
			stream.FromSlice(j, "s", []int{1}).KeyBy(func(i int) *int { return &i }).Reduce(func(a, b int) int { return a }).Print()
		}, nil, "no deterministic hash"},
		{"bad watermarks", func(j *stream.Job) {
			stream.FromSlice(j, "s", []int{1}).WithWatermarks(timeapi.BoundedOutOfOrder[int](nil, time.Second)).Print()
		}, timeapi.ErrInvalidStrategy, "WithWatermarks"},
	}
	for _, c := range cases {
		job := stream.NewJob(c.name)
		c.build(job)
		_, err := job.Graph()
		if err == nil {
			t.Fatalf("%s: Graph accepted the job", c.name)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Fatalf("%s: got %v, want %v", c.name, err, c.want)
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Fatalf("%s: error %q does not mention %q", c.name, err, c.text)
		}
		if err := testkit.RunErr(job); err == nil {
			t.Fatalf("%s: Run accepted the job", c.name)
		}
	}
}

type bid struct {
	Auction int64
	Price   int64
	At      time.Time
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func bids() []bid {
	var out []bid
	for i := range 40 {
		// slightly out of order within 3s
		at := t0.Add(time.Duration(i)*time.Second - time.Duration(i%3)*time.Second)
		out = append(out, bid{Auction: int64(i % 4), Price: int64(10 + i), At: at})
	}
	return out
}

// maxPerTenSeconds is a KeyedProcessFunc: per auction, the highest price in
// each 10 s bucket, emitted by an event-time timer at the bucket's end.
type maxPerTenSeconds struct {
	best    *stream.MapState[int64, int64, int64] // bucket start -> max price
	buckets *stream.ValueState[int64, int64]      // number of buckets seen
	all     *stream.ListState[int64, int64]
}

type bucketMax struct {
	Auction, Bucket, Max int64
	Count                int64
}

func (m *maxPerTenSeconds) Open(ctx *stream.OpenContext[int64]) (err error) {
	if m.best, err = stream.NewMapState[int64, int64](ctx, "best"); err != nil {
		return err
	}
	if m.buckets, err = stream.NewValueState[int64](ctx, "buckets"); err != nil {
		return err
	}
	m.all, err = stream.NewListState[int64](ctx, "all")
	return err
}

func (m *maxPerTenSeconds) ProcessElement(ctx *stream.Context[int64, bucketMax], b bid) error {
	bucket := b.At.Truncate(10 * time.Second).UnixMilli()
	cur, ok := m.best.Get(bucket)
	if !ok {
		n, _ := m.buckets.Value()
		m.buckets.Update(n + 1)
		ctx.RegisterEventTimeTimer(time.UnixMilli(bucket + 9999))
	}
	if !ok || b.Price > cur {
		m.best.Put(bucket, b.Price)
	}
	m.all.Add(b.Price)
	return nil
}

func (m *maxPerTenSeconds) OnTimer(ctx *stream.Context[int64, bucketMax], tm stream.Timer) error {
	bucket := tm.Time.UnixMilli() - 9999
	v, ok := m.best.Get(bucket)
	if !ok {
		return errors.New("timer without bucket")
	}
	m.best.Delete(bucket)
	ctx.Emit(bucketMax{Auction: ctx.Key(), Bucket: bucket, Max: v, Count: int64(len(m.all.Get()))})
	return nil
}

func referenceBuckets(in []bid) []bucketMax {
	type k struct{ a, b int64 }
	best := map[k]int64{}
	for _, b := range in {
		kk := k{b.Auction, b.At.Truncate(10 * time.Second).UnixMilli()}
		if v, ok := best[kk]; !ok || b.Price > v {
			best[kk] = b.Price
		}
	}
	var out []bucketMax
	for kk, v := range best {
		out = append(out, bucketMax{Auction: kk.a, Bucket: kk.b, Max: v})
	}
	return out
}

func sortBuckets(s []bucketMax) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Auction != s[j].Auction {
			return s[i].Auction < s[j].Auction
		}
		return s[i].Bucket < s[j].Bucket
	})
}

func TestProcessTimersAndState(t *testing.T) {
	in := bids()
	want := referenceBuckets(in)
	sortBuckets(want)
	for _, p := range []int{1, 2, 4} {
		job := stream.NewJob("process")
		out := testkit.Collect(stream.FromSlice(job, "bids", in).
			WithWatermarks(timeapi.BoundedOutOfOrder(func(b bid) time.Time { return b.At }, 3*time.Second)).
			KeyBy(func(b bid) int64 { return b.Auction }).
			Process(&maxPerTenSeconds{}))
		testkit.Run(t, job, runtime.Parallelism(p), runtime.BatchSize(4))
		recs := out.Records()
		got := make([]bucketMax, len(recs))
		for i, r := range recs {
			got[i] = r.Value
			got[i].Count = 0
			if r.Time != r.Value.Bucket+9999 {
				t.Fatalf("p=%d: result of bucket %d carries time %d, want the timer's time", p, r.Value.Bucket, r.Time)
			}
		}
		sortBuckets(got)
		if !slices.Equal(got, want) {
			t.Fatalf("p=%d:\ngot  %v\nwant %v", p, got, want)
		}
	}
}

// TestTimersFireInWatermarkOrder: with small batches, a bucket's timer
// fires as soon as the watermark passes it, before later records of the
// key arrive: its Count shows only the records seen so far.
func TestTimersFireInWatermarkOrder(t *testing.T) {
	job := stream.NewJob("early")
	out := testkit.Collect(stream.FromSlice(job, "bids", bids()).
		WithWatermarks(timeapi.BoundedOutOfOrder(func(b bid) time.Time { return b.At }, 3*time.Second)).
		KeyBy(func(b bid) int64 { return b.Auction }).
		Process(&maxPerTenSeconds{}))
	testkit.Run(t, job, runtime.BatchSize(1))
	recs := out.Values()
	if len(recs) == 0 {
		t.Fatal("no output")
	}
	first := recs[0]
	if first.Count >= 10 {
		t.Fatalf("first timer fired after %d records of its key: watermarks did not flow in-band", first.Count)
	}
}

func TestWithWatermarksAfterMap(t *testing.T) {
	job := stream.NewJob("wm-after-map")
	out := testkit.Collect(stream.FromSlice(job, "n", []int64{5000, 1000, 12000, 30000}).
		Map(func(ms int64) bid { return bid{Auction: 1, Price: ms, At: time.UnixMilli(ms)} }).
		WithWatermarks(timeapi.Ascending(func(b bid) time.Time { return b.At })).
		KeyBy(func(b bid) int64 { return b.Auction }).
		Process(stream.ProcessFuncs[int64, bid, int64]{Element: func(ctx *stream.Context[int64, int64], b bid) error {
			ctx.Emit(ctx.Timestamp().UnixMilli())
			return nil
		}}))
	testkit.Run(t, job)
	if got := out.Values(); !slices.Equal(got, []int64{5000, 1000, 12000, 30000}) {
		t.Fatalf("timestamps %v", got)
	}
}

func TestFlatMapKeepsTime(t *testing.T) {
	job := stream.NewJob("flat")
	out := testkit.Collect(stream.FromSlice(job, "lines", []string{"a b", "c"}).
		WithWatermarks(timeapi.Ascending(func(s string) time.Time { return t0.Add(time.Duration(len(s)) * time.Second) })).
		FlatMap(func(s string, emit func(string)) {
			for _, w := range strings.Fields(s) {
				emit(w)
			}
		}))
	testkit.Run(t, job)
	recs := out.Records()
	if len(recs) != 3 || recs[0].Value != "a" || recs[2].Value != "c" {
		t.Fatalf("got %v", recs)
	}
	if !recs[1].EventTime().Equal(t0.Add(3*time.Second)) || !recs[2].EventTime().Equal(t0.Add(time.Second)) {
		t.Fatalf("event times not kept: %v", recs)
	}
}

// TestFlatMapRef: FlatMapRef gives f a pointer to each record in turn and
// keeps event times like FlatMap (a nil f: TestBuildErrors).
func TestFlatMapRef(t *testing.T) {
	job := stream.NewJob("flatref")
	out := testkit.Collect(stream.FromSlice(job, "lines", []string{"a b", "c"}).
		WithWatermarks(timeapi.Ascending(func(s string) time.Time { return t0.Add(time.Duration(len(s)) * time.Second) })).
		FlatMapRef(func(s *string, emit func(string)) {
			for _, w := range strings.Fields(*s) {
				emit(w)
			}
		}))
	testkit.Run(t, job)
	recs := out.Records()
	if len(recs) != 3 || recs[0].Value != "a" || recs[1].Value != "b" || recs[2].Value != "c" {
		t.Fatalf("got %v", recs)
	}
	if !recs[1].EventTime().Equal(t0.Add(3*time.Second)) || !recs[2].EventTime().Equal(t0.Add(time.Second)) {
		t.Fatalf("event times not kept: %v", recs)
	}
}

func TestPrintSink(t *testing.T) {
	var sb strings.Builder
	job := stream.NewJob("print")
	stream.FromSlice(job, "s", []int{1, 2, 3}).SinkTo(&operators.PrintSink[int]{W: &sb})
	testkit.Run(t, job)
	if sb.String() != "1\n2\n3\n" {
		t.Fatalf("printed %q", sb.String())
	}
}
