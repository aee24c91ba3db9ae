package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/replica"
)

// Moving replicas between nodes.
//
// Three parts, each on the node that knows enough to do it:
//
//   - The meta group's leader plans (placementLoop, cluster.Plan): every second it compares
//     the topology with the nodes' liveness and proposes moves (move-start), changes of a
//     shard's preferred leader (set-preferred), and the removal of drained nodes.
//   - A shard's leader carries out its shard's move (runMove) in its own group: it adds the
//     target as a learner and records it (move-added); the learner catches up by snapshot and
//     the leader promotes it (replica.Raft's autoPromote); then the leader removes the source
//     and records the end (move-done). A leader that is itself the source hands leadership to
//     another voter first. The shard has one replica more, never one less, while it moves.
//   - Every node hosts what the topology says it holds (reconcileHosting): it opens a replica
//     the topology names and it lacks (empty, to be sent the state, or bootstrapping a new
//     shard's group: split.go), and drops — closes and deletes — one the topology no longer
//     names (moved away, or its shard retired).

// maxMoves bounds the replica moves under way at once in the whole cluster: one per node (and
// Plan allows two into and two out of any one node), at least four.
func maxMoves(t *cluster.Topology) int { return max(4, len(t.LiveNodes())) }

// placementLoop runs the planner on the meta group's leader: every second, and at once when
// CLUSTER REBALANCE asks.
func (c *clusterNode) placementLoop() {
	defer c.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var leaderSince time.Time
	for {
		var asked chan rebalanceResult
		select {
		case <-c.stop:
			return
		case <-tick.C:
		case asked = <-c.rebalanceReq:
		}
		ops, err := c.placementRound(&leaderSince)
		c.advanceVersion()
		if asked != nil {
			asked <- rebalanceResult{ops, err}
		}
	}
}

// placementRound plans once, if this node leads the meta group, and proposes what the plan
// says; it returns the operations the meta group accepted.
func (c *clusterNode) placementRound(leaderSince *time.Time) ([]cluster.MetaOp, error) {
	if !c.metaLeads() {
		*leaderSince = time.Time{}
		return nil, errNotMetaLeader
	}
	if leaderSince.IsZero() {
		*leaderSince = time.Now()
	}
	since := *leaderSince
	t := c.meta.Topology()
	if t == nil {
		return nil, errors.New("the cluster has no topology yet")
	}
	if !c.s.cfg.clusterRebalance.Load() {
		// Placement is off, but a merged-away shard still retires (split.go).
		_, _ = c.reshardRound(t, false)
		return nil, errRebalanceOff
	}
	deadAfter := time.Duration(c.s.cfg.clusterDeadAfter.Load()) * time.Second
	dead := func(node uint64) bool {
		if node == c.id || c.alive(node) {
			return false
		}
		// A new meta leader has heard nobody yet: it counts from when it took over.
		heard := c.bus.Heard(node)
		if heard.Before(since) {
			heard = since
		}
		return time.Since(heard) > deadAfter
	}
	var done []cluster.MetaOp
	ops := cluster.Plan(t, c.alive, dead, maxMoves(t))
	ops = append(ops, cluster.PlanMeta(t, c.alive, dead, c.metaSize())...)
	for _, op := range ops {
		c.logger.Info("placement", "op", op.Op, "shard", op.Shard, "node", op.Node, "to", op.To)
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		_, err := c.proposeMeta(ctx, op)
		cancel()
		if err != nil {
			c.logger.Warn("placement operation failed", "op", op.Op, "shard", op.Shard, "err", err)
			return done, err
		}
		done = append(done, op)
	}
	more, err := c.reshardRound(t, true)
	return append(done, more...), err
}

// driveMove starts carrying out the move of a shard this node leads, unless it runs already.
func (c *clusterNode) driveMove(h *hosted, info *cluster.Shard) {
	if info == nil || info.Move == nil {
		return
	}
	if _, running := c.moving.LoadOrStore(info.ID, true); running {
		return
	}
	go func() {
		defer c.moving.Delete(info.ID)
		if err := c.runMove(h.raft, info.ID); err != nil {
			c.logger.Warn("replica move interrupted; it resumes at the next tick", "shard", info.ID, "err", err)
		}
	}()
}

var errNotLeading = errors.New("no longer leads the shard")

// runMove carries out the move of a group this node leads (a shard, or the meta group:
// metamove.go), step by step, each step read off the topology, so a move resumes wherever it
// stopped (on this leader or the next). A meta move may only add a member (From 0) or only
// remove one (To 0).
func (c *clusterNode) runMove(r *replica.Raft, id uint64) error {
	et := c.host.ElectionTimeout()
	var targetDownSince time.Time
	var seen uint64 // the topology version the last step was taken at
	for {
		select {
		case <-c.stop:
			return nil
		default:
		}
		if !r.IsLeader() {
			return errNotLeading
		}
		v := c.topology().t
		info := v.Group(id)
		if info == nil || info.Move == nil {
			return nil
		}
		if v.Version == seen {
			// The last step's record has not reached this node's view yet.
			time.Sleep(et / 10)
			continue
		}
		m := *info.Move
		var err error
		switch {
		case m.To != 0 && m.Replica == 0:
			err = c.moveAdd(r, id, m)
		case m.To != 0 && !isVoter(r, m.Replica):
			if c.alive(m.To) {
				targetDownSince = time.Time{}
			} else if targetDownSince.IsZero() {
				targetDownSince = time.Now()
			}
			if targetDownSince.IsZero() || time.Since(targetDownSince) < 10*et {
				time.Sleep(et / 5) // the learner catches up; autoPromote makes it a voter
				continue
			}
			err = c.moveCancel(r, id, m)
		case m.From == c.id:
			return c.handOver(r, m.From)
		default:
			err = c.moveFinish(r, info, m)
		}
		if err != nil {
			return err
		}
		seen = v.Version
	}
}

// moveAdd adds the move's target as a learner (or finds it added by an earlier try) and
// records it.
func (c *clusterNode) moveAdd(r *replica.Raft, shard uint64, m cluster.Move) error {
	id := uint64(0)
	for _, mem := range r.Members().List {
		if mem.Node == m.To && !mem.Removed {
			id = mem.ID
		}
	}
	if id == 0 {
		n := c.topology().t.Nodes[m.To]
		if n == nil {
			return errors.New("the target node is unknown")
		}
		mem, err := changeMembers(func(done func(replica.Member, error)) {
			r.AddLearner(replica.Member{Node: m.To, Addr: n.Addr, BusAddr: n.BusAddr}, done)
		})
		if err != nil {
			return err
		}
		id = mem.ID
	}
	c.logger.Info("replica move: learner added", "shard", shard, "to_node", m.To, "replica", id)
	return c.proposeMetaOp(cluster.MetaOp{Op: moveOp(shard, "move-added"), Shard: shard, To: m.To, Replica: id})
}

// moveFinish removes the move's source from the group and records the end.
func (c *clusterNode) moveFinish(r *replica.Raft, info *cluster.Shard, m cluster.Move) error {
	if old, ok := r.Members().Get(info.ReplicaOn(m.From)); m.From != 0 && ok && !old.Removed {
		if _, err := changeMembers(func(done func(replica.Member, error)) { r.Remove(old.ID, done) }); err != nil {
			return err
		}
	}
	c.logger.Info("replica move: done", "shard", info.ID, "from_node", m.From, "to_node", m.To)
	return c.proposeMetaOp(cluster.MetaOp{Op: moveOp(info.ID, "move-done"), Shard: info.ID, Node: m.From})
}

// moveCancel gives up a move whose target stayed unreachable: the learner leaves the group.
func (c *clusterNode) moveCancel(r *replica.Raft, shard uint64, m cluster.Move) error {
	if mem, ok := r.Members().Get(m.Replica); ok && !mem.Removed {
		if _, err := changeMembers(func(done func(replica.Member, error)) { r.Remove(m.Replica, done) }); err != nil {
			return err
		}
	}
	c.logger.Warn("replica move cancelled: the target is unreachable", "shard", shard, "to_node", m.To)
	return c.proposeMetaOp(cluster.MetaOp{Op: moveOp(shard, "move-cancel"), Shard: shard})
}

// moveOp names a move's operation for a group: the meta group's are meta-move-*.
func moveOp(shard uint64, op string) string {
	if shard == cluster.MetaShard {
		return "meta-" + op
	}
	return op
}

// handOver hands leadership of a group to its most caught-up other voter on a live node
// (not the one leaving), so the new leader can carry on.
func (c *clusterNode) handOver(r *replica.Raft, leaving uint64) error {
	st := r.Status()
	var best replica.Peer
	for _, p := range st.Peers {
		if p.ID != st.ID && p.Voter && p.Node != leaving && c.alive(p.Node) && (best.ID == 0 || p.Match > best.Match) {
			best = p
		}
	}
	if best.ID == 0 {
		return errors.New("no other voter to hand leadership to")
	}
	r.TransferLeader(best.ID)
	return nil
}

func isVoter(r *replica.Raft, id uint64) bool {
	for _, p := range r.Status().Peers {
		if p.ID == id {
			return p.Voter
		}
	}
	return false
}

func (c *clusterNode) proposeMetaOp(op cluster.MetaOp) error {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	_, err := c.proposeMeta(ctx, op)
	return err
}

// changeMembers runs a membership change, retrying while another is in progress.
func changeMembers(f func(done func(replica.Member, error))) (replica.Member, error) {
	for attempt := 0; ; attempt++ {
		ch := make(chan struct{})
		var m replica.Member
		var err error
		f(func(mm replica.Member, e error) { m, err = mm, e; close(ch) })
		<-ch
		if err == nil || attempt == 50 || !strings.Contains(err.Error(), "in progress") {
			return m, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reconcileHosting opens the replicas the topology says this node holds and it lacks, and
// drops those it no longer holds.
func (c *clusterNode) reconcileHosting() {
	if !c.ready.Load() {
		return
	}
	t := c.topology().t
	c.reconcileMeta(t)
	// Drop first: a replica moved away and straight back (between two passes, on a meta member
	// whose view changes at once) is named again under a newer replica ID, and the old one,
	// removed from its group, must make way for it. A newer ID than the topology's is kept:
	// the replica was replaced (rebuild.go) and the topology has not caught up.
	for _, h := range c.s.allHosted() {
		if info := t.Shard(h.id()); info != nil && info.ReplicaOn(c.id) != 0 && (h.raft == nil || info.ReplicaOn(c.id) <= h.raft.ID()) {
			continue
		}
		c.dropShard(h)
	}
	for _, sh := range t.ShardsOf(c.id) {
		if c.s.hostedShard(sh.ID) != nil {
			continue
		}
		if err := c.hostShard(sh); err != nil {
			c.logger.Warn("hosting a new replica failed", "shard", sh.ID, "err", err)
			continue
		}
		c.logger.Info("hosting a new replica; the leader sends the state", "shard", sh.ID, "replica", sh.ReplicaOn(c.id))
	}
	c.compactShrunk(t)
}

// dropShard closes a replica this node no longer holds and deletes its data and log.
func (c *clusterNode) dropShard(h *hosted) {
	id := h.id()
	c.s.removeHosted(id)
	if err := h.sh.Close(); err != nil {
		c.logger.Warn("closing a dropped replica", "shard", id, "err", err)
	}
	if err := c.host.Forget(id); err != nil {
		c.logger.Warn("forgetting a dropped replica's log", "shard", id, "err", err)
	}
	if err := os.RemoveAll(filepath.Join(c.s.cfg.Dir, "shards", strconv.FormatUint(id, 10))); err != nil {
		c.logger.Warn("deleting a dropped replica's data", "shard", id, "err", err)
	}
	c.logger.Info("replica dropped: it moved to another node, or the shard retired", "shard", id)
}
