package stream

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// timerModel is the timer service's contract, kept the plain way: a set
// of live timers with their registration numbers; the next timer due is
// the one with the least (time, number).
type timerModel struct {
	live map[timerID[int]]uint64
	seq  [2]uint64
}

func (m *timerModel) add(d TimeDomain, key, at int) {
	id := timerID[int]{at: int64(at), key: key, d: d}
	if _, ok := m.live[id]; !ok {
		m.seq[d]++
		m.live[id] = m.seq[d]
	}
}

func (m *timerModel) pop(d TimeDomain, upTo int64) (timerID[int], bool) {
	var best timerID[int]
	var bestSeq uint64
	found := false
	for id, seq := range m.live {
		if id.d == d && id.at <= upTo && (!found || id.at < best.at || id.at == best.at && seq < bestSeq) {
			best, bestSeq, found = id, seq, true
		}
	}
	if found {
		delete(m.live, best)
	}
	return best, found
}

// TestTimerServiceMatchesModel drives the bucketed timer service and the
// model with the same random registrations, deletions and firings (some
// from inside a firing, re-registering the timer that fires), over few
// and many timers per time (small buckets are searched, large ones
// indexed), with snapshot and restore into a fresh service now and then:
// both fire the same timers in the same order.
func TestTimerServiceMatchesModel(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	codec := keycodec.New[int]()
	const maxKG = 64
	kgOf := func(k int) int { return k % maxKG }
	for round := range 40 {
		keys := []int{3, 40, 3000}[round%3]
		times := []int{2, 30}[round%2]
		s := newTimerService[int](nil)
		m := &timerModel{live: map[timerID[int]]uint64{}}
		base := int64(0)
		for step := range 4000 {
			d := TimeDomain(rng.IntN(2))
			key := rng.IntN(keys)
			at := int(base) + rng.IntN(times)
			sc := &keyScope[int]{key: key, kg: kgOf(key)}
			switch r := rng.IntN(100); {
			case r < 60:
				s.add(d, sc, int64(at))
				m.add(d, key, at)
			case r < 75:
				s.remove(d, sc, int64(at))
				delete(m.live, timerID[int]{at: int64(at), key: key, d: d})
			case r < 97:
				base += int64(rng.IntN(times))
				for {
					got, ok := s.pop(d, base)
					want, wok := m.pop(d, base)
					if ok != wok || ok && (got.at != want.at || got.key != want.key || got.kg != kgOf(want.key)) {
						t.Fatalf("seed %d round %d step %d: pop(%d, %d) = %v %v, model %v %v", seed, round, step, d, base, got, ok, want, wok)
					}
					if !ok {
						break
					}
					if rng.IntN(4) == 0 { // OnTimer registers its own time again
						s.add(d, &keyScope[int]{key: got.key, kg: got.kg}, got.at)
						m.add(d, got.key, int(got.at))
					}
				}
			default:
				snap, err := s.snapshot(statebackend.KeyGroupRange{Start: 0, End: maxKG}, codec)
				if err != nil {
					t.Fatal(err)
				}
				part := statebackend.KeyGroupRange{Start: 5, End: 40}
				for r, got := range map[statebackend.KeyGroupRange]map[int][]byte{{Start: 0, End: maxKG}: snap, part: must(s.snapshot(part, codec))} {
					if want := snapshotSorted(t, s, r, codec); !maps.EqualFunc(got, want, slices.Equal) {
						t.Fatalf("seed %d round %d step %d: snapshot of %v differs from every timer sorted", seed, round, step, r)
					}
				}
				s = newTimerService[int](nil)
				kgs := make([]int, 0, len(snap))
				for kg := range snap {
					kgs = append(kgs, kg)
				}
				rng.Shuffle(len(kgs), func(i, j int) { kgs[i], kgs[j] = kgs[j], kgs[i] })
				for _, kg := range kgs {
					if err := s.restore(kg, snap[kg], codec, kgOf); err != nil {
						t.Fatal(err)
					}
				}
			}
			if s.len() != len(m.live) {
				t.Fatalf("seed %d round %d step %d: %d timers, model %d", seed, round, step, s.len(), len(m.live))
			}
		}
		for key := range min(keys, 50) {
			var want []Timer
			for id := range m.live {
				if id.key == key {
					want = append(want, Timer{Time: timeapi.Time(id.at), Domain: id.d})
				}
			}
			slices.SortFunc(want, func(a, b Timer) int {
				if c := a.Time.Compare(b.Time); c != 0 {
					return c
				}
				return cmp.Compare(a.Domain, b.Domain)
			})
			if got := s.pending(key); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("seed %d round %d: pending(%d) = %v, model %v", seed, round, key, got, want)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// snapshotSorted is the timer snapshot the plain way: every live timer of
// r, sorted by domain, time and registration number, encoded per key
// group as timerService.snapshot documents it.
func snapshotSorted(t *testing.T, s *timerService[int], r statebackend.KeyGroupRange, codec *keycodec.Codec[int]) map[int][]byte {
	t.Helper()
	groups := map[int][]snapTimer[int]{}
	s.live(func(id timerID[int], tm *bucketTimer[int]) {
		if kg := int(tm.kg); r.Contains(kg) {
			groups[kg] = append(groups[kg], snapTimer[int]{id: id, seq: tm.seq})
		}
	})
	out := map[int][]byte{}
	for kg, ts := range groups {
		slices.SortFunc(ts, cmpSnapTimer[int])
		b := binary.AppendUvarint([]byte{timerFormat}, uint64(len(ts)))
		var keys []int
		prev := int64(0)
		for _, x := range ts {
			b = append(b, byte(x.id.d))
			b = binary.AppendVarint(b, x.id.at-prev)
			b = binary.AppendUvarint(b, x.seq)
			prev = x.id.at
			keys = append(keys, x.id.key)
		}
		var err error
		if out[kg], err = codec.Append(b, keys); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// BenchmarkTimerSnapshot snapshots 100k timers of 100k keys at 20k
// distinct event times and one processing time over 128 key groups, the
// part of a checkpoint a keyed process function's task does itself.
func BenchmarkTimerSnapshot(b *testing.B) {
	const n = 100_000
	s := newTimerService[int64](nil)
	for k := range int64(n) {
		sc := &keyScope[int64]{key: k * 7919, kg: int(k % 128)}
		s.add(EventTime, sc, k/5)
		if k%2 == 0 {
			s.add(ProcessingTime, sc, 1<<40)
		}
	}
	codec := keycodec.New[int64]()
	r := statebackend.KeyGroupRange{Start: 0, End: 128}
	b.ReportAllocs()
	for b.Loop() {
		if kgs, err := s.snapshot(r, codec); err != nil || len(kgs) != 128 {
			b.Fatalf("%d key groups, %v", len(kgs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(n*3/2), "ns/timer")
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
