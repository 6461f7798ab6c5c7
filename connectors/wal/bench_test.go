package wal_test

import (
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/wal"
)

// BenchmarkAppend measures the cost of one 100-byte record without syncs
// (the framing, CRC and write path), appended alone or in batches of 256.
// One op is one record.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 256} {
		b.Run(name("batch=%d", batch), func(b *testing.B) {
			l := openLog(b, b.TempDir(), wal.Options{Sync: wal.SyncNever})
			defer l.Close()
			ps := make([][]byte, batch)
			for i := range ps {
				ps[i] = payload(uint64(i), 100)
			}
			b.SetBytes(100)
			b.ReportAllocs()
			b.ResetTimer()
			since := 0
			for n := 0; n < b.N; n += batch {
				last, err := l.Append(ps[:min(batch, b.N-n)]...)
				if err != nil {
					b.Fatal(err)
				}
				if since += batch; since >= 1<<20 { // keep the disk use bounded
					since = 0
					l.TruncateBefore(last)
				}
			}
		})
	}
}

// BenchmarkAppendSyncEachBatch measures durable appends: one fdatasync per
// batch of 256 100-byte records. One op is one batch.
func BenchmarkAppendSyncEachBatch(b *testing.B) {
	l := openLog(b, b.TempDir(), wal.Options{Sync: wal.SyncEachBatch})
	defer l.Close()
	const batch = 256
	ps := make([][]byte, batch)
	for i := range ps {
		ps[i] = payload(uint64(i), 100)
	}
	b.SetBytes(batch * 100)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := l.Append(ps...); err != nil {
			b.Fatal(err)
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/secs, "batches/s")
	b.ReportMetric(float64(b.N*batch)/secs, "records/s")
}

// BenchmarkAppendSyncParallel measures group commit: concurrent appenders
// of one 100-byte record each, SyncEachBatch. One op is one record.
func BenchmarkAppendSyncParallel(b *testing.B) {
	l := openLog(b, b.TempDir(), wal.Options{Sync: wal.SyncEachBatch})
	defer l.Close()
	p := payload(1, 100)
	b.SetParallelism(16)
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkRead measures reading 100-byte records back (CRC checked).
// One op is one record.
func BenchmarkRead(b *testing.B) {
	l := openLog(b, b.TempDir(), wal.Options{Sync: wal.SyncNever, SegmentSize: 8 << 20})
	defer l.Close()
	ps := make([][]byte, 256)
	for i := range ps {
		ps[i] = payload(uint64(i), 100)
	}
	for n := 0; n < 1<<18; n += len(ps) {
		l.Append(ps...)
	}
	b.SetBytes(100)
	b.ReportAllocs()
	b.ResetTimer()
	var r *wal.Reader
	for i := range b.N {
		if i%(1<<18) == 0 {
			if r != nil {
				r.Close()
			}
			r, _ = l.NewReader(0)
		}
		if _, ok, err := r.TryNext(); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	r.Close()
}

// BenchmarkSourcePush measures Source.Push of 256 small structs per call
// (JSON codec), SyncNever. One op is one value.
func BenchmarkSourcePush(b *testing.B) {
	l := openLog(b, b.TempDir(), wal.Options{Sync: wal.SyncNever})
	defer l.Close()
	src := wal.NewSource(l, wal.JSONCodec[event]())
	vs := make([]event, 256)
	for i := range vs {
		vs[i] = event{ID: i, Name: "benchmark"}
	}
	b.ReportAllocs()
	since := 0
	for n := 0; n < b.N; n += len(vs) {
		if err := src.Push(vs[:min(len(vs), b.N-n)]...); err != nil {
			b.Fatal(err)
		}
		if since += len(vs); since >= 1<<20 {
			since = 0
			l.TruncateBefore(l.LastSeq())
		}
	}
}
