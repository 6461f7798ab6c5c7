// Command wordcount counts the words of a text with a weir job: lines ->
// FlatMap to lowercase words -> Map to Count -> KeyBy word -> Reduce (sum).
//
//	go run ./examples/wordcount [-parallelism N] [-top N] [FILE]
//
// It reads FILE, or standard input when FILE is missing or "-". A word is a
// maximal run of Unicode letters and digits, lowercased. The rolling Reduce
// emits a new count for every occurrence; a sink keeps the last count of
// each word, and once the job has finished the counts are printed as
// "word<TAB>count", by count descending, then by word.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"unicode"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// Count is a word and how many times it has occurred so far.
type Count struct {
	Word string
	N    int64
}

// Build adds the word count to job, reading lines: FlatMap into lowercase
// words, Map to Count{word, 1}, KeyBy word, Reduce summing N. The result is
// rolling: one Count per word occurrence, the last per word being final.
// lines must belong to job; the caller attaches a sink to the result.
func Build(job *stream.Job, lines stream.DataStream[string]) stream.DataStream[Count] {
	return lines.
		FlatMap(splitWords).Name("split-words").
		Map(func(w string) Count { return Count{Word: w, N: 1} }).Name("to-count").
		KeyBy(func(c Count) string { return c.Word }).
		Reduce(func(acc, c Count) Count { return Count{Word: acc.Word, N: acc.N + c.N} }).Name("sum-per-word")
}

// splitWords emits the lowercase words of line: runs of letters and digits.
func splitWords(line string, emit func(string)) {
	for _, w := range strings.FieldsFunc(strings.ToLower(line), notWordRune) {
		emit(w)
	}
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// lastSink keeps the last Count of every word. Records of one word all
// reach the same subtask in order, so the last one is the final count.
type lastSink struct {
	mu   sync.Mutex
	last map[string]int64
}

func newLastSink() *lastSink { return &lastSink{last: map[string]int64{}} }

func (s *lastSink) write(_ *operators.Context, b *operators.Batch[Count]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range b.Values {
		s.last[c.Word] = c.N
	}
	return nil
}

// sorted returns the counts by N descending, then by word.
func (s *lastSink) sorted() []Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Count, 0, len(s.last))
	for w, n := range s.last {
		out = append(out, Count{Word: w, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Word, b.Word))
	})
	return out
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(1)
	}
}

// errUsage marks a bad command line.
var errUsage = errors.New("usage: wordcount [-parallelism N] [-top N] [FILE|-]")

// run is the command without the process around it: args exclude the
// program name.
func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("wordcount", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	parallelism := fs.Int("parallelism", 0, "workers (0: all cores)")
	top := fs.Int("top", 0, "print only the N most frequent words (0: all)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, errUsage)
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	switch {
	case fs.NArg() > 1:
		return fmt.Errorf("%w: more than one file", errUsage)
	case *parallelism < 0:
		return fmt.Errorf("%w: -parallelism %d < 0", errUsage, *parallelism)
	case *top < 0:
		return fmt.Errorf("%w: -top %d < 0", errUsage, *top)
	}
	in := stdin
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	counts, err := count(ctx, in, *parallelism)
	if err != nil {
		return err
	}
	if *top > 0 && *top < len(counts) {
		counts = counts[:*top]
	}
	var b strings.Builder
	for _, c := range counts {
		fmt.Fprintf(&b, "%s\t%d\n", c.Word, c.N)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// count runs the job over the lines of in and returns the sorted counts.
func count(ctx context.Context, in io.Reader, parallelism int) ([]Count, error) {
	job := stream.NewJob("wordcount")
	src := &lineSource{r: in}
	sink := newLastSink()
	Build(job, stream.FromSource[string](job, "lines", src)).SinkTo(operators.SinkFunc[Count](sink.write))
	opts := []runtime.Option{}
	if parallelism > 0 {
		opts = append(opts, runtime.Parallelism(parallelism))
	}
	if err := runtime.Run(ctx, job, opts...); err != nil {
		return nil, err
	}
	return sink.sorted(), nil
}
