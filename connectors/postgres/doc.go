// Package postgres is a lookup table (operators/lookup.Table) over
// PostgreSQL with pgx v5, for stream.LookupJoin: one query per batch of
// keys, `SELECT key, cols FROM table WHERE key = ANY($1)`, whose rows a
// function the caller gives decodes into (key, value) pairs. Keys with no
// row are reported as not found.
//
// The caller owns the pool (*pgxpool.Pool, or anything with its Query
// method that is safe for concurrent use) and closes it after the job.
// Query and connection errors are retried by the lookup operator; a row
// that does not decode fails the job at once (lookup.Permanent).
package postgres
