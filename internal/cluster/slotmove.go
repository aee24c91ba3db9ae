package cluster

import (
	"fmt"
	"slices"

	"github.com/cairn-db/cairn/internal/slot"
)

// Slot moves between shards (Redis Cluster's resharding).
//
// The meta group records which slots are migrating: slot-migrate marks a run of slots owned by
// one shard as migrating to another, and slot-migrated, proposed by the source shard's leader
// once the slot's records have all moved, hands the slot to the target and ends its migration.
// Until then the source owns the slot: clients are redirected to it, and it answers -ASK for
// keys it no longer has (see the server's slot mover and command.Applier's slot state).

// SlotMigration is a slot moving from one shard to another.
type SlotMigration struct {
	Slot int    `json:"slot"`
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Epoch names this migration of the slot (the topology version that recorded it), so the
	// source's log tells a cancelled one from a later one of the same slot.
	Epoch uint64 `json:"epoch,omitempty"`
	// Cancel marks a migration asked to stop (slot-migrate-cancel; slotcancel.go).
	Cancel bool `json:"cancel,omitempty"`
}

// Migration returns the migration of slot s, or nil.
func (t *Topology) Migration(s int) *SlotMigration {
	i, ok := slices.BinarySearchFunc(t.Migrations, s, func(m SlotMigration, s int) int { return m.Slot - s })
	if !ok {
		return nil
	}
	return &t.Migrations[i]
}

// applySlotOp applies slot-migrate (op.Start..op.End to shard op.To) or slot-migrated
// (op.Start, or op.Start..op.End, from op.Shard to op.To: the source's leader hands over a run
// of emptied slots in one operation).
func applySlotOp(t *Topology, op *MetaOp) (bool, error) {
	if (op.Op == "slot-migrated" && op.End < op.Start) || op.Op == "slot-migrate-cancelled" {
		op.End = op.Start
	}
	if op.Start < 0 || op.End < op.Start || op.End >= slot.Count {
		return false, fmt.Errorf("invalid slot range %d-%d", op.Start, op.End)
	}
	if op.Op == "slot-migrate-cancel" || op.Op == "slot-migrate-cancelled" {
		return applySlotCancel(t, op)
	}
	to := t.Shard(op.To)
	if to == nil {
		return false, fmt.Errorf("no shard %d", op.To)
	}
	switch op.Op {
	case "slot-migrate":
		st := t.Slots()
		from := uint64(st[op.Start])
		for s := op.Start; s <= op.End; s++ {
			if uint64(st[s]) != from {
				return false, fmt.Errorf("slots %d-%d are not all owned by one shard", op.Start, op.End)
			}
			if m := t.Migration(s); m != nil {
				if m.Cancel {
					return false, fmt.Errorf("slot %d's migration is being cancelled; retry once it has ended", s)
				}
				if m.From == from && m.To == op.To {
					continue
				}
				return false, fmt.Errorf("slot %d is migrating already", s)
			}
		}
		if from == 0 {
			return false, fmt.Errorf("slot %d is not owned by any shard", op.Start)
		}
		if from == op.To {
			return false, fmt.Errorf("slots %d-%d are owned by shard %d already", op.Start, op.End, op.To)
		}
		changed := false
		for s := op.Start; s <= op.End; s++ {
			if t.Migration(s) == nil {
				m := SlotMigration{Slot: s, From: from, To: op.To}
				if t.Active() >= 2 {
					// Epochs came with cancelling (version 2): a version-1 node would not
					// record them, nor accept __slotout's epoch argument.
					m.Epoch = t.Version + 1
				}
				t.Migrations = append(t.Migrations, m)
				changed = true
			}
		}
		slices.SortFunc(t.Migrations, func(a, b SlotMigration) int { return a.Slot - b.Slot })
		return changed, nil
	case "slot-migrated":
		from := t.Shard(op.Shard)
		if from == nil {
			return false, nil // retired since: done long ago
		}
		changed := false
		for s := op.Start; s <= op.End; s++ {
			m := t.Migration(s)
			if m == nil || m.From != op.Shard || m.To != op.To {
				continue // done already (a retried proposal)
			}
			from.Ranges = removeSlot(from.Ranges, s)
			to.Ranges = addSlot(to.Ranges, s)
			i := slices.IndexFunc(t.Migrations, func(m SlotMigration) bool { return m.Slot == s })
			t.Migrations = slices.Delete(t.Migrations, i, i+1)
			changed = true
		}
		if len(t.Migrations) == 0 {
			t.Migrations = nil
		}
		return changed, nil
	}
	return false, fmt.Errorf("unknown meta operation %q", op.Op)
}

// removeSlot removes slot s from sorted ranges.
func removeSlot(rs []SlotRange, s int) []SlotRange {
	out := make([]SlotRange, 0, len(rs)+1)
	for _, r := range rs {
		if s < r.Start || s > r.End {
			out = append(out, r)
			continue
		}
		if r.Start < s {
			out = append(out, SlotRange{r.Start, s - 1})
		}
		if s < r.End {
			out = append(out, SlotRange{s + 1, r.End})
		}
	}
	return out
}

// addSlot adds slot s to ranges, keeping them sorted and merging neighbours.
func addSlot(rs []SlotRange, s int) []SlotRange {
	rs = append(slices.Clone(rs), SlotRange{s, s})
	slices.SortFunc(rs, func(a, b SlotRange) int { return a.Start - b.Start })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].End+1 >= r.Start {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
