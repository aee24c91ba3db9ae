package cluster

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/cairn-db/cairn/internal/replica"
)

// metaHarness applies operations to a Meta founded with nodes nodes and shards shards of 3
// replicas.
type metaHarness struct {
	t   *testing.T
	m   *Meta
	idx uint64
}

func newMetaHarness(t *testing.T, nodes, shards int) *metaHarness {
	t.Helper()
	return newMetaHarnessWith(t, nodes, shards, nil)
}

// newMetaHarnessWith lets edit change the founding layout first.
func newMetaHarnessWith(t *testing.T, nodes, shards int, edit func(*Topology)) *metaHarness {
	t.Helper()
	m, err := OpenMeta(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var initial []InitialNode
	for i := 1; i <= nodes; i++ {
		initial = append(initial, InitialNode{ID: uint64(i), Addr: fmt.Sprintf("n%d:1", i)})
	}
	top, err := Bootstrap(initial, func(a string) (string, error) { return a + "0", nil }, shards, 3)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(top)
	}
	h := &metaHarness{t: t, m: m}
	h.apply(MetaOp{Op: "init", Topology: top})
	return h
}

func (h *metaHarness) apply(op MetaOp) MetaResult {
	h.t.Helper()
	h.idx++
	data, _ := json.Marshal(op)
	res := make([][]byte, 1)
	if err := h.m.Apply([]replica.Entry{{Index: h.idx, Data: data}}, res); err != nil {
		h.t.Fatal(err)
	}
	var r MetaResult
	_ = json.Unmarshal(res[0], &r)
	return r
}

func (h *metaHarness) must(op MetaOp) MetaResult {
	h.t.Helper()
	r := h.apply(op)
	if r.Err != "" {
		h.t.Fatalf("%+v: %s", op, r.Err)
	}
	return r
}

// A created shard is empty, gets a new ID, and its replicas go to distinct nodes, the ones
// holding the fewest replicas; its Initial members are those replicas.
func TestMetaShardCreate(t *testing.T) {
	h := newMetaHarness(t, 4, 2) // 6 replicas over 4 nodes: two nodes hold 1, two hold 2
	before := h.m.Topology()
	held := map[uint64]int{}
	for _, sh := range before.Shards {
		for _, r := range sh.Replicas {
			held[r.Node]++
		}
	}
	r := h.must(MetaOp{Op: "shard-create"})
	if r.Shard != 3 {
		t.Fatalf("new shard %d, want 3", r.Shard)
	}
	top := h.m.Topology()
	sh := top.Shard(3)
	if sh == nil || len(sh.Ranges) != 0 || sh.SlotCount() != 0 {
		t.Fatalf("new shard %+v: want one with no slots", sh)
	}
	if top.Version != before.Version+1 {
		t.Fatalf("version %d, want %d", top.Version, before.Version+1)
	}
	if len(sh.Replicas) != 3 || !reflect.DeepEqual(sh.Initial, sh.Replicas) {
		t.Fatalf("replicas %v, initial %v: want 3, the same", sh.Replicas, sh.Initial)
	}
	seen := map[uint64]bool{}
	for i, rep := range sh.Replicas {
		if seen[rep.Node] {
			t.Fatalf("two replicas on node %d: %v", rep.Node, sh.Replicas)
		}
		seen[rep.Node] = true
		if rep.ID != uint64(i+1) {
			t.Fatalf("replica IDs %v, want 1..3", sh.Replicas)
		}
	}
	// The nodes left out hold at least as many replicas as any chosen one did.
	for _, n := range top.LiveNodes() {
		if seen[n.ID] {
			continue
		}
		for _, rep := range sh.Replicas {
			if held[n.ID] < held[rep.Node] {
				t.Fatalf("node %d (holding %d) left out for node %d (holding %d)", n.ID, held[n.ID], rep.Node, held[rep.Node])
			}
		}
	}
	// IDs are never reused: after retiring shard 3 the next shard is 4.
	h.must(MetaOp{Op: "shard-retire", Shard: 3})
	if top := h.m.Topology(); top.Shard(3) != nil || len(top.Shards) != 2 {
		t.Fatalf("shard 3 still there after retiring: %v", top.Shards)
	}
	if r := h.must(MetaOp{Op: "shard-create"}); r.Shard != 4 {
		t.Fatalf("shard created after a retirement: %d, want 4", r.Shard)
	}
	// A draining node gets no replica of a new shard.
	h.must(MetaOp{Op: "drain", Node: 1})
	for range 3 {
		id := h.must(MetaOp{Op: "shard-create"}).Shard
		if h.m.Topology().Shard(id).ReplicaOn(1) != 0 {
			t.Fatalf("shard %d has a replica on draining node 1", id)
		}
	}
}

// A shard retires only when it owns no slot and nothing moves into or out of it.
func TestMetaShardRetireRefuses(t *testing.T) {
	h := newMetaHarness(t, 4, 2)
	if r := h.apply(MetaOp{Op: "shard-retire", Shard: 1}); r.Err != "shard 1 owns 8192 slots; they must move first" {
		t.Fatalf("retiring a shard with slots: %q", r.Err)
	}
	id := h.must(MetaOp{Op: "shard-create"}).Shard
	h.must(MetaOp{Op: "slot-migrate", Start: 10, End: 10, To: id})
	if r := h.apply(MetaOp{Op: "shard-retire", Shard: id}); r.Err == "" {
		t.Fatal("retired a shard a slot is migrating into")
	}
	h.must(MetaOp{Op: "slot-migrated", Shard: 1, Start: 10, To: id})
	if r := h.apply(MetaOp{Op: "shard-retire", Shard: id}); r.Err == "" {
		t.Fatal("retired a shard that owns a slot")
	}
	h.must(MetaOp{Op: "slot-migrate", Start: 10, End: 10, To: 1})
	h.must(MetaOp{Op: "slot-migrated", Shard: id, Start: 10, To: 1})
	sh := h.m.Topology().Shard(id)
	to := uint64(1)
	for sh.ReplicaOn(to) != 0 {
		to++
	}
	h.must(MetaOp{Op: "move-start", Shard: id, Node: sh.Replicas[0].Node, To: to})
	if r := h.apply(MetaOp{Op: "shard-retire", Shard: id}); r.Err == "" {
		t.Fatal("retired a shard whose replica is moving")
	}
	h.must(MetaOp{Op: "move-cancel", Shard: id})
	h.must(MetaOp{Op: "shard-retire", Shard: id})
	h.must(MetaOp{Op: "shard-retire", Shard: id}) // a retry is no error
}

// A split creates a shard and migrates the upper half of the source's slots to it (by slot
// count, over several ranges), or those from a given slot on; one at a time per shard.
func TestMetaShardSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranges []SlotRange // shard 1's, built by migrating the rest to shard 2
		at     int
		want   []int // first and last migrating slot
		err    string
	}{
		{"half", []SlotRange{{0, 8191}}, 0, []int{4096, 8191}, ""},
		{"odd", []SlotRange{{0, 2}}, 0, []int{1, 2}, ""},
		{"ranges", []SlotRange{{0, 9}, {100, 129}}, 0, []int{110, 129}, ""}, // 40 slots: 20 stay
		{"at", []SlotRange{{0, 8191}}, 8000, []int{8000, 8191}, ""},
		{"at first", []SlotRange{{0, 8191}}, 0 + 1, []int{1, 8191}, ""},
		{"at not owned", []SlotRange{{0, 8191}}, 9000, nil, "shard 1 cannot split at slot 9000: it must own that slot and one below it"},
		{"one slot", []SlotRange{{5, 5}}, 0, nil, "shard 1 cannot split at slot 0: it must own that slot and one below it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newMetaHarnessWith(t, 3, 2, func(top *Topology) { top.Shards[0].Ranges = tc.ranges })
			if got := h.m.Topology().Shard(1).Ranges; !reflect.DeepEqual(got, tc.ranges) {
				t.Fatalf("setup: shard 1 owns %v", got)
			}
			r := h.apply(MetaOp{Op: "shard-split", Shard: 1, Start: tc.at})
			if r.Err != tc.err {
				t.Fatalf("error %q, want %q", r.Err, tc.err)
			}
			top := h.m.Topology()
			if tc.err != "" {
				if len(top.Shards) != 2 || len(top.Migrations) != 0 {
					t.Fatalf("a refused split changed the topology: %v shards, %v", len(top.Shards), top.Migrations)
				}
				return
			}
			if r.Shard != 3 || top.Shard(3) == nil {
				t.Fatalf("new shard %d", r.Shard)
			}
			ms := top.Migrations
			if len(ms) == 0 || ms[0].Slot != tc.want[0] || ms[len(ms)-1].Slot != tc.want[1] {
				t.Fatalf("migrations %v, want %d..%d", ms, tc.want[0], tc.want[1])
			}
			for _, m := range ms {
				if m.From != 1 || m.To != 3 || !owns(top.Shard(1), m.Slot) {
					t.Fatalf("migration %+v: want from shard 1 (owning it) to 3", m)
				}
			}
			// One split or merge at a time.
			for _, op := range []MetaOp{{Op: "shard-split", Shard: 1}, {Op: "shard-split", Shard: 3}, {Op: "shard-merge", Shard: 2, To: 1}} {
				if r := h.apply(op); r.Err == "" {
					t.Fatalf("%+v accepted during a split", op)
				}
			}
		})
	}
	// Never while a replica moves.
	h := newMetaHarness(t, 4, 2)
	h.must(MetaOp{Op: "move-start", Shard: 1, Node: 1, To: 4})
	if r := h.apply(MetaOp{Op: "shard-split", Shard: 1}); r.Err != "shard 1 has a replica moving" {
		t.Fatalf("split during a replica move: %q", r.Err)
	}
}

// A merge moves every slot of one shard to an adjacent one and marks it retiring; PlanReshard
// retires it once it is empty.
func TestMetaShardMerge(t *testing.T) {
	h := newMetaHarness(t, 3, 256) // 64 slots each: 0-63, 64-127, 128-191, ...
	if r := h.apply(MetaOp{Op: "shard-merge", Shard: 1, To: 3}); r.Err != "shards 1 and 3 own no adjacent slot ranges" {
		t.Fatalf("merging shards that are not adjacent: %q", r.Err)
	}
	if r := h.apply(MetaOp{Op: "shard-merge", Shard: 1, To: 1}); r.Err == "" {
		t.Fatal("merged a shard into itself")
	}
	h.must(MetaOp{Op: "shard-merge", Shard: 3, To: 2})
	top := h.m.Topology()
	if !top.Shard(3).Retiring || len(top.Migrations) != 64 {
		t.Fatalf("after merge: retiring %v, %d migrations", top.Shard(3).Retiring, len(top.Migrations))
	}
	// A merge's slots are not cancelled (the shard could then never retire).
	if r := h.apply(MetaOp{Op: "slot-migrate-cancel", Start: 128, End: 140}); r.Err != "the slots in 128-140 are moving in a merge of shard 3, which cannot be cancelled" {
		t.Fatalf("cancelling a merge's slots: %q", r.Err)
	}
	for _, m := range h.m.Topology().Migrations {
		if m.Cancel {
			t.Fatalf("migration %+v marked cancelled", m)
		}
	}
	if ops := PlanReshard(top, nil, ReshardConfig{}); len(ops) != 0 {
		t.Fatalf("planned %v while the merge runs", ops)
	}
	h.must(MetaOp{Op: "slot-migrated", Shard: 3, Start: 128, End: 159, To: 2}) // a run of slots
	for s := 160; s <= 191; s++ {
		h.must(MetaOp{Op: "slot-migrated", Shard: 3, Start: s, To: 2})
	}
	top = h.m.Topology()
	if want := []SlotRange{{64, 191}}; !reflect.DeepEqual(top.Shard(2).Ranges, want) {
		t.Fatalf("shard 2 owns %v, want %v", top.Shard(2).Ranges, want)
	}
	ops := PlanReshard(top, nil, ReshardConfig{})
	if want := []MetaOp{{Op: "shard-retire", Shard: 3}}; !reflect.DeepEqual(ops, want) {
		t.Fatalf("planned %v, want %v", ops, want)
	}
	h.must(ops[0])
	if top := h.m.Topology(); top.Shard(3) != nil {
		t.Fatal("shard 3 not retired")
	}
}

// PlanReshard splits the biggest shard over the bound, merges the smaller of two small quiet
// adjacent shards into the other, and leaves busy shards and those without a report alone.
func TestPlanReshard(t *testing.T) {
	h := newMetaHarness(t, 4, 4)
	top := h.m.Topology()
	const mb = 1 << 20
	cfg := ReshardConfig{MaxBytes: 512 * mb, Merge: true, MergeMaxOps: 100}
	hot := ReshardConfig{MaxBytes: 512 * mb, MaxOps: 1000, Sustained: map[uint64]bool{2: true}, Merge: true, MergeMaxOps: 100}
	for _, tc := range []struct {
		name  string
		loads map[uint64]ShardLoad
		cfg   ReshardConfig
		want  []MetaOp
	}{
		{"none", map[uint64]ShardLoad{1: {Bytes: 100 * mb, Ops: 1000}, 2: {Bytes: 300 * mb}}, cfg, nil},
		{"split biggest", map[uint64]ShardLoad{1: {Bytes: 600 * mb, BytesAt: 2000}, 2: {Bytes: 700 * mb, BytesAt: 5000}, 3: {Bytes: 10}}, cfg,
			[]MetaOp{{Op: "shard-split", Shard: 2, Start: 5000}}},
		{"split off", map[uint64]ShardLoad{1: {Bytes: 600 * mb, BytesAt: 2000}}, ReshardConfig{}, nil},
		{"bytes not weighed yet", map[uint64]ShardLoad{2: {Bytes: 700 * mb}}, cfg, nil},
		{"merge", map[uint64]ShardLoad{2: {Bytes: 50 * mb, Ops: 5}, 3: {Bytes: 40 * mb}}, cfg,
			[]MetaOp{{Op: "shard-merge", Shard: 3, To: 2}}},
		{"merge too big", map[uint64]ShardLoad{2: {Bytes: 90 * mb}, 3: {Bytes: 40 * mb}}, cfg, nil},
		{"merge busy", map[uint64]ShardLoad{2: {Bytes: 5 * mb, Ops: 500}, 3: {Bytes: 4 * mb}}, cfg, nil},
		{"merge off", map[uint64]ShardLoad{2: {Bytes: 5 * mb}, 3: {Bytes: 4 * mb}}, ReshardConfig{MaxBytes: 512 * mb}, nil},
		{"merge not adjacent", map[uint64]ShardLoad{1: {Bytes: 5 * mb}, 3: {Bytes: 4 * mb}}, cfg, nil},
		// Size splits go where the leader says the bytes are half on each side.
		{"bytes' middle not its own", map[uint64]ShardLoad{2: {Bytes: 700 * mb, BytesAt: 100}}, cfg,
			[]MetaOp{{Op: "shard-split", Shard: 2}}},
		{"bytes' middle its first slot", map[uint64]ShardLoad{2: {Bytes: 700 * mb, BytesAt: 4096}}, cfg,
			[]MetaOp{{Op: "shard-split", Shard: 2}}},
		{"bytes in one slot", map[uint64]ShardLoad{2: {Bytes: 700 * mb, BytesAt: NoSplit}}, cfg, nil},
		// Load splits: over MaxOps for long enough, where the load is.
		{"split at the load's middle", map[uint64]ShardLoad{2: {Ops: 5000, OpsAt: 4500}}, hot,
			[]MetaOp{{Op: "shard-split", Shard: 2, Start: 4500}}},
		{"hottest first", map[uint64]ShardLoad{2: {Ops: 5000, OpsAt: 4500}, 3: {Ops: 9000, OpsAt: 9000}},
			withSustained(hot, 2, 3), []MetaOp{{Op: "shard-split", Shard: 3, Start: 9000}}},
		{"load not sustained", map[uint64]ShardLoad{3: {Ops: 5000, OpsAt: 9000}}, hot, nil},
		{"load under the bound", map[uint64]ShardLoad{2: {Ops: 900, OpsAt: 4500}}, hot, nil},
		{"load in one slot", map[uint64]ShardLoad{2: {Ops: 5000, OpsAt: NoSplit}}, hot, nil},
		{"load not weighed", map[uint64]ShardLoad{2: {Ops: 5000}}, hot, nil},
		{"load split off", map[uint64]ShardLoad{2: {Ops: 5000, OpsAt: 4500}}, withSustained(cfg, 2), nil},
		{"size before load", map[uint64]ShardLoad{1: {Bytes: 600 * mb, BytesAt: 100}, 2: {Ops: 5000, OpsAt: 4500}}, hot,
			[]MetaOp{{Op: "shard-split", Shard: 1, Start: 100}}},
		// The halves of a load split do not merge back while they carry half the bound.
		{"no merge of a load split's halves", map[uint64]ShardLoad{2: {Bytes: 5 * mb, Ops: 60}, 3: {Bytes: 4 * mb, Ops: 60}},
			ReshardConfig{MaxBytes: 512 * mb, MaxOps: 150, Merge: true, MergeMaxOps: 100}, nil},
		{"merge once quiet", map[uint64]ShardLoad{2: {Bytes: 5 * mb, Ops: 30}, 3: {Bytes: 4 * mb, Ops: 30}},
			ReshardConfig{MaxBytes: 512 * mb, MaxOps: 150, Merge: true, MergeMaxOps: 100},
			[]MetaOp{{Op: "shard-merge", Shard: 3, To: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlanReshard(top, tc.loads, tc.cfg); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("planned %v, want %v", got, tc.want)
			}
		})
	}
	// A shard with slots migrating, or a replica moving, is neither split nor merged.
	h.must(MetaOp{Op: "slot-migrate", Start: 0, End: 0, To: 4})
	sh := h.m.Topology().Shard(2)
	to := uint64(1)
	for sh.ReplicaOn(to) != 0 {
		to++
	}
	h.must(MetaOp{Op: "move-start", Shard: 2, Node: sh.Replicas[0].Node, To: to})
	loads := map[uint64]ShardLoad{1: {Bytes: 900 * mb, BytesAt: 100}, 2: {Bytes: 900 * mb, BytesAt: 5000}, 3: {Bytes: 1}}
	if got := PlanReshard(h.m.Topology(), loads, cfg); got != nil {
		t.Fatalf("planned %v for busy shards", got)
	}
}

func withSustained(cfg ReshardConfig, ids ...uint64) ReshardConfig {
	cfg.Sustained = map[uint64]bool{}
	for _, id := range ids {
		cfg.Sustained[id] = true
	}
	return cfg
}
