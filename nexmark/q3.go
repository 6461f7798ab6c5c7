package nexmark

import (
	"fmt"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/windowing"
)

// Q3Category is the auction category Q3 selects.
const Q3Category = 10

// Q3Result is a seller in Oregon, Idaho or California with an auction of
// category 10.
type Q3Result struct {
	Name, City, State string
	ID                int64 // the auction's id
}

// q3Person is the part of a person Q3 keeps in the join's state
// (exported fields: encoding/gob).
type q3Person struct {
	ID                int64
	Name, City, State string
}

// q3Auction is an auction as Q3 keeps it: its seller (the join key) and id.
type q3Auction struct{ Seller, ID int64 }

// q3State reports whether Q3 selects a person of state s.
func q3State(s string) bool { return s == "OR" || s == "ID" || s == "CA" }

func q3Join(_ int64, p *q3Person, a *q3Auction) Q3Result {
	return Q3Result{Name: p.Name, City: p.City, State: p.State, ID: a.ID}
}

// Q3 is local item suggestion:
//
//	SELECT P.name, P.city, P.state, A.id
//	FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
//	WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
//
// A regular (unwindowed) inner join of two append-only inputs: every match
// is emitted once, whichever side comes first. The filters run before the
// join, in the FlatMaps that project persons and auctions to the columns
// the join keeps; the join is stream.Join, keyed by person id, which keeps
// every selected person and every category-10 auction in state (a regular
// join forgets nothing: an auction may come before its seller, and
// without a primary key on person the join cannot know that a person's id
// comes once). Its changelog has insertions only (an inner join of
// append-only inputs); the last Map unwraps them. A match carries the
// event time of whichever of its person and auction reached the join
// last.
func Q3(events stream.DataStream[Event]) stream.DataStream[Q3Result] {
	persons := events.FlatMapRef(func(e *Event, emit func(q3Person)) {
		if p := &e.Person; e.Kind == gen.KindPerson && q3State(p.State) {
			emit(q3Person{ID: p.ID, Name: p.Name, City: p.City, State: p.State})
		}
	}).Name("q3-persons")
	auctions := events.FlatMapRef(func(e *Event, emit func(q3Auction)) {
		if a := &e.Auction; e.Kind == gen.KindAuction && a.Category == Q3Category {
			emit(q3Auction{Seller: a.Seller, ID: a.ID})
		}
	}).Name("q3-auctions")
	return stream.Join(persons.KeyBy(func(p q3Person) int64 { return p.ID }),
		auctions.KeyBy(func(a q3Auction) int64 { return a.Seller }), stream.InnerJoin, stream.JoinOptions{}, q3Join).
		Map(func(c windowing.Change[int64, Q3Result]) Q3Result { return c.Value }).Name("q3")
}

func handQ3(src *gen.Source, n int64, emit func(Q3Result)) {
	persons := map[int64]q3Person{} // the selected persons
	waiting := map[int64][]int64{}  // auctions by seller, of sellers not selected (yet)
	var e Event
	for i := range n {
		src.Fill(i, &e)
		switch e.Kind {
		case gen.KindPerson:
			p := &e.Person
			if !q3State(p.State) {
				continue
			}
			qp := q3Person{ID: p.ID, Name: p.Name, City: p.City, State: p.State}
			persons[p.ID] = qp
			for _, id := range waiting[p.ID] {
				emit(q3Join(p.ID, &qp, &q3Auction{Seller: p.ID, ID: id}))
			}
			delete(waiting, p.ID)
		case gen.KindAuction:
			a := &e.Auction
			if a.Category != Q3Category {
				continue
			}
			if p, ok := persons[a.Seller]; ok {
				emit(q3Join(a.Seller, &p, &q3Auction{Seller: a.Seller, ID: a.ID}))
			} else {
				waiting[a.Seller] = append(waiting[a.Seller], a.ID)
			}
		}
	}
}

func init() {
	Register(Spec[Q3Result]{
		Name: "q3", Title: "local item suggestion",
		Build: Q3,
		Hand:  handQ3,
		Format: func(r Q3Result) string {
			return fmt.Sprintf("name=%q city=%q state=%s id=%d", r.Name, r.City, r.State, r.ID)
		},
		TestEvents: 50_000,
	})
}
