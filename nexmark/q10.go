package nexmark

import (
	"fmt"
	"strconv"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Q10Result is a row of Q10: a bid with its date and hour:minute, the
// partition it is written to.
type Q10Result struct {
	Auction, Bidder, Price int64
	DateTime               time.Time
	Extra                  string
	DT                     string // DATE_FORMAT(dateTime, 'yyyy-MM-dd')
	HM                     string // DATE_FORMAT(dateTime, 'HH:mm')
}

// Q10 is log to file system:
//
//	INSERT INTO fs_sink
//	SELECT auction, bidder, price, dateTime, extra,
//	  DATE_FORMAT(dateTime, 'yyyy-MM-dd'), DATE_FORMAT(dateTime, 'HH:mm')
//	FROM bid;
//
// where fs_sink is a file system table PARTITIONED BY (dt, hm). Q10 returns
// the rows (one FlatMap over the events; dates in UTC); Q10ToFiles writes
// them to the partitioned files. The date strings are formatted once per
// minute of event time, not per bid (dateLabels).
func Q10(events stream.DataStream[Event]) stream.DataStream[Q10Result] {
	labels := &dateLabels{}
	return events.FlatMapRef(func(e *Event, emit func(Q10Result)) {
		if e.Kind == gen.KindBid {
			emit(q10Row(&e.Bid, labels))
		}
	}).Name("q10")
}

func q10Row(b *Bid, labels *dateLabels) Q10Result {
	l := labels.of(b.DateTime.UnixMilli())
	return Q10Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra, DT: l.day, HM: l.hm}
}

// Q10Partition is the partition of a Q10 row.
type Q10Partition struct{ DT, HM string }

// Q10Partitioning puts a Q10 row into the directory dt=<DT>/hm=<HM>, Hive
// style, as Flink's file system sink does (the partition columns are in
// the path, not in the files).
func Q10Partitioning() file.Partitioning[Q10Result, Q10Partition] {
	return file.Partitioning[Q10Result, Q10Partition]{
		Key:  func(r Q10Result) Q10Partition { return Q10Partition{r.DT, r.HM} },
		Path: func(p Q10Partition) string { return "dt=" + p.DT + "/hm=" + p.HM },
	}
}

// Q10Format writes the columns of a Q10 row that are not partition
// columns as CSV with a header: auction, bidder, price, dateTime (UTC,
// "2006-01-02 15:04:05.000"), extra.
func Q10Format() file.Format[Q10Result] {
	return file.CSV([]string{"auction", "bidder", "price", "dateTime", "extra"}, Q10Fields)
}

// Q10Fields are the CSV fields of Q10Format.
func Q10Fields(r Q10Result) []string {
	return []string{strconv.FormatInt(r.Auction, 10), strconv.FormatInt(r.Bidder, 10), strconv.FormatInt(r.Price, 10),
		r.DateTime.UTC().Format("2006-01-02 15:04:05.000"), r.Extra}
}

// Q10ToFiles is Q10 with its file system sink: it writes the rows of
// events into dir, partitioned by dt and hm (Q10Partitioning, Q10Format),
// exactly once: a part file becomes visible when the checkpoint covering
// its rows completes (or at the end of a bounded input), see
// file.PartitionedSink.
func Q10ToFiles(events stream.DataStream[Event], dir string, opts file.Options) {
	Q10(events).SinkTo(file.NewPartitionedSink(dir, Q10Format(), Q10Partitioning(), opts))
}

func handQ10(src *gen.Source, n int64, emit func(Q10Result)) {
	labels := &dateLabels{}
	handBids(src, n, func(b *Bid) { emit(q10Row(b, labels)) })
}

func init() {
	Register(Spec[Q10Result]{
		Name: "q10", Title: "log to file system",
		Build: Q10,
		Hand:  handQ10,
		Format: func(r Q10Result) string {
			return fmt.Sprintf("dt=%s hm=%s auction=%d bidder=%d price=%d t=%s extra=%q",
				r.DT, r.HM, r.Auction, r.Bidder, r.Price, r.DateTime.Format(time.RFC3339Nano), r.Extra)
		},
		Due:     func(r *Q10Result) int64 { return r.DateTime.UnixNano() },
		Ordered: true,
	})
}
