package runtime

import (
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// TestAlignPausedSourceWakes: a worker whose only work is a source paused
// by watermark alignment sleeps in short precise slices, and has work
// again as soon as the slowest subtask of the source is within the drift.
func TestAlignPausedSourceWakes(t *testing.T) {
	g := newAlignGroup(2, 10)
	g.set(0, 0)
	w := newWorker(1, timeapi.SystemClock{})
	src := &task{worker: w, align: g, alignIdx: 1, wm: 100}
	w.tasks = []*task{src}
	if !g.ahead(1, 100) {
		t.Fatal("100 ms ahead of a subtask at 0 with a drift of 10 is not ahead")
	}
	src.paused = true
	if w.hasWork() {
		t.Fatal("a paused source counts as work while the laggard is 100 ms behind")
	}
	g.set(0, 95)
	if !w.hasWork() {
		t.Fatal("a paused source is not work once the laggard is within the drift")
	}
	src.ended = true
	if w.hasWork() {
		t.Fatal("an ended task counts as work")
	}
}

// TestAlignPauseSleepsPrecisely: the wait of a paused source is a precise
// (short-slice) sleep, not a timer that overshoots by a millisecond.
func TestAlignPauseSleepsPrecisely(t *testing.T) {
	g := newAlignGroup(2, 10)
	w := newWorker(0, timeapi.SystemClock{})
	w.tasks = []*task{{worker: w, align: g, source: idleReader{}, paused: true}}
	d, precise := w.wait(0, 200*time.Microsecond)
	if !precise || d != 200*time.Microsecond {
		t.Fatalf("paused source waits %v, precise %v; want 200µs, precise", d, precise)
	}
	w.tasks[0].paused = false
	if _, precise := w.wait(0, 200*time.Microsecond); precise {
		t.Fatal("an idle, unpaced source sleeps precisely")
	}
}

// idleReader is a SourceReader that has nothing to read.
type idleReader struct{}

func (idleReader) Poll(operators.Output, int64) (int, error) { return 0, nil }
func (idleReader) Watermark(int64) int64                     { return timeapi.MinWatermark }
func (idleReader) Idle() bool                                { return false }
func (idleReader) NextReady() int64                          { return 0 }
func (idleReader) Positions() (map[string][]byte, error)     { return nil, nil }
func (idleReader) Close() error                              { return nil }
