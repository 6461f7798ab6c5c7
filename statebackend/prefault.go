package statebackend

// cloneFaulted returns a copy of s (nil for nil) in new memory that
// prefault populates before the copy writes it: the first write to a key
// group after a snapshot clones its arrays, and a copy into fresh memory
// otherwise takes a page fault per page.
func cloneFaulted[S ~[]E, E any](s S) S {
	if s == nil {
		return nil
	}
	c := make(S, len(s))
	prefault(c)
	copy(c, s)
	return c
}
