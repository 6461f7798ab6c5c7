package keycodec

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"
	"unsafe"
)

// ErrCorrupt is returned for bytes that are not a valid encoding.
var ErrCorrupt = errors.New("weir/keycodec: corrupt encoding")

// Codec encodes sequences of keys of type K. It is built once per type
// and is safe for concurrent use.
type Codec[K any] struct {
	c     plain
	plain bool
}

// plain encodes one value at p (see the package documentation).
type plain struct {
	enc func(dst []byte, p unsafe.Pointer) []byte
	dec func(src []byte, p unsafe.Pointer) (int, error)
	min int // fewest bytes a value takes
}

// New returns the codec of K: the plain encoding if K has one, else gob.
func New[K any]() *Codec[K] {
	c, ok := build(reflect.TypeFor[K]())
	return &Codec[K]{c: c, plain: ok}
}

// Plain reports whether K has the plain encoding (gob is used otherwise).
func (c *Codec[K]) Plain() bool { return c.plain }

// Append appends the encoding of keys to dst. Decode needs len(keys).
func (c *Codec[K]) Append(dst []byte, keys []K) ([]byte, error) {
	if len(keys) == 0 {
		return dst, nil
	}
	if c.plain {
		for i := range keys {
			dst = c.c.enc(dst, unsafe.Pointer(&keys[i]))
		}
		return dst, nil
	}
	buf := bytes.NewBuffer(dst)
	if err := gob.NewEncoder(buf).Encode(keys); err != nil {
		return dst, fmt.Errorf("weir/keycodec: gob-encode %s (gob needs exported fields): %w", reflect.TypeFor[K](), err)
	}
	return buf.Bytes(), nil
}

// Decode decodes the n keys Append encoded into src, which holds exactly
// them.
func (c *Codec[K]) Decode(src []byte, n int) ([]K, error) {
	if n <= 0 {
		if n < 0 || len(src) != 0 {
			return nil, fmt.Errorf("%w: %d bytes after the last key", ErrCorrupt, len(src))
		}
		return nil, nil
	}
	if !c.plain {
		var keys []K
		if err := gob.NewDecoder(bytes.NewReader(src)).Decode(&keys); err != nil {
			return nil, fmt.Errorf("%w: gob-decode %s: %v", ErrCorrupt, reflect.TypeFor[K](), err)
		}
		if len(keys) != n {
			return nil, fmt.Errorf("%w: %d keys, want %d", ErrCorrupt, len(keys), n)
		}
		return keys, nil
	}
	if n < 0 || (c.c.min > 0 && n > len(src)/c.c.min) {
		return nil, fmt.Errorf("%w: %d keys in %d bytes", ErrCorrupt, n, len(src))
	}
	keys := make([]K, n)
	for i := range keys {
		m, err := c.c.dec(src, unsafe.Pointer(&keys[i]))
		if err != nil {
			return nil, err
		}
		src = src[m:]
	}
	if len(src) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last key", ErrCorrupt, len(src))
	}
	return keys, nil
}

// build returns the plain codec of t, if it has one.
func build(t reflect.Type) (plain, bool) {
	switch k := t.Kind(); k {
	case reflect.Bool:
		return boolCodec(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intCodec(t.Size()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintCodec(t.Size()), true
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return fixedCodec(t.Size()), true
	case reflect.String:
		return stringCodec(), true
	case reflect.Array:
		return arrayCodec(t)
	case reflect.Struct:
		return structCodec(t)
	}
	return plain{}, false
}

func boolCodec() plain {
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			if *(*bool)(p) {
				return append(dst, 1)
			}
			return append(dst, 0)
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			if len(src) == 0 || src[0] > 1 {
				return 0, fmt.Errorf("%w: bad bool", ErrCorrupt)
			}
			*(*bool)(p) = src[0] == 1
			return 1, nil
		},
		min: 1,
	}
}

// intCodec encodes signed integers of size bytes as varints.
func intCodec(size uintptr) plain {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if size < 8 {
		lo, hi = -1<<(size*8-1), 1<<(size*8-1)-1
	}
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			var v int64
			switch size {
			case 1:
				v = int64(*(*int8)(p))
			case 2:
				v = int64(*(*int16)(p))
			case 4:
				v = int64(*(*int32)(p))
			default:
				v = *(*int64)(p)
			}
			return binary.AppendVarint(dst, v)
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			v, n := binary.Varint(src)
			if n <= 0 || v < lo || v > hi {
				return 0, fmt.Errorf("%w: bad %d-byte integer", ErrCorrupt, size)
			}
			switch size {
			case 1:
				*(*int8)(p) = int8(v)
			case 2:
				*(*int16)(p) = int16(v)
			case 4:
				*(*int32)(p) = int32(v)
			default:
				*(*int64)(p) = v
			}
			return n, nil
		},
		min: 1,
	}
}

// uintCodec encodes unsigned integers of size bytes as uvarints.
func uintCodec(size uintptr) plain {
	hi := uint64(math.MaxUint64)
	if size < 8 {
		hi = 1<<(size*8) - 1
	}
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			var v uint64
			switch size {
			case 1:
				v = uint64(*(*uint8)(p))
			case 2:
				v = uint64(*(*uint16)(p))
			case 4:
				v = uint64(*(*uint32)(p))
			default:
				v = *(*uint64)(p)
			}
			return binary.AppendUvarint(dst, v)
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			v, n := binary.Uvarint(src)
			if n <= 0 || v > hi {
				return 0, fmt.Errorf("%w: bad %d-byte unsigned integer", ErrCorrupt, size)
			}
			switch size {
			case 1:
				*(*uint8)(p) = uint8(v)
			case 2:
				*(*uint16)(p) = uint16(v)
			case 4:
				*(*uint32)(p) = uint32(v)
			default:
				*(*uint64)(p) = v
			}
			return n, nil
		},
		min: 1,
	}
}

// fixedCodec copies the size bytes of a float or complex number (their
// bits: -0 and NaN payloads survive), little-endian.
func fixedCodec(size uintptr) plain {
	words := int(size / 4) // 1, 2 or 4 uint32 words
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			for i := range words {
				dst = binary.LittleEndian.AppendUint32(dst, *(*uint32)(unsafe.Add(p, 4*i)))
			}
			return dst
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			if len(src) < int(size) {
				return 0, fmt.Errorf("%w: short number", ErrCorrupt)
			}
			for i := range words {
				*(*uint32)(unsafe.Add(p, 4*i)) = binary.LittleEndian.Uint32(src[4*i:])
			}
			return int(size), nil
		},
		min: int(size),
	}
}

func stringCodec() plain {
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			s := *(*string)(p)
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			return append(dst, s...)
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			l, n := binary.Uvarint(src)
			if n <= 0 || l > uint64(len(src)-n) {
				return 0, fmt.Errorf("%w: bad string", ErrCorrupt)
			}
			*(*string)(p) = string(src[n : n+int(l)])
			return n + int(l), nil
		},
		min: 1,
	}
}

func arrayCodec(t reflect.Type) (plain, bool) {
	el, ok := build(t.Elem())
	if !ok {
		return plain{}, false
	}
	n, size := t.Len(), t.Elem().Size()
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			for i := range n {
				dst = el.enc(dst, unsafe.Add(p, uintptr(i)*size))
			}
			return dst
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			total := 0
			for i := range n {
				m, err := el.dec(src[total:], unsafe.Add(p, uintptr(i)*size))
				if err != nil {
					return 0, err
				}
				total += m
			}
			return total, nil
		},
		min: n * el.min,
	}, true
}

// structCodec encodes the fields in order, unexported ones included and
// blank ones skipped (they take no part in ==).
func structCodec(t reflect.Type) (plain, bool) {
	type field struct {
		off uintptr
		c   plain
	}
	var fs []field
	minBytes := 0
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "_" {
			continue
		}
		c, ok := build(f.Type)
		if !ok {
			return plain{}, false
		}
		fs = append(fs, field{off: f.Offset, c: c})
		minBytes += c.min
	}
	return plain{
		enc: func(dst []byte, p unsafe.Pointer) []byte {
			for _, f := range fs {
				dst = f.c.enc(dst, unsafe.Add(p, f.off))
			}
			return dst
		},
		dec: func(src []byte, p unsafe.Pointer) (int, error) {
			total := 0
			for _, f := range fs {
				m, err := f.c.dec(src[total:], unsafe.Add(p, f.off))
				if err != nil {
					return 0, err
				}
				total += m
			}
			return total, nil
		},
		min: minBytes,
	}, true
}
