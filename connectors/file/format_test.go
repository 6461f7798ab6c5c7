package file_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/connectors/file"
)

// csvWriterRow is the reference: what encoding/csv writes for fields.
func csvWriterRow(t *testing.T, fields []string) string {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	must(t, cw.Write(fields))
	cw.Flush()
	must(t, cw.Error())
	return b.String()
}

func TestCSVQuotesLikeEncodingCSV(t *testing.T) {
	cases := [][]string{
		{"plain", "1"},
		{"", ""},
		{"a,b", `say "hi"`, "two\nlines", "cr\rx"},
		{" lead", "\tx", `\.`, "trail "},
		{"ünï", "€,"},
	}
	f := file.CSV([]string{"h 1", "h,2"}, func(fs []string) []string { return fs })
	if got, want := string(f.Header()), csvWriterRow(t, []string{"h 1", "h,2"}); got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	for _, fields := range cases {
		got, err := f.Append(nil, fields)
		must(t, err)
		if want := csvWriterRow(t, fields); string(got) != want {
			t.Errorf("row %q: %q, want %q", fields, got, want)
		}
		back, err := csv.NewReader(bytes.NewReader(got)).Read()
		must(t, err)
		if !slices.Equal(back, fields) {
			t.Errorf("read back %q, want %q", back, fields)
		}
	}
}

func FuzzCSVRow(f *testing.F) {
	f.Add("a", "b,c")
	f.Add(`"`, "\n ")
	f.Fuzz(func(t *testing.T, a, b string) {
		fields := []string{a, b}
		got, err := file.CSV(nil, func(fs []string) []string { return fs }).Append(nil, fields)
		must(t, err)
		if want := csvWriterRow(t, fields); string(got) != want {
			t.Fatalf("row %q: %q, want %q", fields, got, want)
		}
	})
}

func TestCSVWithoutHeader(t *testing.T) {
	f := file.CSV(nil, func(s string) []string { return []string{s} })
	if f.Header() != nil || f.Extension() != ".csv" {
		t.Fatalf("header %q, extension %q", f.Header(), f.Extension())
	}
}

func TestLinesFormat(t *testing.T) {
	f := file.Lines(strings.ToUpper)
	got, err := f.Append([]byte("x\n"), "ab")
	must(t, err)
	if string(got) != "x\nAB\n" || f.Header() != nil || f.Extension() != ".txt" {
		t.Fatalf("got %q, header %q, extension %q", got, f.Header(), f.Extension())
	}
}

func TestJSONLinesFormat(t *testing.T) {
	type ev struct {
		ID   int      `json:"id"`
		Tags []string `json:"tags"`
	}
	f := file.JSONLines[ev]()
	got, err := f.Append(nil, ev{1, []string{"a\nb"}})
	must(t, err)
	if string(got) != `{"id":1,"tags":["a\nb"]}`+"\n" || f.Extension() != ".jsonl" {
		t.Fatalf("got %q, extension %q", got, f.Extension())
	}
	var back ev
	must(t, json.Unmarshal(got, &back))
	if _, err := file.JSONLines[float64]().Append(nil, math.NaN()); err == nil {
		t.Fatal("NaN encoded without error")
	}
}

func TestJSONLinesSink(t *testing.T) {
	dir := t.TempDir()
	w := open(t, file.NewSink(dir, file.JSONLines[row](), file.Options{}), 0, 1)
	write(t, w, row{"a", 1}, row{"b", 2})
	must(t, w.Commit(preCommit(t, w, 4)))
	equal(t, "files", ls(t, dir), []string{"part-0-4-0.jsonl"})
	equal(t, "committed", readCommitted(t, dir), []string{`{"K":"a","N":1}`, `{"K":"b","N":2}`})
}

func TestReadCommitted(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"part-0-10-0.csv":   "k\nten\n",
		"part-0-2-0.csv":    "k\ntwo\nzwei\n",
		"part-0-2-1.csv":    "k\n",
		"part-1-1-0.txt":    "one\nno newline",
		"_part-0-3-0.csv":   "k\npending\n",
		".part-0-x-0.inpro": "in progress\n",
		"_SUCCESS":          "",
	}
	for name, data := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	equal(t, "lines", readCommitted(t, dir), []string{"two", "zwei", "ten", "one", "no newline"})
	if _, err := file.ReadCommitted(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("ReadCommitted of a missing dir succeeded")
	}
}
