package statebackend

// prefaultMin is the smallest slice prefault populates: below it the
// system call costs about what it saves (a few pages).
const prefaultMin = 16 << 10

// makeFaulted returns make([]T, n) with its pages populated (prefault):
// the state's new arrays, about to be written all over.
func makeFaulted[T any](n int) []T {
	s := make([]T, n)
	prefault(s)
	return s
}

// cloneFaulted returns a copy of s (nil for nil) in memory populated
// before the copy writes it: the first write to a key group after a
// snapshot clones its arrays, and a copy into fresh memory otherwise
// takes a page fault per page.
func cloneFaulted[S ~[]E, E any](s S) S {
	if s == nil {
		return nil
	}
	c := S(makeFaulted[E](len(s)))
	copy(c, s)
	return c
}
