package stream

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/internal/timerq"
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

// timerID names a timer: registering the same one twice is registering it
// once.
type timerID[K comparable] struct {
	at  int64
	key K
	d   TimeDomain
}

// timerService keeps the timers of a keyed operator subtask, per time
// domain in a timerq.Queue: buckets by time, fired in time order, and
// within a time in registration order (seq). Timers cluster at a few
// times (window ends, processing-time ticks, the end of input), so a
// bucket per time makes registering an append and firing a walk, where a
// heap of timers sifted every one through log(n) levels of cache misses
// and grew by copying.
//
// Registration is idempotent: a small bucket is searched, a large one
// (more than indexFrom timers) keeps an index from key to the position of
// the key's latest timer. Deletion marks the timer dead. A bucket being
// fired keeps its place (next): timers before it have fired, so a key may
// register the same time again from its own OnTimer and fire once more.
type timerService[K comparable] struct {
	queues [2]timerQueue[K]
	proc   operators.TimerService
	n      int // live timers
}

type timerQueue[K comparable] struct {
	timerq.Queue[bucketTimer[K], bucketState[K]]
	seq uint64 // the last registration's number
}

type bucketTimer[K comparable] struct {
	key  K
	seq  uint64
	kg   uint16
	dead bool
}

type bucketState[K comparable] struct {
	index    map[K]int32 // while indexed: key → position of its latest timer
	indexed  bool
	next     int  // timers before next have fired
	unsorted bool // restored timers came out of seq order
}

type timerBucket[K comparable] = timerq.Bucket[bucketTimer[K], bucketState[K]]

const (
	// indexFrom is the size from which a bucket indexes its timers by key.
	indexFrom = 8
	// maxKeptIndex bounds the index a recycled bucket keeps for reuse.
	maxKeptIndex = 4096
)

func newTimerService[K comparable](proc operators.TimerService) *timerService[K] {
	s := &timerService[K]{proc: proc}
	for d := range s.queues {
		s.queues[d].Queue = timerq.New[bucketTimer[K], bucketState[K]]()
	}
	return s
}

// find returns the position of key's pending timer in b.
func find[K comparable](b *timerBucket[K], key K) (int, bool) {
	x := &b.X
	if x.indexed {
		i, ok := x.index[key]
		if !ok || int(i) < x.next || b.Timers.At(int(i)).dead {
			return 0, false
		}
		return int(i), true
	}
	for i := x.next; i < b.Timers.Len(); i++ {
		if t := b.Timers.At(i); !t.dead && t.key == key {
			return i, true
		}
	}
	return 0, false
}

// appendTimer adds t to b, indexing it when b is large.
func (q *timerQueue[K]) appendTimer(b *timerBucket[K], t bucketTimer[K]) {
	i := b.Timers.Len()
	if i > 0 && b.Timers.At(i-1).seq > t.seq {
		b.X.unsorted = true // a restore out of order
	}
	b.Timers.Append(&q.Chunks, t)
	x := &b.X
	switch {
	case x.indexed:
		x.index[t.key] = int32(i)
	case i+1 > indexFrom:
		reindex(b)
	}
}

// reindex builds b's index from its pending timers.
func reindex[K comparable](b *timerBucket[K]) {
	x := &b.X
	if x.index == nil {
		x.index = make(map[K]int32, 2*indexFrom)
	}
	clear(x.index)
	x.indexed = true
	for i := x.next; i < b.Timers.Len(); i++ {
		if t := b.Timers.At(i); !t.dead {
			x.index[t.key] = int32(i)
		}
	}
}

func resetBucket[K comparable](x *bucketState[K]) {
	if len(x.index) > maxKeptIndex {
		x.index = nil
	} else {
		clear(x.index)
	}
	x.indexed, x.next, x.unsorted = false, 0, false
}

func (s *timerService[K]) add(d TimeDomain, sc *keyScope[K], at int64) {
	if s.insert(d, at, sc.key, sc.kg, 0) && d == ProcessingTime && s.proc != nil {
		s.proc.CallbackAt(at) // a new time: nothing asked for it yet
	}
}

// insert registers key's timer at at, with registration number seq (0:
// the next one), unless it is pending already. It reports whether the
// time had no bucket before.
func (s *timerService[K]) insert(d TimeDomain, at int64, key K, kg int, seq uint64) (created bool) {
	q := &s.queues[d]
	b, created := q.Bucket(at)
	if !created {
		if _, ok := find(b, key); ok {
			return false
		}
	}
	if seq == 0 {
		q.seq++
		seq = q.seq
	}
	q.seq = max(q.seq, seq)
	q.appendTimer(b, bucketTimer[K]{key: key, seq: seq, kg: uint16(kg)})
	s.n++
	return created
}

func (s *timerService[K]) remove(d TimeDomain, sc *keyScope[K], at int64) {
	b := s.queues[d].Get(at)
	if b == nil {
		return
	}
	i, ok := find(b, sc.key)
	if !ok {
		return
	}
	b.Timers.At(i).dead = true
	if b.X.indexed {
		delete(b.X.index, sc.key)
	}
	s.n--
}

// pop returns the earliest live timer of domain d at or before upTo.
func (s *timerService[K]) pop(d TimeDomain, upTo int64) (timerEntry[K], bool) {
	q := &s.queues[d]
	for {
		t, b, ok := q.Min()
		if !ok {
			return timerEntry[K]{}, false
		}
		if t > upTo {
			if d == ProcessingTime && s.proc != nil {
				s.proc.CallbackAt(t)
			}
			return timerEntry[K]{}, false
		}
		x := &b.X
		if x.unsorted {
			sortBucket(q, b)
		}
		for x.next < b.Timers.Len() {
			tm := b.Timers.At(x.next)
			x.next++
			if !tm.dead {
				s.n--
				return timerEntry[K]{at: t, key: tm.key, kg: int(tm.kg)}, true
			}
		}
		q.PopMin()
		q.Recycle(b, resetBucket[K])
	}
}

// sortBucket puts the pending timers of b in registration order (a
// restore adds them key group by key group).
func sortBucket[K comparable](q *timerQueue[K], b *timerBucket[K]) {
	var ts []bucketTimer[K]
	for i := b.X.next; i < b.Timers.Len(); i++ {
		if t := b.Timers.At(i); !t.dead {
			ts = append(ts, *t)
		}
	}
	slices.SortFunc(ts, func(a, b bucketTimer[K]) int { return cmp.Compare(a.seq, b.seq) })
	b.Timers.Reset(&q.Chunks)
	b.X.next, b.X.unsorted = 0, false
	for _, t := range ts {
		b.Timers.Append(&q.Chunks, t)
	}
	if b.X.indexed {
		reindex(b)
	}
}

func (s *timerService[K]) len() int { return s.n }

// live yields the pending timers of every bucket.
func (s *timerService[K]) live(yield func(id timerID[K], t *bucketTimer[K])) {
	for d := range s.queues {
		for at, b := range s.queues[d].All() {
			for i := b.X.next; i < b.Timers.Len(); i++ {
				if t := b.Timers.At(i); !t.dead {
					yield(timerID[K]{at: at, key: t.key, d: TimeDomain(d)}, t)
				}
			}
		}
	}
}

func (s *timerService[K]) pending(key K) []Timer {
	var out []Timer
	s.live(func(id timerID[K], _ *bucketTimer[K]) {
		if id.key == key {
			out = append(out, Timer{Time: timeapi.Time(id.at), Domain: id.d})
		}
	})
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
//	         seq     uvarint, the registration order of the timer's time domain
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

// snapshot encodes the live timers of the key groups in r. The blobs share
// no memory with the service. It runs in the task, at the barrier: the
// timers are collected per key group (timerq.PerKeyGroup), domain by
// domain and bucket by bucket in time order, which sorts them as the
// format wants without sorting the timers: within a key group, a bucket's
// timers are in registration order, even in a bucket a restore left out
// of order (a restore registers each key group's timers in order, and
// later registrations take higher numbers).
func (s *timerService[K]) snapshot(r statebackend.KeyGroupRange, codec *keycodec.Codec[K]) (map[int][]byte, error) {
	if s.n == 0 {
		return nil, nil
	}
	qs := []*timerq.Queue[bucketTimer[K], bucketState[K]]{&s.queues[0].Queue, &s.queues[1].Queue}
	groups := timerq.PerKeyGroup(qs, r.Start, r.Len(), func(d int, at int64, b *timerBucket[K], add func(int, snapTimer[K])) {
		for i := b.X.next; i < b.Timers.Len(); i++ {
			if t := b.Timers.At(i); !t.dead {
				add(int(t.kg), snapTimer[K]{id: timerID[K]{at: at, key: t.key, d: TimeDomain(d)}, seq: t.seq})
			}
		}
	})
	out := make(map[int][]byte)
	var keys []K
	for i, ts := range groups {
		if len(ts) == 0 {
			continue
		}
		kg := r.Start + i
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
		s.insert(e.d, e.at, keys[i], kg, e.seq)
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
