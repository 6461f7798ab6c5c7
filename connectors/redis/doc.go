// Package redis is a lookup table (operators/lookup.Table) over Redis, for
// stream.LookupJoin: it reads values stored with SET (NewStringTable: MGET
// on a single-node client, pipelined GETs on a cluster or ring) or hashes
// (NewHashTable: pipelined HGETALL), one round trip per batch of keys, and
// decodes them with a function the caller gives.
//
// A key that does not exist (or a hash with no fields) is reported as not
// found. A value that does not decode fails the job at once
// (lookup.Permanent); connection errors are retried by the lookup operator.
// The caller owns the go-redis client and closes it after the job.
package redis
