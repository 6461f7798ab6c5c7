//go:build !invariants

package timeapi

// invariants enables extra consistency checks; build with -tags invariants.
const invariants = false
