package tests

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// byNodeID orders servers by their node IDs (founders are numbered in sorted address order,
// not in the order they started).
func byNodeID(t *testing.T, nodes []*servertest.Server) []*servertest.Server {
	t.Helper()
	id := func(s *servertest.Server) uint64 { return clusterStatus(t, s).Node }
	out := slices.Clone(nodes)
	slices.SortFunc(out, func(a, b *servertest.Server) int { return cmp.Compare(id(a), id(b)) })
	return out
}

// metaMembers lists the nodes n's CLUSTER STATUS names as meta members, by ID, and whether
// the status names the node id at all (a removed node is not named).
func metaMembers(t *testing.T, n *servertest.Server, id uint64) ([]uint64, bool) {
	t.Helper()
	var out []uint64
	named := false
	for _, sn := range clusterStatus(t, n).Nodes {
		if sn.Meta {
			out = append(out, sn.ID)
		}
		named = named || sn.ID == id
	}
	slices.Sort(out)
	return out, named
}

// A cluster of five nodes whose meta group is on three of them (cluster-meta-size 3) loses two
// meta members' nodes for good, one after the other: each time the meta group's leader adds a
// member on a live node and removes the dead one, so that after both deaths — which would have
// cost the meta group its quorum had it not moved — the cluster still admits a node, and
// serves reads and writes throughout; no acknowledged write is lost.
//
// One shard only: with more, a shard that loses a replica to the first death sometimes stays
// without a leader for minutes (its leader steps down for want of a quorum although two of its
// three voters live; see the README notes) — a data-shard fault, not the meta group's.
func TestClusterMetaMembersReplaced(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "1", "--cluster-dead-after", "3", "--cluster-meta-size", "3")
	c.Join()
	c.Join()
	if got, _ := metaMembers(t, c.Nodes[3], 0); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("meta members %v, want the founders (cluster-meta-size 3)", got)
	}
	load := startWriteLoad(addrsOf(c), 3)
	live := byNodeID(t, c.Nodes)
	for _, id := range []uint64{1, 2} {
		live[0].Kill() // live[0] is node id
		live = live[1:]
		killed := time.Now()
		waitCluster(t, fmt.Sprintf("node %d's meta member to be replaced, and the node removed", id), 120*time.Second, func() bool {
			got, named := metaMembers(t, live[0], id)
			if named || len(got) != 3 || slices.Contains(got, id) {
				return false
			}
			for _, n := range live {
				if n.ClusterInfo("cluster_known_nodes") != strconv.Itoa(len(live)) || n.ClusterInfo("cluster_moves_in_progress") != "0" {
					return false
				}
			}
			return true
		})
		t.Logf("node %d's meta member replaced and the node removed %v after it died", id, time.Since(killed))
		replaced := time.Now()
		waitCluster(t, "a write acknowledged after the replacement", 30*time.Second, func() bool {
			_, ok := load.firstAckAfter(replaced)
			return ok
		})
	}
	got, _ := metaMembers(t, live[0], 0)
	if !slices.Equal(got, []uint64{3, 4, 5}) {
		t.Fatalf("meta members %v after two deaths, want [3 4 5]", got)
	}
	for _, n := range live {
		if role := n.ClusterInfo("cluster_meta_role"); role == "-" || role == "learner" {
			t.Fatalf("node %s, a meta member, has meta role %q", n.Addr, role)
		}
	}
	// The topology still changes: a node joins through the meta group.
	c.Nodes = live
	c.Join()
	waitCluster(t, "every node to know the new node", 30*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n.ClusterInfo("cluster_known_nodes") != "4" {
				return false
			}
		}
		return true
	})
	finishAfterJoin(t, c, load)
}

// CLUSTER FORGET of a founding node — a meta member, and here the meta group's first leader —
// drains it: its replicas and its meta member move away (the meta group grew onto the joined
// node, so it shrinks by one), and it leaves, dropping its meta replica. The cluster then still
// admits a node, which the meta group grows onto. One shard, as in
// TestClusterMetaMembersReplaced: a replica moved back onto a node that held its shard before
// sometimes waits minutes for its snapshot (see the README notes).
func TestClusterFounderDrains(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "1")
	n4 := c.Join()
	c.Nodes = byNodeID(t, c.Nodes)
	waitCluster(t, "the meta group to grow onto the joined node", 60*time.Second, func() bool {
		got, _ := metaMembers(t, c.Nodes[0], 0)
		return len(got) == 4 && n4.ClusterInfo("cluster_meta_role") != "-"
	})
	load := startWriteLoad(addrsOf(c)[1:], 2)
	if got := c.Nodes[1].Dial().Do("CLUSTER", "FORGET", fmt.Sprintf("%040x", 1)); got != "+OK\r\n" {
		t.Fatalf("CLUSTER FORGET of a founding node = %q", got)
	}
	start := time.Now()
	rest := c.Nodes[1:]
	waitCluster(t, "the founding node to be drained and removed", 120*time.Second, func() bool {
		for _, n := range rest {
			if n.ClusterInfo("cluster_known_nodes") != "3" {
				return false
			}
		}
		got, named := metaMembers(t, rest[0], 1)
		return !named && slices.Equal(got, []uint64{2, 3, 4})
	})
	t.Logf("drained and removed in %v", time.Since(start))
	waitCluster(t, "the removed node to drop its replicas and its meta replica", 30*time.Second, func() bool {
		return c.Nodes[0].Info("replication", "raft_shards_hosted") == "0" && c.Nodes[0].ClusterInfo("cluster_meta_role") == "-"
	})
	c.Nodes[0].Stop()
	c.Nodes = rest
	n5 := c.Join()
	waitCluster(t, "the meta group to grow onto the new node", 60*time.Second, func() bool {
		got, _ := metaMembers(t, rest[0], 0)
		return len(got) == 4 && n5.ClusterInfo("cluster_meta_role") != "-"
	})
	finishAfterJoin(t, c, load)
}

// finishAfterJoin waits for a write acknowledged after the join, stops the load, and checks
// every acknowledged write is in the cluster.
func finishAfterJoin(t *testing.T, c *servertest.Cluster, load *writeLoad) {
	t.Helper()
	since := time.Now()
	waitCluster(t, "a write acknowledged after the join", 30*time.Second, func() bool {
		_, ok := load.firstAckAfter(since)
		return ok
	})
	load.halt()
	t.Logf("%d acknowledged writes", load.count())
	checkAckedCluster(t, c, load.acked)
}
