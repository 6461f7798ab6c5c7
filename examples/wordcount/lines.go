package main

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"github.com/weirstream/weir/operators"
)

// lineSource is a bounded, single-split source of the lines of an
// io.Reader (without their "\n" or "\r\n"). It reads the reader once and
// cannot be replayed: Position is nil. Read blocks while the reader does,
// which is fine for files and pipes but would stall a worker on a slow
// network stream (use a channel source there).
type lineSource struct {
	r      io.Reader
	opened bool
}

type lineSplit struct{}

func (lineSplit) SplitID() string { return "lines" }

// Splits implements operators.Source: one split whatever the parallelism.
func (s *lineSource) Splits(int) ([]operators.Split, error) {
	return []operators.Split{lineSplit{}}, nil
}

// Bounded implements operators.Source.
func (s *lineSource) Bounded() bool { return true }

// Open implements operators.Source.
func (s *lineSource) Open(_ *operators.Context, _ operators.Split, pos []byte) (operators.Reader[string], error) {
	if pos != nil || s.opened {
		return nil, errors.New("wordcount: a line source reads its input once and cannot restart")
	}
	s.opened = true
	return &lineReader{r: bufio.NewReaderSize(s.r, 64<<10)}, nil
}

type lineReader struct{ r *bufio.Reader }

// Read implements operators.Reader: it appends up to the batch's room in
// lines and returns io.EOF after the last one.
func (l *lineReader) Read(b *operators.Batch[string]) error {
	for len(b.Values) < cap(b.Values) {
		line, err := l.r.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			b.Values = append(b.Values, line)
		}
		if err != nil {
			return err // io.EOF ends the split
		}
	}
	return nil
}

func (l *lineReader) Position() ([]byte, error) { return nil, nil }
func (l *lineReader) Close() error              { return nil }
