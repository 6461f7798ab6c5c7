package statebackend

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unsafe"
)

// kvCodec encodes the values of one Go type to bytes for a byte backend.
// It is built once per type by plainCodec or valueCodec from the type's
// structure and works on unsafe pointers to values of the type, so that
// encoding costs no reflection and no allocation per value.
//
// The plain encoding is deterministic (equal values give equal bytes, in
// every process, which keys need) and self-delimiting (no encoding is a
// prefix of another, so a key's bytes are a prefix of exactly its own
// entries):
//
//   - bool: one byte; integers: big-endian, as wide as the kind (int, uint
//     and uintptr: 8 bytes), signed ones with the sign bit flipped, so that
//     bytes sort like numbers; floats: their bits, transformed to sort like
//     numbers, -0 as +0 (equal keys must give equal bytes);
//   - strings: uvarint length, then the bytes;
//   - time.Time: its MarshalBinary form (15 or 16 bytes, the first says
//     which): seconds, nanoseconds and zone offset. The monotonic reading
//     and the zone's name are not kept: a decoded time is in UTC, Local,
//     or a fixed zone of its offset, and Equal to the encoded one;
//   - arrays: the elements; structs: the fields in order, unexported ones
//     included, blank ones skipped (they take no part in ==);
//   - slices (values only): uvarint length+1 (0 for nil), then the elements.
//
// Maps, pointers, interfaces, channels and functions have no plain
// encoding: a key or namespace type containing one cannot be stored in a
// byte backend, a value type containing one is encoded with encoding/gob.
type kvCodec struct {
	t      reflect.Type
	schema string
	min    int // fewest bytes a plain encoding takes
	enc    func(dst []byte, p unsafe.Pointer) ([]byte, error)
	dec    func(src []byte, p unsafe.Pointer) ([]byte, error) // returns the rest of src
}

// errShort is returned when an encoding ends early.
var errShort = errors.New("weir/statebackend: encoded value too short")

// codecMode says what a plain codec is built for.
type codecMode struct {
	values bool // a value type: slices are allowed, which keys cannot contain anyway
	// views makes decoded strings point into the bytes decoded instead of
	// copying them: for bytes that are never written again (packedTable).
	views bool
}

var timeType = reflect.TypeFor[time.Time]()

// plainCodec returns the plain codec of t, or an error naming the part of t
// that has none.
func plainCodec(t reflect.Type, m codecMode) (*kvCodec, error) {
	c := &kvCodec{t: t}
	if t == timeType {
		c.schema, c.min, c.enc, c.dec = "time", timeBinaryLen, encTime, decTime
		return c, nil
	}
	switch k := t.Kind(); k {
	case reflect.Bool:
		c.schema, c.min, c.enc, c.dec = "bool", 1, encBool, decBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.schema, c.min = k.String(), int(t.Size())
		if k == reflect.Int || k == reflect.Uint || k == reflect.Uintptr {
			c.min = 8 // whatever the machine
		}
		c.enc, c.dec = intCodec(k)
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		c.schema, c.min = k.String(), int(t.Size())
		c.enc, c.dec = floatCodec(k)
	case reflect.String:
		c.schema, c.min, c.enc, c.dec = "string", 1, encString, decString
		if m.views {
			c.dec = decStringView
		}
	case reflect.Array:
		return arrayCodec(t, m)
	case reflect.Struct:
		return structCodec(t, m)
	case reflect.Slice:
		if !m.values {
			return nil, fmt.Errorf("%s has no key encoding", t)
		}
		return sliceCodec(t, m)
	default:
		return nil, fmt.Errorf("%s (a %s) has no plain encoding", t, k)
	}
	return c, nil
}

func encBool(dst []byte, p unsafe.Pointer) ([]byte, error) {
	if *(*bool)(p) {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

func decBool(src []byte, p unsafe.Pointer) ([]byte, error) {
	if len(src) < 1 || src[0] > 1 {
		return nil, errors.New("weir/statebackend: invalid encoded bool")
	}
	*(*bool)(p) = src[0] == 1
	return src[1:], nil
}

// intCodec returns the big-endian codec of an integer kind.
func intCodec(k reflect.Kind) (func([]byte, unsafe.Pointer) ([]byte, error), func([]byte, unsafe.Pointer) ([]byte, error)) {
	signed := k >= reflect.Int && k <= reflect.Int64
	switch k {
	case reflect.Int8, reflect.Uint8:
		flip := uint8(0)
		if signed {
			flip = 1 << 7
		}
		return func(dst []byte, p unsafe.Pointer) ([]byte, error) { return append(dst, *(*uint8)(p)^flip), nil },
			func(src []byte, p unsafe.Pointer) ([]byte, error) {
				if len(src) < 1 {
					return nil, errShort
				}
				*(*uint8)(p) = src[0] ^ flip
				return src[1:], nil
			}
	case reflect.Int16, reflect.Uint16:
		flip := uint16(0)
		if signed {
			flip = 1 << 15
		}
		return func(dst []byte, p unsafe.Pointer) ([]byte, error) {
				return binary.BigEndian.AppendUint16(dst, *(*uint16)(p)^flip), nil
			}, func(src []byte, p unsafe.Pointer) ([]byte, error) {
				if len(src) < 2 {
					return nil, errShort
				}
				*(*uint16)(p) = binary.BigEndian.Uint16(src) ^ flip
				return src[2:], nil
			}
	case reflect.Int32, reflect.Uint32:
		flip := uint32(0)
		if signed {
			flip = 1 << 31
		}
		return func(dst []byte, p unsafe.Pointer) ([]byte, error) {
				return binary.BigEndian.AppendUint32(dst, *(*uint32)(p)^flip), nil
			}, func(src []byte, p unsafe.Pointer) ([]byte, error) {
				if len(src) < 4 {
					return nil, errShort
				}
				*(*uint32)(p) = binary.BigEndian.Uint32(src) ^ flip
				return src[4:], nil
			}
	}
	// Int, Int64, Uint, Uint64, Uintptr: 8 bytes on the wire whatever the
	// machine, so that files move between 32- and 64-bit machines.
	flip := uint64(0)
	if signed {
		flip = 1 << 63
	}
	if reflect.TypeFor[uintptr]().Size() == 4 && (k == reflect.Int || k == reflect.Uint || k == reflect.Uintptr) {
		return func(dst []byte, p unsafe.Pointer) ([]byte, error) {
				x := uint64(*(*uint32)(p))
				if k == reflect.Int {
					x = uint64(int64(*(*int32)(p)))
				}
				return binary.BigEndian.AppendUint64(dst, x^flip), nil
			}, func(src []byte, p unsafe.Pointer) ([]byte, error) {
				if len(src) < 8 {
					return nil, errShort
				}
				*(*uint32)(p) = uint32(binary.BigEndian.Uint64(src) ^ flip)
				return src[8:], nil
			}
	}
	return func(dst []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.BigEndian.AppendUint64(dst, *(*uint64)(p)^flip), nil
		}, func(src []byte, p unsafe.Pointer) ([]byte, error) {
			if len(src) < 8 {
				return nil, errShort
			}
			*(*uint64)(p) = binary.BigEndian.Uint64(src) ^ flip
			return src[8:], nil
		}
}

// sortable64 maps float bits to bits that sort like the floats.
func sortable64(b uint64) uint64 {
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// unsortable64 inverts sortable64.
func unsortable64(b uint64) uint64 {
	if b>>63 == 1 {
		return b &^ (1 << 63)
	}
	return ^b
}

// floatCodec returns the codec of a float or complex kind: each float
// (one, or two for a complex) is widened to float64 and encoded in 8 bytes
// (complex64 and float32 in 4) after sortable64.
func floatCodec(k reflect.Kind) (func([]byte, unsafe.Pointer) ([]byte, error), func([]byte, unsafe.Pointer) ([]byte, error)) {
	n, size := 1, 8
	if k == reflect.Complex64 || k == reflect.Complex128 {
		n = 2
	}
	if k == reflect.Float32 || k == reflect.Complex64 {
		size = 4
	}
	enc := func(dst []byte, p unsafe.Pointer) ([]byte, error) {
		for i := range n {
			q := unsafe.Add(p, i*size)
			if size == 4 {
				f := *(*float32)(q)
				if f == 0 {
					f = 0 // -0 as +0
				}
				dst = binary.BigEndian.AppendUint32(dst, uint32(sortable64(uint64(math.Float32bits(f))<<32)>>32))
				continue
			}
			f := *(*float64)(q)
			if f == 0 {
				f = 0
			}
			dst = binary.BigEndian.AppendUint64(dst, sortable64(math.Float64bits(f)))
		}
		return dst, nil
	}
	dec := func(src []byte, p unsafe.Pointer) ([]byte, error) {
		if len(src) < n*size {
			return nil, errShort
		}
		for i := range n {
			q := unsafe.Add(p, i*size)
			if size == 4 {
				*(*float32)(q) = math.Float32frombits(uint32(unsortable64(uint64(binary.BigEndian.Uint32(src))<<32) >> 32))
			} else {
				*(*float64)(q) = math.Float64frombits(unsortable64(binary.BigEndian.Uint64(src)))
			}
			src = src[size:]
		}
		return src, nil
	}
	return enc, dec
}

func encString(dst []byte, p unsafe.Pointer) ([]byte, error) {
	s := *(*string)(p)
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...), nil
}

func decString(src []byte, p unsafe.Pointer) ([]byte, error) {
	b, rest, err := stringBytes(src)
	*(*string)(p) = string(b)
	return rest, err
}

// decStringView is decString without the copy: the string points into src.
func decStringView(src []byte, p unsafe.Pointer) ([]byte, error) {
	b, rest, err := stringBytes(src)
	*(*string)(p) = unsafe.String(unsafe.SliceData(b), len(b))
	return rest, err
}

// stringBytes splits the encoding of a string at the front of src into its
// bytes and the rest of src.
func stringBytes(src []byte) (b, rest []byte, err error) {
	n, w := binary.Uvarint(src)
	if w <= 0 || uint64(len(src)-w) < n {
		return nil, nil, errShort
	}
	return src[w : w+int(n)], src[w+int(n):], nil
}

// timeBinaryLen is the length of time.Time's MarshalBinary form when the
// zone offset is whole minutes (version 1); version 2 adds a byte of
// seconds.
const timeBinaryLen = 15

func encTime(dst []byte, p unsafe.Pointer) ([]byte, error) {
	return (*time.Time)(p).AppendBinary(dst)
}

func decTime(src []byte, p unsafe.Pointer) ([]byte, error) {
	n := timeBinaryLen
	if len(src) > 0 && src[0] == 2 {
		n++
	}
	if len(src) < n {
		return nil, errShort
	}
	if err := (*time.Time)(p).UnmarshalBinary(src[:n]); err != nil {
		return nil, err
	}
	return src[n:], nil
}

// arrayCodec encodes the elements of an array type in order.
func arrayCodec(t reflect.Type, m codecMode) (*kvCodec, error) {
	ec, err := plainCodec(t.Elem(), m)
	if err != nil {
		return nil, err
	}
	n, size := t.Len(), int(t.Elem().Size())
	return &kvCodec{
		t:      t,
		schema: fmt.Sprintf("[%d]%s", n, ec.schema),
		min:    n * ec.min,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, error) {
			var err error
			for i := 0; i < n && err == nil; i++ {
				dst, err = ec.enc(dst, unsafe.Add(p, i*size))
			}
			return dst, err
		},
		dec: func(src []byte, p unsafe.Pointer) ([]byte, error) {
			var err error
			for i := 0; i < n && err == nil; i++ {
				src, err = ec.dec(src, unsafe.Add(p, i*size))
			}
			return src, err
		},
	}, nil
}

// structCodec encodes the non-blank fields of a struct type in order.
func structCodec(t reflect.Type, m codecMode) (*kvCodec, error) {
	type field struct {
		off uintptr
		c   *kvCodec
	}
	var fields []field
	minLen := 0
	var schema strings.Builder
	schema.WriteString("struct{")
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "_" {
			continue
		}
		fc, err := plainCodec(f.Type, m)
		if err != nil {
			return nil, fmt.Errorf("field %s of %s: %w", f.Name, t, err)
		}
		fields = append(fields, field{f.Offset, fc})
		minLen += fc.min
		if schema.Len() > len("struct{") {
			schema.WriteByte(';')
		}
		fmt.Fprintf(&schema, "%s %s", f.Name, fc.schema)
	}
	schema.WriteByte('}')
	return &kvCodec{
		t:      t,
		schema: schema.String(),
		min:    minLen,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, error) {
			var err error
			for _, f := range fields {
				if dst, err = f.c.enc(dst, unsafe.Add(p, f.off)); err != nil {
					return dst, err
				}
			}
			return dst, nil
		},
		dec: func(src []byte, p unsafe.Pointer) ([]byte, error) {
			var err error
			for _, f := range fields {
				if src, err = f.c.dec(src, unsafe.Add(p, f.off)); err != nil {
					return nil, err
				}
			}
			return src, nil
		},
	}, nil
}

// sliceCodec encodes a slice as uvarint(len+1), 0 for nil, then the
// elements, so that nil and empty slices stay apart.
func sliceCodec(t reflect.Type, m codecMode) (*kvCodec, error) {
	ec, err := plainCodec(t.Elem(), m)
	if err != nil {
		return nil, err
	}
	size := int(t.Elem().Size())
	return &kvCodec{
		t:      t,
		schema: "[]" + ec.schema,
		min:    1,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, error) {
			s := reflect.NewAt(t, p).Elem()
			if s.IsNil() {
				return append(dst, 0), nil
			}
			n := s.Len()
			dst = binary.AppendUvarint(dst, uint64(n)+1)
			base := s.UnsafePointer()
			if t.Elem().Kind() == reflect.Uint8 { // []byte and the like
				return append(dst, unsafe.Slice((*byte)(base), n)...), nil
			}
			var err error
			for i := 0; i < n && err == nil; i++ {
				dst, err = ec.enc(dst, unsafe.Add(base, i*size))
			}
			return dst, err
		},
		dec: func(src []byte, p unsafe.Pointer) ([]byte, error) {
			n1, w := binary.Uvarint(src)
			if w <= 0 {
				return nil, errShort
			}
			src = src[w:]
			if n1 == 0 {
				return src, nil // nil: *p is zero already
			}
			n := n1 - 1
			if ec.min > 0 && n > uint64(len(src)/ec.min) { // corrupt: do not allocate
				return nil, errShort
			}
			s := reflect.MakeSlice(t, int(n), int(n))
			base := s.UnsafePointer()
			if t.Elem().Kind() == reflect.Uint8 {
				src = src[copy(unsafe.Slice((*byte)(base), n), src):]
			} else {
				var err error
				for i := 0; i < int(n) && err == nil; i++ {
					src, err = ec.dec(src, unsafe.Add(base, i*size))
				}
				if err != nil {
					return nil, err
				}
			}
			reflect.NewAt(t, p).Elem().Set(s)
			return src, nil
		},
	}, nil
}

// keyCodec returns the codec of a key or namespace type: the plain one.
func keyCodec(t reflect.Type) (*kvCodec, error) {
	return plainCodec(t, codecMode{})
}

// valueCodec returns the codec of a value type. It differs from the plain
// one in three ways: it need not be self-delimiting, so a string takes its
// bytes alone; a type without a plain encoding uses encoding/gob (exported
// fields only, like the heap backend's checkpoints); and the schema of a
// gob type is "gob", since gob matches fields by name and tolerates added
// or removed ones.
func valueCodec(t reflect.Type) *kvCodec {
	if t.Kind() == reflect.String {
		return &kvCodec{
			t:      t,
			schema: "string",
			enc: func(dst []byte, p unsafe.Pointer) ([]byte, error) {
				return append(dst, *(*string)(p)...), nil
			},
			dec: func(src []byte, p unsafe.Pointer) ([]byte, error) {
				*(*string)(p) = string(src)
				return nil, nil
			},
		}
	}
	if c, err := plainCodec(t, codecMode{values: true}); err == nil {
		return c
	}
	return gobCodec(t)
}

// gobCodec encodes values with encoding/gob, one self-contained stream per
// value (type description included), which is slow and bulky next to the
// plain encoding but handles maps, pointers and interfaces (registered with
// gob.Register).
func gobCodec(t reflect.Type) *kvCodec {
	return &kvCodec{
		t:      t,
		schema: "gob",
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, error) {
			buf := bytes.NewBuffer(dst)
			if err := gob.NewEncoder(buf).EncodeValue(reflect.NewAt(t, p).Elem()); err != nil {
				return dst, fmt.Errorf("gob-encode %s (gob needs exported fields): %w", t, err)
			}
			return buf.Bytes(), nil
		},
		dec: func(src []byte, p unsafe.Pointer) ([]byte, error) {
			if err := gob.NewDecoder(bytes.NewReader(src)).DecodeValue(reflect.NewAt(t, p)); err != nil {
				return nil, fmt.Errorf("gob-decode %s: %w", t, err)
			}
			return nil, nil
		},
	}
}

// decodeAll decodes one value from all of src: trailing bytes mean the
// bytes were written for another type.
func (c *kvCodec) decodeAll(src []byte, p unsafe.Pointer) error {
	rest, err := c.dec(src, p)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("weir/statebackend: %d trailing bytes after an encoded %s", len(rest), c.t)
	}
	return nil
}
