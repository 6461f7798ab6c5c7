package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir/operators/lookup"
)

// Querier runs a query; *pgxpool.Pool implements it. It must be safe for
// concurrent use (a single *pgx.Conn is not).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Options says what a Table reads.
type Options[K comparable, V any] struct {
	// Table is the table (or view) name, optionally schema-qualified
	// ("public.users"); it is quoted as an identifier.
	Table string
	// KeyColumn is the column matched against the keys.
	KeyColumn string
	// Columns are the value columns selected after the key column.
	Columns []string
	// Query replaces the generated query: it must take the keys as $1 (an
	// array) and return the key as the first column.
	Query string
	// KeyArgs turns the keys into the $1 argument (default: the []K slice
	// itself, which pgx encodes for ints, strings, UUIDs and the like).
	KeyArgs func(keys []K) any
	// Decode scans one row (the key column first, then Columns) into its
	// key and value. Required.
	Decode func(row pgx.CollectableRow) (K, V, error)
}

// Table is a lookup table over PostgreSQL.
type Table[K comparable, V any] struct {
	db    Querier
	query string
	opts  Options[K, V]
	name  string
}

var _ lookup.Table[int64, string] = (*Table[int64, string])(nil)

// ErrBadOptions is returned by NewTable for incomplete Options.
var ErrBadOptions = errors.New("weir/connectors/postgres: invalid options")

// NewTable returns a lookup table reading through db.
func NewTable[K comparable, V any](db Querier, opts Options[K, V]) (*Table[K, V], error) {
	if db == nil || opts.Decode == nil {
		return nil, fmt.Errorf("%w: nil querier or Decode", ErrBadOptions)
	}
	q, name := opts.Query, "postgres query"
	if q == "" {
		if opts.Table == "" || opts.KeyColumn == "" || len(opts.Columns) == 0 {
			return nil, fmt.Errorf("%w: Table, KeyColumn and Columns (or Query) are required", ErrBadOptions)
		}
		cols := []string{pgx.Identifier{opts.KeyColumn}.Sanitize()}
		for _, c := range opts.Columns {
			cols = append(cols, pgx.Identifier{c}.Sanitize())
		}
		key := pgx.Identifier{opts.KeyColumn}.Sanitize()
		table := pgx.Identifier(strings.Split(opts.Table, ".")).Sanitize()
		q = fmt.Sprintf("SELECT %s FROM %s WHERE %s = ANY($1)", strings.Join(cols, ", "), table, key)
		name = "postgres " + opts.Table
	}
	return &Table[K, V]{db: db, query: q, opts: opts, name: name}, nil
}

// Name implements lookup.Named.
func (t *Table[K, V]) Name() string { return t.name }

// SQL is the query the table runs per batch.
func (t *Table[K, V]) SQL() string { return t.query }

// GetBatch implements lookup.Table with one query for all keys.
func (t *Table[K, V]) GetBatch(ctx context.Context, keys []K) ([]V, []bool, error) {
	var arg any = keys
	if t.opts.KeyArgs != nil {
		arg = t.opts.KeyArgs(keys)
	}
	rows, err := t.db.Query(ctx, t.query, arg)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	pos := make(map[K]int, len(keys))
	for i, k := range keys {
		pos[k] = i
	}
	vals, found := make([]V, len(keys)), make([]bool, len(keys))
	for rows.Next() {
		k, v, err := t.opts.Decode(rows)
		if err != nil {
			return nil, nil, lookup.Permanent(fmt.Errorf("weir/connectors/postgres: %s: decode row: %w", t.name, err))
		}
		if i, ok := pos[k]; ok {
			vals[i], found[i] = v, true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return vals, found, nil
}
