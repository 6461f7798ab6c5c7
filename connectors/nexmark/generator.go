package nexmark

import (
	"math"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"
)

// Constants of the reference generator.
const (
	firstPersonID   = 1000 // base of Person IDs
	firstAuctionID  = 1000 // base of Auction IDs
	firstCategoryID = 10
	numCategories   = 5
	personIDLead    = 10 // a cold bidder may be a person not created yet
	auctionIDLead   = 10 // a cold bid may name an auction not created yet
	// hot auctions, bidders and sellers are the first of each group of
	// hotGranule consecutive ids
	hotGranule    = 100
	minStringLen  = 3
	maxExtra      = 1 << 14 // the largest average byte size accepted
	textPoolSize  = 1 << 18 // must exceed 1.2 * maxExtra
	numEmails     = 1 << 14
	numCards      = 1 << 14
	numChannels   = 10_000
	cardBlockSize = 20 // "dddd dddd dddd dddd "
)

// rng is splitmix64: tiny state, so a fresh one per event costs nothing.
type rng struct{ s uint64 }

func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func eventRNG(seed uint64, n int64) rng {
	return rng{s: mix(seed ^ mix(uint64(n)+0x632be59bd9b4e019))}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// int64n returns a number in [0, n) for n > 0.
func (r *rng) int64n(n int64) int64 {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

func (r *rng) intn(n int) int { return int(r.int64n(int64(n))) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// Source is an operators.Source of the Nexmark events selected by its
// Options. It is safe for concurrent use: its pools are read-only once built.
type Source struct {
	opts   Options
	baseMs int64
	pp, ap int64 // person and auction proportions
	total  int64 // sum of the proportions
	p      *pools
	// paceStart is the time of event time BaseTime when pacing, with its
	// monotonic clock reading when it has one; set by the first Open when
	// Options.PaceStart is zero. See paceElapsed.
	paceStart atomic.Pointer[time.Time]
}

// NewSource returns a source of the events opts describe.
func NewSource(opts Options) (*Source, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Source{
		opts:   o,
		baseMs: o.BaseTime.UnixMilli(),
		pp:     int64(o.PersonProportion),
		ap:     int64(o.AuctionProportion),
		total:  int64(o.PersonProportion + o.AuctionProportion + o.BidProportion),
		p:      newPools(o.Seed),
	}
	if o.Pace && !o.PaceStart.IsZero() {
		start := o.PaceStart
		s.paceStart.Store(&start)
	}
	return s, nil
}

// startPace sets the pace start to now unless it is set.
func (s *Source) startPace() {
	now := time.Now()
	s.paceStart.CompareAndSwap(nil, &now)
}

// PaceStart is the wall time at which a paced source releases event time
// BaseTime (zero before the first Open when Options.PaceStart was zero).
func (s *Source) PaceStart() time.Time {
	if p := s.paceStart.Load(); p != nil {
		return *p
	}
	return time.Time{}
}

// since is time.Time.Sub, a variable for tests.
var since = func(now, start time.Time) time.Duration { return now.Sub(start) }

// paceElapsed is the time from the pace start to now on the monotonic
// clock (when the start has a reading of it, as one from time.Now has).
// A step or slew of the wall clock during a run then moves neither the
// events' release nor the latencies measured from the same start
// (nexmark.Observer measures with the monotonic clock too); pacing by the
// wall clock, a run whose wall clock drifted a few milliseconds from the
// monotonic one counted every window result as emitted before it was due.
func (s *Source) paceElapsed(now time.Time) time.Duration {
	return since(now, *s.paceStart.Load())
}

// dueLimit is the first event number whose event time is after BaseTime
// + elapsed: what a paced source has released elapsed after its start.
func (s *Source) dueLimit(elapsed time.Duration) int64 {
	d := int64(elapsed)
	if d < 0 {
		return 0
	}
	// ts(n) <= base+D  <=>  n*1000/r < D+1  <=>  n < ceil((D+1)*r/1000)
	ms, r := d/int64(time.Millisecond)+1, s.opts.Rate
	return ms/1000*r + (ms%1000*r+999)/1000
}

// releaseAfter is how long after its start a paced source releases
// event n.
func (s *Source) releaseAfter(n int64) time.Duration {
	return time.Duration(s.TimestampMillis(n)-s.baseMs) * time.Millisecond
}

// Options returns the options of s with the defaults filled in.
func (s *Source) Options() Options { return s.opts }

// KindOf returns the kind of event n.
func (s *Source) KindOf(n int64) Kind {
	switch off := n % s.total; {
	case off < s.pp:
		return KindPerson
	case off < s.pp+s.ap:
		return KindAuction
	}
	return KindBid
}

// TimestampMillis is the event time of event n in Unix milliseconds:
// BaseTime + n/Rate seconds, rounded down to the millisecond.
func (s *Source) TimestampMillis(n int64) int64 {
	r := s.opts.Rate
	return s.baseMs + n/r*1000 + n%r*1000/r
}

// Event returns event n.
func (s *Source) Event(n int64) Event {
	var e Event
	s.Fill(n, &e)
	return e
}

// Fill overwrites *e with event n and returns its event time in Unix
// milliseconds. It does not allocate. *e must keep the promise of Event
// (only the record named by Kind set, as in every Event that Fill and
// Event return, and the zero Event): when e.Kind is already event n's
// kind, Fill writes only that record, leaving the other two as the zeros
// they are.
func (s *Source) Fill(n int64, e *Event) int64 {
	r := eventRNG(s.opts.Seed, n)
	ms := s.TimestampMillis(n)
	ts := time.UnixMilli(ms).UTC()
	// Only the record of the event's kind is written when e held that
	// kind: a batch slot that held a bid before (most do) takes the new
	// bid's 96 bytes and 4 pointers, where an assignment of the whole
	// Event moved 368 bytes and 17 pointers, each through the garbage
	// collector's write barrier while it marks.
	k := s.KindOf(n)
	if e.Kind != k {
		*e = Event{Kind: k}
	}
	switch k {
	case KindPerson:
		e.Person = s.person(n, &r, ts)
	case KindAuction:
		e.Auction = s.auction(n, &r, ts, ms)
	default:
		e.Bid = s.bid(n, &r, ts)
	}
	return ms
}

// lastPerson is the base-0 id of the last person created at or before
// event n.
func (s *Source) lastPerson(n int64) int64 {
	epoch, off := n/s.total, n%s.total
	if off >= s.pp {
		off = s.pp - 1
	}
	return epoch*s.pp + off
}

// lastAuction is the base-0 id of the last auction created at or before
// event n (-1 before the first).
func (s *Source) lastAuction(n int64) int64 {
	epoch, off := n/s.total, n%s.total
	switch {
	case off < s.pp:
		epoch--
		off = s.ap - 1
	case off >= s.pp+s.ap:
		off = s.ap - 1
	default:
		off -= s.pp
	}
	return epoch*s.ap + off
}

// coldPerson picks one of the NumActivePeople latest people, or one of the
// next personIDLead not created yet.
func (s *Source) coldPerson(n int64, r *rng) int64 {
	people := s.lastPerson(n) + 1
	active := min(people, int64(s.opts.NumActivePeople))
	return people - active + r.int64n(active+personIDLead)
}

// coldAuction picks one of the NumInFlightAuctions latest auctions, or one
// of the next auctionIDLead not created yet.
func (s *Source) coldAuction(n int64, r *rng) int64 {
	hi := max(s.lastAuction(n), 0)
	lo := max(hi-int64(s.opts.NumInFlightAuctions), 0)
	return lo + r.int64n(hi-lo+1+auctionIDLead)
}

func (s *Source) person(n int64, r *rng, ts time.Time) Person {
	p := s.p
	pe := Person{
		ID:           s.lastPerson(n) + firstPersonID,
		Name:         p.names[r.intn(len(p.names))],
		EmailAddress: p.emails[r.intn(numEmails)],
		CreditCard:   p.card(r.intn(numCards)),
		City:         usCities[r.intn(len(usCities))],
		State:        usStates[r.intn(len(usStates))],
		DateTime:     ts,
	}
	size := 8 + len(pe.Name) + len(pe.EmailAddress) + len(pe.CreditCard) + len(pe.City) + len(pe.State)
	pe.Extra = p.extra(r, size, s.opts.AvgPersonByteSize)
	return pe
}

func (s *Source) auction(n int64, r *rng, ts time.Time, ms int64) Auction {
	p := s.p
	a := Auction{
		ID:          s.lastAuction(n) + firstAuctionID,
		ItemName:    p.str(r, 20),
		Description: p.str(r, 100),
		InitialBid:  price(r),
		DateTime:    ts,
		Category:    firstCategoryID + r.int64n(numCategories),
	}
	a.Reserve = a.InitialBid + price(r)
	if r.intn(s.opts.HotSellersRatio) > 0 {
		a.Seller = s.lastPerson(n) / hotGranule * hotGranule
	} else {
		a.Seller = s.coldPerson(n, r)
	}
	a.Seller += firstPersonID
	a.Expires = time.UnixMilli(ms + s.auctionLength(n, r, ms)).UTC()
	size := 8 + len(a.ItemName) + len(a.Description) + 8 + 8 + 8 + 8 + 8
	a.Extra = p.extra(r, size, s.opts.AvgAuctionByteSize)
	return a
}

// auctionLength is a random duration averaging the event time it takes to
// open NumInFlightAuctions more auctions, so about that many are open.
func (s *Source) auctionLength(n int64, r *rng, ms int64) int64 {
	events := int64(s.opts.NumInFlightAuctions) * s.total / s.ap
	horizon := s.TimestampMillis(n+events) - ms
	return 1 + r.int64n(max(2*horizon, 1))
}

func (s *Source) bid(n int64, r *rng, ts time.Time) Bid {
	p := s.p
	var b Bid
	if r.intn(s.opts.HotAuctionRatio) > 0 {
		b.Auction = s.lastAuction(n) / hotGranule * hotGranule
	} else {
		b.Auction = s.coldAuction(n, r)
	}
	b.Auction += firstAuctionID
	if r.intn(s.opts.HotBiddersRatio) > 0 {
		b.Bidder = s.lastPerson(n)/hotGranule*hotGranule + 1
	} else {
		b.Bidder = s.coldPerson(n, r)
	}
	b.Bidder += firstPersonID
	b.Price = price(r)
	if r.intn(s.opts.HotChannelsRatio) > 0 {
		i := r.intn(len(hotChannels))
		b.Channel, b.URL = hotChannels[i], p.hotURLs[i]
	} else {
		i := r.intn(numChannels)
		b.Channel, b.URL = p.channels[i], p.urls[i]
	}
	b.DateTime = ts
	b.Extra = p.extra(r, 8+8+8+8, s.opts.AvgBidByteSize)
	return b
}

// price is a price in cents, log-uniform between $1 and $1,000,000:
// 100 × 10^(6u) for a uniform u, computed with Exp (twice as fast as Pow).
func price(r *rng) int64 { return int64(math.Round(math.Exp(r.float()*(6*math.Ln10)) * 100)) }

// trim drops the spaces at both ends (TrimSpace without the Unicode path).
func trim(s string) string { return strings.Trim(s, " ") }
