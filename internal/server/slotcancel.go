package server

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// Cancelling slot migrations, and their progress (cluster/slotcancel.go has the design).
//
// CLUSTER MIGRATE-SLOTS-CANCEL <start-slot> <end-slot> marks the migrations of those slots
// cancelled in the meta group. The source shard's leader, reaching a cancelled slot, asks its
// own log whether the slot has started (__slotcancel): if not, the log marks it so that no batch
// of that migration can follow, and the leader ends the migration (slot-migrate-cancelled); if
// it has, the slot completes as any other.

// slotProgress is how far the move of a slot has gone on this node.
type slotProgress struct {
	epoch         uint64
	keys, batches atomic.Int64
}

// progressOf returns the progress record of slot m's migration, a new one for a new epoch.
func (c *clusterNode) progressOf(m cluster.SlotMigration) *slotProgress {
	if p, ok := c.slotProgress.Load(m.Slot); ok && p.(*slotProgress).epoch == m.Epoch {
		return p.(*slotProgress)
	}
	p := &slotProgress{epoch: m.Epoch}
	c.slotProgress.Store(m.Slot, p)
	return p
}

// cancelSlot has the source shard's log decide whether slot m's cancelled migration stops (it
// has not started) and, if so, ends it in the meta group. It reports whether it stopped.
func (c *clusterNode) cancelSlot(h *hosted, m cluster.SlotMigration) (bool, error) {
	reply, err := c.proposeSystem(h.id(), command.SlotCancelName, strconv.Itoa(m.Slot), strconv.FormatUint(m.Epoch, 10))
	if err != nil {
		return false, err
	}
	switch string(reply) {
	case ":0\r\n":
		return false, nil
	case ":1\r\n":
	default:
		return false, fmt.Errorf("unexpected reply to %s: %q", command.SlotCancelName, truncate(string(reply), 200))
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if _, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "slot-migrate-cancelled", Shard: m.From, Start: m.Slot, To: m.To}); err != nil {
		return false, err
	}
	c.logger.Info("slot migration cancelled", "slot", m.Slot, "from_shard", m.From, "to_shard", m.To)
	return true, nil
}

// slotMoveStatus lists the slots migrating, with what this node knows of their progress.
func (c *clusterNode) slotMoveStatus(t *cluster.Topology) []StatusSlotMove {
	var out []StatusSlotMove
	for _, m := range t.Migrations {
		sm := StatusSlotMove{Slot: m.Slot, From: m.From, To: m.To, Cancel: m.Cancel}
		if p, ok := c.slotProgress.Load(m.Slot); ok && p.(*slotProgress).epoch == m.Epoch {
			sm.KeysMoved, sm.Batches = p.(*slotProgress).keys.Load(), p.(*slotProgress).batches.Load()
		}
		out = append(out, sm)
	}
	return out
}

// migrateSlotsCancelCmd is CLUSTER MIGRATE-SLOTS-CANCEL <start-slot> <end-slot>.
func migrateSlotsCancelCmd(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) != 4 {
		w.Error("ERR wrong number of arguments for 'cluster|migrate-slots-cancel' command")
		return
	}
	start, end, ok := parseSlotRange(w, args[2], args[3])
	if !ok {
		return
	}
	c := s.cluster
	s.parkLocal(cl, func() []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rw := resp.Writer{Proto: cl.proto}
		if _, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "slot-migrate-cancel", Start: int(start), End: int(end)}); err != nil {
			rw.Error("ERR " + err.Error())
		} else {
			rw.OK()
		}
		return rw.Buf
	})
}
