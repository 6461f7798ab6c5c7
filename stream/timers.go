package stream

import (
	"container/heap"
	"sort"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// timerEntry is a pending timer of one key.
type timerEntry[K comparable] struct {
	at  int64
	key K
	kg  int
}

type timerID[K comparable] struct {
	at  int64
	key K
	d   TimeDomain
}

// timerHeap orders timers by time, then by insertion (seq) for determinism.
type timerHeap[K comparable] struct {
	items []timerItem[K]
	seq   uint64
}

type timerItem[K comparable] struct {
	timerEntry[K]
	seq uint64
}

func (h *timerHeap[K]) Len() int { return len(h.items) }
func (h *timerHeap[K]) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}
func (h *timerHeap[K]) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *timerHeap[K]) Push(x any)    { h.items = append(h.items, x.(timerItem[K])) }
func (h *timerHeap[K]) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// timerService keeps the timers of a keyed operator subtask: one heap per
// time domain and a set that makes registration idempotent and deletion
// lazy (deleted timers are skipped when they reach the top). Each entry
// keeps its key group, so a snapshot can split timers by key group.
type timerService[K comparable] struct {
	heaps [2]timerHeap[K]
	live  map[timerID[K]]struct{}
	proc  operators.TimerService
}

func newTimerService[K comparable](proc operators.TimerService) *timerService[K] {
	return &timerService[K]{live: map[timerID[K]]struct{}{}, proc: proc}
}

func (s *timerService[K]) add(d TimeDomain, sc *keyScope[K], at int64) {
	id := timerID[K]{at: at, key: sc.key, d: d}
	if _, ok := s.live[id]; ok {
		return
	}
	s.live[id] = struct{}{}
	h := &s.heaps[d]
	h.seq++
	heap.Push(h, timerItem[K]{timerEntry: timerEntry[K]{at: at, key: sc.key, kg: sc.kg}, seq: h.seq})
	if d == ProcessingTime && s.proc != nil {
		s.proc.CallbackAt(at)
	}
}

func (s *timerService[K]) remove(d TimeDomain, sc *keyScope[K], at int64) {
	delete(s.live, timerID[K]{at: at, key: sc.key, d: d})
}

// pop returns the earliest live timer of domain d at or before upTo.
func (s *timerService[K]) pop(d TimeDomain, upTo int64) (timerEntry[K], bool) {
	h := &s.heaps[d]
	for h.Len() > 0 {
		top := h.items[0]
		id := timerID[K]{at: top.at, key: top.key, d: d}
		if _, ok := s.live[id]; !ok { // deleted
			heap.Pop(h)
			continue
		}
		if top.at > upTo {
			if d == ProcessingTime && s.proc != nil {
				s.proc.CallbackAt(top.at)
			}
			return timerEntry[K]{}, false
		}
		heap.Pop(h)
		delete(s.live, id)
		return top.timerEntry, true
	}
	return timerEntry[K]{}, false
}

func (s *timerService[K]) len() int { return len(s.live) }

func (s *timerService[K]) pending(key K) []Timer {
	var out []Timer
	for id := range s.live {
		if id.key == key {
			out = append(out, Timer{Time: timeapi.Time(id.at), Domain: id.d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Domain < out[j].Domain
	})
	return out
}
