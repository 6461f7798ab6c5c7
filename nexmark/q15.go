package nexmark

import (
	"fmt"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/windowing"
)

// Q15Result is one day of the bidding statistics report.
type Q15Result struct {
	Day string // yyyy-MM-dd (UTC)
	ReportStats
}

// Q15 is the bidding statistics report:
//
//	SELECT DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS `day`,
//	  count(*) AS total_bids,
//	  count(*) FILTER (WHERE price < 10000) AS rank1_bids,
//	  count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
//	  count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
//	  count(DISTINCT bidder) AS total_bidders,
//	  count(DISTINCT bidder) FILTER (WHERE price < 10000) AS rank1_bidders,
//	  ... (rank2_bidders, rank3_bidders likewise),
//	  count(DISTINCT auction) AS total_auctions,
//	  ... (rank1_auctions to rank3_auctions likewise)
//	FROM bid
//	GROUP BY DATE_FORMAT(dateTime, 'yyyy-MM-dd');
//
// Flink emits an updating row per bid; this job emits each day's final
// row once, when the watermark passes the end of the day (a one-day
// tumbling window), with the same values.
//
// The only group key is the day, a hot spot that one subtask would count
// alone. The job splits it the way Flink's split-distinct aggregation
// does: a first one-day window is keyed by a bucket of the bid's auction
// (q15Buckets buckets) and counts the bids, the auctions with their ranks
// (exact per bucket: the buckets' auctions are disjoint) and the bidders
// with their ranks; a second one-day window keyed by the day adds up the
// buckets' counters and unions their bidder sets. There are few bidders
// (one per fifty events), so the union is small next to the per-bid work,
// which the first window spreads over the subtasks. The bucket keys are
// chosen so that their key groups are evenly spaced (spreadKeys): the
// buckets split evenly over 2 or 4 subtasks. Bucketing by auction
// rather than bidder balances better: the hot auction of the moment gets
// half of the bids, the hot bidder three quarters.
//
// The distinct sets are rankSets (one hash table lookup per bid and set,
// and a checkpointable change log).
func Q15(events stream.DataStream[Event]) stream.DataStream[Q15Result] {
	keys := spreadKeys(q15Buckets)
	parts := WithEventTime(events).FlatMapRef(func(e *Event, emit func(q15Bid)) {
		if e.Kind == gen.KindBid {
			b := &e.Bid
			emit(q15Bid{Bucket: keys[idBucket(b.Auction)], Bidder: b.Bidder, Auction: b.Auction,
				Rank: priceRank(b.Price), Time: b.DateTime.UnixMilli()})
		}
	}).Name("q15-bids").
		KeyBy(func(b q15Bid) int { return b.Bucket }).
		Window(windowing.Tumbling(Day)).
		Aggregate(q15BucketAgg{}).
		Name("q15-buckets")
	return parts.
		KeyBy(func(r windowing.Result[int, q15Part]) int64 { return r.Window.Start.UnixMilli() }).
		Window(windowing.Tumbling(Day)).
		Aggregate(q15DayAgg{}).
		Name("q15-days").
		Map(func(r windowing.Result[int64, ReportStats]) Q15Result {
			return Q15Result{Day: formatDay(dayOf(r.Key)), ReportStats: r.Value}
		}).Name("q15")
}

// q15Buckets is the number of buckets of auctions of q15.
const q15Buckets = 4

// idBucket spreads ids (consecutive numbers) over q15Buckets buckets, an
// aligned block of eight ids to one bucket: an idTable keeps a block in
// one cache line, so a bucket's table then fills its lines as one table
// of all the ids would (a bucket per id left a quarter of each line used,
// and the idTables' lookups took twice as long). It must not be the
// idTable's hash: a bucket's ids would then share the bits that place
// them in its tables.
func idBucket(id int64) int {
	m := uint64(id) >> 3
	m ^= m >> 33
	m *= 0xff51afd7ed558ccd
	m ^= m >> 33
	return int(m % q15Buckets)
}

// q15Bid is the part of a bid q15 counts, with the key of its bucket.
type q15Bid struct {
	Bucket          int
	Bidder, Auction int64
	Time            int64 // Unix ms
	Rank            uint8 // priceRank
}

// q15Acc is the accumulator of a bucket of auctions in a day: the bids,
// the auctions and the bidders, with their ranks.
type q15Acc struct {
	Bids              [4]int64
	Bidders, Auctions rankSet
}

// q15Part is the row of a bucket of auctions in a day: the bid and auction
// counters and the bidders.
type q15Part struct {
	Stats   ReportStats
	Bidders rankSet
}

type q15BucketAgg struct{}

func (q15BucketAgg) Init() q15Acc { return q15Acc{} }

func (g q15BucketAgg) Add(a q15Acc, b q15Bid) q15Acc {
	g.AddTo(&a, b)
	return a
}

// AddTo is Add on the stored accumulator (windowing.AdderTo): a q15Acc is
// 14 words.
func (q15BucketAgg) AddTo(a *q15Acc, b q15Bid) {
	a.Bids[0]++
	a.Bids[b.Rank+1]++
	a.Bidders = a.Bidders.add(b.Bidder, 1<<b.Rank)
	a.Auctions = a.Auctions.add(b.Auction, 1<<b.Rank)
}

func (q15BucketAgg) Merge(a, b q15Acc) q15Acc {
	for i := range a.Bids {
		a.Bids[i] += b.Bids[i]
	}
	a.Bidders, a.Auctions = a.Bidders.merge(b.Bidders), a.Auctions.merge(b.Auctions)
	return a
}

func (q15BucketAgg) Result(a q15Acc) q15Part {
	p := q15Part{Stats: ReportStats{Bids: a.Bids}, Bidders: a.Bidders}
	a.Auctions.count(&p.Stats.Auctions)
	return p
}

// q15DayAcc sums the bucket rows of a day and unions their bidders.
type q15DayAcc struct {
	Stats   ReportStats
	Bidders rankSet
}

type q15DayAgg struct{}

func (q15DayAgg) Init() q15DayAcc { return q15DayAcc{} }

func (q15DayAgg) Add(a q15DayAcc, r windowing.Result[int, q15Part]) q15DayAcc {
	a.Stats.add(&r.Value.Stats)
	a.Bidders = a.Bidders.union(r.Value.Bidders)
	return a
}

func (q15DayAgg) Merge(a, b q15DayAcc) q15DayAcc {
	a.Stats.add(&b.Stats)
	a.Bidders = a.Bidders.merge(b.Bidders)
	return a
}

func (q15DayAgg) Result(a q15DayAcc) ReportStats {
	s := a.Stats
	a.Bidders.count(&s.Bidders)
	return s
}

func handQ15(src *gen.Source, n int64, emit func(Q15Result)) {
	days := map[int64]*handReport{}
	handBids(src, n, func(b *Bid) {
		d := dayOf(b.DateTime.UnixMilli())
		h := days[d]
		if h == nil {
			h = newHandReport()
			days[d] = h
		}
		h.add(b, 0)
	})
	for d, h := range days {
		emit(Q15Result{Day: formatDay(d), ReportStats: h.stats()})
	}
}

func init() {
	Register(Spec[Q15Result]{
		Name: "q15", Title: "bidding statistics report",
		Build: Q15,
		Hand:  handQ15,
		Format: func(r Q15Result) string {
			return fmt.Sprintf("day=%s %s", r.Day, formatStats(r.ReportStats))
		},
		Due: func(r *Q15Result) int64 { return windowDue(parseDay(r.Day).Add(Day)) },
	})
}
