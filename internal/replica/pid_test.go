package replica

import (
	"math"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Proposal IDs never repeat across restarts. An entry a node proposed before a restart can
// commit after it; had a proposal of the new start the same ID, the old entry's result would
// complete it — a reply belonging to another command, before its own entry was applied. Found
// by the deterministic simulation (tests/sim, seed 2016).
func TestRaftProposalIDsNeverRepeat(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	nd := c.nodes[1]
	for round := range 3 {
		c.write("set a 1")
		c.write("set b 2")
		if round < 2 {
			c.stop(1, false)
			c.start(nd, nil)
		}
	}
	seen := map[uint64]uint64{}
	it, err := nd.host.store.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(1, 0), UpperBound: entryKey(1, math.MaxUint64)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(0, it.Value())
		if err != nil {
			t.Fatal(err)
		}
		node, pid, own := entryOwner(&pb.Entry{Type: e.Type, Data: e.Data})
		if !own || node != 1 {
			continue
		}
		n++
		idx := entryKeyIndex(it.Key())
		if at, dup := seen[pid]; dup {
			t.Fatalf("proposal ID %d used at index %d and again at %d", pid, at, idx)
		}
		seen[pid] = idx
	}
	if n != 6 {
		t.Fatalf("found %d proposals in the log, want 6", n)
	}
}

func entryKeyIndex(k []byte) uint64 {
	var idx uint64
	for _, b := range k[9:17] {
		idx = idx<<8 | uint64(b)
	}
	return idx
}
