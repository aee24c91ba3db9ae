//go:build race

package servertest

// raceEnabled builds the server under test with the race detector when the tests run with it.
const raceEnabled = true
