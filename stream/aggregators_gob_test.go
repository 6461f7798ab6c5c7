package stream_test

import (
	"bytes"
	"encoding/gob"
	"testing"

	"github.com/weirstream/weir/stream"
)

// TestCountDistinctGob: the accumulator survives gob (checkpoints of
// memstate and pebble): same count, and adding seen values changes nothing.
func TestCountDistinctGob(t *testing.T) {
	agg := stream.CountDistinct(func(s string) string { return s })
	acc := agg.Init()
	for _, v := range []string{"a", "b", "a", "c", "b", "d"} {
		acc = agg.Add(acc, v)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(acc); err != nil {
		t.Fatal(err)
	}
	var got stream.DistinctAcc[string]
	if err := gob.NewDecoder(&buf).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Len() != 4 {
		t.Fatalf("restored %d distinct values, want 4", got.Len())
	}
	for _, v := range []string{"a", "b", "c", "d"} {
		if agg.Add(got, v).Len() != 4 {
			t.Fatalf("%q was lost in the round trip", v)
		}
	}
	if agg.Add(got, "e").Len() != 5 {
		t.Fatal("a new value was not counted")
	}
	empty := agg.Init()
	buf.Reset()
	if err := gob.NewEncoder(&buf).Encode(empty); err != nil {
		t.Fatal(err)
	}
	if err := gob.NewDecoder(&buf).Decode(&got); err != nil || got.Len() != 0 {
		t.Fatalf("empty accumulator: %v, len %d", err, got.Len())
	}
}
