package replica

import (
	"maps"
	"testing"
)

// A node whose state machine is ahead of its Raft log — it installed a snapshot, or applied
// committed entries, and a crash lost the log's record of them — restarts and catches up
// instead of panicking at its next checkpoint (a snapshot must name an index its log holds).
// Found by the deterministic simulation (tests/sim, seed 44).
func TestRaftStateMachineAheadOfLog(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	c.write("set a 1")
	l := c.leader()
	var lag uint64
	for id := range c.nodes {
		if id != l.id {
			lag = id
			break
		}
	}
	c.net.isolate(lag, 1, 2, 3)
	for range 60 {
		c.write("incr n")
	}
	c.stop(lag, false)
	// The state a snapshot from the leader would have installed, with its log record lost.
	ahead := newKV()
	l.sm.mu.Lock()
	ahead.data, ahead.applied = maps.Clone(l.sm.data), l.sm.applied
	l.sm.mu.Unlock()
	c.nodes[lag].sm = ahead
	c.net.heal()
	c.start(c.nodes[lag], nil)
	c.write("incr n")
	c.waitValue(lag, "n", "61")
}
