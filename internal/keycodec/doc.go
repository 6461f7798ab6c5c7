// Package keycodec encodes the keys of keyed operators for checkpoints
// (timers and other keyed state an operator keeps outside the state
// backend's tables), compactly and without reflection per key.
//
// # Plain encoding
//
// Every key type that KeyBy accepts without an operators.Hasher (bool,
// integer, float, complex and string kinds, and arrays and structs of
// them, named types included) has a plain binary encoding, chosen once
// per type:
//
//   - bool: one byte, 0 or 1;
//   - signed integers: a zig-zag varint; unsigned integers: a uvarint;
//   - floats and complex numbers: their bits, little-endian;
//   - strings: uvarint length, then the bytes;
//   - arrays: the elements; structs: the fields in order, unexported ones
//     included, blank ones skipped.
//
// A sequence of keys is the concatenation of their encodings. Decoding
// checks every length and range and reports ErrCorrupt instead of
// panicking.
//
// # Other keys
//
// Keys without a plain encoding (a Hasher holding a pointer or an
// interface) are encoded as one encoding/gob stream of the whole slice,
// so they must be gob-encodable: exported fields, gob.Register for
// interface values.
//
// Reader reads the varints and counts around the keys of such an encoding.
package keycodec
