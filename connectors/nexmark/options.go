package nexmark

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadOptions is returned by NewSource for invalid Options.
var ErrBadOptions = errors.New("weir/nexmark: bad options")

// DefaultBaseTime is the event time of event 0 when Options.BaseTime is zero.
var DefaultBaseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a Source. A zero field takes the default named in its
// comment (the defaults of the reference generator).
type Options struct {
	// Events is the number of events; < 0 is unbounded. Zero means none:
	// the source ends at once.
	Events int64
	// Seed makes the stream reproducible: the same Options give the same
	// events.
	Seed uint64
	// Rate is the number of events per second of event time (10 000).
	Rate int64
	// BaseTime is the event time of event 0 (DefaultBaseTime).
	BaseTime time.Time

	// PersonProportion, AuctionProportion and BidProportion divide every
	// PersonProportion+AuctionProportion+BidProportion events (1, 3, 46).
	PersonProportion, AuctionProportion, BidProportion int

	// HotAuctionRatio: a bid goes to a hot auction with probability
	// 1 - 1/HotAuctionRatio (2). HotBiddersRatio (4) and HotSellersRatio (4)
	// do the same for bidders and sellers.
	HotAuctionRatio, HotBiddersRatio, HotSellersRatio int
	// HotChannelsRatio: a bid comes through one of the four hot channels
	// with probability 1 - 1/HotChannelsRatio (2).
	HotChannelsRatio int

	// NumInFlightAuctions is how many recent auctions a cold bid picks from
	// (100); NumActivePeople how many recent people a cold bidder or seller
	// is picked from (1000).
	NumInFlightAuctions, NumActivePeople int

	// Pace releases every event no earlier than its event time on the wall
	// clock, with event time BaseTime at wall time PaceStart (the first
	// Open of a reader when zero): the stream then arrives at Rate events
	// per second, in bursts of one millisecond of event time. The time
	// since PaceStart is read from the monotonic clock when PaceStart has
	// a reading of it (as a time from time.Now does), so that a step or
	// drift of the wall clock does not move the releases. Latency
	// measurements use it; a reader with nothing due reports when its next
	// event is (operators.ReadyHinter).
	Pace      bool
	PaceStart time.Time

	// AvgPersonByteSize, AvgAuctionByteSize and AvgBidByteSize are the
	// average sizes the Extra field pads records to (200, 500, 100).
	AvgPersonByteSize, AvgAuctionByteSize, AvgBidByteSize int

	// SplitBlock is how many consecutive event numbers one split generates
	// before the next split takes over (Source.Splits): split s of p makes
	// blocks s, s+p, s+2p, ... Default: one millisecond of event time,
	// Rate/1000 events (at least 1). A bid's auction is a recent one, most
	// often made in the same block, so few bids of one split name an
	// auction another split has not made yet (a join at parallelism > 1
	// must hold such bids until their auction comes); and the splits'
	// event times stay within a millisecond per split of each other, so
	// watermark alignment need not hold one back.
	SplitBlock int64
}

func (o Options) withDefaults() Options {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if o.Rate == 0 {
		o.Rate = 10_000
	}
	if o.BaseTime.IsZero() {
		o.BaseTime = DefaultBaseTime
	}
	if o.PersonProportion == 0 && o.AuctionProportion == 0 && o.BidProportion == 0 {
		o.PersonProportion, o.AuctionProportion, o.BidProportion = 1, 3, 46
	}
	def(&o.HotAuctionRatio, 2)
	def(&o.HotBiddersRatio, 4)
	def(&o.HotSellersRatio, 4)
	def(&o.HotChannelsRatio, 2)
	def(&o.NumInFlightAuctions, 100)
	def(&o.NumActivePeople, 1000)
	def(&o.AvgPersonByteSize, 200)
	def(&o.AvgAuctionByteSize, 500)
	def(&o.AvgBidByteSize, 100)
	if o.SplitBlock == 0 {
		o.SplitBlock = max(o.Rate/1000, 1)
	}
	return o
}

func (o Options) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadOptions}, args...)...)
	}
	switch {
	case o.Rate < 1 || o.Rate > 1_000_000_000:
		return bad("Rate %d not in [1, 1e9]", o.Rate)
	case o.SplitBlock < 1 || o.SplitBlock > 1<<30:
		return bad("SplitBlock %d not in [1, 2^30]", o.SplitBlock)
	case o.PersonProportion < 1 || o.AuctionProportion < 1 || o.BidProportion < 0:
		return bad("proportions %d/%d/%d: people and auctions need at least 1",
			o.PersonProportion, o.AuctionProportion, o.BidProportion)
	case o.HotAuctionRatio < 1 || o.HotBiddersRatio < 1 || o.HotSellersRatio < 1 || o.HotChannelsRatio < 1:
		return bad("hot ratios must be at least 1")
	case o.NumInFlightAuctions < 1 || o.NumActivePeople < 1:
		return bad("NumInFlightAuctions and NumActivePeople must be at least 1")
	case o.AvgPersonByteSize < 0 || o.AvgAuctionByteSize < 0 || o.AvgBidByteSize < 0 ||
		max(o.AvgPersonByteSize, o.AvgAuctionByteSize, o.AvgBidByteSize) > maxExtra:
		return bad("average byte sizes must be in [0, %d]", maxExtra)
	}
	return nil
}
