package file

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Format encodes the records of a sink into bytes. A Format is shared by all
// writers of a sink, which call it concurrently: it must not keep state
// between calls.
type Format[T any] interface {
	// Header returns the bytes that start every part file (a CSV header
	// line, for example), or nil for none.
	Header() []byte
	// Append appends the encoding of v, including its line terminator, to
	// dst and returns the extended slice. An error fails the job; the bytes
	// appended to dst before it are discarded.
	Append(dst []byte, v T) ([]byte, error)
	// Extension is the suffix of committed file names, with its dot
	// (".csv"), or "" for none.
	Extension() string
}

// CSV returns a Format writing one CSV row per record, with the row of
// header names first in every part file (none when header is empty). fields
// returns the columns of a record. Fields are quoted as encoding/csv quotes
// them (comma separator, "\n" line ends), so encoding/csv reads them back.
// Committed files end in ".csv".
func CSV[T any](header []string, fields func(T) []string) Format[T] {
	f := csvFormat[T]{fields: fields}
	if len(header) > 0 {
		f.header = appendCSVRow(nil, header)
	}
	return f
}

type csvFormat[T any] struct {
	header []byte
	fields func(T) []string
}

func (f csvFormat[T]) Header() []byte    { return f.header }
func (f csvFormat[T]) Extension() string { return ".csv" }

func (f csvFormat[T]) Append(dst []byte, v T) ([]byte, error) {
	return appendCSVRow(dst, f.fields(v)), nil
}

// appendCSVRow appends one CSV row ending in "\n", quoting fields exactly
// as encoding/csv.Writer does.
func appendCSVRow(dst []byte, fields []string) []byte {
	for i, field := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		if !csvNeedsQuotes(field) {
			dst = append(dst, field...)
			continue
		}
		dst = append(dst, '"')
		dst = append(dst, strings.ReplaceAll(field, `"`, `""`)...)
		dst = append(dst, '"')
	}
	return append(dst, '\n')
}

// csvNeedsQuotes mirrors encoding/csv's fieldNeedsQuotes for a comma
// separator.
func csvNeedsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` || strings.ContainsAny(field, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

// Lines returns a Format writing f(v) followed by "\n" for every record,
// with no header. Committed files end in ".txt".
func Lines[T any](f func(T) string) Format[T] { return linesFormat[T]{f} }

type linesFormat[T any] struct{ f func(T) string }

func (linesFormat[T]) Header() []byte    { return nil }
func (linesFormat[T]) Extension() string { return ".txt" }

func (l linesFormat[T]) Append(dst []byte, v T) ([]byte, error) {
	dst = append(dst, l.f(v)...)
	return append(dst, '\n'), nil
}

// JSONLines returns a Format writing every record as one line of JSON
// (encoding/json.Marshal), with no header. A record json.Marshal rejects (a
// NaN float, a channel) fails the job. Committed files end in ".jsonl".
func JSONLines[T any]() Format[T] { return jsonLinesFormat[T]{} }

type jsonLinesFormat[T any] struct{}

func (jsonLinesFormat[T]) Header() []byte    { return nil }
func (jsonLinesFormat[T]) Extension() string { return ".jsonl" }

func (jsonLinesFormat[T]) Append(dst []byte, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("weir/file: json: %w", err)
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}
