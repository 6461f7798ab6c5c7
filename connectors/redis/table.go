package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir/operators/lookup"
)

// Table is a lookup table over a Redis client. It is safe for concurrent
// use (go-redis clients are).
type Table[K comparable, V any] struct {
	client     goredis.UniversalClient
	key        func(K) string
	decode     func(K, string) (V, error)
	decodeHash func(K, map[string]string) (V, error)
	name       string
}

var _ lookup.Table[string, string] = (*Table[string, string])(nil)

// ErrNilArgument is returned by the constructors for a nil client or
// function.
var ErrNilArgument = errors.New("weir/connectors/redis: nil client or function")

// NewStringTable returns a table whose rows are string values (SET): the
// row of k is the value at Redis key key(k), decoded by decode.
func NewStringTable[K comparable, V any](client goredis.UniversalClient, key func(K) string, decode func(K, string) (V, error)) (*Table[K, V], error) {
	if client == nil || key == nil || decode == nil {
		return nil, ErrNilArgument
	}
	return &Table[K, V]{client: client, key: key, decode: decode, name: name(client)}, nil
}

// NewHashTable returns a table whose rows are hashes (HSET): the row of k
// is the hash at Redis key key(k), decoded from its fields by decode.
func NewHashTable[K comparable, V any](client goredis.UniversalClient, key func(K) string, decode func(K, map[string]string) (V, error)) (*Table[K, V], error) {
	if client == nil || key == nil || decode == nil {
		return nil, ErrNilArgument
	}
	return &Table[K, V]{client: client, key: key, decodeHash: decode, name: name(client)}, nil
}

func name(c goredis.UniversalClient) string {
	if cl, ok := c.(*goredis.Client); ok {
		return "redis " + cl.Options().Addr
	}
	return "redis"
}

// Name implements lookup.Named.
func (t *Table[K, V]) Name() string { return t.name }

// GetBatch implements lookup.Table with one round trip for all keys.
func (t *Table[K, V]) GetBatch(ctx context.Context, keys []K) ([]V, []bool, error) {
	rk := make([]string, len(keys))
	for i, k := range keys {
		rk[i] = t.key(k)
	}
	vals, found := make([]V, len(keys)), make([]bool, len(keys))
	var err error
	if t.decodeHash != nil {
		err = t.getHashes(ctx, keys, rk, vals, found)
	} else if cl, ok := t.client.(*goredis.Client); ok {
		err = t.mget(ctx, cl, keys, rk, vals, found)
	} else {
		err = t.getPipelined(ctx, keys, rk, vals, found)
	}
	if err != nil {
		return nil, nil, err
	}
	return vals, found, nil
}

func (t *Table[K, V]) mget(ctx context.Context, cl *goredis.Client, keys []K, rk []string, vals []V, found []bool) error {
	res, err := cl.MGet(ctx, rk...).Result()
	if err != nil {
		return err
	}
	if len(res) != len(keys) {
		return fmt.Errorf("weir/connectors/redis: MGET of %d keys returned %d values", len(keys), len(res))
	}
	for i, r := range res {
		if r == nil {
			continue
		}
		s, ok := r.(string)
		if !ok {
			return lookup.Permanent(fmt.Errorf("weir/connectors/redis: key %q: value of type %T", rk[i], r))
		}
		if err := t.set(i, keys[i], rk[i], s, vals, found); err != nil {
			return err
		}
	}
	return nil
}

func (t *Table[K, V]) getPipelined(ctx context.Context, keys []K, rk []string, vals []V, found []bool) error {
	pipe := t.client.Pipeline()
	cmds := make([]*goredis.StringCmd, len(rk))
	for i, k := range rk {
		cmds[i] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return err
	}
	for i, c := range cmds {
		s, err := c.Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return err
		}
		if err := t.set(i, keys[i], rk[i], s, vals, found); err != nil {
			return err
		}
	}
	return nil
}

func (t *Table[K, V]) set(i int, k K, rk, s string, vals []V, found []bool) error {
	v, err := t.decode(k, s)
	if err != nil {
		return lookup.Permanent(fmt.Errorf("weir/connectors/redis: decode key %q: %w", rk, err))
	}
	vals[i], found[i] = v, true
	return nil
}

func (t *Table[K, V]) getHashes(ctx context.Context, keys []K, rk []string, vals []V, found []bool) error {
	pipe := t.client.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(rk))
	for i, k := range rk {
		cmds[i] = pipe.HGetAll(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for i, c := range cmds {
		m, err := c.Result()
		if err != nil {
			return err
		}
		if len(m) == 0 {
			continue
		}
		v, err := t.decodeHash(keys[i], m)
		if err != nil {
			return lookup.Permanent(fmt.Errorf("weir/connectors/redis: decode hash %q: %w", rk[i], err))
		}
		vals[i], found[i] = v, true
	}
	return nil
}
