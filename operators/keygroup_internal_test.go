package operators

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestHash8IsXXH64: the inline hash equals the library's on random inputs.
func TestHash8IsXXH64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100_000 {
		v := r.Uint64()
		if i < 3 {
			v = uint64(i)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		if got, want := hash8(v), xxhash.Sum64(b[:]); got != want {
			t.Fatalf("hash8(%#x) = %#x, xxhash %#x", v, got, want)
		}
	}
}

func BenchmarkHashInt64(b *testing.B) {
	h := HashFunc[int64]()
	var acc uint64
	for i := range b.N {
		acc += h(int64(i))
	}
	sink = acc
}

var sink uint64
