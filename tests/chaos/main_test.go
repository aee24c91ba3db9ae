package main

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestChaosShort runs a short chaos run: a real three-node cluster, its bus behind the proxies
// (cluster-announce-bus-port), a few kills, pauses and partitions, and the checks.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	redis.SetLogger(quiet{}) // dial failures are expected: nodes are killed on purpose
	dir := t.TempDir()
	failed, err := chaos(options{duration: 8 * time.Second, nodes: 3, clients: 6, seed: 1, timeout: 500}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if failed {
		t.Fatal("a check failed (see the output above)")
	}
}
