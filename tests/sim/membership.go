package sim

import (
	"fmt"
	"time"

	"github.com/cairn-db/cairn/internal/replica"
)

// replaceNode takes a node out of the cluster for good and brings in a new one under a new ID,
// as an operator moving a replica does (ARCHITECTURE.md, "Membership"): the new node joins every shard's group
// as a learner, catches up by snapshot and is promoted once it has (Raft.autoPromote); then
// the old node is removed (joint consensus). An ID is never given out again. Removing first
// would be unsound for an operator: a group of two voters that removes one needs both to leave
// the joint configuration, and the removed one may be gone by then. The old node keeps
// running for a while after its removal, as a machine does until it is shut down: it must not
// disturb the group it left (a removed node campaigning, or answering as a leader).
func (w *World) replaceNode() {
	if w.replacing {
		return
	}
	old := w.pick()
	n := newNode(w, len(w.nodes))
	n.joined = true
	w.nodes = append(w.nodes, n)
	w.replacing = true
	w.faults.Replacements++
	w.tracef("replace %s by %s: %s joins as a learner", old.name, n.name, n.name)
	n.start()
	w.after(w.between(0, tickInterval), n.tickLoop)
	w.changeMembers("learner", n.member(), func() {
		w.tracef("%s is a learner of every shard", n.name)
		w.awaitVoter(n, func() {
			w.tracef("%s is a voter of every shard; removing %s", n.name, old.name)
			w.changeMembers("remove", old.member(), func() {
				w.tracef("%s removed from every shard", old.name)
				old.gone = true
				w.replacing = false
				w.after(w.between(0, 3*time.Second), func() { old.crash("shut down after its removal") })
			})
		})
	})
}

// awaitVoter calls done once every shard's leader counts n as a voter.
func (w *World) awaitVoter(n *Node, done func()) {
	for sid := uint64(1); sid <= uint64(w.cfg.Shards); sid++ {
		if !w.isVoter(sid, n.id) {
			w.after(200*time.Millisecond, func() { w.awaitVoter(n, done) })
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

// changeMembers proposes a membership change to every shard's leader, retrying each shard until
// its change is applied, then calls done.
func (w *World) changeMembers(op string, m replica.Member, done func()) {
	left := map[uint64]bool{}
	for sid := uint64(1); sid <= uint64(w.cfg.Shards); sid++ {
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
		cb := func(_ replica.Member, err error) {
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
				if len(left) == 0 {
					done()
				}
			})
		}
		w.tracef("propose %s n%d on shard %d through %s", op, m.ID, sid, lead.name)
		if op == "remove" {
			r.Remove(m.ID, cb)
		} else {
			r.AddLearner(m, cb)
		}
		lead.dirty = true
	}
	for sid := uint64(1); sid <= uint64(w.cfg.Shards); sid++ {
		try(sid)
	}
}

// leaderOf is a running node that leads the shard (the one of the highest term), or nil.
func (w *World) leaderOf(sid uint64) *Node {
	var lead *Node
	for _, n := range w.activeNodes() {
		if n.up && !n.paused && n.shard(sid).raft.IsLeader() && (lead == nil || n.shard(sid).raft.Term() > lead.shard(sid).raft.Term()) {
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

func alreadyDone(op string, id uint64, err error) bool {
	msg := err.Error()
	if op == "remove" {
		return msg == fmt.Sprintf("no node %d", id)
	}
	return msg == fmt.Sprintf("node ID %d was already used", id)
}
