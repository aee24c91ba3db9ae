package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/replica"
)

// replaceNode takes a node out of the cluster for good and brings in a new one under a new ID,
// as an operator moving a replica does (internal/replica/DESIGN.md, "Membership"): the new node joins the
// group of every shard the old one held as a learner (from Version4 under a replica ID the
// group's leader gives out, which the topology records), catches up by snapshot and is
// promoted once it has (Raft.autoPromote); then the old node is removed (joint consensus). An
// ID is never given out again. Removing first would be unsound for an operator: a group of two
// voters that removes one needs both to leave the joint configuration, and the removed one may
// be gone by then. The old node keeps running for a while after its removal, as a machine does
// until it is shut down: it must not disturb the group it left (a removed node campaigning, or
// answering as a leader).
func (w *World) replaceNode() {
	if w.replacing || (w.cfg.Version >= Version5 && w.retiring()) {
		// (A merged-away shard may retire while the replacement runs: its group would never
		// answer the membership changes.)
		return
	}
	old := w.pick()
	n := newNode(w, len(w.nodes))
	n.joined = true
	w.nodes = append(w.nodes, n)
	w.replacing = true
	w.faults.Replacements++
	w.tracef("replace %s by %s: %s joins as a learner", old.name, n.name, n.name)
	// The shards the old node holds, and its replica in each.
	var shards []uint64
	oldIDs := map[uint64]uint64{}
	for _, sid := range w.shardIDs() {
		if w.topo == nil {
			shards = append(shards, sid)
			oldIDs[sid] = old.id
		} else if id := w.topo.Shard(sid).ReplicaOn(old.id); id != 0 {
			shards = append(shards, sid)
			oldIDs[sid] = id
		}
	}
	newIDs := map[uint64]uint64{}
	learner := func(uint64) replica.Member { return n.member() }
	if w.topo != nil {
		w.topo.Nodes[n.id] = &cluster.Node{ID: n.id, Addr: n.name, BusAddr: n.name}
		// The leader gives the new replica its ID.
		learner = func(uint64) replica.Member { return replica.Member{Node: n.id, Addr: n.name, BusAddr: n.name} }
	}
	n.start()
	w.after(w.between(0, tickInterval), n.tickLoop)
	w.changeMembers("learner", shards, learner, func(sid uint64, m replica.Member) {
		newIDs[sid] = m.ID
		if w.topo == nil {
			return
		}
		// The meta group records the new replica, and the node opens it.
		sh := w.topo.Shard(sid)
		if sh.ReplicaOn(n.id) == 0 {
			sh.Replicas = append(sh.Replicas, cluster.Replica{Node: n.id, ID: m.ID})
		}
		if n.up && n.shard(sid) == nil {
			if err := n.addShard(sid); err != nil {
				// Its disk failed: the server stops, and opens the replica when it restarts.
				w.tracef("%s cannot open its new replica of shard %d: %v", n.name, sid, err)
				n.crash("storage failure")
				w.after(w.between(500*time.Millisecond, 3*time.Second), n.restart)
				return
			}
			n.dirty = true
		}
	}, func() {
		w.tracef("%s is a learner of shards %v", n.name, shards)
		w.awaitVoter(shards, newIDs, func() {
			w.tracef("%s is a voter of shards %v; removing %s", n.name, shards, old.name)
			remove := func(sid uint64) replica.Member { return replica.Member{ID: oldIDs[sid]} }
			w.changeMembers("remove", shards, remove, func(sid uint64, _ replica.Member) {
				if w.topo == nil {
					return
				}
				sh := w.topo.Shard(sid)
				sh.Replicas = slices.DeleteFunc(sh.Replicas, func(r cluster.Replica) bool { return r.Node == old.id })
			}, func() {
				w.tracef("%s removed from shards %v", old.name, shards)
				if w.topo != nil {
					w.topo.Nodes[old.id].Removed = true
				}
				old.gone = true
				w.replacing = false
				w.after(w.between(0, 3*time.Second), func() { old.crash("shut down after its removal") })
			})
		})
	})
}

// shardIDs are the shards of the cluster now: the topology's, or before Version4 1 to Shards.
func (w *World) shardIDs() []uint64 {
	var out []uint64
	if w.topo != nil {
		for _, sh := range w.topo.Shards {
			out = append(out, sh.ID)
		}
		return out
	}
	for sid := uint64(1); sid <= uint64(w.cfg.Shards); sid++ {
		out = append(out, sid)
	}
	return out
}

// awaitVoter calls done once the leader of every shard counts the replica ids[shard] as a voter.
func (w *World) awaitVoter(shards []uint64, ids map[uint64]uint64, done func()) {
	for _, sid := range shards {
		if !w.isVoter(sid, ids[sid]) {
			w.after(200*time.Millisecond, func() { w.awaitVoter(shards, ids, done) })
			return
		}
	}
	done()
}

func (w *World) isVoter(sid, id uint64) bool {
	lead := w.leaderOf(sid)
	if lead == nil {
		return false
	}
	for _, p := range lead.shard(sid).raft.Status().Peers {
		if p.ID == id {
			return p.Voter
		}
	}
	return false
}

// changeMembers proposes a membership change to the leader of each shard, retrying each shard
// until its change is applied (applied is told the member each time), then calls done.
func (w *World) changeMembers(op string, shards []uint64, member func(sid uint64) replica.Member, applied func(sid uint64, m replica.Member), done func()) {
	left := map[uint64]bool{}
	for _, sid := range shards {
		left[sid] = true
	}
	var try func(sid uint64)
	try = func(sid uint64) {
		lead := w.leaderOf(sid)
		if lead == nil {
			w.after(200*time.Millisecond, func() { try(sid) })
			return
		}
		r := lead.shard(sid).raft
		m := member(sid)
		cb := func(got replica.Member, err error) {
			w.complete(1<<30, func() {
				if !left[sid] {
					return
				}
				if err != nil && alreadyDone(op, m.ID, err) {
					err = nil // an earlier try whose answer was lost took effect
				}
				if err != nil {
					w.tracef("%s %s on shard %d failed: %v", op, fmt.Sprint(m.ID), sid, err)
					w.after(300*time.Millisecond, func() { try(sid) })
					return
				}
				delete(left, sid)
				applied(sid, got)
				if len(left) == 0 {
					done()
				}
			})
		}
		w.tracef("propose %s %d (node %d) on shard %d through %s", op, m.ID, m.Node, sid, lead.name)
		if op == "remove" {
			r.Remove(m.ID, cb)
		} else {
			r.AddLearner(m, cb)
		}
		lead.dirty = true
	}
	for _, sid := range shards {
		try(sid)
	}
}

// leaderOf is a running node that leads the shard (the one of the highest term), or nil.
func (w *World) leaderOf(sid uint64) *Node {
	var lead *Node
	for _, n := range w.activeNodes() {
		if s := n.shard(sid); n.up && !n.paused && s != nil && s.raft.IsLeader() && (lead == nil || s.raft.Term() > lead.shard(sid).raft.Term()) {
			lead = n
		}
	}
	return lead
}

// activeNodes are the nodes that belong to the cluster (up or not).
func (w *World) activeNodes() []*Node {
	var out []*Node
	for _, n := range w.nodes {
		if !n.gone {
			out = append(out, n)
		}
	}
	return out
}

// pick draws an active node.
func (w *World) pick() *Node {
	a := w.activeNodes()
	return a[w.rng.IntN(len(a))]
}

// alreadyDone reports whether a membership change failed because an earlier try took effect.
// (A learner added again is answered with its member, not refused.)
func alreadyDone(op string, id uint64, err error) bool {
	return op == "remove" && err.Error() == fmt.Sprintf("no replica %d", id)
}
