package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
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
// person's id (the auction's seller), and a process function (q8Matcher)
// keeps what each id's open window has seen: whether the person
// registered in it (and their name) and whether they opened an auction in
// it. The window join of the two distinct sides is a co-group, so each
// person is reported once per window however many auctions they opened
// in it: the matcher sends the result the moment an id's window has both.
// Results are held until the watermark passes the window's end, in a
// per-subtask list per window, chained (winHoldOf: the local phase of
// Q7's top, every result tied). A window's results are thus out as soon
// as it closes, each subtask releasing its own, where a window operator
// fired every id of the window at its end (some 200k at 1M events/s:
// 37-45 ms to the last result), and the two phases of Q7's top sent them
// all to one subtask, the window's, to be emitted one after another. An
// id's entry goes with a timer a second after its window's end.
func Q8(events stream.DataStream[Event]) stream.DataStream[Q8Result] {
	const size = int64(Q8Window / time.Millisecond)
	matches := WithEventTime(events).FlatMapRef(func(e *Event, emit func(q8In)) {
		switch e.Kind {
		case gen.KindPerson:
			emit(q8In{ID: e.Person.ID, Name: e.Person.Name, Person: true})
		case gen.KindAuction:
			emit(q8In{ID: e.Auction.Seller})
		}
	}).Name("q8-people-sellers").KeyBy(func(r q8In) int64 { return r.ID }).
		Process(stream.KeyedProcessFunc[int64, q8In, Q8Result](&q8Matcher{})).Name("q8-match")
	return winHoldOf(matches, "q8-join",
		func(r *Q8Result, _ int64) (int64, bool) { return timeapi.Millis(r.Start) + size, true },
		func(r *Q8Result) Q8Result { return *r })
}

// q8In is a person (Person set) or an auction by seller ID.
type q8In struct {
	ID     int64
	Name   string
	Person bool
}

// q8Win is what one window of an id has seen: whether the person
// registered in it (and their name) and whether they opened an auction in
// it. The entry holds one window (Open); More counts the id's other open
// windows, in the overflow map state (events of one id more than a window
// apart in event time, under a watermark that has not passed the first).
type q8Win struct {
	Start          int64
	Name           string
	Person, Seller bool
	Open           bool
	More           int64
}

// q8Linger is how long after its end a window's entry is dropped, so that
// dropping the entries of a window (a burst of timers) never delays the
// results of one.
const q8Linger = int64(time.Second / time.Millisecond)

// q8Matcher is Q8's co-group per id and window (see Q8).
type q8Matcher struct {
	win  *stream.ValueState[int64, q8Win]
	more *stream.MapState[int64, int64, q8Win] // window start -> window
}

func (m *q8Matcher) Open(ctx *stream.OpenContext[int64]) (err error) {
	if m.win, err = stream.NewValueState[q8Win](ctx, "window"); err != nil {
		return err
	}
	m.more, err = stream.NewMapState[int64, q8Win](ctx, "more")
	return err
}

func (m *q8Matcher) ProcessElement(ctx *stream.Context[int64, Q8Result], r q8In) error {
	const size = int64(Q8Window / time.Millisecond)
	wm := timeapi.Millis(ctx.Watermark())
	start := winStart(timeapi.Millis(ctx.Timestamp()), size)
	if start+size-1 <= wm {
		return nil // the window has fired: late
	}
	if m.win.InPlace() {
		w, _ := m.win.Ptr(true)
		m.add(ctx, w, &r, start, wm)
		return nil
	}
	w, _ := m.win.Value()
	m.add(ctx, &w, &r, start, wm)
	m.win.Update(w)
	return nil
}

// add applies r, of the window starting at start, to the id's entry w.
func (m *q8Matcher) add(ctx *stream.Context[int64, Q8Result], w *q8Win, r *q8In, start, wm int64) {
	const size = int64(Q8Window / time.Millisecond)
	switch {
	case w.Open && w.Start == start:
		m.apply(ctx, w, r)
		return
	case w.More > 0:
		if o, ok := m.more.Get(start); ok {
			m.apply(ctx, &o, r)
			m.more.Put(start, o)
			return
		}
	}
	o := q8Win{Open: true, Start: start}
	m.apply(ctx, &o, r)
	ctx.RegisterEventTimeTimer(timeapi.Time(start + size - 1 + q8Linger))
	if w.Open && w.Start+size-1 > wm { // the entry holds another open window
		m.more.Put(start, o)
		w.More++
		return
	}
	o.More = w.More
	*w = o
}

// apply adds r to window w and sends the result when w has both sides for
// the first time.
func (m *q8Matcher) apply(ctx *stream.Context[int64, Q8Result], w *q8Win, r *q8In) {
	const size = int64(Q8Window / time.Millisecond)
	had := w.Person && w.Seller
	if r.Person {
		w.Person, w.Name = true, r.Name
	} else {
		w.Seller = true
	}
	if !had && w.Person && w.Seller {
		ctx.EmitAt(Q8Result{ID: ctx.Key(), Name: w.Name, Start: timeapi.Time(w.Start)}, timeapi.Time(w.Start+size-1))
	}
}

// OnTimer drops the windows that ended a q8Linger ago: the overflow one
// whose timer this is, the entry's own, and the entry once it has none.
func (m *q8Matcher) OnTimer(ctx *stream.Context[int64, Q8Result], t stream.Timer) error {
	const size = int64(Q8Window / time.Millisecond)
	w, ok := m.win.Value()
	if !ok {
		return nil
	}
	if start := timeapi.Millis(t.Time) + 1 - q8Linger - size; w.More > 0 {
		if _, ok := m.more.Get(start); ok {
			m.more.Delete(start)
			w.More--
		}
	}
	if w.Open && w.Start+size-1 <= timeapi.Millis(ctx.Watermark()) {
		w = q8Win{More: w.More}
	}
	if !w.Open && w.More == 0 {
		m.win.Clear()
		return nil
	}
	m.win.Update(w)
	return nil
}

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

// q8Due is when a result is due (Spec.Due): its window's last
// millisecond, windowDue(r.Start.Add(Q8Window)) without the time.Time
// arithmetic, which cost 4 ns of BenchmarkObserverWrite's 7 per result.
func q8Due(r *Q8Result) int64 { return windowDue(r.Start) + int64(Q8Window) }

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
		Due:        q8Due,
		TestEvents: 300_000,
	})
}
