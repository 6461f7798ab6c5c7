package statebackend

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident reports, per page of b (page-aligned), whether it is in memory.
func resident(t *testing.T, b []byte) []bool {
	t.Helper()
	vec := make([]byte, (uintptr(len(b))+page-1)/page)
	// golang.org/x/sys/unix has no Mincore on Linux
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	in := make([]bool, len(vec))
	for i, v := range vec {
		in[i] = v&1 != 0
	}
	return in
}

// TestPrefault: prefault brings in the whole pages of a slice, not the
// partial pages at its ends nor a slice below prefaultMin, and changes no
// byte.
func TestPrefault(t *testing.T) {
	const pages = 32
	b, err := unix.Mmap(-1, 0, pages*int(page), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer func() { _ = unix.Munmap(b) }()
	for i, in := range resident(t, b) {
		if in {
			t.Fatalf("page %d of a fresh mapping is resident already", i)
		}
	}
	prefault(b[:prefaultMin-1]) // too small: nothing
	for i, in := range resident(t, b) {
		if in {
			t.Fatalf("page %d is resident after prefault of %d bytes, below prefaultMin", i, prefaultMin-1)
		}
	}
	prefault(b[100 : len(b)-100])
	for i, in := range resident(t, b) {
		if want := i > 0 && i < pages-1; in != want {
			t.Errorf("after prefault of all but the first and last 100 bytes: page %d resident %v, want %v", i, in, want)
		}
	}
	for i, c := range b {
		if c != 0 {
			t.Fatalf("prefault wrote byte %d: %d", i, c)
		}
	}

	// a written slice keeps its bytes
	s := make([]uint64, 8<<10)
	for i := range s {
		s[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	prefault(s)
	for i, v := range s {
		if v != uint64(i)*0x9e3779b97f4a7c15 {
			t.Fatalf("prefault changed element %d", i)
		}
	}
}
