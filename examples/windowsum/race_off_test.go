//go:build !race

package main

// raceEnabled: the crash tests build the job binary with -race too.
const raceEnabled = false
