package chunk

import (
	"testing"
)

func TestListAtMatchesAppendOrder(t *testing.T) {
	var p Pool[int]
	var l List[int]
	for round := range 3 {
		n := []int{5000, 7, 1017}[round]
		for i := range n {
			l.Append(&p, i*3+round)
		}
		if l.Len() != n {
			t.Fatalf("round %d: Len %d, want %d", round, l.Len(), n)
		}
		for i := range n {
			if got := *l.At(i); got != i*3+round {
				t.Fatalf("round %d: At(%d) = %d, want %d", round, i, got, i*3+round)
			}
		}
		j := 0
		for _, c := range l.Chunks() {
			for _, v := range c {
				if v != j*3+round {
					t.Fatalf("round %d: chunk element %d = %d, want %d", round, j, v, j*3+round)
				}
				j++
			}
		}
		if j != n {
			t.Fatalf("round %d: chunks hold %d elements, want %d", round, j, n)
		}
		l.Reset(&p)
		if l.Len() != 0 {
			t.Fatalf("round %d: Len %d after Reset", round, l.Len())
		}
	}
}

func TestChunkSizes(t *testing.T) {
	var p Pool[int]
	var l List[int]
	for i := range 3000 {
		l.Append(&p, i)
	}
	want := []int{8, 16, 32, 64, 128, 256, 512, 1024, 1024}
	cs := l.Chunks()
	if len(cs) != len(want) {
		t.Fatalf("%d chunks, want %d", len(cs), len(want))
	}
	for i, c := range cs {
		if cap(c) != want[i] {
			t.Errorf("chunk %d: cap %d, want %d", i, cap(c), want[i])
		}
	}
}

func TestResetReusesChunksAndClears(t *testing.T) {
	var p Pool[*int]
	var l List[*int]
	x := new(int)
	for range 3000 {
		l.Append(&p, x)
	}
	full := l.Chunks()[7]
	l.Reset(&p)
	if len(p.free) != 2 {
		t.Fatalf("pool holds %d chunks, want the 2 full-size ones", len(p.free))
	}
	if full[:1][0] != nil {
		t.Fatal("a chunk handed back still holds its pointers")
	}
	if len(l.Chunks()) != 1 || cap(l.Chunks()[0]) != First {
		t.Fatalf("after Reset the list keeps %d chunks, want its first", len(l.Chunks()))
	}
	for range 3000 {
		l.Append(&p, x)
	}
	if len(p.free) != 0 {
		t.Fatalf("pool holds %d chunks after regrowth, want 0 (reused)", len(p.free))
	}
}

func BenchmarkListAppend(b *testing.B) {
	var p Pool[[3]int64]
	var l List[[3]int64]
	b.ReportAllocs()
	for i := range b.N {
		l.Append(&p, [3]int64{int64(i)})
		if l.Len() == 100_000 {
			l.Reset(&p)
		}
	}
}

// TestLogCopiesAreSnapshots: copies made along the way keep seeing what
// was appended before them while the original goes on appending.
func TestLogCopiesAreSnapshots(t *testing.T) {
	var l Log[int]
	var copies []Log[int]
	for i := range 5000 {
		if i%333 == 0 || i == 8 || i == 1016 {
			copies = append(copies, l)
		}
		l.Append(i)
	}
	copies = append(copies, l)
	for _, c := range copies {
		n := 0
		for v := range c.All() {
			if v != n {
				t.Fatalf("a copy of %d elements yields %d at %d", c.Len(), v, n)
			}
			n++
		}
		if n != c.Len() {
			t.Fatalf("a copy of %d elements yields %d", c.Len(), n)
		}
	}
}
