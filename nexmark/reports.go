package nexmark

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// Helpers of the report queries (q15, q16, q17) and of the queries that
// format dates (q10, q14).

const (
	msPerMinute = 60_000
	msPerHour   = 60 * msPerMinute
	msPerDay    = 24 * msPerHour
)

// Day is the length of the report queries' days: their tumbling windows
// are the UTC days.
const Day = 24 * time.Hour

// The price ranks of the report queries (in cents, like Bid.Price): rank 1
// is below Rank2Price, rank 2 below Rank3Price, rank 3 the rest.
const (
	Rank2Price = 10_000
	Rank3Price = 1_000_000
)

// priceRank is the rank of a price minus one: 0, 1 or 2.
func priceRank(price int64) uint8 {
	switch {
	case price < Rank2Price:
		return 0
	case price < Rank3Price:
		return 1
	}
	return 2
}

// dayOf is the UTC day number of Unix time ms (days since the epoch).
func dayOf(ms int64) int64 {
	d := ms / msPerDay
	if ms%msPerDay < 0 {
		d--
	}
	return d
}

// minuteOfDay is the minute of the UTC day of Unix time ms, 0 to 1439.
func minuteOfDay(ms int64) int { return int((ms - dayOf(ms)*msPerDay) / msPerMinute) }

// formatDay is DATE_FORMAT(t, 'yyyy-MM-dd') of a time in day d.
func formatDay(d int64) string { return timeapi.Time(d * msPerDay).Format(time.DateOnly) }

// formatMinute is DATE_FORMAT(t, 'HH:mm') of a time in minute m of its day.
func formatMinute(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseDay is the start of a day formatted by formatDay (the zero time for
// a malformed one).
func parseDay(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// minuteLabel holds DATE_FORMAT(t, 'yyyy-MM-dd') and DATE_FORMAT(t,
// 'HH:mm') of the times in one minute (UTC).
type minuteLabel struct {
	minute  int64 // minutes since the epoch
	day, hm string
}

// dateLabels formats event times as dates and hours:minutes, remembering
// the strings of the last minute so that a stream in time order formats
// (and allocates) once per minute. It is safe for concurrent use: parallel
// subtasks share one.
type dateLabels struct{ last atomic.Pointer[minuteLabel] }

// of returns the labels of Unix time ms.
func (d *dateLabels) of(ms int64) *minuteLabel {
	m := ms / msPerMinute
	if ms%msPerMinute < 0 {
		m--
	}
	if l := d.last.Load(); l != nil && l.minute == m {
		return l
	}
	l := &minuteLabel{minute: m, day: formatDay(dayOf(ms)), hm: formatMinute(minuteOfDay(ms))}
	d.last.Store(l)
	return l
}

// ReportStats are the counters of a q15 or q16 report row; index 0 is
// the total, 1 to 3 the price ranks (see Rank2Price).
type ReportStats struct {
	Bids     [4]int64 // count(*) [FILTER (WHERE rank)]
	Bidders  [4]int64 // count(DISTINCT bidder) [FILTER (WHERE rank)]
	Auctions [4]int64 // count(DISTINCT auction) [FILTER (WHERE rank)]
}

func (s *ReportStats) add(o *ReportStats) {
	for i := range 4 {
		s.Bids[i] += o.Bids[i]
		s.Bidders[i] += o.Bidders[i]
		s.Auctions[i] += o.Auctions[i]
	}
}

// handReport is the hand loops' state of one group and day: the bid
// counts and the ranks of every distinct bidder and auction (in idTables,
// like the jobs' rankSets, without the change log).
type handReport struct {
	bids     [4]int64
	bidders  *idTable
	auctions *idTable
	minute   int16
}

func newHandReport() *handReport {
	return &handReport{bidders: newIDTable(), auctions: newIDTable(), minute: -1}
}

func (h *handReport) add(b *Bid, minute int16) {
	r := priceRank(b.Price)
	h.bids[0]++
	h.bids[r+1]++
	h.bidders.or(b.Bidder, 1<<r)
	h.auctions.or(b.Auction, 1<<r)
	h.minute = max(h.minute, minute)
}

func (h *handReport) stats() ReportStats {
	s := ReportStats{Bids: h.bids}
	h.bidders.count(&s.Bidders)
	h.auctions.count(&s.Auctions)
	return s
}

// spreadKeys returns n int keys whose key groups (for the default 128 key
// groups) are evenly spaced, so that n buckets keyed by them split evenly
// over any parallelism dividing n. Small ints hash to arbitrary key groups
// (0 to 7 put six of eight on one of two subtasks).
func spreadKeys(n int) []int {
	maxP := statebackend.DefaultMaxParallelism
	hash := operators.HashFunc[int]()
	keys := make([]int, n)
	for i := range keys {
		want := (2*i + 1) * maxP / (2 * n)
		k := 0
		for operators.KeyGroupOf(hash(k), maxP) != want {
			k++
		}
		keys[i] = k
	}
	return keys
}

// formatStats renders the counters of a report row.
func formatStats(s ReportStats) string {
	return fmt.Sprintf("bids=%d/%d/%d/%d bidders=%d/%d/%d/%d auctions=%d/%d/%d/%d",
		s.Bids[0], s.Bids[1], s.Bids[2], s.Bids[3],
		s.Bidders[0], s.Bidders[1], s.Bidders[2], s.Bidders[3],
		s.Auctions[0], s.Auctions[1], s.Auctions[2], s.Auctions[3])
}
