package cluster

import (
	"fmt"
	"slices"
	"sort"
)

// Shard splits and merges: the number of shards follows the data.
//
// The meta group creates and retires shards; the records move with the slot-move machinery
// (slotmove.go), unchanged:
//
//   - shard-create adds an empty shard (no slots) under a new ID, its replicas on distinct
//     nodes chosen as placement would (the fewest replicas first). Those replicas are its
//     Initial members: each bootstraps the new group when its node's topology names it.
//   - shard-split creates a shard and, in the same operation, marks the upper part of the
//     source's slots (from the split point, splitpoint.go) as migrating to it; the source's
//     leader then moves them slot by slot.
//   - shard-merge marks every slot of one shard as migrating to an adjacent one, and the
//     emptied shard as Retiring; once its last slot is handed over, placement retires it.
//   - shard-retire removes a shard that owns no slot and takes part in no slot or replica
//     move; every node then drops its replica (closes it and deletes its log and data).
//
// A shard takes part in one split or merge at a time: neither starts while slots are migrating
// into or out of either shard, while either's replicas move, or while either retires.

// SlotCount is how many slots the shard owns.
func (sh *Shard) SlotCount() int {
	n := 0
	for _, r := range sh.Ranges {
		n += r.End - r.Start + 1
	}
	return n
}

// Busy says why a shard cannot take part in a split or merge now ("" if it can).
func (t *Topology) Busy(sh *Shard) string {
	if sh.Move != nil {
		return fmt.Sprintf("shard %d has a replica moving", sh.ID)
	}
	if sh.Retiring {
		return fmt.Sprintf("shard %d is retiring", sh.ID)
	}
	for _, m := range t.Migrations {
		if m.From == sh.ID || m.To == sh.ID {
			return fmt.Sprintf("shard %d has slots migrating", sh.ID)
		}
	}
	return ""
}

// nextShardID is the ID the next new shard gets: IDs are never reused, so a node that still
// holds a retired shard's files never mistakes them for a new shard's.
func (t *Topology) nextShardID() uint64 {
	next := max(t.NextShard, uint64(t.Config.Shards)+1)
	for _, sh := range t.Shards {
		next = max(next, sh.ID+1)
	}
	return next
}

// newShard adds an empty shard with replicas on distinct active nodes: its first replica (the
// preferred leader) on the node that is preferred leader of the fewest shards, then the nodes
// holding the fewest replicas (ties to the lower ID). Deterministic, as apply must be.
func (t *Topology) newShard() (*Shard, error) {
	held, firsts := map[uint64]int{}, map[uint64]int{}
	for _, sh := range t.Shards {
		for _, r := range sh.Replicas {
			held[r.Node]++
		}
		if len(sh.Replicas) > 0 {
			firsts[sh.Replicas[0].Node]++
		}
	}
	var nodes []uint64
	for _, n := range t.LiveNodes() {
		if !n.Draining {
			nodes = append(nodes, n.ID)
		}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("no active node to hold a new shard")
	}
	want := min(max(t.Config.Replicas, 1), len(nodes))
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if firsts[a] != firsts[b] {
			return firsts[a] < firsts[b]
		}
		return held[a] < held[b]
	})
	chosen := []uint64{nodes[0]}
	rest := slices.Clone(nodes[1:])
	sort.SliceStable(rest, func(i, j int) bool { return held[rest[i]] < held[rest[j]] })
	chosen = append(chosen, rest[:want-1]...)
	sh := &Shard{ID: t.nextShardID()}
	for i, n := range chosen {
		sh.Replicas = append(sh.Replicas, Replica{Node: n, ID: uint64(i + 1)})
	}
	sh.Initial = slices.Clone(sh.Replicas)
	t.NextShard = sh.ID + 1
	t.Shards = append(t.Shards, sh)
	slices.SortFunc(t.Shards, func(a, b *Shard) int { return int(a.ID) - int(b.ID) })
	return sh, nil
}

// SplitPoint is the first slot of the upper half of a shard's slots, by slot count: the slots
// from it on move to the new shard. 0 if the shard has fewer than two slots.
func (sh *Shard) SplitPoint() int {
	n := sh.SlotCount()
	if n < 2 {
		return 0
	}
	skip := n / 2
	for _, r := range sh.Ranges {
		if size := r.End - r.Start + 1; skip >= size {
			skip -= size
			continue
		}
		return r.Start + skip
	}
	return 0
}

// Adjacent reports whether two shards own slot ranges that touch (one ends where the other
// begins), so merging them leaves fewer, longer ranges.
func Adjacent(a, b *Shard) bool {
	for _, x := range a.Ranges {
		for _, y := range b.Ranges {
			if x.End+1 == y.Start || y.End+1 == x.Start {
				return true
			}
		}
	}
	return false
}

// migrateAll marks the slots of sh from slot from on as migrating to shard to.
func (t *Topology) migrateAll(sh *Shard, from int, to uint64) {
	for _, r := range sh.Ranges {
		for s := max(r.Start, from); s <= r.End; s++ {
			t.Migrations = append(t.Migrations, SlotMigration{Slot: s, From: sh.ID, To: to})
		}
	}
	slices.SortFunc(t.Migrations, func(a, b SlotMigration) int { return a.Slot - b.Slot })
}

// applyShardOp applies shard-create, shard-retire, shard-split (op.Shard; op.Start, if not 0,
// is the first slot to move, else the middle) and shard-merge (op.Shard into op.To).
func applyShardOp(t *Topology, op *MetaOp, res *MetaResult) (bool, error) {
	switch op.Op {
	case "shard-create":
		sh, err := t.newShard()
		if err != nil {
			return false, err
		}
		res.Shard = sh.ID
		return true, nil
	case "shard-retire":
		sh := t.Shard(op.Shard)
		if sh == nil {
			return false, nil // retired already (a retried proposal)
		}
		if len(sh.Ranges) > 0 {
			return false, fmt.Errorf("shard %d owns %d slots; they must move first", sh.ID, sh.SlotCount())
		}
		if sh.Move != nil || t.migrating(sh.ID) {
			return false, fmt.Errorf("shard %d has a replica or slots moving", sh.ID)
		}
		i := slices.Index(t.Shards, sh)
		t.Shards = slices.Delete(t.Shards, i, i+1)
		t.NextShard = max(t.NextShard, t.nextShardID(), sh.ID+1)
		return true, nil
	case "shard-split":
		sh := t.Shard(op.Shard)
		if sh == nil {
			return false, fmt.Errorf("no shard %d", op.Shard)
		}
		if why := t.Busy(sh); why != "" {
			return false, fmt.Errorf("%s", why)
		}
		at := op.Start
		if at == 0 {
			at = sh.SplitPoint()
		}
		first := 0
		if len(sh.Ranges) > 0 {
			first = sh.Ranges[0].Start
		}
		if sh.SlotCount() < 2 || at <= first || !owns(sh, at) {
			return false, fmt.Errorf("shard %d cannot split at slot %d: it must own that slot and one below it", sh.ID, at)
		}
		nsh, err := t.newShard()
		if err != nil {
			return false, err
		}
		t.migrateAll(t.Shard(op.Shard), at, nsh.ID)
		res.Shard = nsh.ID
		return true, nil
	case "shard-merge":
		from, into := t.Shard(op.Shard), t.Shard(op.To)
		if from == nil {
			return false, fmt.Errorf("no shard %d", op.Shard)
		}
		if into == nil {
			return false, fmt.Errorf("no shard %d", op.To)
		}
		if from.ID == into.ID {
			return false, fmt.Errorf("a shard cannot merge into itself")
		}
		for _, sh := range []*Shard{from, into} {
			if why := t.Busy(sh); why != "" {
				return false, fmt.Errorf("%s", why)
			}
		}
		if len(from.Ranges) > 0 && !Adjacent(from, into) {
			return false, fmt.Errorf("shards %d and %d own no adjacent slot ranges", from.ID, into.ID)
		}
		t.migrateAll(from, 0, into.ID)
		from.Retiring = true
		res.Shard = into.ID
		return true, nil
	}
	return false, fmt.Errorf("unknown meta operation %q", op.Op)
}

func owns(sh *Shard, s int) bool {
	for _, r := range sh.Ranges {
		if r.Start <= s && s <= r.End {
			return true
		}
	}
	return false
}

// ShardLoad is what a shard's leader reports of it: its engine's bytes on disk, the commands
// routed to it per second on that node, and where it would split by either (splitpoint.go).
type ShardLoad struct {
	Shard uint64  `json:"i"`
	Bytes uint64  `json:"b"`
	Ops   float64 `json:"o"`
	// BytesAt is the slot where the shard's bytes are half on each side (weighed only over
	// the size bound; the middle of its slots if the engine's estimate has nothing to go by),
	// OpsAt where its load is: 0 when not weighed (or no load), NoSplit when one slot holds
	// nearly all.
	BytesAt int `json:"ba,omitempty"`
	OpsAt   int `json:"oa,omitempty"`
}

// ReshardConfig is what drives automatic splits and merges.
type ReshardConfig struct {
	// MaxBytes is the size above which a shard splits (0: never).
	MaxBytes uint64
	// MaxOps is the command rate at its leader above which a shard splits (0: never), if it
	// stayed above it long enough: Sustained holds the shards that did, as the caller saw them.
	MaxOps    float64
	Sustained map[uint64]bool
	// Merge lets two adjacent shards together below MaxBytes/4, each below MergeMaxOps and
	// together below MaxOps/2 (so that a load split's halves do not merge back), merge.
	Merge       bool
	MergeMaxOps float64
}

// PlanReshard returns the split, merge and retire operations t needs, given the loads its
// shards' leaders reported (a shard with no report is neither split nor merged). At most one
// split or merge a round, so the meta group records one before the next is planned on it.
//
// A shard over MaxBytes splits where its bytes are half on each side, once its leader has
// weighed them (it does so as soon as the shard is over the bound); one over MaxOps for long
// enough, where its load is. A shard whose bytes or load sit in one slot does not split.
func PlanReshard(t *Topology, loads map[uint64]ShardLoad, cfg ReshardConfig) []MetaOp {
	var ops []MetaOp
	for _, sh := range t.Shards {
		if sh.Retiring && len(sh.Ranges) == 0 && sh.Move == nil && !t.migrating(sh.ID) {
			ops = append(ops, MetaOp{Op: "shard-retire", Shard: sh.ID})
		}
	}
	if cfg.MaxBytes == 0 && cfg.MaxOps == 0 {
		return ops
	}
	// The biggest shard over the size bound splits first, then the busiest over the load bound.
	var big, hot *Shard
	for _, sh := range t.Shards {
		l, ok := loads[sh.ID]
		if !ok || sh.SlotCount() < 2 || t.Busy(sh) != "" {
			continue
		}
		if cfg.MaxBytes > 0 && l.Bytes > cfg.MaxBytes && l.BytesAt != 0 && l.BytesAt != NoSplit && (big == nil || l.Bytes > loads[big.ID].Bytes) {
			big = sh
		}
		if cfg.MaxOps > 0 && l.Ops > cfg.MaxOps && cfg.Sustained[sh.ID] && validSplit(sh, l.OpsAt) && (hot == nil || l.Ops > loads[hot.ID].Ops) {
			hot = sh
		}
	}
	if big != nil {
		op := MetaOp{Op: "shard-split", Shard: big.ID}
		if at := loads[big.ID].BytesAt; validSplit(big, at) {
			op.Start = at
		}
		return append(ops, op)
	}
	if hot != nil {
		return append(ops, MetaOp{Op: "shard-split", Shard: hot.ID, Start: loads[hot.ID].OpsAt})
	}
	if !cfg.Merge || cfg.MaxBytes == 0 {
		return ops
	}
	quiet := func(l ShardLoad) bool { return l.Ops <= cfg.MergeMaxOps }
	for i, a := range t.Shards {
		la, ok := loads[a.ID]
		if !ok || !quiet(la) || len(a.Ranges) == 0 || t.Busy(a) != "" {
			continue
		}
		for _, b := range t.Shards[i+1:] {
			lb, ok := loads[b.ID]
			if !ok || !quiet(lb) || len(b.Ranges) == 0 || t.Busy(b) != "" || !Adjacent(a, b) {
				continue
			}
			if la.Bytes+lb.Bytes >= cfg.MaxBytes/4 || (cfg.MaxOps > 0 && la.Ops+lb.Ops >= cfg.MaxOps/2) {
				continue
			}
			// The smaller moves into the bigger: fewer records to copy.
			from, into := a, b
			if la.Bytes > lb.Bytes {
				from, into = b, a
			}
			return append(ops, MetaOp{Op: "shard-merge", Shard: from.ID, To: into.ID})
		}
	}
	return ops
}

// migrating reports whether slots migrate into or out of shard id.
func (t *Topology) migrating(id uint64) bool {
	for _, m := range t.Migrations {
		if m.From == id || m.To == id {
			return true
		}
	}
	return false
}
