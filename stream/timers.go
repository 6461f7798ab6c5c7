package stream

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
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

func (h *timerHeap[K]) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// push and pop are a binary heap on items, typed (container/heap boxes
// every item into an interface: an allocation per timer).
func (h *timerHeap[K]) push(it timerItem[K]) {
	h.items = append(h.items, it)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

// pop removes the top item.
func (h *timerHeap[K]) pop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items[n] = timerItem[K]{} // drop the key's references
	h.items = h.items[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h.items[i], h.items[c] = h.items[c], h.items[i]
		i = c
	}
}

// timerService keeps the timers of a keyed operator subtask: one heap per
// time domain and a set that makes registration idempotent and deletion
// lazy (deleted timers are skipped when they reach the top). The set keeps
// each live timer's key group, so a snapshot can split timers by key
// group, and its sequence number: a heap item whose number differs is a
// deleted timer that was registered again.
type timerService[K comparable] struct {
	heaps [2]timerHeap[K]
	live  map[timerID[K]]liveTimer
	proc  operators.TimerService
}

type liveTimer struct {
	seq uint64
	kg  uint16
}

func newTimerService[K comparable](proc operators.TimerService) *timerService[K] {
	return &timerService[K]{live: map[timerID[K]]liveTimer{}, proc: proc}
}

func (s *timerService[K]) add(d TimeDomain, sc *keyScope[K], at int64) {
	id := timerID[K]{at: at, key: sc.key, d: d}
	if _, ok := s.live[id]; ok {
		return
	}
	h := &s.heaps[d]
	h.seq++
	s.push(id, sc.kg, h.seq)
	if d == ProcessingTime && s.proc != nil {
		s.proc.CallbackAt(at)
	}
}

// push adds a live timer with sequence number seq.
func (s *timerService[K]) push(id timerID[K], kg int, seq uint64) {
	s.live[id] = liveTimer{seq: seq, kg: uint16(kg)}
	s.heaps[id.d].push(timerItem[K]{timerEntry: timerEntry[K]{at: id.at, key: id.key, kg: kg}, seq: seq})
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
		if lt, ok := s.live[id]; !ok || lt.seq != top.seq { // deleted
			h.pop()
			continue
		}
		if top.at > upTo {
			if d == ProcessingTime && s.proc != nil {
				s.proc.CallbackAt(top.at)
			}
			return timerEntry[K]{}, false
		}
		h.pop()
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

// Timer snapshots. SnapshotKeyGroups encodes the live timers of each key
// group that has any as one blob, restored by RestoreKeyGroup:
//
//	version  byte (timerFormat)
//	n        uvarint, the number of timers
//	n times  domain  byte (0 event time, 1 processing time)
//	         time    varint, minus the previous entry's time (the first: minus 0)
//	         seq     uvarint, the registration order of the timer's heap
//	keys     the n keys in entry order, by internal/keycodec: plain binary
//	         for integer, float, bool and string kinds and arrays and
//	         structs of them, else one encoding/gob stream (K must then be
//	         gob-encodable)
//
// Entries are sorted by domain, time and seq, so timers due at the same
// time fire in the same order after a restore at the same parallelism.
const timerFormat = 1

type snapTimer[K comparable] struct {
	id  timerID[K]
	seq uint64
}

func cmpSnapTimer[K comparable](a, b snapTimer[K]) int {
	if c := cmp.Compare(a.id.d, b.id.d); c != 0 {
		return c
	}
	if c := cmp.Compare(a.id.at, b.id.at); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// snapshot encodes the live timers of the key groups in r. The blobs share
// no memory with the service.
func (s *timerService[K]) snapshot(r statebackend.KeyGroupRange, codec *keycodec.Codec[K]) (map[int][]byte, error) {
	if len(s.live) == 0 {
		return nil, nil
	}
	groups := map[int][]snapTimer[K]{}
	for id, lt := range s.live {
		if kg := int(lt.kg); r.Contains(kg) {
			groups[kg] = append(groups[kg], snapTimer[K]{id: id, seq: lt.seq})
		}
	}
	out := make(map[int][]byte, len(groups))
	var keys []K
	for kg, ts := range groups {
		slices.SortFunc(ts, cmpSnapTimer[K])
		b := append(make([]byte, 0, 8+12*len(ts)), timerFormat)
		b = binary.AppendUvarint(b, uint64(len(ts)))
		keys = keys[:0]
		prev := int64(0)
		for _, t := range ts {
			b = append(b, byte(t.id.d))
			b = binary.AppendVarint(b, t.id.at-prev) // wraps, and so does the sum on restore
			b = binary.AppendUvarint(b, t.seq)
			prev = t.id.at
			keys = append(keys, t.id.key)
		}
		var err error
		if out[kg], err = codec.Append(b, keys); err != nil {
			return nil, fmt.Errorf("weir/stream: snapshot timers of key group %d: %w", kg, err)
		}
	}
	return out, nil
}

// restoredTimer is a decoded entry of a timer snapshot.
type restoredTimer struct {
	d   TimeDomain
	at  int64
	seq uint64
}

// restore registers the timers of key group kg encoded by snapshot;
// keyGroup computes a key's key group, to check the snapshot against it.
func (s *timerService[K]) restore(kg int, data []byte, codec *keycodec.Codec[K], keyGroup func(K) int) error {
	ents, keys, err := decodeTimers(data, codec)
	if err != nil {
		return fmt.Errorf("weir/stream: restore timers of key group %d: %w", kg, err)
	}
	earliest, proc := int64(math.MaxInt64), false
	for i, e := range ents {
		if got := keyGroup(keys[i]); got != kg {
			return fmt.Errorf("weir/stream: restore timers of key group %d: key %v belongs to key group %d (did its hash change?)", kg, keys[i], got)
		}
		id := timerID[K]{at: e.at, key: keys[i], d: e.d}
		if _, ok := s.live[id]; ok {
			continue
		}
		s.push(id, kg, e.seq)
		h := &s.heaps[e.d]
		h.seq = max(h.seq, e.seq)
		if e.d == ProcessingTime {
			earliest, proc = min(earliest, e.at), true
		}
	}
	if proc && s.proc != nil {
		s.proc.CallbackAt(earliest)
	}
	return nil
}

func decodeTimers[K comparable](data []byte, codec *keycodec.Codec[K]) ([]restoredTimer, []K, error) {
	r := keycodec.NewReader(data)
	if v := r.Byte(); r.Err() == nil && v != timerFormat {
		return nil, nil, fmt.Errorf("format %d, want %d", v, timerFormat)
	}
	n := r.Count(3) // an entry takes at least 3 bytes
	ents := make([]restoredTimer, n)
	prev := int64(0)
	for i := range ents {
		d := TimeDomain(r.Byte())
		prev += r.Varint()
		ents[i] = restoredTimer{d: d, at: prev, seq: r.Uvarint()}
		if d > ProcessingTime {
			return nil, nil, fmt.Errorf("%w: time domain %d", keycodec.ErrCorrupt, d)
		}
	}
	if r.Err() != nil {
		return nil, nil, r.Err()
	}
	keys, err := codec.Decode(r.Rest(), n)
	return ents, keys, err
}
