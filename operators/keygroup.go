package operators

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/weirstream/weir/statebackend"
)

// KeyGroupOf maps a key hash to its key group.
func KeyGroupOf(hash uint64, maxParallelism int) int { return int(hash % uint64(maxParallelism)) }

// SubtaskOf returns the subtask of p that owns key group kg.
func SubtaskOf(kg, maxParallelism, p int) int { return kg * p / maxParallelism }

// KeyGroupRangeFor returns the key groups owned by subtask of p: exactly the
// kg with SubtaskOf(kg, maxParallelism, p) == subtask.
func KeyGroupRangeFor(subtask, maxParallelism, p int) statebackend.KeyGroupRange {
	return statebackend.KeyGroupRange{
		Start: (subtask*maxParallelism + p - 1) / p,
		End:   ((subtask+1)*maxParallelism + p - 1) / p,
	}
}

// Hasher is implemented by key types that hash themselves. The hash must be
// deterministic across processes: checkpoints store state by key group.
type Hasher interface {
	Hash64() uint64
}

// HashFunc returns a deterministic hash function for K, chosen once: keys of
// integer, float, bool and string kinds (named types included) are hashed
// from their bytes with xxhash without boxing; keys implementing Hasher use
// it (a Hasher larger than a word is boxed per call); structs and arrays of
// those kinds are encoded field by field into a stack buffer, without
// reflection; any other comparable type is encoded with reflection.
func HashFunc[K comparable]() func(K) uint64 {
	var zero K
	if _, ok := any(zero).(Hasher); ok {
		return func(k K) uint64 { return any(k).(Hasher).Hash64() }
	}
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.String:
		return func(k K) uint64 { return xxhash.Sum64String(*(*string)(unsafe.Pointer(&k))) }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Bool:
		return intHash[K](t)
	}
	if t.Kind() == reflect.Struct || t.Kind() == reflect.Array {
		if leaves, ok := flatLeaves(t, 0, nil); ok {
			return leafHash[K](leaves)
		}
	}
	return func(k K) uint64 {
		var buf []byte
		buf = appendValue(buf, reflect.ValueOf(k))
		return xxhash.Sum64(buf)
	}
}

// leaf is a scalar field of a struct or array key, at offset off.
type leaf struct {
	off  uintptr
	kind reflect.Kind
	size uintptr
}

// flatLeaves lists the scalar fields of t in appendValue's order, or
// reports false when t holds a kind leafHash does not encode.
func flatLeaves(t reflect.Type, base uintptr, out []leaf) ([]leaf, bool) {
	switch k := t.Kind(); k {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return append(out, leaf{off: base, kind: k, size: t.Size()}), true
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			var ok bool
			if out, ok = flatLeaves(f.Type, base+f.Offset, out); !ok {
				return nil, false
			}
		}
		return out, true
	case reflect.Array:
		if t.Len() > 64 {
			return nil, false
		}
		for i := range t.Len() {
			var ok bool
			if out, ok = flatLeaves(t.Elem(), base+uintptr(i)*t.Elem().Size(), out); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// leafHash hashes a struct or array key without reflection or boxing: it
// writes the bytes appendValue would into a stack buffer, so the hash (and
// the key group of checkpointed state) is the reflective one.
func leafHash[K comparable](leaves []leaf) func(K) uint64 {
	return func(k K) uint64 {
		var arr [128]byte
		buf := arr[:0]
		p := unsafe.Pointer(&k)
		for _, l := range leaves {
			q := unsafe.Add(p, l.off)
			switch l.kind {
			case reflect.String:
				s := *(*string)(q)
				buf = binary.AppendUvarint(buf, uint64(len(s)))
				buf = append(buf, s...)
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				var v int64
				switch l.size {
				case 8:
					v = *(*int64)(q)
				case 4:
					v = int64(*(*int32)(q))
				case 2:
					v = int64(*(*int16)(q))
				default:
					v = int64(*(*int8)(q))
				}
				buf = binary.AppendVarint(buf, v)
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				var v uint64
				switch l.size {
				case 8:
					v = *(*uint64)(q)
				case 4:
					v = uint64(*(*uint32)(q))
				case 2:
					v = uint64(*(*uint16)(q))
				default:
					v = uint64(*(*uint8)(q))
				}
				buf = binary.AppendUvarint(buf, v)
			case reflect.Float64:
				buf = binary.LittleEndian.AppendUint64(buf, floatBits(*(*float64)(q)))
			case reflect.Float32:
				buf = binary.LittleEndian.AppendUint64(buf, floatBits(float64(*(*float32)(q))))
			case reflect.Bool:
				b := byte(0)
				if *(*bool)(q) {
					b = 1
				}
				buf = append(buf, b)
			}
		}
		return xxhash.Sum64(buf)
	}
}

func intHash[K comparable](t reflect.Type) func(K) uint64 {
	k := t.Kind()
	signed := k >= reflect.Int && k <= reflect.Int64
	switch {
	case k == reflect.Float64:
		return func(k K) uint64 { return hash8(floatBits(*(*float64)(unsafe.Pointer(&k)))) }
	case k == reflect.Float32:
		return func(k K) uint64 { return hash8(floatBits(float64(*(*float32)(unsafe.Pointer(&k))))) }
	case t.Size() == 8:
		return func(k K) uint64 { return hash8(*(*uint64)(unsafe.Pointer(&k))) }
	case t.Size() == 4 && signed:
		return func(k K) uint64 { return hash8(uint64(int64(*(*int32)(unsafe.Pointer(&k))))) }
	case t.Size() == 4:
		return func(k K) uint64 { return hash8(uint64(*(*uint32)(unsafe.Pointer(&k)))) }
	case t.Size() == 2 && signed:
		return func(k K) uint64 { return hash8(uint64(int64(*(*int16)(unsafe.Pointer(&k))))) }
	case t.Size() == 2:
		return func(k K) uint64 { return hash8(uint64(*(*uint16)(unsafe.Pointer(&k)))) }
	case signed:
		return func(k K) uint64 { return hash8(uint64(int64(*(*int8)(unsafe.Pointer(&k))))) }
	default: // uint8 and bool: one byte
		return func(k K) uint64 { return hash8(uint64(*(*uint8)(unsafe.Pointer(&k)))) }
	}
}

func floatBits(f float64) uint64 {
	if f == 0 { // +0 and -0 are equal keys
		return 0
	}
	return math.Float64bits(f)
}

// XXH64 primes.
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// hash8 is XXH64 (seed 0) of the 8 little-endian bytes of v, computed
// inline: the same value as xxhash.Sum64 of those bytes, without the call.
func hash8(v uint64) uint64 {
	k := v * prime2
	k = bits.RotateLeft64(k, 31) * prime1
	h := (prime5 + 8) ^ k
	h = bits.RotateLeft64(h, 27)*prime1 + prime4
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

// appendValue encodes v deterministically: equal keys give equal bytes.
func appendValue(buf []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		return append(buf, v.String()...)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(buf, v.Uint())
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(buf, floatBits(v.Float()))
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 1)
		}
		return append(buf, 0)
	case reflect.Struct:
		for i := range v.NumField() {
			buf = appendValue(buf, v.Field(i))
		}
		return buf
	case reflect.Array:
		for i := range v.Len() {
			buf = appendValue(buf, v.Index(i))
		}
		return buf
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		buf = binary.LittleEndian.AppendUint64(buf, floatBits(real(c)))
		return binary.LittleEndian.AppendUint64(buf, floatBits(imag(c)))
	}
	// Pointers, channels and interfaces have no stable bytes across
	// processes; this is a programming error caught at job build time by
	// CheckKeyType.
	panic(fmt.Sprintf("weir/operators: cannot hash key kind %s", v.Kind()))
}

// CheckKeyType reports an error for key types that cannot be hashed
// deterministically (pointers, channels, interfaces, funcs).
func CheckKeyType[K comparable]() error {
	var zero K
	if _, ok := any(zero).(Hasher); ok {
		return nil
	}
	return checkType(reflect.TypeFor[K]())
}

func checkType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Pointer, reflect.Chan, reflect.Interface, reflect.UnsafePointer, reflect.Func, reflect.Map, reflect.Slice:
		return fmt.Errorf("weir/operators: key type %s has no deterministic hash (kind %s); implement operators.Hasher", t, t.Kind())
	case reflect.Struct:
		for i := range t.NumField() {
			if err := checkType(t.Field(i).Type); err != nil {
				return err
			}
		}
	case reflect.Array:
		return checkType(t.Elem())
	}
	return nil
}
