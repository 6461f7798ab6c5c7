package nexmark_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
)

// q21Regexp is q21's REGEXP_EXTRACT pattern; group 2 is the value.
var q21Regexp = regexp.MustCompile(`(&|^)channel_id=([^&]*)`)

func regexpChannelID(url string) (string, bool) {
	m := q21Regexp.FindStringSubmatch(url)
	if m == nil {
		return "", false
	}
	return m[2], true
}

// q21RandomURL strings together pieces that make and break the pattern.
func q21RandomURL(rnd *rand.Rand) string {
	pieces := []string{"channel_id=", "&channel_id=", "channel_id", "&", "=", "c", "x", "_id=", "?",
		"/", "https://www.nexmark.com/a/b/c/item.htm?query=1", "é", "\xff", "&&", "channel_id=7"}
	var b strings.Builder
	for range rnd.IntN(7) {
		b.WriteString(pieces[rnd.IntN(len(pieces))])
	}
	return b.String()
}

// TestChannelIDMatchesRegexp checks the scan against Go's regexp on edge
// cases, random URLs and the generator's URLs.
func TestChannelIDMatchesRegexp(t *testing.T) {
	urls := []string{
		"", "channel_id=", "channel_id=5", "&channel_id=5", "x&channel_id=5&y=1", "xchannel_id=5",
		"xchannel_id=5&channel_id=6", "a=1&channel_id=&b", "channel_id=1&channel_id=2", "&&channel_id=&",
		"channel_id", "channel_id5", "x=channel_id=3", "?channel_id=4", "&channel_id=a=b=c",
		"https://www.nexmark.com/a/b/c/item.htm?query=1&channel_id=123", "channel_id=\xff&", "channel_id=é",
		"channel_idchannel_id=1", "&channel_idchannel_id=1", "channel_id=&channel_id=2",
	}
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 21))
	for range 20_000 {
		urls = append(urls, q21RandomURL(rnd))
	}
	src, err := gen.NewSource(nexmark.Options{Seed: rnd.Uint64(), HotChannelsRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	var e nexmark.Event
	for i := range int64(5000) {
		if src.Fill(i, &e); e.Kind == gen.KindBid {
			urls = append(urls, e.Bid.URL)
		}
	}
	found := 0
	for _, u := range urls {
		got, gotOK := nexmark.ChannelID(u)
		want, wantOK := regexpChannelID(u)
		if got != want || gotOK != wantOK {
			t.Fatalf("ChannelID(%q) = %q, %v; regexp gives %q, %v", u, got, gotOK, want, wantOK)
		}
		if gotOK {
			found++
		}
	}
	if found == 0 || found == len(urls) {
		t.Fatalf("%d of %d URLs have a channel id: the test does not test both cases", found, len(urls))
	}
}

// TestHotChannelID compares with lower() as strings.ToLower.
func TestHotChannelID(t *testing.T) {
	ids := map[string]string{"apple": "0", "google": "1", "facebook": "2", "baidu": "3"}
	channels := []string{"", "Apple", "APPLE", "apple", "aPpLe", "Apple ", " apple", "appl", "apples",
		"Google", "GOOGLE", "Facebook", "faceboo\u212a" /* KELVIN SIGN lowercases to k */, "Baidu", "BAIDU",
		"bAiDu", "baidü", "channel-1", "Ápple", "google\xff", "gooGle"}
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 211))
	for range 2000 { // random casings of the four, and of near misses
		name := []byte([]string{"apple", "google", "facebook", "baidu", "bajdu", "goggle"}[rnd.IntN(6)])
		for i := range name {
			if rnd.IntN(2) == 0 {
				name[i] -= 'a' - 'A'
			}
		}
		channels = append(channels, string(name))
	}
	hits := 0
	for _, c := range channels {
		want, wantOK := ids[strings.ToLower(c)]
		got, gotOK := nexmark.HotChannelID(c)
		if got != want || gotOK != wantOK {
			t.Errorf("HotChannelID(%q) = %q, %v; want %q, %v", c, got, gotOK, want, wantOK)
		}
		if gotOK {
			hits++
		}
	}
	if hits == 0 || hits == len(channels) {
		t.Errorf("%d of %d channels hot: the test does not test both cases", hits, len(channels))
	}
}

// TestAddChannelID: the CASE and the WHERE of q21.
func TestAddChannelID(t *testing.T) {
	cases := []struct {
		channel, url string
		id           string
		keep         bool
	}{
		{"Apple", "https://x/a", "0", true},               // hot, no id in the URL
		{"GOOGLE", "https://x/a?channel_id=9", "1", true}, // hot wins over the URL (and '?' does not start a parameter)
		{"facebook", "channel_id=9", "2", true},
		{"Baidu", "", "3", true},
		{"channel-7", "https://x/a?q=1&channel_id=7", "7", true},
		{"channel-7", "https://x/a?q=1&channel_id=", "", true}, // empty, not NULL: kept
		{"channel-7", "https://x/a?channel_id=7", "", false},   // '?' is not '&': NULL, dropped
		{"other", "", "", false},
	}
	for _, c := range cases {
		b := nexmark.Bid{Auction: 1, Bidder: 2, Price: 3, Channel: c.channel, URL: c.url}
		r, ok := nexmark.AddChannelID(&b)
		if ok != c.keep || (ok && (r.ChannelID != c.id || r.Channel != c.channel || r.Auction != 1 || r.Bidder != 2 || r.Price != 3)) {
			t.Errorf("AddChannelID(%q, %q) = %+v, %v; want id %q, kept %v", c.channel, c.url, r, ok, c.id, c.keep)
		}
	}
}

func TestQ21NoAllocs(t *testing.T) {
	b := nexmark.Bid{Channel: "channel-12", URL: "https://www.nexmark.com/a/b/c/item.htm?query=1&channel_id=12"}
	if n := testing.AllocsPerRun(100, func() { nexmark.AddChannelID(&b) }); n != 0 {
		t.Errorf("AddChannelID allocates %v times", n)
	}
}
