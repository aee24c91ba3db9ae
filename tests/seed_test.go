package tests

import (
	"flag"
	"testing"
	"time"
)

var seedFlag = flag.Int64("seed", 0, "seed for randomized tests (0: time-based)")

// testSeed returns the seed of a randomized test and logs it so a failure can be replayed
// with -seed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return uint64(s)
}
