package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// On-disk format, version 1 (little endian):
//
//	segment = header record*
//	header  = magic[8] "WEIRWAL\n" | version u32 | first seq u64 | crc32c(previous 20 bytes) u32
//	record  = length u32 | crc32c(length bytes, payload) u32 | payload[length]

const (
	formatVersion   = 1
	headerSize      = 24
	frameHeaderSize = 8
	segmentSuffix   = ".wal"
	magic           = "WEIRWAL\n"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func segmentName(first uint64) string { return fmt.Sprintf("%016d%s", first, segmentSuffix) }

// parseSegmentName returns the first sequence number a segment file name
// carries; ok is false for files that are not segments.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// listSegments returns the first sequence numbers of the segments in dir,
// in order.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("weir/wal: %w", err)
	}
	var firsts []uint64
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

func appendHeader(dst []byte, first uint64) []byte {
	start := len(dst)
	dst = append(dst, magic...)
	dst = binary.LittleEndian.AppendUint32(dst, formatVersion)
	dst = binary.LittleEndian.AppendUint64(dst, first)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// checkHeader validates a segment header; it returns a reason or "".
func checkHeader(h []byte, first uint64) string {
	switch {
	case len(h) < headerSize:
		return "short segment header"
	case string(h[:8]) != magic:
		return "bad magic: not a weir WAL segment"
	case crc32.Checksum(h[:20], castagnoli) != binary.LittleEndian.Uint32(h[20:]):
		return "segment header checksum mismatch"
	case binary.LittleEndian.Uint32(h[8:]) != formatVersion:
		return fmt.Sprintf("unsupported format version %d (want %d)", binary.LittleEndian.Uint32(h[8:]), formatVersion)
	case binary.LittleEndian.Uint64(h[12:]) != first:
		return fmt.Sprintf("header names first record %d, file name %d", binary.LittleEndian.Uint64(h[12:]), first)
	}
	return ""
}

// readHeader reads and validates the header of segment f.
func readHeader(f *os.File, first uint64) error {
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("weir/wal: read header of %s: %w", f.Name(), err)
	}
	if reason := checkHeader(h[:], first); reason != "" {
		return &CorruptError{File: f.Name(), Offset: 0, Reason: reason}
	}
	return nil
}

func appendFrame(dst, payload []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	crc := frameCRC(dst[start:start+4], payload) // not a local array: it would escape to the heap
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return append(dst, payload...)
}

func frameCRC(length, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(length, castagnoli), castagnoli, payload)
}

// scan is the result of reading a segment's records from its header on.
type scan struct {
	count  uint64 // good records
	end    int64  // offset after the last good record
	size   int64  // file size
	reason string // why the record at end is bad; "" if the file ended cleanly
}

// scanSegment reads every record of f (of size bytes), stopping at the
// first bad one.
func scanSegment(f *os.File, size int64) (scan, error) {
	s := scan{end: headerSize, size: size}
	br := bufio.NewReaderSize(io.NewSectionReader(f, headerSize, size-headerSize), 1<<20)
	var hdr [frameHeaderSize]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				s.reason = "short record header"
			} else if !errors.Is(err, io.EOF) {
				return s, fmt.Errorf("weir/wal: read %s: %w", f.Name(), err)
			}
			return s, nil
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:4]))
		if n > MaxRecordSize {
			s.reason = fmt.Sprintf("implausible record length %d", n)
			return s, nil
		}
		if s.end+frameHeaderSize+n > size {
			s.reason = fmt.Sprintf("record of %d bytes runs past the end of the file", n)
			return s, nil
		}
		payload = slices.Grow(payload[:0], int(n))[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			return s, fmt.Errorf("weir/wal: read %s: %w", f.Name(), err)
		}
		if frameCRC(hdr[:4], payload) != binary.LittleEndian.Uint32(hdr[4:]) {
			s.reason = "record checksum mismatch"
			return s, nil
		}
		s.count++
		s.end += frameHeaderSize + n
	}
}

// resyncBudget bounds the bytes findFrame checksums while it looks for a
// good record after a bad one.
const resyncBudget = 4 << 30

// findFrame looks for a well-formed record (plausible length, matching
// checksum) starting anywhere in tail after its first byte. found reports
// one; exhausted reports that the search gave up before the end.
func findFrame(tail []byte) (at int, found, exhausted bool) {
	budget := int64(resyncBudget)
	for i := 1; i+frameHeaderSize <= len(tail); i++ {
		n := int64(binary.LittleEndian.Uint32(tail[i:]))
		end := int64(i) + frameHeaderSize + n
		if n > MaxRecordSize || end > int64(len(tail)) {
			continue
		}
		if budget -= n + 4; budget < 0 {
			return 0, false, true
		}
		if frameCRC(tail[i:i+4], tail[i+frameHeaderSize:end]) == binary.LittleEndian.Uint32(tail[i+4:]) {
			return i, true, false
		}
	}
	return 0, false, false
}

func segmentPath(dir string, first uint64) string { return filepath.Join(dir, segmentName(first)) }
