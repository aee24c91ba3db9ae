package cluster

import "fmt"

// Cancelling slot migrations.
//
// A slot's records move as they go: once the source has taken its first batch out (or just
// started the slot, after which new keys of the slot are created on the target), the slot's
// keys are split between the two shards, and the only way back to one owner without a second,
// reverse migration is to finish. So cancelling stops what has not started and lets what has
// started complete:
//
//   - slot-migrate-cancel marks the migrations of slots Start..End (from any source, or to
//     shard To if it is set) as cancelled. Nothing moves back, and nothing is lost.
//   - The source shard's leader, reaching a cancelled slot, asks its own log (__slotcancel,
//     command/slotmove.go) whether the slot has started. The log answers in order with the
//     slot mover's batches, so the answer is the same on every replica and no batch of that
//     migration can follow it: a cancelled slot refuses __slotout of its epoch.
//   - Not started: slot-migrate-cancelled ends the migration; the slot stays with the source.
//     Started: the slot completes, and slot-migrated hands it over as usual.
//   - The slots of a merge (their source shard is retiring) are not cancelled: a cancelled one
//     would stay with a shard that can then neither retire nor take part in another split or
//     merge. A merge completes.

// applySlotCancel applies slot-migrate-cancel (op.Start..op.End, to op.To if set) and
// slot-migrate-cancelled (op.Start, from op.Shard to op.To).
func applySlotCancel(t *Topology, op *MetaOp) (bool, error) {
	if op.Op == "slot-migrate-cancelled" {
		for i, m := range t.Migrations {
			if m.Slot != op.Start {
				continue
			}
			if m.From != op.Shard || m.To != op.To || !m.Cancel {
				return false, nil // ended already, or another migration of the slot
			}
			t.Migrations = append(t.Migrations[:i:i], t.Migrations[i+1:]...)
			if len(t.Migrations) == 0 {
				t.Migrations = nil
			}
			return true, nil
		}
		return false, nil
	}
	found, changed := false, false
	var merging uint64 // a retiring shard whose slots were left alone
	for i := range t.Migrations {
		m := &t.Migrations[i]
		if m.Slot < op.Start || m.Slot > op.End || (op.To != 0 && m.To != op.To) {
			continue
		}
		if from := t.Shard(m.From); from != nil && from.Retiring {
			merging = m.From
			continue
		}
		found = true
		if !m.Cancel {
			m.Cancel, changed = true, true
		}
	}
	if !found && merging != 0 {
		return false, fmt.Errorf("the slots in %d-%d are moving in a merge of shard %d, which cannot be cancelled", op.Start, op.End, merging)
	}
	if !found {
		return false, fmt.Errorf("no slot in %d-%d is migrating", op.Start, op.End)
	}
	return changed, nil
}
