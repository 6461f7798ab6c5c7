// Package sqlbridge will hold weir's SQL front end: a hand-written lexer and
// parser for a Flink-style streaming dialect, a logical plan, and its
// lowering onto the stream API. It never imports the runtime.
package sqlbridge
