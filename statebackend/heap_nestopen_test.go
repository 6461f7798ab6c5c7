package statebackend

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
)

// nsModel is the contents of a namespaced table: key group -> key ->
// namespace -> value.
type nsModel map[int]map[int64]map[int64]string

func (m nsModel) clone() nsModel {
	c := nsModel{}
	for kg, keys := range m {
		c[kg] = map[int64]map[int64]string{}
		for k, nss := range keys {
			c[kg][k] = map[int64]string{}
			for ns, v := range nss {
				c[kg][k][ns] = v
			}
		}
	}
	return c
}

// nsContents reads key group kg of a view or, through Namespaces, of the
// table (keys below maxKey).
func nsContents(each func(fn func(key, ns, value any) bool)) map[int64]map[int64]string {
	got := map[int64]map[int64]string{}
	each(func(key, ns, value any) bool {
		k := key.(int64)
		if got[k] == nil {
			got[k] = map[int64]string{}
		}
		got[k][ns.(int64)] = value.(string)
		return true
	})
	return got
}

func sameNS(got, want map[int64]map[int64]string) error {
	n := 0
	for k, nss := range want {
		for ns, v := range nss {
			if got[k][ns] != v {
				return fmt.Errorf("key %d namespace %d: %q, want %q", k, ns, got[k][ns], v)
			}
			n++
		}
	}
	for k, nss := range got {
		for ns := range nss {
			if _, ok := want[k][ns]; !ok {
				return fmt.Errorf("key %d namespace %d: present, want absent", k, ns)
			}
			n--
		}
	}
	if n != 0 {
		return fmt.Errorf("%d entries too few", -n)
	}
	return nil
}

// TestNestOpenRandom runs random Put, Ptr, Delete and Get with up to four
// namespaces per key on a nested open table, with up to three live views,
// against a model, and checks the table's invariants as it goes: no key
// without a namespace or with one twice, the counts, and every view
// unchanged by the writes after it (the slices of further namespaces are
// shared with views until written).
func TestNestOpenRandom(t *testing.T) {
	tab := newNestOpenTable[int64, int64, string](testInfo, keyInt)
	testNestRandom(t, tab, func(kg int) { tab.check(tab.t.index(kg)) })
}

// nsRandomTable is what testNestRandom drives: a nested open table or a
// namespaced packed one.
type nsRandomTable interface {
	Table[int64, int64, string]
	SnapshotTable
}

// testNestRandom runs random operations, snapshots and releases on a
// namespaced table and compares it, and every live view, with a model;
// check(kg) panics unless key group kg of tab is well formed. Without
// Pointers, Ptr is a Get, and a Put if the entry exists or is created.
func testNestRandom(t *testing.T, tab nsRandomTable, check func(kg int)) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 7))
	m := nsModel{}
	type liveView struct {
		v    TableView
		want nsModel
	}
	var views []liveView
	defer func() {
		for _, v := range views {
			v.v.Release()
		}
	}()
	checkViews := func(op int) {
		for _, lv := range views {
			for kg := lv.v.Range().Start; kg < lv.v.Range().End; kg++ {
				got := nsContents(func(fn func(key, ns, value any) bool) { lv.v.ForEach(kg, fn) })
				if err := sameNS(got, lv.want[kg]); err != nil {
					t.Fatalf("op %d: view of key group %d: %v", op, kg, err)
				}
				n := 0
				for _, nss := range lv.want[kg] {
					n += len(nss)
				}
				if lv.v.Len(kg) != n {
					t.Fatalf("op %d: view of key group %d: Len %d, want %d", op, kg, lv.v.Len(kg), n)
				}
			}
		}
	}
	for op := range 20_000 {
		kg := 4 + rng.IntN(2)
		k, ns := rng.Int64N(30+int64(op)/100), rng.Int64N(4)
		v := fmt.Sprint(rng.IntN(1000))
		if m[kg] == nil {
			m[kg] = map[int64]map[int64]string{}
		}
		switch x := rng.IntN(100); {
		case x < 30:
			tab.Put(kg, k, ns, v)
			if m[kg][k] == nil {
				m[kg][k] = map[int64]string{}
			}
			m[kg][k][ns] = v
		case x < 55:
			pt, ok := tab.(Pointers[int64, int64, string])
			if !ok {
				got, found := tab.Get(kg, k, ns)
				want, exists := m[kg][k][ns]
				if found != exists || got != want {
					t.Fatalf("op %d: Get(%d, %d, %d) = %q, %t; want %q, %t", op, kg, k, ns, got, found, want, exists)
				}
				if exists || x < 45 {
					tab.Put(kg, k, ns, v)
					if m[kg][k] == nil {
						m[kg][k] = map[int64]string{}
					}
					m[kg][k][ns] = v
				}
				break
			}
			p, found := pt.Ptr(kg, k, ns, x < 45)
			_, want := m[kg][k][ns]
			if found != want || (p == nil) != (x >= 45 && !want) {
				t.Fatalf("op %d: Ptr(%d, %d, %d, %t): found %t, nil %t; model has it: %t", op, kg, k, ns, x < 45, found, p == nil, want)
			}
			if p != nil {
				if found && *p != m[kg][k][ns] {
					t.Fatalf("op %d: Ptr(%d, %d, %d) = %q, want %q", op, kg, k, ns, *p, m[kg][k][ns])
				}
				*p = v
				if m[kg][k] == nil {
					m[kg][k] = map[int64]string{}
				}
				m[kg][k][ns] = v
			}
		case x < 80:
			tab.Delete(kg, k, ns)
			if delete(m[kg][k], ns); len(m[kg][k]) == 0 {
				delete(m[kg], k)
			}
		case x < 92:
			got, ok := tab.Get(kg, k, ns)
			want, wok := m[kg][k][ns]
			if got != want || ok != wok {
				t.Fatalf("op %d: Get(%d, %d, %d) = %q, %t; want %q, %t", op, kg, k, ns, got, ok, want, wok)
			}
		case x < 96:
			if len(views) < 3 {
				views = append(views, liveView{tab.SnapshotRange(KeyGroupRange{Start: 4, End: 6}), m.clone()})
			}
		default:
			if len(views) > 0 {
				checkViews(op)
				views[0].v.Release()
				views = views[1:]
			}
		}
		if op%100 == 0 {
			checkViews(op)
			for kg := 4; kg < 6; kg++ {
				check(kg)
				got := map[int64]map[int64]string{}
				for k := range m[kg] {
					tab.Namespaces(kg, k, func(ns int64, v string) bool {
						if got[k] == nil {
							got[k] = map[int64]string{}
						}
						got[k][ns] = v
						return true
					})
				}
				if err := sameNS(got, m[kg]); err != nil {
					t.Fatalf("op %d: key group %d: %v", op, kg, err)
				}
				n := 0
				for _, nss := range m[kg] {
					n += len(nss)
				}
				if tab.Len(kg) != n {
					t.Fatalf("op %d: Len(%d) = %d, want %d", op, kg, tab.Len(kg), n)
				}
			}
		}
	}
}

// TestNestOpenMoreCopyOnWrite checks that a key's further namespaces are
// cloned on the first write after a snapshot, and not again.
func TestNestOpenMoreCopyOnWrite(t *testing.T) {
	tab := newNestOpenTable[int64, int64, string](testInfo, keyInt)
	for ns := range int64(3) {
		tab.Put(5, 1, ns, fmt.Sprint("v", ns))
	}
	l := func() *nsList[int64, string] {
		g := &tab.t.groups[tab.t.index(5)]
		return &g.e[g.find(1, tab.t.hash(1))].val
	}
	shared := l().more
	v := tab.SnapshotRange(KeyGroupRange{Start: 5, End: 6})
	defer v.Release()
	p, _ := tab.Ptr(5, 1, 2, false)
	*p = "new"
	if &l().more[0] == &shared[0] {
		t.Fatal("a write after the snapshot went into the shared slice")
	}
	if shared[0].v != "v1" || shared[1].v != "v2" {
		t.Fatalf("the view's slice changed: %+v", shared)
	}
	own := l().more
	tab.Delete(5, 1, 0) // the first namespace: the last of the slice moves in
	if &l().more[0] != &own[0] {
		t.Error("a second write after the snapshot cloned the slice again")
	}
	got := nsContents(func(fn func(key, ns, value any) bool) { v.ForEach(5, fn) })
	if err := sameNS(got, map[int64]map[int64]string{1: {0: "v0", 1: "v1", 2: "v2"}}); err != nil {
		t.Errorf("view: %v", err)
	}
	if s, _ := tab.Get(5, 1, 2); s != "new" || tab.Len(5) != 2 {
		t.Errorf("after the writes: namespace 2 = %q, Len %d; want new, 2", s, tab.Len(5))
	}
}
