package cluster

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/slot"
)

// placementWorld runs Plan against a meta state machine's topology, with the shard leaders'
// part of each move (add the learner, remove the source) done at once.
type placementWorld struct {
	t      *testing.T
	top    *Topology
	nextID uint64
	dead   map[uint64]bool
	moves  int
	// maxMoves bounds the moves a round starts (4 unless set).
	maxMoves int
	// planTime is how long the last Plan took.
	planTime time.Duration
}

func newPlacementWorld(t *testing.T, nodes, shards int) *placementWorld {
	var initial []InitialNode
	for i := 1; i <= nodes; i++ {
		initial = append(initial, InitialNode{ID: uint64(i), Addr: fmt.Sprintf("10.0.0.%d:7000", i)})
	}
	top, err := Bootstrap(initial, BusAddr, shards, 3)
	if err != nil {
		t.Fatal(err)
	}
	return &placementWorld{t: t, top: top, nextID: 100, dead: map[uint64]bool{}}
}

func (w *placementWorld) apply(op MetaOp) {
	w.t.Helper()
	m := &Meta{top: w.top}
	work := w.top // changed in place: nothing else holds it
	var res MetaResult
	if _, err := m.applyOp(&op, &res, &work); err != nil {
		w.t.Fatalf("%+v: %v", op, err)
	}
	w.top = work
}

func (w *placementWorld) addNode() uint64 {
	id := w.top.NextNode
	w.apply(MetaOp{Op: "add-node", Addr: fmt.Sprintf("10.0.1.%d:7000", id), BusAddr: fmt.Sprintf("10.0.1.%d:17000", id)})
	return id
}

// round runs one Plan and carries its moves out to the end.
func (w *placementWorld) round() int {
	t0 := time.Now()
	ops := Plan(w.top, func(id uint64) bool { return !w.dead[id] }, func(id uint64) bool { return w.dead[id] }, cmp.Or(w.maxMoves, 4))
	w.planTime = time.Since(t0)
	// The meta group follows the nodes too, its moves carried out at once (metamove.go).
	metaOps := PlanMeta(w.top, func(id uint64) bool { return !w.dead[id] }, func(id uint64) bool { return w.dead[id] }, MaxMetaSize)
	for _, op := range metaOps {
		w.apply(op)
		w.moveMeta(op)
	}
	ops = append(ops, metaOps...)
	for _, op := range ops {
		if op.Op == "meta-move-start" {
			continue
		}
		w.apply(op)
		if op.Op != "move-start" {
			continue
		}
		w.moves++
		sh := w.top.Shard(op.Shard)
		if n := len(sh.Replicas); n != 3 {
			w.t.Fatalf("shard %d has %d replicas when a move starts", sh.ID, n)
		}
		w.nextID++
		w.apply(MetaOp{Op: "move-added", Shard: op.Shard, To: op.To, Replica: w.nextID})
		w.apply(MetaOp{Op: "move-done", Shard: op.Shard, Node: op.Node})
	}
	return len(ops)
}

// moveMeta carries out a meta move as the meta leader does: add the learner (under a new
// replica ID), then remove the source; the group must keep a majority of live members at each
// step, counted over the voters of both configurations.
func (w *placementWorld) moveMeta(op MetaOp) {
	w.t.Helper()
	// Checked before the learner is added and after the move is done, when every member
	// votes.
	quorate := func() {
		live := 0
		for _, id := range w.top.MetaNodes() {
			if !w.dead[id] {
				live++
			}
		}
		if n := len(w.top.Meta.Replicas); 2*live <= n {
			w.t.Fatalf("the meta group lost its quorum: %d live of %d (%+v)", live, n, w.top.Meta)
		}
	}
	quorate()
	if op.To != 0 {
		w.nextID++
		w.apply(MetaOp{Op: "meta-move-added", To: op.To, Replica: w.nextID})
	}
	w.apply(MetaOp{Op: "meta-move-done", Node: op.Node})
	quorate()
}

func (w *placementWorld) settle() {
	w.t.Helper()
	for i := 0; i < 200; i++ {
		if w.round() == 0 {
			return
		}
	}
	w.t.Fatal("placement did not settle in 200 rounds")
}

// check verifies the goals: three replicas per shard on distinct nodes that take replicas,
// replicas and preferred leaders per node within one of each other.
func (w *placementWorld) check() {
	w.t.Helper()
	held, firsts := map[uint64]int{}, map[uint64]int{}
	for _, n := range w.top.LiveNodes() {
		if !n.Draining && !w.dead[n.ID] {
			held[n.ID], firsts[n.ID] = 0, 0
		}
	}
	for _, sh := range w.top.Shards {
		seen := map[uint64]bool{}
		for _, r := range sh.Replicas {
			if _, ok := held[r.Node]; !ok || seen[r.Node] {
				w.t.Fatalf("shard %d has a replica on node %d (dead, draining, or twice)", sh.ID, r.Node)
			}
			seen[r.Node] = true
			held[r.Node]++
		}
		if len(sh.Replicas) != 3 || sh.Move != nil {
			w.t.Fatalf("shard %d: %d replicas, move %+v", sh.ID, len(sh.Replicas), sh.Move)
		}
		firsts[sh.Replicas[0].Node]++
	}
	spread := func(m map[uint64]int) int {
		lo, hi := 1<<30, 0
		for _, v := range m {
			lo, hi = min(lo, v), max(hi, v)
		}
		return hi - lo
	}
	if spread(held) > 1 || spread(firsts) > 1 {
		w.t.Fatalf("uneven: replicas %v, preferred leaders %v", held, firsts)
	}
	// The meta group is on active nodes only, as many as there are up to five.
	for _, id := range w.top.MetaNodes() {
		if _, ok := held[id]; !ok {
			w.t.Fatalf("the meta group has a member on node %d (dead or draining): %v", id, w.top.MetaNodes())
		}
	}
	if n, want := len(w.top.MetaNodes()), min(MaxMetaSize, len(held)); n != want || w.top.Meta.Move != nil {
		w.t.Fatalf("the meta group has %d members, want %d (move %+v)", n, want, w.top.Meta.Move)
	}
}

func TestPlacementJoinDrainDeath(t *testing.T) {
	w := newPlacementWorld(t, 3, 12)
	w.check()
	if n := w.round(); n != 0 {
		t.Fatalf("a founded cluster planned %d operations", n)
	}
	// A node joins: it receives its share of replicas and preferred leaders.
	four := w.addNode()
	w.settle()
	w.check()
	if n := len(w.top.ShardsOf(four)); n != 9 {
		t.Fatalf("the new node holds %d replicas, want 9 of 36", n)
	}
	// It is drained: everything moves back, and it is removed.
	w.apply(MetaOp{Op: "drain", Node: four})
	w.settle()
	w.check()
	if n := w.top.Nodes[four]; !n.Removed {
		t.Fatal("the drained node was not removed")
	}
	// Two nodes join (the meta group grows onto them), one of the founders dies: its replicas
	// are rebuilt on the others, and as no node is left outside the meta group to replace its
	// meta member, that member is removed alone; then the node is.
	w.addNode()
	w.addNode()
	w.settle()
	w.check()
	w.dead[2] = true
	w.settle()
	w.check()
	if n := len(w.top.ShardsOf(2)); n != 0 || !w.top.Nodes[2].Removed || w.top.IsMeta(2) {
		t.Fatalf("the dead node still holds %d replicas (removed %v, meta %v)", n, w.top.Nodes[2].Removed, w.top.IsMeta(2))
	}
}

// Random joins, drains and deaths over a larger cluster always settle at the goals.
func TestPlacementRandom(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	w := newPlacementWorld(t, 5, 40)
	for step := 0; step < 30; step++ {
		var live []uint64
		for _, n := range w.top.LiveNodes() {
			if !n.Draining && !w.dead[n.ID] {
				live = append(live, n.ID)
			}
		}
		switch k := rng.IntN(3); {
		case k == 0 || len(live) <= 4:
			w.addNode()
		case k == 1:
			w.apply(MetaOp{Op: "drain", Node: live[rng.IntN(len(live))]})
		default:
			w.dead[live[rng.IntN(len(live))]] = true
		}
		w.settle()
		w.check()
	}
	t.Logf("%d moves", w.moves)
}

// Placement at scale: a cluster of n nodes and 50 shards per node (at most one per slot) founds, then a tenth more
// nodes join, a twentieth die and a twentieth drain; the test counts the rounds (one a second
// in production), moves and meta operations until placement settles, with moves bounded as
// the server bounds them (two into and out of a node, one per node in the cluster). Runs at
// 100 nodes by default; CAIRN_PLACEMENT_NODES=1000 runs the 1,000-node case.
func TestPlacementScale(t *testing.T) {
	n := 100
	if v := os.Getenv("CAIRN_PLACEMENT_NODES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	start := time.Now()
	shards := min(50*n, slot.Count) // a shard owns at least one slot
	w := newPlacementWorld(t, n, shards)
	t.Logf("%d nodes, %d shards founded in %v", n, shards, time.Since(start))
	for range n / 10 {
		w.addNode()
	}
	var founders []uint64
	for _, nd := range w.top.LiveNodes() {
		if !w.top.IsMeta(nd.ID) && nd.ID <= uint64(n) {
			founders = append(founders, nd.ID)
		}
	}
	rng.Shuffle(len(founders), func(i, j int) { founders[i], founders[j] = founders[j], founders[i] })
	for _, id := range founders[:n/20] {
		w.dead[id] = true
	}
	for _, id := range founders[n/20 : n/10] {
		w.apply(MetaOp{Op: "drain", Node: id})
	}
	w.maxMoves = len(w.top.LiveNodes())
	rounds, ops := 0, 0
	var planTime time.Duration
	for ; rounds < 10000; rounds++ {
		k := w.round()
		planTime += w.planTime
		if k == 0 {
			break
		}
		ops += k
	}
	w.check()
	t.Logf("settled in %d rounds: %d moves, %d meta operations planned (+2 per move by shard leaders), %v per Plan",
		rounds, w.moves, ops, planTime/time.Duration(max(rounds, 1)))
}
