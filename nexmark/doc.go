// Package nexmark holds the Nexmark benchmark queries as weir jobs over the
// event stream of the connectors/nexmark generator. The queries follow the
// Flink nexmark suite (the same numbering and output columns):
//
//   - Q0, pass through: every bid, unchanged.
//   - Q1, currency conversion: every bid with its price in euros
//     (price × 0.908).
//   - Q2, selection: the auction and price of the bids on auctions whose id
//     is a multiple of 123.
//
// Each query is a function from the event stream to its result stream, so
// it can be run by runtime.Run, testkit.Run or `weir nexmark`. The event
// types are re-exported here as aliases.
package nexmark
