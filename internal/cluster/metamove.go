package cluster

import (
	"fmt"
	"slices"
)

// Moving the meta group's replicas.
//
// The meta group starts on the first (up to five) founding nodes. It follows the cluster as
// shard replicas do, one membership change at a time, as a Move on Topology.Meta that the meta
// group's leader carries out in the meta group itself (learner, catch up, promote, remove):
//
//   - a member on a draining or dead node is replaced by a live, active node outside the group
//     (the one with the fewest replicas): add it, then remove the old member;
//   - where no node can take its place, a dead member is removed without a replacement, and
//     a draining one too, provided the members left keep a majority of live nodes, so a
//     drained founding node leaves, and a group that lost members to dead nodes needs only a
//     majority of the members left;
//   - a group smaller than the meta size (cluster-meta-size, at most five) grows onto active
//     nodes as they join, so a cluster founded on three nodes that grows to five has five
//     meta members, and survives two of them dying at once.
//
// A move with From 0 only adds a member, one with To 0 only removes one. PlanMeta returns at
// most one operation, and none while a move runs: the group changes by one member at a time,
// and keeps a quorum throughout (a new member votes only once caught up).

// MaxMetaSize is the most members the meta group has.
const MaxMetaSize = maxMeta

// PlanMeta returns the meta-move-start that brings the meta group closer to its goals, if any:
// size is how many members it aims at (at most MaxMetaSize). alive and dead are as for Plan.
func PlanMeta(t *Topology, alive, dead func(node uint64) bool, size int) []MetaOp {
	if t.CheckOp("meta-move-start") != nil || t.Meta.Move != nil {
		return nil
	}
	size = min(max(size, 1), MaxMetaSize)
	takes := func(id uint64) bool {
		n := t.Nodes[id]
		return n != nil && !n.Removed && !n.Draining && alive(id) && !dead(id)
	}
	leaving := func(id uint64) bool {
		n := t.Nodes[id]
		return n == nil || n.Removed || n.Draining || dead(id)
	}
	held := map[uint64]int{}
	for _, sh := range t.Shards {
		for _, r := range sh.Replicas {
			held[r.Node]++
		}
	}
	// The candidate: the active node outside the group with the fewest replicas, lowest ID
	// first among equals (LiveNodes is by ID).
	cand := uint64(0)
	active := 0
	for _, n := range t.LiveNodes() {
		if !takes(n.ID) {
			continue
		}
		active++
		if !t.IsMeta(n.ID) && (cand == 0 || held[n.ID] < held[cand]) {
			cand = n.ID
		}
	}
	members := t.MetaNodes()
	// Dead members first, then draining ones: a dead member is the one that costs a vote.
	var out []uint64
	for _, id := range members {
		if leaving(id) && !alive(id) {
			out = append(out, id)
		}
	}
	for _, id := range members {
		if leaving(id) && alive(id) {
			out = append(out, id)
		}
	}
	for _, id := range out {
		if cand != 0 {
			return []MetaOp{{Op: "meta-move-start", Node: id, To: cand}}
		}
		// No node to take its place: remove it alone, if the members left keep a majority of
		// live ones (removing a dead member never lowers that; a live one might).
		if len(members) == 1 {
			break
		}
		live := 0
		for _, m := range members {
			if m != id && alive(m) {
				live++
			}
		}
		if 2*live > len(members)-1 {
			return []MetaOp{{Op: "meta-move-start", Node: id}}
		}
	}
	if len(out) == 0 && cand != 0 && len(members) < min(size, active) {
		return []MetaOp{{Op: "meta-move-start", To: cand}}
	}
	return nil
}

// applyMetaMoveOp applies a meta-move operation to the batch's topology.
func applyMetaMoveOp(t *Topology, op *MetaOp) (bool, error) {
	meta := &t.Meta
	switch op.Op {
	case "meta-move-start":
		if m := meta.Move; m != nil {
			if m.From == op.Node && m.To == op.To {
				return false, nil
			}
			return false, fmt.Errorf("the meta group is moving a replica already")
		}
		if op.Node == 0 && op.To == 0 {
			return false, fmt.Errorf("a meta move needs a node to leave or one to join")
		}
		if op.Node != 0 && meta.ReplicaOn(op.Node) == 0 {
			return false, fmt.Errorf("node %d holds no replica of the meta group", op.Node)
		}
		if op.To == 0 && len(meta.Replicas) < 2 {
			return false, fmt.Errorf("the meta group's last replica cannot leave without a replacement")
		}
		if op.To != 0 {
			if n := t.Nodes[op.To]; n == nil || n.Removed || n.Draining {
				return false, fmt.Errorf("node %d cannot take replicas", op.To)
			}
			if meta.ReplicaOn(op.To) != 0 {
				return false, fmt.Errorf("node %d holds a replica of the meta group already", op.To)
			}
			if op.Node == 0 && len(meta.Replicas) >= MaxMetaSize {
				return false, fmt.Errorf("the meta group has %d replicas already", len(meta.Replicas))
			}
		}
		meta.Move = &Move{From: op.Node, To: op.To}
	case "meta-move-added":
		m := meta.Move
		if m == nil || m.To == 0 || m.To != op.To || op.Replica == 0 {
			return false, fmt.Errorf("the meta group has no move to node %d", op.To)
		}
		if m.Replica == op.Replica {
			return false, nil
		}
		m.Replica = op.Replica
		meta.Replicas = slices.DeleteFunc(meta.Replicas, func(r Replica) bool { return r.Node == op.To })
		meta.Replicas = append(meta.Replicas, Replica{Node: op.To, ID: op.Replica})
	case "meta-move-done":
		m := meta.Move
		if m == nil {
			if op.Node == 0 || meta.ReplicaOn(op.Node) == 0 {
				return false, nil // recorded already
			}
			return false, fmt.Errorf("the meta group has no move from node %d", op.Node)
		}
		if m.From != op.Node || (m.To != 0 && m.Replica == 0) {
			return false, fmt.Errorf("the meta group has no added move from node %d", op.Node)
		}
		if m.From != 0 {
			// The new member takes the old one's place (and so its turn to campaign first).
			if m.To != 0 {
				in := Replica{Node: m.To, ID: m.Replica}
				meta.Replicas = slices.DeleteFunc(meta.Replicas, func(r Replica) bool { return r.Node == m.To })
				for i := range meta.Replicas {
					if meta.Replicas[i].Node == m.From {
						meta.Replicas[i] = in
					}
				}
			} else {
				meta.Replicas = slices.DeleteFunc(meta.Replicas, func(r Replica) bool { return r.Node == m.From })
			}
		}
		meta.Move = nil
	case "meta-move-cancel":
		m := meta.Move
		if m == nil {
			return false, nil
		}
		meta.Replicas = slices.DeleteFunc(meta.Replicas, func(r Replica) bool { return r.Node == m.To && m.To != 0 && m.Replica != 0 })
		meta.Move = nil
	}
	return true, nil
}
