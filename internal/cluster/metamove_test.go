package cluster

import (
	"fmt"
	"reflect"
	"testing"
)

// metaWorld is a topology founded on three nodes (the meta group on all three) with joined
// nodes added, and the nodes' state for PlanMeta.
func metaWorld(t *testing.T, joined int) (*placementWorld, map[uint64]bool) {
	t.Helper()
	w := newPlacementWorld(t, 3, 6)
	for range joined {
		w.addNode()
	}
	return w, map[uint64]bool{}
}

func TestPlanMeta(t *testing.T) {
	type state struct {
		joined   int
		draining []uint64
		dead     []uint64
		down     []uint64 // unreachable, not yet dead
		members  []uint64 // the meta group, if not the founders
		size     int
		version  uint32
		moving   bool
	}
	for _, tc := range []struct {
		name string
		st   state
		want []MetaOp
	}{
		{"founded: nothing", state{size: 5}, nil},
		{"grows onto a joined node", state{joined: 2, size: 5}, []MetaOp{{Op: "meta-move-start", To: 4}}},
		{"stays at the meta size", state{joined: 2, size: 3}, nil},
		{"a full group does not grow", state{joined: 3, members: []uint64{1, 2, 3, 4, 5}, size: 5}, nil},
		{"grows onto active nodes only", state{joined: 1, draining: []uint64{4}, size: 5}, nil},
		{"a draining member is replaced", state{joined: 2, draining: []uint64{2}, size: 3}, []MetaOp{{Op: "meta-move-start", Node: 2, To: 4}}},
		{"a dead member is replaced first", state{joined: 2, draining: []uint64{1}, dead: []uint64{3}, size: 3},
			[]MetaOp{{Op: "meta-move-start", Node: 3, To: 4}}},
		{"the replacement is not draining", state{joined: 2, draining: []uint64{1, 4}, size: 3}, []MetaOp{{Op: "meta-move-start", Node: 1, To: 5}}},
		{"the replacement is reachable", state{joined: 2, draining: []uint64{1}, down: []uint64{4}, size: 3}, []MetaOp{{Op: "meta-move-start", Node: 1, To: 5}}},
		{"no replacement: a draining member leaves alone", state{draining: []uint64{1}, size: 5}, []MetaOp{{Op: "meta-move-start", Node: 1}}},
		{"no replacement: a dead member leaves alone", state{dead: []uint64{1}, size: 5}, []MetaOp{{Op: "meta-move-start", Node: 1}}},
		{"no replacement: a draining member stays if the rest lack a live majority",
			state{draining: []uint64{1}, down: []uint64{2}, size: 5}, nil},
		{"the last member stays", state{draining: []uint64{1, 2, 3}, members: []uint64{1}, size: 5}, nil},
		{"one move at a time", state{joined: 2, draining: []uint64{2}, size: 3, moving: true}, nil},
		{"not before cluster version 4", state{joined: 2, draining: []uint64{2}, size: 3, version: 3}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := metaWorld(t, tc.st.joined)
			top := w.top
			set := func(ids []uint64) map[uint64]bool {
				m := map[uint64]bool{}
				for _, id := range ids {
					m[id] = true
				}
				return m
			}
			dead, down := set(tc.st.dead), set(tc.st.down)
			for _, id := range tc.st.draining {
				top.Nodes[id].Draining = true
			}
			if tc.st.members != nil {
				top.Meta.Replicas = nil
				for _, id := range tc.st.members {
					top.Meta.Replicas = append(top.Meta.Replicas, Replica{Node: id, ID: id})
				}
			}
			if tc.st.moving {
				top.Meta.Move = &Move{From: 3, To: 5}
			}
			if tc.st.version != 0 {
				top.ClusterVersion = tc.st.version
			}
			got := PlanMeta(top, func(id uint64) bool { return !dead[id] && !down[id] }, func(id uint64) bool { return dead[id] }, tc.st.size)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestApplyMetaMove(t *testing.T) {
	w, _ := metaWorld(t, 2)
	fails := func(op MetaOp) {
		t.Helper()
		m := &Meta{top: w.top}
		work := w.top.Clone()
		var res MetaResult
		if _, err := m.applyOp(&op, &res, &work); err == nil {
			t.Fatalf("%+v applied", op)
		}
	}
	fails(MetaOp{Op: "meta-move-start"})
	fails(MetaOp{Op: "meta-move-start", Node: 4, To: 5}) // node 4 is no member
	fails(MetaOp{Op: "meta-move-start", Node: 1, To: 2}) // node 2 is one already
	fails(MetaOp{Op: "meta-move-added", To: 4, Replica: 9})
	// Replace node 1's member with one on node 4.
	w.apply(MetaOp{Op: "meta-move-start", Node: 1, To: 4})
	w.apply(MetaOp{Op: "meta-move-start", Node: 1, To: 4}) // repeated: answered, not an error
	fails(MetaOp{Op: "meta-move-start", Node: 2, To: 5})
	fails(MetaOp{Op: "meta-move-done", Node: 1}) // the learner is not added yet
	w.apply(MetaOp{Op: "meta-move-added", To: 4, Replica: 9})
	if !w.top.IsMeta(4) || !w.top.IsMeta(1) {
		t.Fatalf("while the move runs the meta group is %v", w.top.MetaNodes())
	}
	w.apply(MetaOp{Op: "meta-move-done", Node: 1})
	w.apply(MetaOp{Op: "meta-move-done", Node: 1}) // repeated
	if got := fmt.Sprint(w.top.Meta.Replicas); got != "[{4 9} {2 2} {3 3}]" || w.top.Meta.Move != nil {
		t.Fatalf("after the move the meta group is %s, move %+v", got, w.top.Meta.Move)
	}
	// Node 1 holds nothing of the meta group now, so it can be removed once drained.
	w.apply(MetaOp{Op: "drain", Node: 1})
	// A cancelled move leaves the group as it was.
	w.apply(MetaOp{Op: "meta-move-start", To: 5})
	w.apply(MetaOp{Op: "meta-move-added", To: 5, Replica: 10})
	w.apply(MetaOp{Op: "meta-move-cancel"})
	if got := fmt.Sprint(w.top.Meta.Replicas); got != "[{4 9} {2 2} {3 3}]" || w.top.Meta.Move != nil {
		t.Fatalf("after a cancelled move the meta group is %s", got)
	}
	// A member leaves without a replacement.
	w.apply(MetaOp{Op: "meta-move-start", Node: 2})
	w.apply(MetaOp{Op: "meta-move-done", Node: 2})
	if got := fmt.Sprint(w.top.Meta.Replicas); got != "[{4 9} {3 3}]" {
		t.Fatalf("after a member left the meta group is %s", got)
	}
	// The operations are refused before cluster version 4.
	w.top.ClusterVersion = 3
	fails(MetaOp{Op: "meta-move-start", To: 5})
}

// Two of three meta members' nodes die one after the other, each replaced before the next
// dies: the meta group keeps a quorum throughout (moveMeta checks), ends on live nodes, and the
// dead nodes are removed.
func TestPlacementMetaReplacesDead(t *testing.T) {
	w, _ := metaWorld(t, 2)
	size := 3
	settle := func() {
		t.Helper()
		for range 200 {
			alive := func(id uint64) bool { return !w.dead[id] }
			dead := func(id uint64) bool { return w.dead[id] }
			ops := Plan(w.top, alive, dead, 4)
			meta := PlanMeta(w.top, alive, dead, size)
			if len(ops)+len(meta) == 0 {
				return
			}
			for _, op := range meta {
				w.apply(op)
				w.moveMeta(op)
			}
			for _, op := range ops {
				w.apply(op)
				if op.Op == "move-start" {
					w.nextID++
					w.apply(MetaOp{Op: "move-added", Shard: op.Shard, To: op.To, Replica: w.nextID})
					w.apply(MetaOp{Op: "move-done", Shard: op.Shard, Node: op.Node})
				}
			}
		}
		t.Fatal("placement did not settle")
	}
	settle()
	if got := fmt.Sprint(w.top.MetaNodes()); got != "[1 2 3]" {
		t.Fatalf("meta group %s at size 3", got)
	}
	for _, id := range []uint64{1, 2} {
		w.dead[id] = true
		settle()
		if w.top.IsMeta(id) || !w.top.Nodes[id].Removed || len(w.top.MetaNodes()) != 3 {
			t.Fatalf("node %d dead: meta group %v, removed %v", id, w.top.MetaNodes(), w.top.Nodes[id].Removed)
		}
	}
	if got := fmt.Sprint(w.top.MetaNodes()); got != "[4 5 3]" && got != "[5 4 3]" {
		t.Fatalf("meta group %s", got)
	}
}
