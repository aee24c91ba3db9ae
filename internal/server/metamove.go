package server

import (
	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/replica"
)

// Moving the meta group's replicas (cluster/metamove.go plans them).
//
// The meta group's leader carries out a move of the meta group as a shard's leader carries out
// a shard's (runMove, the same steps read off Topology.Meta): add the target as a learner and
// record it (meta-move-added), let it catch up and be promoted, hand leadership over if the
// leader is the one leaving, remove the source and record the end (meta-move-done). Every node
// hosts the meta replica its topology names (reconcileMeta): a node that the topology makes a
// member opens an empty replica and is sent the state; one that it no longer names drops its
// replica — closes it, forgets its log, resets its meta state — and from then on learns the
// topology from the members like any other node.

// metaRaft is this node's replica of the meta group, nil if it holds none.
func (c *clusterNode) metaRaft() *replica.Raft { return c.metaRaftP.Load() }

// metaLeads reports whether this node leads the meta group.
func (c *clusterNode) metaLeads() bool {
	r := c.metaRaft()
	return r != nil && r.IsLeader()
}

// driveMetaMove starts carrying out the meta group's move on its leader, unless it runs
// already.
func (c *clusterNode) driveMetaMove(t *cluster.Topology) {
	r := c.metaRaft()
	if r == nil || !r.IsLeader() || t.Meta.Move == nil {
		return
	}
	if _, running := c.moving.LoadOrStore(cluster.MetaShard, true); running {
		return
	}
	go func() {
		defer c.moving.Delete(cluster.MetaShard)
		if err := c.runMove(r, cluster.MetaShard); err != nil {
			c.logger.Warn("meta group move interrupted; it resumes at the next tick", "err", err)
		}
	}()
}

// reconcileMeta opens this node's replica of the meta group if the topology names one and the
// node has none, and drops the one it has if the topology no longer names it (or names a newer
// one: the node left the group and came back). Runs on refreshTopology's goroutine.
func (c *clusterNode) reconcileMeta(t *cluster.Topology) {
	want := t.Meta.ReplicaOn(c.id)
	r := c.metaRaft()
	// A newer replica ID than the topology's is kept: the replica was replaced (rebuild.go)
	// and the topology has not caught up.
	if r != nil && (want == 0 || want > r.ID()) {
		c.dropMeta(r)
		r = nil
	}
	if r == nil && want != 0 {
		if err := c.hostMeta(); err != nil {
			c.logger.Warn("hosting a replica of the meta group failed", "replica", want, "err", err)
			return
		}
		c.logger.Info("hosting a replica of the meta group; the leader sends the state", "replica", want)
	}
}

// dropMeta closes this node's replica of the meta group, which left the group, and deletes
// its log and state.
func (c *clusterNode) dropMeta(r *replica.Raft) {
	c.metaRaftP.Store(nil)
	if err := r.Close(); err != nil {
		c.logger.Warn("closing the dropped meta replica", "err", err)
	}
	if err := c.host.Forget(cluster.MetaShard); err != nil {
		c.logger.Warn("forgetting the dropped meta replica's log", "err", err)
	}
	if err := c.meta.Reset(); err != nil {
		c.logger.Warn("deleting the dropped meta replica's state", "err", err)
	}
	// The topology saved on disk is what the node starts from now: have it say so at once.
	c.saveTopology()
	c.logger.Info("meta replica dropped: this node left the meta group", "replica", r.ID())
}

// metaPeers lists the meta members other than this node, those heard from lately first: a
// node outside the group (or one just removed from it) asks them for the topology and
// relays meta operations through them.
func (c *clusterNode) metaPeers() []uint64 {
	var live, rest []uint64
	for _, id := range c.topology().t.MetaNodes() {
		switch {
		case id == c.id:
		case c.alive(id):
			live = append(live, id)
		default:
			rest = append(rest, id)
		}
	}
	return append(live, rest...)
}

// metaSize is how many members the meta leader aims the meta group at.
func (c *clusterNode) metaSize() int { return int(c.s.cfg.clusterMetaSize.Load()) }
