package stream

import (
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/operators/lookup"
)

// LookupTable is an external table a stream is enriched from: a batched
// get by key (see lookup.Table). Connectors implement it.
type LookupTable[K comparable, V any] = lookup.Table[K, V]

// LookupOptions configures LookupJoin: order, in-flight cap, batch size,
// cache size and TTLs, retries (see lookup.Options; the zero value gives
// the defaults).
type LookupOptions = lookup.Options

// LookupJoin enriches every record of s with a row of table: it looks up
// key(record) (through a per-subtask LRU cache, in batches, asynchronously
// with at most opts.MaxInFlight requests in progress) and emits
// join(record, value, found) with the record's event time; found is false
// when the table has no row for the key (value is then the zero V). Keep
// or drop unmatched records in join and a Filter after it.
//
// Results keep the input order unless opts.Mode is lookup.Unordered;
// watermarks never overtake a record in either mode. The operator runs at
// s's parallelism. If the table stays unreachable past opts.FailAfter the
// job fails with an error wrapping lookup.ErrTableDown. The job does not
// close table.
//
// LookupJoin is a function, not a method, because it introduces three type
// parameters (K, V, O) that a method on DataStream[T] would need in its
// own list and callers would have to spell out.
func LookupJoin[T any, K comparable, V, O any](s DataStream[T], table LookupTable[K, V], key func(T) K, join func(T, V, bool) O, opts LookupOptions) DataStream[O] {
	if table == nil || key == nil || join == nil {
		s.job.addErr("%w: LookupJoin after %q: nil table, key or join function", ErrNilFunc, s.n.name)
	}
	if err := opts.Validate(); err != nil {
		s.job.addErr("LookupJoin after %q: %w", s.n.name, err)
	}
	return then[T, O](s, "LookupJoin", func() operators.Operator {
		return lookup.New(table, key, join, opts)
	})
}
