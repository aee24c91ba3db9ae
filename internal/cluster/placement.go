package cluster

import (
	"fmt"
	"slices"
)

// Placement: where replicas and preferred leaders live once the cluster is founded.
//
// The meta group's leader runs Plan every second over its topology and the nodes' liveness,
// and proposes what it returns. Plan is pure and deterministic: the simulation and the tests
// run it as production does. It aims at
//
//   - no replica on a draining node (CLUSTER FORGET, or dead longer than cluster-dead-after):
//     each is moved to the active node with the fewest replicas that lacks one of the shard;
//   - replicas per active node within one of each other (a joining node receives its share);
//   - preferred leaders (each shard's first replica) per active node within one of each other;
//     the shard's leader hands leadership to its preferred one (see the server's balance);
//   - a drained node removed once it holds nothing.
//
// Moves are bounded: at most one per shard, two into any node and two out of any node at a
// time, and maxMoves in all, so a join does not flood one node with snapshots and every shard
// keeps all of its replicas but the one in flight.

// maxMovesPerNode bounds the moves into, and out of, one node at a time.
const maxMovesPerNode = 2

// Plan returns the meta operations that bring t closer to its placement goals. alive says
// whether a node is reachable now (only those take replicas); dead whether it has been
// unreachable for longer than cluster-dead-after (its replicas are rebuilt elsewhere, as a
// draining node's are moved). maxMoves bounds the moves under way at once.
func Plan(t *Topology, alive, dead func(node uint64) bool, maxMoves int) []MetaOp {
	var ops []MetaOp
	takes := func(id uint64) bool {
		n := t.Nodes[id]
		return n != nil && !n.Removed && !n.Draining && alive(id) && !dead(id)
	}
	leaving := func(id uint64) bool {
		n := t.Nodes[id]
		return n == nil || n.Removed || n.Draining || dead(id)
	}
	var nodes []uint64 // nodes that take replicas, by ID
	for _, n := range t.LiveNodes() {
		if takes(n.ID) {
			nodes = append(nodes, n.ID)
		}
		if !n.Draining && dead(n.ID) {
			ops = append(ops, MetaOp{Op: "drain", Node: n.ID})
		}
	}
	if len(nodes) == 0 {
		return ops
	}
	held := map[uint64]int{}   // replicas per node
	firsts := map[uint64]int{} // preferred leaders per node
	moving := 0
	busyIn, busyOut := map[uint64]int{}, map[uint64]int{}
	for _, sh := range t.Shards {
		for _, r := range sh.Replicas {
			held[r.Node]++
		}
		if len(sh.Replicas) > 0 {
			firsts[sh.Replicas[0].Node]++
		}
		if m := sh.Move; m != nil {
			moving++
			busyIn[m.To]++
			busyOut[m.From]++
		}
	}
	// A drained node leaves.
	for _, n := range t.LiveNodes() {
		if (n.Draining || dead(n.ID)) && held[n.ID] == 0 && !t.IsMeta(n.ID) && busyIn[n.ID] == 0 && busyOut[n.ID] == 0 {
			ops = append(ops, MetaOp{Op: "remove-node", Node: n.ID})
		}
	}
	start := func(sh *Shard, from, to uint64) {
		ops = append(ops, MetaOp{Op: "move-start", Shard: sh.ID, Node: from, To: to})
		moving++
		busyIn[to]++
		busyOut[from]++
		held[to]++
		held[from]--
		sh.Move = &Move{From: from, To: to} // on the plan's copy only: one move per shard
	}
	// target is the active node with the fewest replicas that lacks one of sh and takes no
	// other move now; 0 if none.
	target := func(sh *Shard) uint64 {
		best := uint64(0)
		for _, id := range nodes {
			if busyIn[id] >= maxMovesPerNode || sh.ReplicaOn(id) != 0 {
				continue
			}
			if best == 0 || held[id] < held[best] || (held[id] == held[best] && firsts[id] < firsts[best]) {
				best = id
			}
		}
		return best
	}
	t = t.Clone() // Plan marks planned moves on its shards
	// Replicas off draining and dead nodes first: the shard has one replica fewer than it
	// should until they move.
	for _, sh := range t.Shards {
		if moving >= maxMoves {
			break
		}
		if sh.Move != nil {
			continue
		}
		for _, r := range sh.Replicas {
			if !leaving(r.Node) {
				continue
			}
			if to := target(sh); to != 0 {
				start(sh, r.Node, to)
			}
			break
		}
	}
	// Then even out replicas per node: from the most loaded to the least, a shard the least
	// loaded lacks, preferring one the source does not lead by preference (its leader stays).
	for moving < maxMoves {
		slices.SortStableFunc(nodes, func(a, b uint64) int { return held[a] - held[b] })
		lo, hi := nodes[0], nodes[len(nodes)-1]
		if held[hi]-held[lo] <= 1 {
			break
		}
		var pick *Shard
		for _, sh := range t.Shards {
			if sh.Move != nil || sh.ReplicaOn(hi) == 0 || sh.ReplicaOn(lo) != 0 {
				continue
			}
			if pick == nil || pick.Replicas[0].Node == hi && sh.Replicas[0].Node != hi {
				pick = sh
			}
		}
		if pick == nil || busyIn[lo] >= maxMovesPerNode || busyOut[hi] >= maxMovesPerNode {
			break
		}
		start(pick, hi, lo)
	}
	// Preferred leaders: a shard whose preferred leader is not on an active node takes the
	// active replica node with the fewest; then one shard a round moves from the node with
	// the most to the one with the fewest.
	for _, sh := range t.Shards {
		if len(sh.Replicas) == 0 || !leaving(sh.Replicas[0].Node) {
			continue
		}
		best := uint64(0)
		for _, r := range sh.Replicas[1:] {
			if takes(r.Node) && (best == 0 || firsts[r.Node] < firsts[best]) {
				best = r.Node
			}
		}
		if best != 0 {
			ops = append(ops, MetaOp{Op: "set-preferred", Shard: sh.ID, Node: best})
			firsts[sh.Replicas[0].Node]--
			firsts[best]++
		}
	}
	// Then preferences shift from a node with the most to one with at least two fewer, along
	// a path of shards: each step hands a shard's preference from its preferred node to the
	// node of another of its replicas, so the path's ends change by one and its middle not at
	// all (the direct step is the path of one shard).
	preferredOn := map[uint64][]*Shard{} // shards by preferred node
	for _, sh := range t.Shards {
		if len(sh.Replicas) > 0 {
			preferredOn[sh.Replicas[0].Node] = append(preferredOn[sh.Replicas[0].Node], sh)
		}
	}
	for range len(nodes) {
		hi, lo := 0, 1<<30
		for _, id := range nodes {
			hi, lo = max(hi, firsts[id]), min(lo, firsts[id])
		}
		if hi-lo <= 1 {
			break
		}
		type step struct {
			shard *Shard
			from  uint64
		}
		prev := map[uint64]step{}
		var queue []uint64
		for _, id := range nodes {
			if firsts[id] == hi {
				prev[id] = step{}
				queue = append(queue, id)
			}
		}
		end := uint64(0)
		for len(queue) > 0 && end == 0 {
			x := queue[0]
			queue = queue[1:]
			for _, sh := range preferredOn[x] {
				if sh.Move != nil || sh.Replicas[0].Node != x {
					continue
				}
				for _, r := range sh.Replicas[1:] {
					if _, seen := prev[r.Node]; seen || !takes(r.Node) {
						continue
					}
					prev[r.Node] = step{shard: sh, from: x}
					if firsts[r.Node] <= hi-2 {
						end = r.Node
						break
					}
					queue = append(queue, r.Node)
				}
				if end != 0 {
					break
				}
			}
		}
		if end == 0 {
			break
		}
		firsts[end]++
		for y := end; prev[y].shard != nil; y = prev[y].from {
			st := prev[y]
			ops = append(ops, MetaOp{Op: "set-preferred", Shard: st.shard.ID, Node: y})
			st.shard.Move = &Move{} // one change per shard per round, on the plan's copy
			if prev[st.from].shard == nil {
				firsts[st.from]--
			}
		}
	}
	return ops
}

// applyMoveOp applies a move or preference operation to a shard of the batch's topology.
func applyMoveOp(t *Topology, sh *Shard, op *MetaOp) (bool, error) {
	switch op.Op {
	case "move-start":
		if m := sh.Move; m != nil {
			if m.From == op.Node && m.To == op.To {
				return false, nil
			}
			return false, fmt.Errorf("shard %d is moving a replica already", sh.ID)
		}
		if sh.ReplicaOn(op.Node) == 0 {
			return false, fmt.Errorf("shard %d has no replica on node %d", sh.ID, op.Node)
		}
		if n := t.Nodes[op.To]; n == nil || n.Removed || n.Draining {
			return false, fmt.Errorf("node %d cannot take replicas", op.To)
		}
		if sh.ReplicaOn(op.To) != 0 {
			return false, fmt.Errorf("shard %d has a replica on node %d already", sh.ID, op.To)
		}
		sh.Move = &Move{From: op.Node, To: op.To}
	case "move-added":
		m := sh.Move
		if m == nil || m.To != op.To {
			return false, fmt.Errorf("shard %d has no move to node %d", sh.ID, op.To)
		}
		if m.Replica == op.Replica {
			return false, nil
		}
		m.Replica = op.Replica
		sh.Replicas = slices.DeleteFunc(sh.Replicas, func(r Replica) bool { return r.Node == op.To })
		sh.Replicas = append(sh.Replicas, Replica{Node: op.To, ID: op.Replica})
	case "move-done":
		m := sh.Move
		if m == nil && sh.ReplicaOn(op.Node) == 0 {
			return false, nil // recorded already
		}
		if m == nil || m.From != op.Node || m.Replica == 0 {
			return false, fmt.Errorf("shard %d has no added move from node %d", sh.ID, op.Node)
		}
		// The new replica takes the old one's place, and so its preference for leadership.
		in := Replica{Node: m.To, ID: m.Replica}
		sh.Replicas = slices.DeleteFunc(sh.Replicas, func(r Replica) bool { return r.Node == m.To })
		for i := range sh.Replicas {
			if sh.Replicas[i].Node == m.From {
				sh.Replicas[i] = in
			}
		}
		sh.Move = nil
	case "move-cancel":
		m := sh.Move
		if m == nil {
			return false, nil
		}
		sh.Replicas = slices.DeleteFunc(sh.Replicas, func(r Replica) bool { return r.Node == m.To && m.Replica != 0 })
		sh.Move = nil
	case "set-preferred":
		i := slices.IndexFunc(sh.Replicas, func(r Replica) bool { return r.Node == op.Node })
		if i < 0 {
			return false, fmt.Errorf("shard %d has no replica on node %d", sh.ID, op.Node)
		}
		if i == 0 {
			return false, nil
		}
		r := sh.Replicas[i]
		sh.Replicas = slices.Delete(sh.Replicas, i, i+1)
		sh.Replicas = slices.Insert(sh.Replicas, 0, r)
	}
	return true, nil
}
