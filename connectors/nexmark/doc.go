// Package nexmark is a source of the Nexmark benchmark's event stream: an
// online auction where people register, open auctions and bid on them
// (Tucker et al., "NEXMark – A Benchmark for Queries over Data Streams",
// as extended by Apache Beam's and Flink's nexmark suites).
//
// # Model
//
// The stream is a sequence of events numbered 0, 1, 2, ... Event n is a pure
// function of (Options.Seed, n): its kind comes from n modulo the sum of the
// proportions (by default, of every 50 events 1 is a Person, 3 are Auctions
// and 46 are Bids), its ids from n (person and auction ids grow with the
// number of people and auctions created so far), and its random fields from a
// generator seeded with (Seed, n). So splits can generate disjoint shares of
// the numbers in parallel and a checkpoint needs only the count of events a
// split has produced. Split s of p generates the blocks s, s+p, s+2p, ... of
// SplitBlock consecutive numbers (one millisecond of event time by
// default): the stream is the same at any parallelism, and most bids name
// an auction their own split made.
//
// Bids go mostly to "hot" auctions and come mostly from "hot" bidders
// (HotAuctionRatio, HotBiddersRatio); auctions are mostly opened by hot
// sellers (HotSellersRatio). Cold references pick among the last
// NumInFlightAuctions auctions and NumActivePeople people, with a small lead
// into ids not created yet, as in the reference generator.
//
// Event time is synthetic: event n happens at BaseTime + n/Rate seconds.
// Within one split, times ascend; the Reader reports them as native
// timestamps, so streams without a watermark strategy still carry them,
// and bounds the time of its next event (operators.TimeBounder), so that
// a split's watermark passes the other splits' blocks between its own.
//
// # Allocation
//
// Strings (names, e-mail addresses, descriptions, extra padding, URLs) are
// substrings of pools built once per Source from the seed, so generating an
// event allocates nothing.
package nexmark
