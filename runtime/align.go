package runtime

import (
	"sync/atomic"

	"github.com/weirstream/weir/timeapi"
)

// alignGroup is the watermark alignment of one source's subtasks: each
// publishes its watermark, and one that is more than drift ms ahead of
// the least waits (Options.AlignDrift).
type alignGroup struct {
	drift int64
	wms   []paddedWatermark
}

// paddedWatermark keeps subtasks' watermarks on separate cache lines.
type paddedWatermark struct {
	v atomic.Int64
	_ [56]byte
}

func newAlignGroup(n int, drift int64) *alignGroup {
	g := &alignGroup{drift: max(drift, 0), wms: make([]paddedWatermark, n)}
	for i := range g.wms {
		g.wms[i].v.Store(timeapi.MinWatermark)
	}
	return g
}

func (g *alignGroup) set(i int, wm int64) { g.wms[i].v.Store(wm) }

// ahead publishes subtask i's watermark wm and reports whether it is more
// than the drift ahead of the least watermark of the group.
func (g *alignGroup) ahead(i int, wm int64) bool {
	if g.wms[i].v.Load() != wm {
		g.wms[i].v.Store(wm)
	}
	return g.tooFar(wm)
}

// tooFar reports whether watermark wm is more than the drift ahead of the
// least watermark of the group.
func (g *alignGroup) tooFar(wm int64) bool {
	least := int64(timeapi.MaxWatermark)
	for j := range g.wms {
		least = min(least, g.wms[j].v.Load())
	}
	return least < timeapi.MaxWatermark-g.drift && wm > least+g.drift
}
