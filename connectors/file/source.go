package file

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weirstream/weir/operators"
)

// DefaultMaxLineBytes bounds the length of a line read by a LineSource when
// LineOptions.MaxLineBytes is 0.
const DefaultMaxLineBytes = 1 << 20

// readBufferSize is the read buffer of a line reader.
const readBufferSize = 64 << 10

// linePosVersion is the version of the position format of a line reader.
// Positions are stored in checkpoint manifests, so a change of layout
// needs a new version.
const linePosVersion = 1

// linePosLen is the length of an encoded position: the version byte, the
// byte offset and the line number (both big-endian uint64).
const linePosLen = 17

// ErrBadInput marks input a source cannot read: a line too long, a header
// that is not the expected one, a line the parse function rejects. The
// error is a *LineError naming the file and the line.
var ErrBadInput = errors.New("weir/file: bad input")

// LineError is a bad line of an input file. It matches ErrBadInput and the
// error it wraps (errors.Is, errors.As).
type LineError struct {
	Path string // the file, as the source was given it
	Line int64  // 1-based line number
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }

// Unwrap returns ErrBadInput and the cause.
func (e *LineError) Unwrap() []error { return []error{ErrBadInput, e.Err} }

// LineOptions configures a LineSource. The zero value reads every line of
// every file.
type LineOptions struct {
	// Header, when set, must be the first line of every file (compared
	// without its line end); it is not emitted. A file that starts with
	// another line fails the job with a *LineError for line 1.
	Header string
	// SkipHeader drops the first line of every file without checking it.
	SkipHeader bool
	// SkipEmpty drops empty lines (after removing the line end).
	SkipEmpty bool
	// MaxLineBytes bounds the length of a line without its line end
	// (default 1 MiB); a longer line fails the job with a *LineError.
	MaxLineBytes int
}

func (o LineOptions) withDefaults() (LineOptions, error) {
	if o.MaxLineBytes < 0 {
		return o, fmt.Errorf("weir/file: negative MaxLineBytes %d", o.MaxLineBytes)
	}
	if strings.ContainsAny(o.Header, "\r\n") {
		return o, fmt.Errorf("weir/file: header %q spans lines", o.Header)
	}
	if o.MaxLineBytes == 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	return o, nil
}

// LineSource is a bounded, replayable source of the lines of a file, or of
// every file in a directory, without their line ends ("\n" or "\r\n"). A
// last line without a line end counts as a line.
//
// Each file is one split, named by its base name; in a directory, files
// whose names start with "." or "_" are skipped and the rest are split in
// name order (runs of digits compared by value). A reader's position is the
// byte offset of the next line (and its line number, for messages); a
// restored reader seeks there, after checking that the file still has a
// line starting at that offset. Files must not change while a job reads
// them or between a checkpoint and its restore. On restore the source
// reads the files the checkpoint recorded (it implements
// operators.SplitRestorer), whatever the parallelism; files added to a
// directory since are not read.
type LineSource struct {
	path string
	opts LineOptions
}

var (
	_ operators.Source[string] = (*LineSource)(nil)
	_ operators.SplitRestorer  = (*LineSource)(nil)
)

// NewLineSource returns a source of the lines of path, a file or a
// directory. The path is checked when the job starts: a missing one fails
// the run with an error naming it.
func NewLineSource(path string, opts LineOptions) *LineSource {
	return &LineSource{path: path, opts: opts}
}

// Path is the file or directory the source reads.
func (s *LineSource) Path() string { return s.path }

type lineSplit struct {
	id   string // base name of the file
	path string
}

func (s lineSplit) SplitID() string { return s.id }

// Splits implements operators.Source: one split per file.
func (s *LineSource) Splits(int) ([]operators.Split, error) {
	if _, err := s.opts.withDefaults(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, fmt.Errorf("weir/file: line source: %w", err)
	}
	if !fi.IsDir() {
		return []operators.Split{lineSplit{id: filepath.Base(s.path), path: s.path}}, nil
	}
	entries, err := os.ReadDir(s.path)
	if err != nil {
		return nil, fmt.Errorf("weir/file: line source: %w", err)
	}
	var names []string
	for _, e := range entries {
		if hidden(e.Name()) {
			continue
		}
		fi, err := os.Stat(filepath.Join(s.path, e.Name())) // follows symbolic links
		if err == nil && fi.Mode().IsRegular() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("weir/file: line source: no input files in directory %s", s.path)
	}
	slices.SortFunc(names, naturalCompare)
	out := make([]operators.Split, len(names))
	for i, n := range names {
		out[i] = lineSplit{id: n, path: filepath.Join(s.path, n)}
	}
	return out, nil
}

// Bounded implements operators.Source: files end.
func (s *LineSource) Bounded() bool { return true }

// RestoreSplit implements operators.SplitRestorer: id is the base name of
// a file, which must still exist.
func (s *LineSource) RestoreSplit(id string) (operators.Split, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, fmt.Errorf("weir/file: line source: %w", err)
	}
	sp := lineSplit{id: id, path: filepath.Join(s.path, id)}
	if !fi.IsDir() {
		if id != filepath.Base(s.path) {
			return nil, fmt.Errorf("weir/file: line source %s: the checkpoint read file %q, not this one", s.path, id)
		}
		sp.path = s.path
	} else if !plainName(id) {
		return nil, fmt.Errorf("weir/file: line source %s: bad split %q", s.path, id)
	}
	if _, err := os.Stat(sp.path); err != nil {
		return nil, fmt.Errorf("weir/file: line source: restore split %q: %w", id, err)
	}
	return sp, nil
}

// Open implements operators.Source. pos is nil or a position a reader of
// the same file returned.
func (s *LineSource) Open(_ *operators.Context, split operators.Split, pos []byte) (operators.Reader[string], error) {
	return s.open(split, pos)
}

func (s *LineSource) open(split operators.Split, pos []byte) (*lineReader, error) {
	opts, err := s.opts.withDefaults()
	if err != nil {
		return nil, err
	}
	sp, ok := split.(lineSplit)
	if !ok {
		return nil, fmt.Errorf("weir/file: line source got split %T", split)
	}
	off, line, err := decodeLinePos(sp.path, pos)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(sp.path)
	if err != nil {
		return nil, fmt.Errorf("weir/file: line source: %w", err)
	}
	if err := seekLine(f, sp.path, off); err != nil {
		f.Close()
		return nil, err
	}
	return &lineReader{path: sp.path, f: f, br: bufio.NewReaderSize(f, readBufferSize),
		off: off, line: line, opts: opts}, nil
}

// seekLine moves f to off after checking that a line starts there: off is
// 0 or follows a "\n", and is not beyond the end.
func seekLine(f *os.File, path string, off int64) error {
	if off == 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("weir/file: line source: %w", err)
	}
	if off > fi.Size() {
		return fmt.Errorf("%w: %s has %d bytes, the position is %d: the file changed since the checkpoint",
			operators.ErrBadPosition, path, fi.Size(), off)
	}
	var prev [1]byte
	if _, err := f.ReadAt(prev[:], off-1); err != nil {
		return fmt.Errorf("weir/file: line source: %s: %w", path, err)
	}
	if prev[0] != '\n' && off != fi.Size() {
		return fmt.Errorf("%w: no line of %s starts at byte %d: the file changed since the checkpoint",
			operators.ErrBadPosition, path, off)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("weir/file: line source: %s: %w", path, err)
	}
	return nil
}

func encodeLinePos(off, line int64) []byte {
	b := make([]byte, 1, linePosLen)
	b[0] = linePosVersion
	b = binary.BigEndian.AppendUint64(b, uint64(off))
	return binary.BigEndian.AppendUint64(b, uint64(line))
}

// decodeLinePos returns the offset and number of the next line; nil is the
// start of the file.
func decodeLinePos(path string, p []byte) (off, line int64, err error) {
	if p == nil {
		return 0, 1, nil
	}
	if len(p) != linePosLen || p[0] != linePosVersion {
		return 0, 0, fmt.Errorf("%w: %s: %d bytes starting %x, want %d bytes of version %d",
			operators.ErrBadPosition, path, len(p), p[:min(len(p), 1)], linePosLen, linePosVersion)
	}
	off, line = int64(binary.BigEndian.Uint64(p[1:9])), int64(binary.BigEndian.Uint64(p[9:]))
	if off < 0 || line < 1 || (off == 0) != (line == 1) {
		return 0, 0, fmt.Errorf("%w: %s: offset %d, line %d", operators.ErrBadPosition, path, off, line)
	}
	return off, line, nil
}

// lineReader reads the lines of one file.
type lineReader struct {
	path string
	f    *os.File
	br   *bufio.Reader
	off  int64 // byte offset of the next line
	line int64 // number of the next line, from 1
	opts LineOptions
	long []byte // a line longer than the read buffer
}

// Read implements operators.Reader.
func (r *lineReader) Read(b *operators.Batch[string]) error {
	for len(b.Values) < cap(b.Values) {
		text, _, err := r.next()
		if err != nil {
			return err // io.EOF ends the split
		}
		b.Values = append(b.Values, string(text))
	}
	return nil
}

// next returns the next line to emit and its number, or io.EOF. The bytes
// are valid until the next call.
func (r *lineReader) next() ([]byte, int64, error) {
	for {
		raw, err := r.raw()
		if err != nil {
			return nil, 0, err
		}
		no := r.line
		r.off += int64(len(raw))
		r.line++
		text := trimEOL(raw)
		switch {
		case no == 1 && r.opts.Header != "":
			if string(text) != r.opts.Header {
				return nil, no, &LineError{Path: r.path, Line: no,
					Err: fmt.Errorf("header %q, want %q", clip(text), r.opts.Header)}
			}
			continue
		case no == 1 && r.opts.SkipHeader, len(text) == 0 && r.opts.SkipEmpty:
			continue
		}
		return text, no, nil
	}
}

// raw returns the next line with its line end, or io.EOF.
func (r *lineReader) raw() ([]byte, error) {
	r.long = r.long[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		switch {
		case err == nil && len(r.long) == 0:
			return r.checkLen(frag)
		case err == nil:
			r.long = append(r.long, frag...)
			return r.checkLen(r.long)
		case errors.Is(err, bufio.ErrBufferFull):
			r.long = append(r.long, frag...)
			if len(r.long) > r.opts.MaxLineBytes+2 {
				return nil, r.tooLong()
			}
		case errors.Is(err, io.EOF):
			r.long = append(r.long, frag...)
			if len(r.long) == 0 {
				return nil, io.EOF
			}
			return r.checkLen(r.long) // a last line without a line end
		default:
			return nil, fmt.Errorf("weir/file: read %s: %w", r.path, err)
		}
	}
}

func (r *lineReader) checkLen(line []byte) ([]byte, error) {
	if len(trimEOL(line)) > r.opts.MaxLineBytes {
		return nil, r.tooLong()
	}
	return line, nil
}

func (r *lineReader) tooLong() error {
	return &LineError{Path: r.path, Line: r.line, Err: fmt.Errorf("line longer than %d bytes", r.opts.MaxLineBytes)}
}

// Position implements operators.Reader: the offset and number of the next
// line.
func (r *lineReader) Position() ([]byte, error) { return encodeLinePos(r.off, r.line), nil }

// Close implements operators.Reader.
func (r *lineReader) Close() error { return r.f.Close() }

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// clip shortens a line quoted in an error message.
func clip(b []byte) string {
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// ParsedSource is a LineSource whose lines are turned into records by a
// parse function; see Parse.
type ParsedSource[T any] struct {
	lines *LineSource
	parse func(line string) (T, error)
}

var (
	_ operators.Source[int]   = (*ParsedSource[int])(nil)
	_ operators.SplitRestorer = (*ParsedSource[int])(nil)
)

// Parse returns a source of parse(line) for every line lines emits. An
// error from parse fails the job with a *LineError naming the file and the
// line number (correct after a restore too). parse is called by the
// source's subtasks concurrently and must not keep state between calls.
func Parse[T any](lines *LineSource, parse func(line string) (T, error)) *ParsedSource[T] {
	return &ParsedSource[T]{lines: lines, parse: parse}
}

// Splits implements operators.Source.
func (p *ParsedSource[T]) Splits(n int) ([]operators.Split, error) {
	if p.lines == nil || p.parse == nil {
		return nil, errors.New("weir/file: Parse needs a line source and a parse function")
	}
	return p.lines.Splits(n)
}

// Bounded implements operators.Source.
func (p *ParsedSource[T]) Bounded() bool { return true }

// RestoreSplit implements operators.SplitRestorer.
func (p *ParsedSource[T]) RestoreSplit(id string) (operators.Split, error) {
	return p.lines.RestoreSplit(id)
}

// Open implements operators.Source.
func (p *ParsedSource[T]) Open(_ *operators.Context, split operators.Split, pos []byte) (operators.Reader[T], error) {
	r, err := p.lines.open(split, pos)
	if err != nil {
		return nil, err
	}
	return &parsedReader[T]{r: r, parse: p.parse}, nil
}

type parsedReader[T any] struct {
	r     *lineReader
	parse func(string) (T, error)
}

func (p *parsedReader[T]) Read(b *operators.Batch[T]) error {
	for len(b.Values) < cap(b.Values) {
		text, no, err := p.r.next()
		if err != nil {
			return err
		}
		v, err := p.parse(string(text))
		if err != nil {
			return &LineError{Path: p.r.path, Line: no, Err: err}
		}
		b.Values = append(b.Values, v)
	}
	return nil
}

func (p *parsedReader[T]) Position() ([]byte, error) { return p.r.Position() }
func (p *parsedReader[T]) Close() error              { return p.r.Close() }
