package server

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/replica"
)

// watchLeadership follows the node's groups a few times per election timeout:
//
//   - The meta group's leader founds the cluster (proposes the founding layout) if the meta
//     state has none yet.
//   - A shard this node starts leading has the blocked clients of its former leader removed
//     (blocking commands run on the leader, so their waiters belong to connections that are
//     gone), and the meta group is told, so other nodes redirect clients here.
//   - A shard this node leads whose preferred leader — its first replica, placed so that
//     those spread evenly over the nodes — is another node, caught up and reachable, is handed
//     over to it, so leaders stay balanced after a failover heals.
func (c *clusterNode) watchLeadership() {
	defer c.wg.Done()
	t := time.NewTicker(c.host.ElectionTimeout() / 5)
	defer t.Stop()
	led := map[uint64]uint64{}      // shard → term this node was seen leading it
	reported := map[uint64]uint64{} // shard → term reported to the meta group
	lastTransfer := map[uint64]time.Time{}
	unreported := make(chan uint64, 64) // shards whose report failed: report again
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		for len(unreported) > 0 {
			delete(reported, <-unreported)
		}
		c.maybeFound()
		v := c.topology()
		for _, h := range c.s.allHosted() {
			id, r := h.id(), h.raft
			if !r.IsLeader() {
				delete(led, id)
				continue
			}
			term := r.Term()
			if led[id] != term {
				c.logger.Info("this node now leads a shard", "shard", id, "term", term)
				if err := h.sh.ClearWaiters(c.s.now(), c.stop); err != nil {
					c.logger.Warn("clearing waiters of a former leader failed", "shard", id, "err", err)
					continue // try again at the next tick
				}
				led[id] = term
				// No handing over for a while after taking over: the node that gave up
				// leadership may be stopping (handOff), and a failover is better settled
				// before leaders move again.
				lastTransfer[id] = time.Now()
			}
			if reported[id] != term {
				reported[id] = term
				go func() {
					if !c.reportLeader(id, term) {
						select {
						case unreported <- id:
						default:
						}
					}
				}()
			}
			c.balance(h, v.t.Shard(id), lastTransfer)
			c.driveMove(h, v.t.Shard(id))
			c.driveSlots(h, v)
		}
		c.driveMetaMove(v.t)
	}
}

// maybeFound proposes the founding layout if this node leads the meta group and the cluster
// has none yet.
func (c *clusterNode) maybeFound() {
	if !c.metaLeads() || c.meta.Topology() != nil || c.founding == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if _, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "init", Topology: c.founding}); err != nil {
		c.logger.Warn("founding the cluster failed; retrying", "err", err)
	}
}

// reportLeader tells the meta group this node leads a shard in a term; false if it could not.
func (c *clusterNode) reportLeader(shard, term uint64) bool {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if _, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "leader", Shard: shard, Node: c.id, Term: term}); err != nil {
		c.logger.Debug("reporting leadership failed", "shard", shard, "err", err)
		return false
	}
	return true
}

// balance hands leadership of a shard this node leads to its preferred leader, if that is
// another node whose replica is caught up and active; at most once per few election timeouts
// per shard.
func (c *clusterNode) balance(h *hosted, info *cluster.Shard, last map[uint64]time.Time) {
	if info == nil || len(info.Replicas) == 0 || info.Replicas[0].Node == c.id {
		return
	}
	if info.Move != nil && info.Move.From == info.Replicas[0].Node {
		return // the preferred node is giving its replica up: the move's end names the next
	}
	if time.Since(last[info.ID]) < 5*c.host.ElectionTimeout() {
		return
	}
	want := info.Replicas[0].ID
	st := h.raft.Status()
	for _, p := range st.Peers {
		// Raft's own record of activity goes stale while the group is quiet: liveness is the
		// bus's.
		if p.ID == want && p.Voter && c.alive(p.Node) && !c.diskFull(p.Node) && p.Match >= st.Commit {
			last[info.ID] = time.Now()
			c.logger.Debug("handing leadership to the preferred leader", "shard", info.ID, "to_node", p.Node)
			h.raft.TransferLeader(want)
			return
		}
	}
}

// refreshTopology keeps a node outside the meta group up to date: it asks a meta member for a
// newer topology every half second (meta members learn it from their own replica). Every
// second it saves the newest to disk.
func (c *clusterNode) refreshTopology() {
	defer c.wg.Done()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-c.stop:
			c.saveTopology()
			return
		case <-t.C:
		case <-c.refreshNow:
		}
		if !c.metaLeads() {
			// A meta follower asks too: one just removed from the group learns no more from
			// its own replica, and would not know it was removed (metamove.go).
			c.fetchTopology()
		}
		c.reconcileHosting()
		if n%2 == 1 {
			c.saveTopology()
		}
	}
}

// fetchTopology asks the meta members for a topology newer than this node's.
func (c *clusterNode) fetchTopology() {
	v := c.topology()
	for _, id := range c.metaPeers() {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		b, err := c.bus.CallPeer(ctx, id, reqTopology, binary.BigEndian.AppendUint64(nil, v.t.Version))
		cancel()
		if err != nil {
			continue
		}
		if len(b) > 0 {
			if t, err := cluster.DecodeTopology(b); err == nil && c.checkVersion(t) {
				c.publish(t)
				c.confirm(t.Version)
			}
		} else {
			c.confirm(v.t.Version)
		}
		return
	}
}

// gossipLoop joins the gossip through the nodes the topology names, and spreads this node's
// load every few seconds.
func (c *clusterNode) gossipLoop() {
	defer c.wg.Done()
	g := c.gossip.Load()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	full := false
	for n := 0; ; n++ {
		if f := c.s.disk.full.Load(); f != full && len(g.Nodes()) >= 2 {
			// Tell the others at once that this node's disk is full (or no longer is), so
			// they stop handing it leaderships (diskfull.go).
			full = f
			g.Refresh()
		}
		if len(g.Nodes()) < 2 { // only itself: join the others
			var addrs []string
			for _, node := range c.topology().t.LiveNodes() {
				if node.ID != c.id {
					addrs = append(addrs, node.BusAddr)
				}
			}
			if len(addrs) > 0 {
				_ = g.Join(addrs)
			}
		} else if n%5 == 0 {
			g.Refresh()
		}
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// load is what this node gossips about itself.
func (c *clusterNode) load() cluster.NodeLoad {
	l := cluster.NodeLoad{Node: c.id, Ops: c.s.rates.opsPerSec(), Version: c.s.codeVersion(), DiskFull: c.s.disk.full.Load(), Sizes: c.shardSizes()}
	for _, h := range c.s.allHosted() {
		l.Shards++
		if h.leads() {
			l.Led++
			keys, _ := h.sh.KeyCounts()
			l.Keys += keys[0]
		}
	}
	return l
}

// handOff hands leadership of every group this node leads — its shards and the meta group — to
// the most caught-up live voter of each, before the node stops. Clients are redirected to the
// new leaders at once, instead of each group waiting an election timeout to notice that its
// leader is gone (a rolling restart costs no write a timeout). It waits up to d for the
// transfers; a group with no live voter to take over keeps its leader until the node stops.
func (c *clusterNode) handOff(d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		var leading []*replica.Raft
		for _, h := range c.s.allHosted() {
			if h.raft.IsLeader() {
				leading = append(leading, h.raft)
			}
		}
		if r := c.metaRaft(); r != nil && r.IsLeader() {
			leading = append(leading, r)
		}
		if len(leading) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.logger.Warn("stopping while still leading groups", "groups", len(leading))
			return
		}
		moving := 0
		for _, r := range leading {
			st := r.Status()
			var best replica.Peer
			for _, p := range st.Peers {
				if p.ID != st.ID && p.Voter && c.alive(p.Node) && (best.ID == 0 || p.Match > best.Match) {
					best = p
				}
			}
			if best.ID != 0 {
				r.TransferLeader(best.ID)
				moving++
			}
		}
		if moving == 0 {
			return
		}
		time.Sleep(c.host.ElectionTimeout() / 10)
	}
}
