package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Q8Window is the length of Q8's tumbling windows.
const Q8Window = 10 * time.Second

// Q8Result is a person who registered and opened an auction in the same
// window.
type Q8Result struct {
	ID    int64
	Name  string
	Start time.Time // the window's start
}

// Q8 is monitor new users: the people who opened an auction in the 10 s
// tumbling window in which they registered.
//
//	SELECT P.id, P.name, P.starttime
//	FROM (SELECT id, name, window_start AS starttime, window_end AS endtime
//	      FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
//	      GROUP BY id, name, window_start, window_end) P
//	JOIN (SELECT seller, window_start AS starttime, window_end AS endtime
//	      FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
//	      GROUP BY seller, window_start, window_end) A
//	ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
//
// The job projects people and auctions to one small record keyed by the
// person's id (the auction's seller) and aggregates each key's tumbling
// window into two flags and the name: the window join of the two
// distinct sides is a co-group, so each person is reported once per
// window however many auctions they opened in it. A window fires when the
// watermark passes its end.
func Q8(events stream.DataStream[Event]) stream.DataStream[Q8Result] {
	return winFlatMap(WithEventTime(events), "q8-people-sellers", func(e *Event, emit func(q8In)) {
		switch e.Kind {
		case gen.KindPerson:
			emit(q8In{ID: e.Person.ID, Name: e.Person.Name, Person: true})
		case gen.KindAuction:
			emit(q8In{ID: e.Auction.Seller})
		}
	}).KeyBy(func(r q8In) int64 { return r.ID }).
		Window(windowing.Tumbling(Q8Window)).
		Aggregate(q8Agg{}).Name("q8-window").
		FlatMap(func(r windowing.Result[int64, q8Acc], emit func(Q8Result)) {
			if r.Value.Person && r.Value.Seller {
				emit(Q8Result{ID: r.Key, Name: r.Value.Name, Start: r.Window.Start})
			}
		}).Name("q8-join")
}

// q8In is a person (Person set) or an auction by seller ID.
type q8In struct {
	ID     int64
	Name   string
	Person bool
}

// q8Acc is what a window knows of one id: whether the person registered
// in it (and their name) and whether they opened an auction in it.
type q8Acc struct {
	Name           string
	Person, Seller bool
}

// q8Agg aggregates a window of one id into a q8Acc.
type q8Agg struct{}

func (q8Agg) Init() q8Acc { return q8Acc{} }

func (q8Agg) Add(acc q8Acc, r q8In) q8Acc {
	if r.Person {
		acc.Person, acc.Name = true, r.Name
	} else {
		acc.Seller = true
	}
	return acc
}

func (q8Agg) Merge(a, b q8Acc) q8Acc {
	if b.Person {
		a.Person, a.Name = true, b.Name
	}
	a.Seller = a.Seller || b.Seller
	return a
}

func (q8Agg) Result(acc q8Acc) q8Acc { return acc }

// handQ8On keeps the current window's people and sellers and emits the
// people who are both when a later window begins.
func handQ8On(events winEvents, emit func(Q8Result)) {
	const size = int64(Q8Window / time.Millisecond)
	people := map[int64]string{}
	sellers := map[int64]bool{}
	cur := int64(-1)
	flush := func() {
		for id, name := range people {
			if sellers[id] {
				emit(Q8Result{ID: id, Name: name, Start: timeapi.Time(cur)})
			}
		}
		clear(people)
		clear(sellers)
	}
	events(func(e *Event, ts int64) {
		if e.Kind == gen.KindBid {
			return
		}
		if start := winStart(ts, size); start != cur {
			flush()
			cur = start
		}
		if e.Kind == gen.KindPerson {
			people[e.Person.ID] = e.Person.Name
		} else {
			sellers[e.Auction.Seller] = true
		}
	})
	flush()
}

// formatQ8 renders a result for golden files and comparisons.
func formatQ8(r Q8Result) string {
	return fmt.Sprintf("window_start=%s id=%d name=%q", winTime(r.Start), r.ID, r.Name)
}

func init() {
	Register(Spec[Q8Result]{
		Name: "q8", Title: "monitor new users",
		Build:      Q8,
		Hand:       func(src *gen.Source, n int64, emit func(Q8Result)) { handQ8On(winGen(src, n), emit) },
		Format:     formatQ8,
		Due:        func(r Q8Result) time.Time { return r.Start.Add(Q8Window) },
		TestEvents: 300_000,
	})
}
