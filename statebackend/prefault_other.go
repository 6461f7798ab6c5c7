//go:build !linux

package statebackend

// prefault does nothing where there is no MADV_POPULATE_WRITE.
func prefault[T any]([]T) {}
