package keycodec_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/keycodec"
)

type named string

type composite struct {
	A int8
	b uint16
	_ int32
	S named
	F [2]float32
	C complex128
	T bool
}

// pointerKey has no plain encoding (a Hasher key may hold a pointer).
type pointerKey struct {
	ID   int
	Name *string
}

func roundTrip[K comparable](t *testing.T, keys []K, wantPlain bool) {
	t.Helper()
	c := keycodec.New[K]()
	if c.Plain() != wantPlain {
		t.Fatalf("%T: Plain() = %v, want %v", keys, c.Plain(), wantPlain)
	}
	enc, err := c.Append([]byte{0xAB}, keys)
	if err != nil {
		t.Fatal(err)
	}
	if enc[0] != 0xAB {
		t.Fatalf("%T: Append changed the prefix", keys)
	}
	got, err := c.Decode(enc[1:], len(keys))
	if err != nil {
		t.Fatalf("%T: %v", keys, err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%T: decoded %d keys, want %d", keys, len(got), len(keys))
	}
	for i := range keys {
		if got[i] != keys[i] {
			t.Fatalf("%T: key %d = %v, want %v", keys, i, got[i], keys[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	roundTrip(t, []int64{0, -1, 1, math.MinInt64, math.MaxInt64, rng.Int64()}, true)
	roundTrip(t, []int8{math.MinInt8, -1, 0, math.MaxInt8}, true)
	roundTrip(t, []int16{math.MinInt16, math.MaxInt16}, true)
	roundTrip(t, []int32{math.MinInt32, math.MaxInt32, int32(rng.Uint32())}, true)
	roundTrip(t, []int{math.MinInt, math.MaxInt, 0}, true)
	roundTrip(t, []uint8{0, 255}, true)
	roundTrip(t, []uint16{0, math.MaxUint16}, true)
	roundTrip(t, []uint32{math.MaxUint32}, true)
	roundTrip(t, []uint64{math.MaxUint64, rng.Uint64()}, true)
	roundTrip(t, []uintptr{0, 1 << 40}, true)
	roundTrip(t, []bool{true, false}, true)
	roundTrip(t, []float64{0, math.Inf(-1), math.Copysign(0, -1), rng.NormFloat64()}, true)
	roundTrip(t, []float32{1.5, -3}, true)
	roundTrip(t, []complex64{complex(1, -2)}, true)
	roundTrip(t, []string{"", "a", "héllo", string(make([]byte, 300))}, true)
	roundTrip(t, []named{"x", ""}, true)
	roundTrip(t, [][3]uint8{{1, 2, 3}}, true)
	roundTrip(t, []struct{}{{}, {}}, true)
	var cs []composite
	for range 50 {
		cs = append(cs, composite{A: int8(rng.Int()), b: uint16(rng.Int()), S: named(rune('a' + rng.IntN(26))),
			F: [2]float32{rng.Float32(), -rng.Float32()}, C: complex(rng.Float64(), rng.Float64()), T: rng.IntN(2) == 0})
	}
	roundTrip(t, cs, true)
	s := "n"
	roundTrip(t, []pointerKey{{ID: 1}, {ID: 2}}, false)
	// gob: pointers come back as new pointers, so compare what they point to
	c := keycodec.New[pointerKey]()
	enc, err := c.Append(nil, []pointerKey{{ID: 3, Name: &s}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(enc, 1)
	if err != nil || got[0].ID != 3 || got[0].Name == nil || *got[0].Name != "n" {
		t.Fatalf("gob round trip: %+v, %v", got, err)
	}
	roundTrip(t, []int64(nil), true)
}

func TestGobUnencodable(t *testing.T) {
	type hidden struct{ p *int }
	_, err := keycodec.New[hidden]().Append(nil, []hidden{{}})
	if err == nil {
		t.Fatal("encoding a key without exported fields with gob succeeded")
	}
}

func TestCorrupt(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"int8 out of range", decodeErr[int8]([]byte{0x80, 0x02}, 1)}, // varint 128
		{"uint8 out of range", decodeErr[uint8]([]byte{0x80, 0x02}, 1)},
		{"bool 2", decodeErr[bool]([]byte{2}, 1)},
		{"short string", decodeErr[string]([]byte{5, 'a'}, 1)},
		{"short float", decodeErr[float64]([]byte{1, 2, 3}, 1)},
		{"trailing bytes", decodeErr[int64]([]byte{2, 4}, 1)},
		{"too many keys", decodeErr[int64]([]byte{2}, 1000)},
		{"negative count", decodeErr[int64]([]byte{2}, -1)},
		{"truncated varint", decodeErr[int64]([]byte{0x80}, 1)},
		{"bad gob", decodeErr[pointerKey]([]byte{1, 2, 3}, 1)},
	}
	for _, c := range cases {
		if !errors.Is(c.err, keycodec.ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", c.name, c.err)
		}
	}
}

func decodeErr[K any](b []byte, n int) error {
	_, err := keycodec.New[K]().Decode(b, n)
	return err
}

func TestReader(t *testing.T) {
	b := []byte{7}
	b = append(b, 0x03)        // uvarint 3
	b = append(b, 0x03)        // varint -2
	b = append(b, 2, 'x', 'y') // count 2 of 1-byte entries
	r := keycodec.NewReader(b)
	if r.Byte() != 7 || r.Uvarint() != 3 || r.Varint() != -2 || r.Count(1) != 2 || string(r.Rest()) != "xy" || r.Err() != nil {
		t.Fatalf("reader: %v", r.Err())
	}
	r = keycodec.NewReader([]byte{5, 1})
	if n := r.Count(1); n != 0 || !errors.Is(r.Err(), keycodec.ErrCorrupt) {
		t.Fatalf("count beyond the data: %d, %v", n, r.Err())
	}
	if r.Byte() != 0 || r.Varint() != 0 || r.Uvarint() != 0 {
		t.Fatal("reads after an error return zero")
	}
}

// FuzzDecode: decoding arbitrary bytes never panics nor fails with another
// error than ErrCorrupt, and what decodes re-encodes stably (varints may
// have several encodings, so compare the second round to the first).
func FuzzDecode(f *testing.F) {
	f.Add([]byte{2, 'a', 'b', 0}, 1)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n %= 64
		check[composite](t, b, n)
		check[string](t, b, n)
		check[int32](t, b, n)
	})
}

func check[K comparable](t *testing.T, b []byte, n int) {
	c := keycodec.New[K]()
	keys, err := c.Decode(b, n)
	if err != nil {
		if !errors.Is(err, keycodec.ErrCorrupt) {
			t.Fatalf("%T: error %v is not ErrCorrupt", keys, err)
		}
		return
	}
	enc, err := c.Append(nil, keys)
	if err != nil {
		t.Fatal(err)
	}
	back, err := c.Decode(enc, len(keys))
	if err != nil {
		t.Fatalf("%T: re-decoding %v: %v", keys, keys, err)
	}
	enc2, _ := c.Append(nil, back)
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("%T: %v encodes as %x, then as %x", keys, keys, enc, enc2)
	}
}
