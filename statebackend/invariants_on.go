//go:build invariants

package statebackend

// invariants enables extra consistency checks; build with -tags invariants.
const invariants = true
