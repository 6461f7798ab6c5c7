package nexmark

import (
	"fmt"
	"strings"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Q21Result is a bid with the id of its channel.
type Q21Result struct {
	Auction   int64
	Bidder    int64
	Price     int64
	Channel   string
	ChannelID string
}

// Q21 is "add channel id":
//
//	SELECT auction, bidder, price, channel,
//	  CASE
//	    WHEN lower(channel) = 'apple' THEN '0'
//	    WHEN lower(channel) = 'google' THEN '1'
//	    WHEN lower(channel) = 'facebook' THEN '2'
//	    WHEN lower(channel) = 'baidu' THEN '3'
//	    ELSE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)
//	  END AS channel_id
//	FROM bid
//	WHERE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) IS NOT NULL
//	   OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')
//
// The job is one FlatMap from events to results: the four hot channels
// get their constant id without looking at the URL, any other bid the
// value of its URL's channel_id parameter (ChannelID, a scan instead of a
// regular expression), and bids with neither are dropped. lower() is
// Go's strings.ToLower (Unicode case mapping), which agrees with Java's
// toLowerCase outside locale-specific cases.
func Q21(events stream.DataStream[Event]) stream.DataStream[Q21Result] {
	return events.FlatMapRef(func(e *Event, emit func(Q21Result)) {
		if e.Kind == gen.KindBid {
			if r, ok := AddChannelID(&e.Bid); ok {
				emit(r)
			}
		}
	}).Name("q21")
}

// AddChannelID is q21 on one bid: its result, and false if the query drops
// the bid.
func AddChannelID(b *Bid) (Q21Result, bool) {
	id, ok := HotChannelID(b.Channel)
	if !ok {
		id, ok = ChannelID(b.URL)
	}
	if !ok {
		return Q21Result{}, false
	}
	return Q21Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, Channel: b.Channel, ChannelID: id}, true
}

// HotChannelID returns q21's id of channel when lower(channel) is one of
// the four hot channels: "0" for apple, "1" for google, "2" for facebook
// and "3" for baidu.
func HotChannelID(channel string) (string, bool) {
	for i := range len(channel) {
		if channel[i] >= 0x80 { // rare: lowercasing may change the length
			return hotChannelIDLower(strings.ToLower(channel))
		}
	}
	switch len(channel) {
	case 5:
		if equalLowerASCII(channel, "apple") {
			return "0", true
		}
		if equalLowerASCII(channel, "baidu") {
			return "3", true
		}
	case 6:
		if equalLowerASCII(channel, "google") {
			return "1", true
		}
	case 8:
		if equalLowerASCII(channel, "facebook") {
			return "2", true
		}
	}
	return "", false
}

func hotChannelIDLower(lower string) (string, bool) {
	switch lower {
	case "apple":
		return "0", true
	case "google":
		return "1", true
	case "facebook":
		return "2", true
	case "baidu":
		return "3", true
	}
	return "", false
}

// equalLowerASCII reports whether the ASCII string s lowercased is lower;
// they have the same length.
func equalLowerASCII(s, lower string) bool {
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

const channelIDParam = "channel_id="

// ChannelID is REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) without a
// regular expression: the value of the first "channel_id=" that starts url
// or follows a '&', up to the next '&' or the end (possibly empty), and
// false when there is none (SQL NULL). The value is a substring of url.
func ChannelID(url string) (string, bool) {
	for off := 0; ; {
		i := strings.Index(url[off:], channelIDParam)
		if i < 0 {
			return "", false
		}
		i += off
		if i == 0 || url[i-1] == '&' {
			v := url[i+len(channelIDParam):]
			if j := strings.IndexByte(v, '&'); j >= 0 {
				v = v[:j]
			}
			return v, true
		}
		off = i + 1
	}
}

// handQ21 uses the job's AddChannelID (the scan ChannelID included): the
// tests check ChannelID against Go's regexp on their own.
func handQ21(src *gen.Source, n int64, emit func(Q21Result)) {
	handBids(src, n, func(b *Bid) {
		if r, ok := AddChannelID(b); ok {
			emit(r)
		}
	})
}

func init() {
	Register(Spec[Q21Result]{
		Name: "q21", Title: "add channel id",
		Build: Q21,
		Hand:  handQ21,
		Format: func(r Q21Result) string {
			return fmt.Sprintf("auction=%d bidder=%d price=%d channel=%s channel_id=%s",
				r.Auction, r.Bidder, r.Price, r.Channel, r.ChannelID)
		},
		Ordered: true,
	})
}
