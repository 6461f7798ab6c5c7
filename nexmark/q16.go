package nexmark

import (
	"fmt"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/windowing"
)

// Q16Result is one channel and day of the channel statistics report.
type Q16Result struct {
	Channel string
	Day     string // yyyy-MM-dd (UTC)
	Minute  string // HH:mm of the channel's latest bid of the day
	ReportStats
}

// Q16 is the channel statistics report:
//
//	SELECT channel, DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS `day`,
//	  max(DATE_FORMAT(dateTime, 'HH:mm')) AS `minute`,
//	  count(*) AS total_bids, ... (the columns of Q15)
//	FROM bid
//	GROUP BY channel, DATE_FORMAT(dateTime, 'yyyy-MM-dd');
//
// Like Q15, the job emits each (channel, day) row once, when the watermark
// passes the end of the day, where Flink emits an updating row per bid;
// the final values are equal.
//
// The job is one one-day tumbling window keyed by channel whose
// accumulator counts the bids and keeps the channel's distinct bidders and
// auctions with their ranks (rankSets: one hash table lookup each per bid,
// checkpointable). There are 10 004 channels; the four hot ones get half
// of the bids, an eighth each. At parallelism 2 their key groups fall two
// on each subtask, so splitting them like Q15's day would cost more (a
// second window and a union of sets) than it saves.
func Q16(events stream.DataStream[Event]) stream.DataStream[Q16Result] {
	return WithEventTime(events).FlatMapRef(func(e *Event, emit func(q16Bid)) {
		if e.Kind == gen.KindBid {
			b := &e.Bid
			emit(q16Bid{Channel: b.Channel, Bidder: b.Bidder, Auction: b.Auction, Rank: priceRank(b.Price),
				Time: b.DateTime.UnixMilli()})
		}
	}).Name("q16-bids").
		KeyBy(func(b q16Bid) string { return b.Channel }).
		Window(windowing.Tumbling(Day)).
		Aggregate(q16Agg{}).
		Name("q16-channels").
		Map(func(r windowing.Result[string, q16Row]) Q16Result {
			return Q16Result{Channel: r.Key, Day: formatDay(dayOf(r.Window.Start.UnixMilli())),
				Minute: formatMinute(int(r.Value.Minute)), ReportStats: r.Value.Stats}
		}).Name("q16")
}

// q16Bid is the part of a bid q16 counts.
type q16Bid struct {
	Channel         string
	Bidder, Auction int64
	Time            int64 // Unix ms
	Rank            uint8 // priceRank
}

// q16Row is a q16 row: its counters and the latest minute of the day of
// its bids (-1: none).
type q16Row struct {
	Stats  ReportStats
	Minute int16
}

// q16Acc is the accumulator of a channel in a day: the bid counts, the
// latest minute and the distinct bidders and auctions with their ranks.
type q16Acc struct {
	Bids              [4]int64
	Minute            int16
	Bidders, Auctions rankSet
}

// q16Agg counts the bids of a channel in a day into its row. Add changes
// the sets in place in the way rankSet allows; Merge builds new ones.
type q16Agg struct{}

func (q16Agg) Init() q16Acc { return q16Acc{Minute: -1} }

func (g q16Agg) Add(a q16Acc, b q16Bid) q16Acc {
	g.AddTo(&a, b)
	return a
}

// AddTo is Add on the stored accumulator (windowing.AdderTo).
func (q16Agg) AddTo(a *q16Acc, b q16Bid) {
	a.Bids[0]++
	a.Bids[b.Rank+1]++
	a.Minute = max(a.Minute, int16(minuteOfDay(b.Time)))
	a.Bidders = a.Bidders.add(b.Bidder, 1<<b.Rank)
	a.Auctions = a.Auctions.add(b.Auction, 1<<b.Rank)
}

func (q16Agg) Merge(a, b q16Acc) q16Acc {
	for i := range a.Bids {
		a.Bids[i] += b.Bids[i]
	}
	a.Minute = max(a.Minute, b.Minute)
	a.Bidders, a.Auctions = a.Bidders.merge(b.Bidders), a.Auctions.merge(b.Auctions)
	return a
}

func (q16Agg) Result(a q16Acc) q16Row {
	r := q16Row{Stats: ReportStats{Bids: a.Bids}, Minute: a.Minute}
	a.Bidders.count(&r.Stats.Bidders)
	a.Auctions.count(&r.Stats.Auctions)
	return r
}

type channelDay struct {
	channel string
	day     int64
}

func handQ16(src *gen.Source, n int64, emit func(Q16Result)) {
	groups := map[channelDay]*handReport{}
	handBids(src, n, func(b *Bid) {
		ms := b.DateTime.UnixMilli()
		k := channelDay{b.Channel, dayOf(ms)}
		h := groups[k]
		if h == nil {
			h = newHandReport()
			groups[k] = h
		}
		h.add(b, int16(minuteOfDay(ms)))
	})
	for k, h := range groups {
		emit(Q16Result{Channel: k.channel, Day: formatDay(k.day), Minute: formatMinute(int(h.minute)), ReportStats: h.stats()})
	}
}

func init() {
	Register(Spec[Q16Result]{
		Name: "q16", Title: "channel statistics report",
		Build: Q16,
		Hand:  handQ16,
		Format: func(r Q16Result) string {
			return fmt.Sprintf("channel=%s day=%s minute=%s %s", r.Channel, r.Day, r.Minute, formatStats(r.ReportStats))
		},
		Due: func(r *Q16Result) int64 { return windowDue(parseDay(r.Day).Add(Day)) },
	})
}
