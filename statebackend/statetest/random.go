package statetest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/weirstream/weir/statebackend"
)

const (
	randomOps  = 4000 // operations per run
	randomKeys = 24   // distinct keys, so that operations meet
	randomLive = 3    // most snapshots live at once
)

// randomRun is the state of one random operation sequence.
type randomRun[K, N comparable, V any] struct {
	c     tcase[K, N, V]
	b     statebackend.Backend
	tab   statebackend.Table[K, N, V]
	pt    statebackend.Pointers[K, N, V] // nil without Pointers
	m     model[K, N, V]
	rng   *rand.Rand
	views []view[K, N, V]
}

// testRandom runs random operations, snapshots and releases against the
// table and a plain map, comparing every result and, every few hundred
// operations and at the end, the full contents.
func (c tcase[K, N, V]) testRandom(t *testing.T, f statebackend.Factory) {
	s := seed(t)
	b := newBackend(t, f)
	r := &randomRun[K, N, V]{c: c, b: b, tab: c.open(t, b, "random"), m: model[K, N, V]{}, rng: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
	r.pt, _ = r.tab.(statebackend.Pointers[K, N, V])
	defer func() {
		for _, v := range r.views {
			v.s.Release()
		}
	}()
	for op := range randomOps {
		if err := r.step(t); err != nil {
			t.Fatalf("op %d (seed %d): %v", op, s, err)
		}
		if op%500 == 499 {
			if err := r.checkAll(); err != nil {
				t.Fatalf("after op %d (seed %d): %v", op, s, err)
			}
		}
	}
	if err := r.checkAll(); err != nil {
		t.Fatalf("at the end (seed %d): %v", s, err)
	}
}

// step performs one random operation and checks its result.
func (r *randomRun[K, N, V]) step(t testing.TB) error {
	kgs := info.KeyGroups
	kg := kgs.Start + r.rng.IntN(kgs.Len())
	k, n := r.c.key(r.rng.IntN(randomKeys)), r.c.ns(r.rng.IntN(r.c.nns))
	v := r.c.val(r.rng.IntN(1 << 20))
	switch x := r.rng.IntN(100); {
	case x < 30:
		r.tab.Put(kg, k, n, v)
		r.m.put(kg, k, n, v)
	case x < 45:
		r.tab.Delete(kg, k, n)
		r.m.del(kg, k, n)
	case x < 60:
		got, ok := r.tab.Get(kg, k, n)
		want, wok := r.m.get(kg, k, n)
		if ok != wok || !reflect.DeepEqual(got, want) {
			return fmt.Errorf("Get(%d, %+v, %+v) = %+v, %t; want %+v, %t", kg, k, n, got, ok, want, wok)
		}
	case x < 80:
		return r.ptr(kg, k, n, v)
	case x < 88:
		return r.namespaces(kg, k)
	case x < 92:
		if got, want := r.tab.Len(kg), len(r.m[kg]); got != want {
			return fmt.Errorf("Len(%d) = %d, want %d", kg, got, want)
		}
	case x < 96:
		if len(r.views) < randomLive {
			r.views = append(r.views, r.c.take(t, r.b, r.randomRange(), r.m))
		}
	default:
		return r.checkRelease()
	}
	return nil
}

// ptr updates (kg, k, n) through Ptr (Put without Pointers), with create
// chosen at random.
func (r *randomRun[K, N, V]) ptr(kg int, k K, n N, v V) error {
	if r.pt == nil {
		r.tab.Put(kg, k, n, v)
		r.m.put(kg, k, n, v)
		return nil
	}
	create := r.rng.IntN(2) == 0
	want, exists := r.m.get(kg, k, n)
	p, found := r.pt.Ptr(kg, k, n, create)
	switch {
	case found != exists:
		return fmt.Errorf("Ptr(%d, %+v, %+v, %t) found = %t, want %t", kg, k, n, create, found, exists)
	case !exists && !create:
		if p != nil {
			return fmt.Errorf("Ptr(%d, %+v, %+v, false) of a missing entry = %p, want nil", kg, k, n, p)
		}
		return nil
	case p == nil:
		return fmt.Errorf("Ptr(%d, %+v, %+v, %t) = nil", kg, k, n, create)
	case !reflect.DeepEqual(*p, want): // want is the zero value if !exists
		return fmt.Errorf("*Ptr(%d, %+v, %+v, %t) = %+v, want %+v", kg, k, n, create, *p, want)
	}
	*p = v
	r.m.put(kg, k, n, v)
	return nil
}

// namespaces compares Namespaces(kg, k) with the model.
func (r *randomRun[K, N, V]) namespaces(kg int, k K) error {
	got, err := collectNamespaces(r.tab, kg, k)
	if err != nil {
		return err
	}
	want := make(map[N]V)
	for e, v := range r.m[kg] {
		if e.key == k {
			want[e.ns] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("Namespaces(%d, %+v) = %+v, want %+v", kg, k, got, want)
	}
	return nil
}

// randomRange returns a random non-empty sub-range of the key groups.
func (r *randomRun[K, N, V]) randomRange() statebackend.KeyGroupRange {
	kgs := info.KeyGroups
	a, b := r.rng.IntN(kgs.Len()), r.rng.IntN(kgs.Len())
	if a > b {
		a, b = b, a
	}
	return statebackend.KeyGroupRange{Start: kgs.Start + a, End: kgs.Start + b + 1}
}

// checkRelease checks a random live snapshot and releases it.
func (r *randomRun[K, N, V]) checkRelease() error {
	if len(r.views) == 0 {
		return nil
	}
	i := r.rng.IntN(len(r.views))
	v := r.views[i]
	r.views = append(r.views[:i], r.views[i+1:]...)
	defer v.s.Release()
	if err := checkView(v.s.Table("random"), v.r, v.want); err != nil {
		return fmt.Errorf("snapshot %v: %w", v.r, err)
	}
	return nil
}

// checkAll compares the whole table and every live snapshot.
func (r *randomRun[K, N, V]) checkAll() error {
	if err := r.c.checkTable(r.tab, r.m, randomKeys); err != nil {
		return err
	}
	for _, v := range r.views {
		if err := checkView(v.s.Table("random"), v.r, v.want); err != nil {
			return fmt.Errorf("snapshot %v: %w", v.r, err)
		}
	}
	return nil
}
