package replica

import (
	"fmt"
	"testing"
	"time"
)

// A node whose replica left a group and that later hosts a new replica of it, empty, under a new
// ID (placement moves replicas away and back), is sent the state by a leader that itself caught
// up from a snapshot; and a node that installs a snapshot listing both of that node's replicas,
// the removed one and the live one, knows the node's address.
func TestRaftRehostedReplica(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	for i := 0; i < 50; i++ {
		c.write("incr n")
	}
	added := c.changeMembers(func(r *Raft, done func(Member, error)) { r.AddLearner(Member{Addr: "node4"}, done) })
	c.startLearner(4, added.ID, "n", "50")
	// Node 4, which holds only what a snapshot gave it, leads.
	c.waitFor("node 4 to lead", func() bool {
		l := c.leader()
		if l.id == 4 {
			return true
		}
		l.r.TransferLeader(4)
		return false
	})
	c.write("incr n")
	// Node 2 leaves, and comes back later on the same node under a new replica ID, empty.
	// Node 2's replica leaves the group; the node drops it as a server does (close, forget)
	// but goes on running, and later hosts a new replica of the shard, empty, under a new ID.
	c.changeMembers(func(r *Raft, done func(Member, error)) { r.Remove(2, done) })
	two := c.nodes[2]
	if err := two.r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := two.host.Forget(1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		c.write("incr n")
	}
	added = c.changeMembers(func(r *Raft, done func(Member, error)) {
		r.AddLearner(Member{Node: 2, Addr: "node2", BusAddr: "bus2"}, done)
	})
	two.sm = newKV()
	r, err := two.host.AddShard(1, two.sm, ShardOptions{ReplicaID: added.ID})
	if err != nil {
		t.Fatal(err)
	}
	two.r = r
	c.waitValue(2, "n", "56")

	// A fifth node catches up from a snapshot whose member table has node 2's removed replica
	// and its live one.
	for i := 0; i < 30; i++ {
		c.write("incr n")
	}
	added = c.changeMembers(func(r *Raft, done func(Member, error)) {
		r.AddLearner(Member{Node: 6, Addr: "node6", BusAddr: "bus6"}, done)
	})
	six := &testNode{id: 6, replica: added.ID, dir: t.TempDir(), sm: newKV()}
	c.nodes[6] = six
	c.start(six, nil)
	c.waitValue(6, "n", "86")
	// (The state machine has the value before the host goroutine has taken in the snapshot's
	// member table: wait for the address.)
	c.waitFor("node 6 to know node 2's address", func() bool { return c.net.peerAddr(6, 2) == "bus2" })
}

// A node hosting replicas of two groups installs a snapshot of one whose member table lists a
// removed replica on node 2, while its other group has a live member there: it must keep node
// 2's address.
func TestRaftSnapshotKeepsAddressOfNodeInUse(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	var two []Member
	for i := uint64(1); i <= 3; i++ {
		two = append(two, Member{ID: i, Node: i, Addr: fmt.Sprintf("node%d", i), BusAddr: fmt.Sprintf("bus%d", i)})
	}
	second := map[uint64]*Raft{}
	for i := uint64(1); i <= 3; i++ {
		r, err := c.nodes[i].host.AddShard(2, newKV(), ShardOptions{Bootstrap: two})
		if err != nil {
			t.Fatal(err)
		}
		second[i] = r
	}
	for i := 0; i < 30; i++ {
		c.write("incr n")
	}
	// Node 2's replica leaves group 1 (the node drops it, as a server does); group 2 keeps its
	// replica on node 2.
	c.changeMembers(func(r *Raft, done func(Member, error)) { r.Remove(2, done) })
	if err := c.nodes[2].r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[2].host.Forget(1); err != nil {
		t.Fatal(err)
	}
	// Node 2 goes on hosting group 2, but out of the cluster's list of group 1's nodes.
	n2 := c.nodes[2]
	delete(c.nodes, 2)
	t.Cleanup(func() { _ = n2.host.Close() })
	for i := 0; i < 30; i++ {
		c.write("incr n")
	}
	// Node 4 joins group 2, then group 1, catching up from a snapshot listing node 2 as removed.
	nd := &testNode{id: 4, replica: 0, dir: t.TempDir(), sm: newKV()}
	var leader2 *Raft
	c.waitFor("a leader of group 2", func() bool {
		for _, r := range second {
			if r.IsLeader() {
				leader2 = r
				return true
			}
		}
		return false
	})
	ch := make(chan Member, 1)
	leader2.AddLearner(Member{Node: 4, Addr: "node4", BusAddr: "bus4"}, func(m Member, err error) {
		if err != nil {
			t.Error(err)
		}
		ch <- m
	})
	in2 := <-ch
	added := c.changeMembers(func(r *Raft, done func(Member, error)) {
		r.AddLearner(Member{Node: 4, Addr: "node4", BusAddr: "bus4"}, done)
	})
	nd.replica = added.ID
	c.nodes[4] = nd
	c.start(nd, nil)
	if _, err := nd.host.AddShard(2, newKV(), ShardOptions{ReplicaID: in2.ID}); err != nil {
		t.Fatal(err)
	}
	c.waitValue(4, "n", "60")
	c.waitFor("node 4 to know node 2's address", func() bool { return c.net.peerAddr(4, 2) == "bus2" })
	time.Sleep(100 * time.Millisecond) // and to keep it
	if got := c.net.peerAddr(4, 2); got != "bus2" {
		t.Fatalf("node 4 has address %q for node 2, which holds a live replica of group 2; want bus2", got)
	}
}
