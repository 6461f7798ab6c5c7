package lookup

import (
	"context"
	"fmt"
	"time"
)

// request is one GetBatch: distinct keys, their results and the records
// waiting for them. The task goroutine fills keys and waiters; a fetcher
// goroutine owns values, found and err between the send on reqs and the
// receive from done (the channels order the two).
type request[K comparable, V any] struct {
	keys    []K
	values  []V
	found   []bool
	err     error
	waiters []waiter
}

// waiter is a record (ring sequence number) waiting for keys[idx].
type waiter struct {
	seq int64
	idx int32
}

// fetcher serves requests until reqs is closed.
type fetcher[K comparable, V any] struct {
	table Table[K, V]
	name  string
	opts  Options
}

func (f *fetcher[K, V]) run(ctx context.Context, reqs <-chan *request[K, V], done chan<- *request[K, V]) {
	for r := range reqs {
		f.fetch(ctx, r)
		done <- r
	}
}

// fetch gets r's keys, retrying with exponential backoff until it succeeds,
// fails permanently, FailAfter passes or ctx ends.
func (f *fetcher[K, V]) fetch(ctx context.Context, r *request[K, V]) {
	start := time.Now()
	backoff := f.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
		vals, found, err := f.table.GetBatch(actx, r.keys)
		cancel()
		if err == nil && (len(vals) != len(r.keys) || len(found) != len(r.keys)) {
			err = Permanent(fmt.Errorf("returned %d values and %d found flags for %d keys", len(vals), len(found), len(r.keys)))
		}
		switch {
		case err == nil:
			r.values, r.found = vals, found
			return
		case ctx.Err() != nil:
			r.err = fmt.Errorf("weir/lookup: table %q: lookup of %d keys canceled: %w", f.name, len(r.keys), ctx.Err())
			return
		case IsPermanent(err):
			r.err = fmt.Errorf("weir/lookup: table %q: lookup of %d keys: %w", f.name, len(r.keys), err)
			return
		}
		elapsed := time.Since(start)
		if elapsed+backoff > f.opts.FailAfter {
			r.err = fmt.Errorf("%w: table %q: lookup of %d keys still failing after %v (%d attempts): %w",
				ErrTableDown, f.name, len(r.keys), elapsed.Round(time.Millisecond), attempt, err)
			return
		}
		if sleepCtx(ctx, backoff) != nil {
			continue // reported as canceled by the next attempt
		}
		backoff = min(2*backoff, f.opts.RetryMaxBackoff)
	}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
