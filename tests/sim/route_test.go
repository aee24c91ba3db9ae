package sim

import (
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/cairn-db/cairn/tests/check"
)

// TestRouting sends requests to chosen nodes of a healthy five-node cluster and checks where
// they were served: writes only by the shard's leader (MOVED from anywhere else), reads by any
// replica (MOVED from a node without one), cross-slot requests refused before anything else.
func TestRouting(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 1)
	cfg := Config{Seed: 1, Nodes: 5, Shards: 5, Clients: 1, NoFaults: true}.resolve()
	w, err := boot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, n := range w.nodes {
			n.closeAll()
		}
	}()
	// Until every shard has a leader its other replicas know.
	w.runUntil(10*time.Second, func() bool {
		for sid := uint64(1); sid <= uint64(cfg.Shards); sid++ {
			lead := w.leaderOf(sid)
			if lead == nil {
				return false
			}
			for _, n := range w.holders(sid) {
				if n.shard(sid).raft.LeaderNode() != lead.id {
					return false
				}
			}
		}
		return true
	})
	g := w.groups[0]
	sid := w.groupShard[g]
	var leader, follower, outsider *Node
	for _, n := range w.nodes {
		switch s := n.shard(sid); {
		case s == nil:
			outsider = n
		case s.raft.IsLeader():
			leader = n
		default:
			follower = n
		}
	}
	if leader == nil || follower == nil || outsider == nil {
		t.Fatalf("shard %d: leader %v, follower %v, node without a replica %v", sid, leader, follower, outsider)
	}
	var other int
	for _, h := range w.groups {
		if w.groupSlot[h] != w.groupSlot[g] {
			other = h
		}
	}
	crossSlot := check.Output{Err: check.ErrCrossSlot}
	for i, tc := range []struct {
		name      string
		level     Level
		in        check.Input
		to        *Node
		want      check.Output
		redirects int
	}{
		{"write to the leader", Strong, check.Input{Kind: check.Set, Group: g, Arg: "1"}, leader, check.Output{Str: "OK"}, 0},
		{"write to a follower", Strong, check.Input{Kind: check.Incr, Group: g}, follower, check.Output{Int: 2, IsInt: true}, 1},
		{"write to a node without the shard", Strong, check.Input{Kind: check.Incr, Group: g}, outsider, check.Output{Int: 3, IsInt: true}, 1},
		{"strong read on a follower", Strong, check.Input{Kind: check.Get, Group: g}, follower, check.Output{Str: "3"}, 0},
		{"eventual read on a node without the shard", Eventual, check.Input{Kind: check.Get, Group: g, Slot: 1}, outsider, check.Output{Nil: true}, 1},
		{"MSET in one slot", Strong, check.Input{Kind: check.MSet, Group: g, Slot: 1, Slot2: 2, Arg: "m"}, leader, check.Output{Str: "OK"}, 0},
		{"transaction in one slot, sent to a follower", Strong, check.Input{Kind: check.Txn, Group: g, Slot: 0, Slot2: 1, Arg: "x"}, follower,
			check.Output{Multi: []check.Output{{Int: 4, IsInt: true}, {Int: 2, IsInt: true}, {Str: "mx"}}}, 1},
		{"cross-slot MSET", Strong, check.Input{Kind: check.MSet, Group: g, Cross: true, Group2: other, Arg: "c"}, leader, crossSlot, 0},
		{"cross-slot MSET to a node without the shard", Strong, check.Input{Kind: check.MSet, Group: g, Cross: true, Group2: other, Arg: "c"}, outsider, crossSlot, 0},
		{"cross-slot transaction", Strong, check.Input{Kind: check.Txn, Group: g, Cross: true, Group2: other, Arg: "c"}, leader, crossSlot, 0},
	} {
		c := newClient(w, i, tc.level)
		c.final = true // one operation, no more
		w.clients = append(w.clients, c)
		rec := c.startAt(tc.in, tc.to.idx)
		w.runUntil(w.now+writeTimeout, func() bool { return rec.Status != Pending })
		if rec.Status != OK || !rec.Output.Equal(tc.want) || rec.Redirects != tc.redirects {
			t.Errorf("%s: %s to %s = %s %s (%s) after %d redirections, want %s after %d",
				tc.name, tc.in, tc.to.name, rec.Status, rec.Output, rec.Why, rec.Redirects, tc.want, tc.redirects)
		}
		if tc.in.Cross && rec.OpID != 0 {
			t.Errorf("%s: proposed as op %x", tc.name, rec.OpID)
		}
	}
	if len(w.problems) > 0 {
		t.Errorf("violations: %v", w.problems)
	}
}
