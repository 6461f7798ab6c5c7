package nexmark

import (
	"strconv"
	"strings"
)

var (
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend",
		"Redmond", "Seattle", "Kent", "Cheyenne"}
	hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// pools hold every string an event can carry, so events are built from
// substrings and slice elements without allocating.
type pools struct {
	text     string // lowercase letters, about one in 13 a space
	cards    string // numCards blocks "dddd dddd dddd dddd "
	names    []string
	emails   []string
	channels []string
	urls     []string
	hotURLs  []string
}

func newPools(seed uint64) *pools {
	r := rng{s: mix(seed ^ 0x5851f42d4c957f2d)}
	p := &pools{}
	var b strings.Builder
	b.Grow(textPoolSize)
	for range textPoolSize {
		if r.intn(13) == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(byte('a' + r.intn(26)))
		}
	}
	p.text = b.String()
	p.cards = cardPool(&r)
	for _, f := range firstNames {
		for _, l := range lastNames {
			p.names = append(p.names, f+" "+l)
		}
	}
	p.emails = make([]string, numEmails)
	for i := range p.emails {
		p.emails[i] = p.str(&r, 7) + "@" + p.str(&r, 5) + ".com"
	}
	p.channels, p.urls = make([]string, numChannels), make([]string, numChannels)
	for i := range numChannels {
		p.channels[i] = "channel-" + strconv.Itoa(i)
		p.urls[i] = p.url(&r) + "&channel_id=" + strconv.Itoa(i)
	}
	for range hotChannels {
		p.hotURLs = append(p.hotURLs, p.url(&r))
	}
	return p
}

func cardPool(r *rng) string {
	var b strings.Builder
	b.Grow(numCards * cardBlockSize)
	for range numCards {
		for g := range 4 {
			d := r.intn(10000)
			b.WriteByte(byte('0' + d/1000))
			b.WriteByte(byte('0' + d/100%10))
			b.WriteByte(byte('0' + d/10%10))
			b.WriteByte(byte('0' + d%10))
			if g < 3 {
				b.WriteByte(' ')
			}
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func (p *pools) url(r *rng) string {
	return "https://www.nexmark.com/" + p.word(r, 5) + "/" + p.word(r, 5) + "/" + p.word(r, 5) + "/item.htm?query=1"
}

// word is str without inner spaces, for URLs.
func (p *pools) word(r *rng, maxLen int) string {
	return strings.ReplaceAll(p.str(r, maxLen), " ", "_")
}

// card is credit card number i: "dddd dddd dddd dddd".
func (p *pools) card(i int) string { return p.cards[i*cardBlockSize : (i+1)*cardBlockSize-1] }

// str is a random string of length in [minStringLen, maxLen), trimmed.
func (p *pools) str(r *rng, maxLen int) string {
	return trim(p.exact(r, minStringLen+r.intn(maxLen-minStringLen)))
}

// exact is a random string of exactly n bytes.
func (p *pools) exact(r *rng, n int) string {
	off := r.intn(len(p.text) - n + 1)
	return p.text[off : off+n]
}

// extra pads a record of size bytes towards an average of avg bytes: a
// string of avg-size bytes give or take 20% (empty when size > avg).
func (p *pools) extra(r *rng, size, avg int) string {
	if size > avg {
		return ""
	}
	want := avg - size
	delta := (want + 2) / 5 // round(want * 0.2)
	return p.exact(r, want-delta+r.intn(2*delta+1))
}
