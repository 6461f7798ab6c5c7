package nexmark

import (
	"fmt"
	"strings"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Q14Result is a bid of Q14 with its price in euros, the type of the time
// of day it was made and the number of 'c's in its extra field.
type Q14Result struct {
	Auction, Bidder int64
	Price           float64 // 0.908 * price
	BidTimeType     string  // "dayTime", "nightTime" or "otherTime"
	DateTime        time.Time
	Extra           string
	CCounts         int64 // count_char(extra, 'c')
}

// The bid time types of Q14.
const (
	DayTime   = "dayTime"
	NightTime = "nightTime"
	OtherTime = "otherTime"
)

// BidTimeType is Q14's CASE on the hour of the day (UTC) of ms: dayTime
// from 8 to 18 o'clock, nightTime up to 6 and from 20, otherTime at 7 and
// 19.
func BidTimeType(ms int64) string {
	switch h := (ms - dayOf(ms)*msPerDay) / msPerHour; {
	case h >= 8 && h <= 18:
		return DayTime
	case h <= 6 || h >= 20:
		return NightTime
	}
	return OtherTime
}

// Q14 is a calculation with a user-defined function:
//
//	SELECT auction, bidder, 0.908 * price AS price,
//	  CASE
//	    WHEN HOUR(dateTime) >= 8 AND HOUR(dateTime) <= 18 THEN 'dayTime'
//	    WHEN HOUR(dateTime) <= 6 OR HOUR(dateTime) >= 20 THEN 'nightTime'
//	    ELSE 'otherTime'
//	  END AS bidTimeType,
//	  dateTime, extra, count_char(extra, 'c') AS c_counts
//	FROM bid
//	WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;
//
// count_char counts the occurrences of a character; HOUR is taken in UTC.
// The job is one FlatMap from events to results, which filters and
// computes in one pass over each bid.
func Q14(events stream.DataStream[Event]) stream.DataStream[Q14Result] {
	return events.FlatMapRef(func(e *Event, emit func(Q14Result)) {
		if e.Kind == gen.KindBid {
			if r, ok := q14(&e.Bid); ok {
				emit(r)
			}
		}
	}).Name("q14")
}

// q14 is Q14 for one bid: the result and whether the bid passes the
// filter.
func q14(b *Bid) (Q14Result, bool) {
	price := DollarToEuro * float64(b.Price)
	if !(price > 1_000_000 && price < 50_000_000) {
		return Q14Result{}, false
	}
	return Q14Result{
		Auction: b.Auction, Bidder: b.Bidder, Price: price,
		BidTimeType: BidTimeType(b.DateTime.UnixMilli()),
		DateTime:    b.DateTime, Extra: b.Extra,
		CCounts: int64(strings.Count(b.Extra, "c")),
	}, true
}

func handQ14(src *gen.Source, n int64, emit func(Q14Result)) {
	handBids(src, n, func(b *Bid) {
		if r, ok := q14(b); ok {
			emit(r)
		}
	})
}

func init() {
	Register(Spec[Q14Result]{
		Name: "q14", Title: "calculation",
		Build: Q14,
		Hand:  handQ14,
		Format: func(r Q14Result) string {
			return fmt.Sprintf("auction=%d bidder=%d price=%.3f type=%s t=%s c=%d extra=%q",
				r.Auction, r.Bidder, r.Price, r.BidTimeType, r.DateTime.Format(time.RFC3339Nano), r.CCounts, r.Extra)
		},
		Due:     func(r *Q14Result) int64 { return r.DateTime.UnixNano() },
		Ordered: true,
	})
}
