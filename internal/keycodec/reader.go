package keycodec

import (
	"encoding/binary"
	"fmt"
)

// Reader reads the bytes and varints of an encoding, keeping the first
// error: after one, every read returns zero, and Err reports it.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met.
func (r *Reader) Err() error { return r.err }

func (r *Reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	r.b = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) == 0 {
		r.fail("byte")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads the number of the entries that follow, each taking at
// least minBytes bytes: a count the remaining bytes cannot hold is an
// error, so that corrupt input never causes a huge allocation.
func (r *Reader) Count(minBytes int) int {
	v := r.Uvarint()
	if r.err == nil && v > uint64(len(r.b)/max(minBytes, 1)) {
		r.fail("count")
		return 0
	}
	return int(v)
}

// Rest returns the unread bytes.
func (r *Reader) Rest() []byte { return r.b }
