package nexmark

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Q13Modulus is the size of Q13's side input: a bid joins the rows whose
// key is its auction modulo Q13Modulus.
const Q13Modulus = 10_000

// Q13Result is a bid enriched with the value of a side input row.
type Q13Result struct {
	Auction, Bidder, Price int64
	DateTime               time.Time
	Value                  string
}

// SideInput is Q13's bounded side input: a static table of (key, value)
// rows, held in memory and read-only once built, so every subtask of a job
// can read it at once. Only keys in [0, Q13Modulus) can match a bid;
// others are dropped when the table is built.
type SideInput struct {
	rows [Q13Modulus][]string // the values of each key, in input order
	n    int
}

// NewSideInput returns the generated side input of the Flink suite's
// side_input.txt: one row per key 0 to Q13Modulus-1 whose value is the
// key in decimal.
func NewSideInput() *SideInput {
	s := &SideInput{}
	for k := range Q13Modulus {
		s.Add(int64(k), strconv.Itoa(k))
	}
	return s
}

// Add adds the row (key, value); a key may have several rows (a bid then
// joins each). A key outside [0, Q13Modulus) can never match and is
// ignored.
func (s *SideInput) Add(key int64, value string) {
	if key < 0 || key >= Q13Modulus {
		return
	}
	s.rows[key] = append(s.rows[key], value)
	s.n++
}

// Len is the number of rows that can match.
func (s *SideInput) Len() int { return s.n }

// Lookup returns the values of the rows with key k.
func (s *SideInput) Lookup(k int64) []string {
	if k < 0 || k >= Q13Modulus {
		return nil
	}
	return s.rows[k]
}

// ErrSideInput is wrapped by the errors of LoadSideInput.
var ErrSideInput = errors.New("nexmark: bad side input")

// LoadSideInput reads a side input in the format of the Flink suite's
// side_input.txt: CSV lines "key,value" with an integer key, no header.
func LoadSideInput(r io.Reader) (*SideInput, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	cr.ReuseRecord = true
	s := &SideInput{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSideInput, err)
		}
		k, err := strconv.ParseInt(strings.TrimSpace(rec[0]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: key %q: %v", ErrSideInput, line, rec[0], err)
		}
		s.Add(k, strings.Clone(rec[1]))
	}
}

// Q13 is the bounded side input join with the generated side input
// (NewSideInput); Q13With takes another one.
func Q13(events stream.DataStream[Event]) stream.DataStream[Q13Result] {
	return Q13With(events, NewSideInput())
}

// Q13With is the bounded side input join:
//
//	SELECT B.auction, B.bidder, B.price, B.dateTime, S.value
//	FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
//	JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
//	ON mod(B.auction, 10000) = S.key;
//
// Flink reads side_input from a file through a lookup join that caches the
// whole (small, static) table. Here the table is a SideInput in memory,
// shared read-only by every subtask, and the join is a FlatMap that
// indexes it by auction % 10000: one array access per bid, in the bid's
// own subtask, with no exchange. The alternatives cost more for the
// same result: stream.LookupJoin is for external tables (an LRU cache,
// batched asynchronous gets on helper goroutines, in-order buffering of
// results), all overhead when every row is already in memory; a broadcast
// join of a side-input stream would hold the bids back until the side
// input is fully read and keep a copy of the table in each subtask's
// state. A static side input needs no state: nothing to checkpoint, and a
// restored job joins the same rows.
func Q13With(events stream.DataStream[Event], side *SideInput) stream.DataStream[Q13Result] {
	return events.FlatMapRef(func(e *Event, emit func(Q13Result)) {
		if e.Kind != gen.KindBid {
			return
		}
		b := &e.Bid
		for _, v := range side.Lookup(b.Auction % Q13Modulus) {
			emit(Q13Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Value: v})
		}
	}).Name("q13")
}

func handQ13(src *gen.Source, n int64, emit func(Q13Result)) {
	side := NewSideInput()
	handBids(src, n, func(b *Bid) {
		for _, v := range side.Lookup(b.Auction % Q13Modulus) {
			emit(Q13Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Value: v})
		}
	})
}

func init() {
	Register(Spec[Q13Result]{
		Name: "q13", Title: "bounded side input join",
		Build: Q13,
		Hand:  handQ13,
		Format: func(r Q13Result) string {
			return fmt.Sprintf("auction=%d bidder=%d price=%d t=%s value=%s",
				r.Auction, r.Bidder, r.Price, r.DateTime.Format(time.RFC3339Nano), r.Value)
		},
		Due:     func(r *Q13Result) int64 { return r.DateTime.UnixNano() },
		Ordered: true,
	})
}
