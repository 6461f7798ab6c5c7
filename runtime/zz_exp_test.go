package runtime_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

func TestZZExp(t *testing.T) {
	type ev struct{ K, TS int64 }
	job := stream.NewJob("exp")
	stream.FromGenerator(job, "gen", 100000, func(i int64) ev {
		if i%2000 == 0 {
			time.Sleep(time.Millisecond)
		}
		return ev{i % 7, i}
	}).WithWatermarks(timeapi.BoundedOutOfOrder(func(e ev) time.Time { return time.UnixMilli(e.TS) }, 10*time.Millisecond)).
		KeyBy(func(e ev) int64 { return e.K }).Window(windowing.Tumbling(100 * time.Millisecond)).
		Aggregate(stream.Sum(func(e ev) int64 { return 1 })).Map(func(r windowing.Result[int64, int64]) string { return fmt.Sprint(r) }).
		SinkTo(file.NewSink(t.TempDir(), file.Lines(func(s string) string { return s }), file.Options{}))
	err := runtime.Run(context.Background(), job, runtime.Parallelism(2), runtime.Checkpointing(t.TempDir(), 10*time.Millisecond))
	t.Log(err)
}
