package lookup

import (
	"errors"
	"fmt"
	"time"
)

// Mode says in which order results leave the operator.
type Mode int

const (
	// Ordered emits results in input order: a slow lookup holds back the
	// records behind it (the default).
	Ordered Mode = iota
	// Unordered emits each result as soon as its lookup completes. Records
	// never overtake a watermark in either direction.
	Unordered
)

// String returns "ordered" or "unordered".
func (m Mode) String() string {
	switch m {
	case Ordered:
		return "ordered"
	case Unordered:
		return "unordered"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ErrBadOptions is returned for invalid Options.
var ErrBadOptions = errors.New("weir/lookup: invalid options")

// ErrTableDown is the error a job fails with when a table stays
// unreachable past Options.FailAfter; its message names the table and the
// number of keys of the failed batch.
var ErrTableDown = errors.New("weir/lookup: table unavailable")

// Options configures a lookup join. The zero value is valid: every zero
// field takes the default noted next to it. Sizes are per subtask.
type Options struct {
	Mode Mode // Ordered (default) or Unordered

	// MaxInFlight caps the GetBatch calls in progress at once (default 4).
	MaxInFlight int
	// MaxBatchKeys caps the distinct keys of one GetBatch (default 512).
	MaxBatchKeys int
	// Capacity caps the records the operator holds while their lookups
	// (or, in ordered mode, earlier ones) are in progress (default 8192).
	// When it is reached, the operator applies backpressure: the call
	// that brought the record waits for lookups to complete.
	Capacity int

	// CacheSize bounds the cache in entries (default 100000; negative: no
	// cache, every record is looked up).
	CacheSize int
	// CacheTTL is how long a found value is cached (default 1 minute).
	CacheTTL time.Duration
	// NegativeTTL is how long a miss (key not found) is cached (default
	// 10 seconds; negative: misses are not cached).
	NegativeTTL time.Duration

	// Timeout bounds one GetBatch attempt (default 5 seconds).
	Timeout time.Duration
	// RetryBackoff is the wait after the first failed attempt; it doubles
	// after every further failure up to RetryMaxBackoff (defaults 10 ms
	// and 1 second).
	RetryBackoff    time.Duration
	RetryMaxBackoff time.Duration
	// FailAfter is how long a batch may keep failing before the job fails
	// with ErrTableDown (default 30 seconds).
	FailAfter time.Duration

	// PollInterval is how often the operator checks for completed lookups
	// while some are in progress and no input arrives (default 1 ms, the
	// resolution of processing-time callbacks).
	PollInterval time.Duration
	// TableName names the table in errors (default: its Name method if it
	// has one, else its Go type).
	TableName string
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MaxInFlight, 4)
	def(&o.MaxBatchKeys, 512)
	def(&o.Capacity, 8192)
	def(&o.CacheSize, 100_000)
	defD(&o.CacheTTL, time.Minute)
	defD(&o.NegativeTTL, 10*time.Second)
	defD(&o.Timeout, 5*time.Second)
	defD(&o.RetryBackoff, 10*time.Millisecond)
	defD(&o.RetryMaxBackoff, time.Second)
	defD(&o.FailAfter, 30*time.Second)
	defD(&o.PollInterval, time.Millisecond)
	return o
}

// Validate reports invalid settings (wrapping ErrBadOptions).
func (o Options) Validate() error {
	d := o.withDefaults()
	var errs []error
	bad := func(cond bool, format string, args ...any) {
		if cond {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBadOptions}, args...)...))
		}
	}
	bad(d.Mode != Ordered && d.Mode != Unordered, "mode %v", d.Mode)
	bad(d.MaxInFlight < 0, "MaxInFlight %d", d.MaxInFlight)
	bad(d.MaxBatchKeys < 0, "MaxBatchKeys %d", d.MaxBatchKeys)
	bad(d.Capacity < 0, "Capacity %d", d.Capacity)
	bad(d.CacheTTL < 0, "CacheTTL %v", d.CacheTTL)
	bad(d.Timeout < 0 || d.RetryBackoff < 0 || d.RetryMaxBackoff < 0 || d.FailAfter < 0 || d.PollInterval < 0,
		"negative timeout, backoff, FailAfter or PollInterval")
	return errors.Join(errs...)
}
