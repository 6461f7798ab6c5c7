package nexmark

import (
	"fmt"
	"strings"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Q22Result is a bid with the first three directories of its URL.
type Q22Result struct {
	Auction int64
	Bidder  int64
	Price   int64
	Channel string
	// Dir1, Dir2 and Dir3 are SPLIT_INDEX(url, '/', 3), 4 and 5; a missing
	// one (SQL NULL) is empty.
	Dir1, Dir2, Dir3 string
}

// Q22 is "get URL directories":
//
//	SELECT auction, bidder, price, channel,
//	  SPLIT_INDEX(url, '/', 3) AS dir1,
//	  SPLIT_INDEX(url, '/', 4) AS dir2,
//	  SPLIT_INDEX(url, '/', 5) AS dir3
//	FROM bid
//
// The job is one FlatMap from events to results; URLDirs finds the three
// fields in one scan of the URL, as substrings of it (no allocation).
// SPLIT_INDEX is 0-based and gives NULL for an index past the last field;
// the result holds NULL as the empty string, which the generator's URLs
// (https://www.nexmark.com/a/b/c/item.htm?...) never need.
func Q22(events stream.DataStream[Event]) stream.DataStream[Q22Result] {
	return events.FlatMapRef(func(e *Event, emit func(Q22Result)) {
		if e.Kind == gen.KindBid {
			emit(URLDirectories(&e.Bid))
		}
	}).Name("q22")
}

// URLDirectories is q22 on one bid.
func URLDirectories(b *Bid) Q22Result {
	d1, d2, d3 := URLDirs(b.URL)
	return Q22Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, Channel: b.Channel, Dir1: d1, Dir2: d2, Dir3: d3}
}

// URLDirs returns fields 3, 4 and 5 (0-based) of url split at '/' (Flink's
// SPLIT_INDEX(url, '/', 3) and so on), each empty if url has fewer fields.
// "https://host/a/b/c/x" gives "a", "b", "c".
func URLDirs(url string) (dir1, dir2, dir3 string) {
	var d [3]string
	rest := url
	for k := range 6 {
		i := strings.IndexByte(rest, '/')
		if k >= 3 {
			if i < 0 {
				d[k-3] = rest
				break
			}
			d[k-3] = rest[:i]
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	return d[0], d[1], d[2]
}

func handQ22(src *gen.Source, n int64, emit func(Q22Result)) {
	handBids(src, n, func(b *Bid) { emit(URLDirectories(b)) })
}

func init() {
	Register(Spec[Q22Result]{
		Name: "q22", Title: "get URL directories",
		Build: Q22,
		Hand:  handQ22,
		Format: func(r Q22Result) string {
			return fmt.Sprintf("auction=%d bidder=%d price=%d channel=%s dir1=%s dir2=%s dir3=%s",
				r.Auction, r.Bidder, r.Price, r.Channel, r.Dir1, r.Dir2, r.Dir3)
		},
		Ordered: true,
	})
}
