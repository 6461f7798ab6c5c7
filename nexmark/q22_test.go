package nexmark_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
)

// q22SplitIndex is Flink's SPLIT_INDEX(s, sep, i) by strings.Split: the i-th
// field (0-based) of s split at sep, false (NULL) past the last field; an
// empty s has no fields (commons-lang splitByWholeSeparatorPreserveAllTokens).
func q22SplitIndex(s, sep string, i int) (string, bool) {
	if s == "" {
		return "", false
	}
	f := strings.Split(s, sep)
	if i >= len(f) {
		return "", false
	}
	return f[i], true
}

func TestURLDirsMatchesSplit(t *testing.T) {
	urls := []string{"", "/", "///", "////", "/////", "//////", "a/b/c", "a/b/c/d", "a/b/c/d/e", "a/b/c/d/e/f",
		"a/b/c/d/e/f/g", "https://www.nexmark.com/a/b/c/item.htm?query=1", "https://www.nexmark.com/",
		"https://www.nexmark.com/a/", "https://www.nexmark.com/a/b/", "https://www.nexmark.com/a//c/d", "no slash"}
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 22))
	for range 20_000 {
		var b strings.Builder
		for range rnd.IntN(12) {
			b.WriteString([]string{"/", "a", "bc", "//", "é"}[rnd.IntN(5)])
		}
		urls = append(urls, b.String())
	}
	for _, u := range urls {
		d1, d2, d3 := nexmark.URLDirs(u)
		for i, got := range []string{d1, d2, d3} {
			want, _ := q22SplitIndex(u, "/", 3+i) // NULL is the empty string
			if got != want {
				t.Fatalf("URLDirs(%q) field %d = %q, SPLIT_INDEX gives %q", u, 3+i, got, want)
			}
		}
	}
}

func TestQ22NoAllocs(t *testing.T) {
	b := nexmark.Bid{URL: "https://www.nexmark.com/abc/de/f/item.htm?query=1"}
	var r nexmark.Q22Result
	if n := testing.AllocsPerRun(100, func() { r = nexmark.URLDirectories(&b) }); n != 0 {
		t.Errorf("URLDirectories allocates %v times", n)
	}
	if r.Dir1 != "abc" || r.Dir2 != "de" || r.Dir3 != "f" {
		t.Errorf("URLDirectories = %+v", r)
	}
}
