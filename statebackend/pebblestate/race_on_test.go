//go:build race

package pebblestate_test

const raceEnabled = true
