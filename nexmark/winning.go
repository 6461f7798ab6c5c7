package nexmark

import (
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// The winning bids of closed auctions, shared by q4, q6 and q9: per
// auction, the best of the bids whose dateTime lies in [dateTime, expires]
// of the auction (both ends included), found when the auction closes. In
// Flink's SQL (q9):
//
//	SELECT ... FROM (
//	  SELECT A.*, B.*, ROW_NUMBER() OVER (PARTITION BY A.id
//	    ORDER BY B.price DESC, B.dateTime ASC) AS rownum
//	  FROM auction A, bid B
//	  WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires)
//	WHERE rownum <= 1
//
// Flink computes it as an updating result; the operator here emits each
// auction's final row once, when the watermark passes the auction's
// expiry (no bid of that auction can come any more).

// WinBid is a bid as the winning-bids operator keeps it: the columns the
// queries need, with its dateTime as Unix milliseconds.
type WinBid struct {
	Bidder int64
	Price  int64
	Time   int64  // the bid's dateTime, Unix ms
	Extra  string // the bid's extra column, kept only when asked for
}

// Better reports whether b wins over c: a higher price, then an earlier
// dateTime (Flink's ORDER BY price DESC, dateTime ASC), then, to make the
// choice total, a lower bidder and a smaller extra.
func (b *WinBid) Better(c *WinBid) bool {
	if b.Price != c.Price {
		return b.Price > c.Price
	}
	if b.Time != c.Time {
		return b.Time < c.Time
	}
	if b.Bidder != c.Bidder {
		return b.Bidder < c.Bidder
	}
	return b.Extra < c.Extra
}

// Winner is the winning bid of a closed auction together with the
// auction's columns projected to A.
type Winner[A any] struct {
	Auction int64 // the auction's id
	Start   int64 // its dateTime, Unix ms
	Expires int64 // its expiry, Unix ms
	A       A
	Bid     WinBid
}

// winIn is the input of the winning-bids operator: an auction or a bid,
// projected by one FlatMap over the events (an Event holds all three
// record types and is large). Every record crosses a hash exchange, where
// its size costs (copies, and cache lines moving between cores), so an
// auction's dateTime and expiry ride in the fields of bid that an auction
// does not use: see auctionIn, start and expires.
type winIn[A any] struct {
	auction int64 // the key: the auction's id or the bid's auction
	a       A     // an auction's columns
	bid     WinBid
	isBid   bool
}

// auctionIn is the winIn of an auction with the given dateTime and expiry
// (Unix ms).
func auctionIn[A any](id, start, expires int64, a A) winIn[A] {
	return winIn[A]{auction: id, a: a, bid: WinBid{Time: start, Price: expires}}
}

// start is an auction's dateTime, Unix ms.
func (in *winIn[A]) start() int64 { return in.bid.Time }

// expires is an auction's expiry, Unix ms.
func (in *winIn[A]) expires() int64 { return in.bid.Price }

func winKey[A any](in winIn[A]) int64 { return in.auction }

// winAuction is the keyed state of an auction (exported fields:
// encoding/gob, for checkpoints): an open one, with the best bid so far,
// or, until the auction comes, the bids that came before it.
type winAuction[A any] struct {
	Open           bool  // the auction came
	Start, Expires int64 // the auction's dateTime and expiry, Unix ms
	HasBest        bool
	Best           WinBid
	A              A
	// Early are the bids that came before the auction (while !Open). They
	// are only appended to, or replaced: a snapshot may share them.
	Early []WinBid
}

// offer makes b the best bid if it is in the auction's range and better;
// it reports whether it did.
func (s *winAuction[A]) offer(b *WinBid) bool {
	if b.Time < s.Start || b.Time > s.Expires || (s.HasBest && !b.Better(&s.Best)) {
		return false
	}
	s.Best, s.HasBest = *b, true
	return true
}

// WinningRetention is how long, in event time after an auction's expiry,
// the winning-bids operator remembers that the auction has closed, so
// that a bid arriving for it later is dropped at once. Bids come to an
// auction while it is in flight, which is not much longer than the
// auction lasts. A bid that comes after that is buffered like a bid
// before its auction until the watermark passes its dateTime. The
// retention trades memory against work; results do not depend on it.
const WinningRetention = 10 * time.Second

// winningFn is the KeyedProcessFunc of WinningBids, keyed by auction id,
// with one state entry per auction (winAuction).
//
// A bid of an open auction replaces the best bid if it is in the
// auction's time range and better. A bid of an auction not seen yet is
// buffered in the auction's entry, with an event-time timer at its
// dateTime: once the watermark passes it, any auction still to come
// starts later than the bid, so the bid cannot count and is dropped. An
// auction takes the best of the buffered bids and sets a timer at its
// expiry; there the winner (if any) is emitted with the expiry as event
// time and the auction's state goes. Early bids are common at parallelism
// > 1, where an auction and its first bids come through different
// queues: they cost one state lookup each, like bids of open auctions.
//
// Bids for auctions that have closed (a quarter of all bids at the
// generator's default rate of 10k events/s; none at 10M events/s, where
// auctions last longer in events) are told apart by closed, a per-subtask
// memory of the auctions closed in the last WinningRetention (an idTable
// and a FIFO: every auction is added, and every first event of an auction
// id looks it up). It is a cache, not
// state: it is not checkpointed, and without it (after a restore) such a
// bid takes the slower path of a bid before its auction, with the same
// result.
type winningFn[A any] struct {
	retain   int64 // WinningRetention, ms
	auctions *stream.ValueState[int64, winAuction[A]]
	closed   *closedAuctions
}

func (f *winningFn[A]) Open(ctx *stream.OpenContext[int64]) error {
	var err error
	if f.auctions, err = stream.NewValueState[winAuction[A]](ctx, "auctions"); err != nil {
		return err
	}
	f.closed = newClosedAuctions()
	return nil
}

func (f *winningFn[A]) ProcessElement(ctx *stream.Context[int64, Winner[A]], in winIn[A]) error {
	if f.auctions.InPlace() {
		// heap state: change the entry in place (one lookup, no copies)
		if p, ok := f.auctions.Ptr(false); ok {
			f.update(ctx, p, &in)
		} else if s, keep := f.first(ctx, &in); keep {
			p, _ = f.auctions.Ptr(true)
			*p = s
		}
		return nil
	}
	if s, ok := f.auctions.Value(); ok {
		if f.update(ctx, &s, &in) {
			f.auctions.Update(s)
		}
	} else if s, keep := f.first(ctx, &in); keep {
		f.auctions.Update(s)
	}
	return nil
}

// update applies an auction or bid to the auction's entry s; it reports
// whether s changed.
func (f *winningFn[A]) update(ctx *stream.Context[int64, Winner[A]], s *winAuction[A], in *winIn[A]) bool {
	switch {
	case in.isBid && s.Open:
		return s.offer(&in.bid)
	case in.isBid:
		if in.bid.Time <= timeapi.Millis(ctx.Watermark()) {
			return false // the auction, still to come, starts after the bid
		}
		s.Early = append(s.Early, in.bid) // writes past what a snapshot sees
		return true
	case s.Open:
		return false // a second auction with this id: the first one counts
	}
	early := s.Early
	*s = winAuction[A]{Open: true, Start: in.start(), Expires: in.expires(), A: in.a}
	for i := range early {
		s.offer(&early[i])
	}
	ctx.RegisterEventTimeTimer(timeapi.Time(in.expires()))
	return true
}

// first handles the first auction or bid of an auction id with no entry:
// it returns the entry to create, if any.
func (f *winningFn[A]) first(ctx *stream.Context[int64, Winner[A]], in *winIn[A]) (s winAuction[A], keep bool) {
	switch {
	case f.closed.has(in.auction):
		// a bid for an auction that has closed (after the bid's time, as
		// the bid is not behind the watermark), or a second auction
	case in.isBid && in.bid.Time <= timeapi.Millis(ctx.Watermark()):
		// an auction still to come starts after the watermark, so after
		// the bid: it cannot count
	case in.isBid:
		ctx.RegisterEventTimeTimer(timeapi.Time(in.bid.Time))
		return winAuction[A]{Early: []WinBid{in.bid}}, true
	default:
		ctx.RegisterEventTimeTimer(timeapi.Time(in.expires()))
		return winAuction[A]{Open: true, Start: in.start(), Expires: in.expires(), A: in.a}, true
	}
	return s, false
}

func (f *winningFn[A]) OnTimer(ctx *stream.Context[int64, Winner[A]], t stream.Timer) error {
	at := timeapi.Millis(t.Time)
	s, ok := f.auctions.Value()
	switch {
	case !ok:
	case s.Open && at >= s.Expires:
		if s.HasBest {
			ctx.Emit(Winner[A]{Auction: ctx.Key(), Start: s.Start, Expires: s.Expires, A: s.A, Bid: s.Best})
		}
		f.auctions.Clear()
		f.closed.add(ctx.Key(), s.Expires+f.retain, at)
	case !s.Open:
		f.prune(ctx, s.Early)
	}
	// else: the timer of a bid that came before the auction
	return nil
}

// prune drops the early bids at or behind the watermark, and the entry
// with them if none is left; otherwise it sets a timer at the earliest
// of the others.
func (f *winningFn[A]) prune(ctx *stream.Context[int64, Winner[A]], early []WinBid) {
	wm := timeapi.Millis(ctx.Watermark())
	var keep []WinBid
	next := int64(0)
	for _, b := range early {
		if b.Time > wm {
			if len(keep) == 0 || b.Time < next {
				next = b.Time
			}
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		f.auctions.Clear()
		return
	}
	f.auctions.Update(winAuction[A]{Early: keep})
	ctx.RegisterEventTimeTimer(timeapi.Time(next))
}

// closedAuctions remembers the ids of recently closed auctions until a
// time each: a set and the ids in the order they go (auctions close in
// event-time order, and each is kept for the same time). The order is a
// FIFO of fixed-size chunks: at 10M events/s of event time the
// retention holds millions of ids, and a slice doubling to that size
// copied it and touched fresh memory at every growth (16% of Q6's time
// over 10M events).
type closedAuctions struct {
	ids   *idTable
	queue [][]closedAuction // chunks of closedChunk; queue[0][head:] is the front
	head  int
	spare []closedAuction // an emptied chunk
}

type closedAuction struct{ id, until int64 }

const closedChunk = 4096

func newClosedAuctions() *closedAuctions { return &closedAuctions{ids: newIDTable()} }

func (c *closedAuctions) has(id int64) bool { return c.ids.get(id) != 0 }

// add remembers id until until, and forgets the ids due at or before now.
func (c *closedAuctions) add(id, until, now int64) {
	for len(c.queue) > 0 {
		front := c.queue[0]
		if c.head == len(front) {
			if len(c.queue) == 1 {
				break
			}
			c.spare, c.queue, c.head = front[:0], c.queue[1:], 0
			continue
		}
		if front[c.head].until > now {
			break
		}
		c.ids.remove(front[c.head].id)
		c.head++
	}
	c.ids.or(id, 1)
	n := len(c.queue) - 1
	if n < 0 || len(c.queue[n]) == closedChunk {
		next := c.spare
		if next == nil {
			next = make([]closedAuction, 0, closedChunk)
		}
		c.spare = nil
		c.queue = append(c.queue, next)
		n++
	}
	c.queue[n] = append(c.queue[n], closedAuction{id: id, until: until})
}

// WinningBids is the winning bid of every auction that has at least one
// bid in [dateTime, expires], emitted when the watermark passes the
// auction's expiry, with the expiry as event time. project gives the
// auction's columns a query needs: A is part of the record type of bids
// and auctions alike and of the state of open auctions, so make it small
// (a pointer to a value that is never changed afterwards, when there are
// many columns). extra says whether to keep the bids' extra column. The
// events need watermarks (WithEventTime).
//
// It is one FlatMap projecting auctions and bids into a small record, a
// KeyBy on the auction id and a Process (winningFn): keyed state per
// auction with the best bid so far, buffered early bids, and event-time
// timers at the expiry. Bids are compared by Better. The result does not
// depend on the parallelism or on how the source splits interleave. The
// operators are not named, so that a job may hold several; name the
// result.
func WinningBids[A any](events stream.DataStream[Event], project func(Auction) A, extra bool) stream.DataStream[Winner[A]] {
	in := events.FlatMapRef(func(e *Event, emit func(winIn[A])) {
		switch e.Kind {
		case gen.KindAuction:
			a := &e.Auction
			emit(auctionIn(a.ID, a.DateTime.UnixMilli(), a.Expires.UnixMilli(), project(*a)))
		case gen.KindBid:
			b := &e.Bid
			in := winIn[A]{auction: b.Auction, isBid: true, bid: WinBid{Bidder: b.Bidder, Price: b.Price, Time: b.DateTime.UnixMilli()}}
			if extra {
				in.bid.Extra = b.Extra
			}
			emit(in)
		}
	})
	return in.KeyBy(winKey[A]).Process(&winningFn[A]{retain: WinningRetention.Milliseconds()})
}

// WithEventTime sets the event stream's watermarks. events must be the
// source stream (Events): the strategy then runs per generator split, and
// each split is in event-time order, so an ascending strategy is exact (no
// record is ever behind the watermark), whatever the parallelism (an
// operator's watermark is the least of its inputs') and also after a
// restore that gives a subtask several splits. On a transformed stream the
// watermarks would be generated per subtask, over splits interleaved by
// batch. It reads the timestamps the generator gives each event rather
// than extracting them from the (large) events.
func WithEventTime(events stream.DataStream[Event]) stream.DataStream[Event] {
	return events.WithWatermarks(timeapi.Ascending(gen.EventTime).WithRecordTimestamps())
}

// handWinning is the winning-bids rule as a plain loop over events 0..n-1
// of src: it calls emit for every auction that closes with a winning bid,
// in order of (expiry, auction id), as the job does at parallelism 1.
func handWinning[A any](src *gen.Source, n int64, project func(Auction) A, extra bool, emit func(*Winner[A])) {
	open := map[int64]*handAuction[A]{}
	var (
		free    []*handAuction[A]
		closing expiryHeap
		now     int64    // the event time of the current millisecond
		early   []WinBid // bids of this millisecond for auctions not open
		earlyOf []int64  // their auctions
		e       Event
	)
	closeUpTo := func(t int64) { // closes the auctions that expire before t
		for len(closing) > 0 && closing[0].expires < t {
			x := closing.pop()
			a := open[x.id]
			delete(open, x.id)
			if a.has {
				emit(&a.w)
			}
			free = append(free, a)
		}
	}
	for i := range n {
		t := src.Fill(i, &e)
		if t != now {
			closeUpTo(t)
			now, early, earlyOf = t, early[:0], earlyOf[:0]
		}
		switch e.Kind {
		case gen.KindAuction:
			au := &e.Auction
			if _, dup := open[au.ID]; dup {
				continue
			}
			var a *handAuction[A]
			if k := len(free); k > 0 {
				a, free = free[k-1], free[:k-1]
			} else {
				a = new(handAuction[A])
			}
			*a = handAuction[A]{w: Winner[A]{Auction: au.ID, Start: t, Expires: au.Expires.UnixMilli(), A: project(*au)}}
			for j, id := range earlyOf {
				if id == au.ID {
					a.offer(&early[j])
				}
			}
			open[au.ID] = a
			closing.push(expiring{expires: a.w.Expires, id: au.ID})
		case gen.KindBid:
			b := &e.Bid
			wb := WinBid{Bidder: b.Bidder, Price: b.Price, Time: t}
			if extra {
				wb.Extra = b.Extra
			}
			if a := open[b.Auction]; a != nil {
				a.offer(&wb)
			} else {
				early, earlyOf = append(early, wb), append(earlyOf, b.Auction)
			}
		}
	}
	closeUpTo(timeapi.MaxWatermark)
}

type handAuction[A any] struct {
	w   Winner[A]
	has bool
}

func (a *handAuction[A]) offer(b *WinBid) {
	if b.Time >= a.w.Start && b.Time <= a.w.Expires && (!a.has || b.Better(&a.w.Bid)) {
		a.w.Bid, a.has = *b, true
	}
}

type expiring struct{ expires, id int64 }

func (x expiring) less(y expiring) bool {
	return x.expires < y.expires || (x.expires == y.expires && x.id < y.id)
}

// expiryHeap is a binary min-heap of auctions by (expiry, id), typed to
// avoid container/heap's boxing.
type expiryHeap []expiring

func (h *expiryHeap) push(x expiring) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *expiryHeap) pop() expiring {
	s := *h
	top, n := s[0], len(s)-1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s[l].less(s[m]) {
			m = l
		}
		if l+1 < n && s[l+1].less(s[m]) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
