package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

const text = `It was the best of times, it was the worst of times,
it was the age of wisdom, it was the age of foolishness,
it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness,
IT WAS the spring of hope; it was the winter of despair...
Année 1859: 2 cities -- café, CAFÉ & naïve_naïve 2 2
`

// plainCount is the reference: the same tokenization, counted in a map.
func plainCount(s string) map[string]int64 {
	m := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		splitWords(line, func(w string) { m[w]++ })
	}
	return m
}

func TestBuildMatchesPlainCount(t *testing.T) {
	lines := strings.Split(text, "\n")
	want := plainCount(text)
	if want["it"] != 10 || want["café"] != 2 || want["2"] != 3 || want["naïve"] != 2 {
		t.Fatalf("reference tokenization is off: %v", want)
	}
	for _, p := range []int{1, 2, 4} {
		job := stream.NewJob("wordcount-test")
		out := testkit.Collect(Build(job, stream.FromSlice(job, "lines", lines)))
		testkit.Run(t, job, runtime.Parallelism(p))

		// The reduce is rolling: the counts of each word arrive as 1, 2, ...
		// n, and the last one is the total.
		seen := map[string]int64{}
		for _, c := range out.Values() {
			if c.N != seen[c.Word]+1 {
				t.Fatalf("p=%d: %q counted %d after %d", p, c.Word, c.N, seen[c.Word])
			}
			seen[c.Word] = c.N
		}
		var total int64
		for _, n := range want {
			total += n
		}
		if got := int64(out.Len()); got != total {
			t.Errorf("p=%d: %d rolling results, want one per word occurrence (%d)", p, got, total)
		}
		if len(seen) != len(want) {
			t.Errorf("p=%d: %d distinct words, want %d", p, len(seen), len(want))
		}
		for w, n := range want {
			if seen[w] != n {
				t.Errorf("p=%d: count(%q) = %d, want %d", p, w, seen[w], n)
			}
		}
	}
}

func TestSplitWords(t *testing.T) {
	var got []string
	splitWords("Hello, World! it's 2024--ÉTÉ_x  ", func(w string) { got = append(got, w) })
	want := []string{"hello", "world", "it", "s", "2024", "été", "x"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("splitWords = %q, want %q", got, want)
	}
}

// The whole command on a file: exact output, sorted by count then word.
func TestRunFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(path, []byte("b a c\r\nA b, a!\n\nc d"), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "a\t3\nb\t2\nc\t2\nd\t1\n"
	for _, p := range []string{"1", "2"} {
		var out strings.Builder
		if err := run(context.Background(), []string{"-parallelism", p, path}, strings.NewReader("ignored"), &out); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("p=%s: output\n%q\nwant\n%q", p, out.String(), want)
		}
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"-top", "2", path}, nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\t3\nb\t2\n" {
		t.Errorf("-top 2: output %q", out.String())
	}
}

func TestRunStdin(t *testing.T) {
	for _, args := range [][]string{nil, {"-"}, {"-parallelism", "2", "-"}} {
		var out strings.Builder
		in := strings.NewReader(text)
		if err := run(context.Background(), args, in, &out); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(plainCount(text)) {
			t.Errorf("%q: %d lines, want one per distinct word (%d)", args, len(lines), len(plainCount(text)))
		}
		for i, want := range []string{"it\t10", "of\t10", "the\t10", "was\t10", "2\t3", "age\t2", "café\t2"} {
			if lines[i] != want {
				t.Errorf("%q: line %d = %q, want %q", args, i, lines[i], want)
			}
		}
	}
	var out strings.Builder
	if err := run(context.Background(), nil, strings.NewReader(""), &out); err != nil || out.Len() != 0 {
		t.Errorf("empty input: %q, %v", out.String(), err)
	}
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-parallelism", "x"},
		{"-parallelism", "-2"},
		{"-top", "-1"},
		{"-bogus"},
		{"a", "b"},
	} {
		err := run(context.Background(), args, strings.NewReader(""), &strings.Builder{})
		if !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
	err := run(context.Background(), []string{filepath.Join(t.TempDir(), "missing")}, nil, &strings.Builder{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"-h"}, nil, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-top") {
		t.Errorf("-h: %v, %q", err, out.String())
	}
}
