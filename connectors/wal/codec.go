package wal

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
)

// Codec turns values into record payloads and back. Decode must not keep
// b: the reader reuses it. Encode has no error result: a codec signals a
// value it cannot encode by panicking, and Source.Push recovers that and
// returns it as an error without appending anything.
type Codec[T any] interface {
	// Encode appends the encoding of v to dst and returns the result.
	Encode(dst []byte, v T) []byte
	// Decode decodes one value encoded by Encode.
	Decode(b []byte) (T, error)
}

// GobCodec encodes each value as a self-contained gob stream (type
// description included, so every record decodes on its own, at some cost
// in size). Encode panics on a value gob cannot encode (see Codec).
func GobCodec[T any]() Codec[T] { return gobCodec[T]{} }

type gobCodec[T any] struct{}

// Encode implements Codec.
func (gobCodec[T]) Encode(dst []byte, v T) []byte {
	buf := bytes.NewBuffer(dst)
	if err := gob.NewEncoder(buf).Encode(&v); err != nil {
		panic("weir/wal: gob encode: " + err.Error())
	}
	return buf.Bytes()
}

// Decode implements Codec.
func (gobCodec[T]) Decode(b []byte) (T, error) {
	var v T
	err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v)
	return v, err
}

// JSONCodec encodes values with encoding/json. Encode panics on a value
// json cannot encode (see Codec).
func JSONCodec[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

// Encode implements Codec.
func (jsonCodec[T]) Encode(dst []byte, v T) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("weir/wal: json encode: " + err.Error())
	}
	return append(dst, b...)
}

// Decode implements Codec.
func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}
