package operators

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/weirstream/weir/internal/testseed"
)

type leafInner struct {
	F  float32
	OK bool
	U8 uint8
}

type leafKey struct {
	A   int64
	S   string
	I16 int16
	In  leafInner
	Arr [3]uint32
	G   float64
	N   int
}

type pairKey struct{ Bidder, Auction int64 }

func reflectHash[K comparable](k K) uint64 { return xxhash.Sum64(appendValue(nil, reflect.ValueOf(k))) }

// TestLeafHashMatchesReflection: the reflection-free hash of struct and
// array keys gives the reflective encoding's hash (checkpointed key groups
// stay where they were), for random values, long strings included, and
// without allocating.
func TestLeafHashMatchesReflection(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 7))
	h := HashFunc[leafKey]()
	for i := range 5000 {
		k := leafKey{
			A: rnd.Int64() - rnd.Int64(), S: strings.Repeat("x", rnd.IntN(300)), I16: int16(rnd.Uint32()),
			In:  leafInner{F: rnd.Float32() - 0.5, OK: rnd.IntN(2) == 0, U8: uint8(rnd.Uint32())},
			Arr: [3]uint32{rnd.Uint32(), rnd.Uint32(), 0}, G: rnd.NormFloat64(), N: -i,
		}
		if got, want := h(k), reflectHash(k); got != want {
			t.Fatalf("%+v: hash %x, reflective %x", k, got, want)
		}
	}
	if got, want := HashFunc[leafKey]()(leafKey{G: negZero()}), HashFunc[leafKey]()(leafKey{}); got != want {
		t.Error("-0 and +0 hash differently")
	}
	hp := HashFunc[pairKey]()
	ha := HashFunc[[2]int64]()
	for range 1000 {
		k := pairKey{rnd.Int64(), rnd.Int64()}
		if hp(k) != reflectHash(k) || ha([2]int64{k.Bidder, k.Auction}) != reflectHash([2]int64{k.Bidder, k.Auction}) {
			t.Fatalf("%+v: leaf and reflective hashes differ", k)
		}
	}
	k := pairKey{1, 2}
	if n := testing.AllocsPerRun(100, func() { k.Bidder++; _ = hp(k) }); n != 0 {
		t.Errorf("hashing a struct key allocates %.1f times", n)
	}
}

func negZero() float64 { z := 0.0; return -z }
