package command

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/slot"
)

// A shard's side of moving a slot to another shard. The server's slot mover proposes these
// operations (flagged OpSystem; clients cannot send them):
//
//	__slotout <slot> <to-shard> <max-keys> <max-bytes> [epoch]
//	    The source: take the slot's next keys out (keyspace.ExportSlot) into the outbox and
//	    answer [seq, batch]; if the outbox holds a batch not yet acknowledged, answer it again;
//	    [0, ""] when the slot has no keys left. From the first one on, the slot is migrating
//	    here: see slotCheck. epoch names the migration (cluster.SlotMigration.Epoch): one of
//	    a cancelled migration, or older than the slot's state, is refused.
//	__slotcancel <slot> <epoch>
//	    the source: cancel the slot's migration of that epoch unless it has started. Answers 1
//	    (cancelled: the slot keeps no state but a mark refusing __slotout of that epoch) or 0
//	    (started: some of its keys may be on the target already, so it must complete).
//	__slotack <slot> <seq>    the target holds the outbox's batch seq: empty the outbox
//	__slotin <slot> <from-shard> <seq> <batch>
//	    the target: write a batch (keyspace.ImportSlot), unless it has written this one or a
//	    later one of the slot from that shard already (a resent or long-delayed batch: its keys
//	    may have changed here since)
//	__slotown <slot>          the slot belongs here again: forget its migration state
//
// The migration state (per slot: the target, the scan position, the outbox) is a system record,
// so every replica holds it and a new leader resumes where the last one stopped.
const (
	SlotOutName = "__slotout"
	SlotAckName = "__slotack"
	SlotInName  = "__slotin"
	SlotOwnName = "__slotown"
	// SlotCancelName is in slotcancel.go's list above; it came with version 2 as the rest.
	SlotCancelName = "__slotcancel"
)

// slotMoveRecord is the system record that held the whole migration state in earlier versions;
// each slot's state is now a record of its own (slotMoveKey), so a split that moves thousands
// of slots rewrites one small record per step, not all of them.
const slotMoveRecord = "slotmove"

// slotMoveKey names the system record of slot s's migration state.
func slotMoveKey(s int) string { return slotMoveRecord + ":" + strconv.Itoa(s) }

// slotInKey names the system record of the last batch of slot s from shard from written here.
func slotInKey(s int, from uint64) string {
	return "slotin:" + strconv.Itoa(s) + ":" + strconv.FormatUint(from, 10)
}

// slotOut is the state of a slot migrating out of this shard.
type slotOut struct {
	To     uint64 `json:"to"`
	Cursor []byte `json:"cursor,omitempty"` // the last key taken out
	Seq    uint64 `json:"seq,omitempty"`    // the outbox's batch (0: empty), the index that made it
	Outbox []byte `json:"outbox,omitempty"`
	// Epoch is the migration's (0: one from before epochs). Cancelled marks a migration
	// cancelled before it started: the slot is not migrating, and __slotout of an epoch up to
	// Epoch is refused.
	Epoch     uint64 `json:"epoch,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
	keys      map[string]struct{}
}

// Redis's replies for a slot in motion.
const (
	errSlotCancelled = "ERR the slot's migration was cancelled"

	errTryAgainSlot = "TRYAGAIN Multiple keys request during rehashing of slot"
	errTryAgainKey  = "TRYAGAIN The key is being moved to another shard; retry"
)

// loadSlotState reads the migration state from the engine: the records of the slots, and
// the single record of earlier versions (rewritten as per-slot records at the next change).
func (a *Applier) loadSlotState() error {
	tx := keyspace.NewTx(a.eng.DB(), nil, 0, 0)
	b, err := tx.SystemRecord(slotMoveRecord)
	if err != nil {
		return err
	}
	slots := map[int]*slotOut{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &slots); err != nil {
			return err
		}
	}
	a.slotsLegacy = len(b) > 0
	lower := keyspace.SystemKey(slotMoveRecord + ":")
	it, err := a.eng.DB().NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: keyspace.PrefixEnd(lower)})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		sl, err := strconv.Atoi(string(it.Key()[len(lower):]))
		if err != nil {
			continue
		}
		var o slotOut
		if err := json.Unmarshal(it.Value(), &o); err != nil {
			it.Close()
			return err
		}
		slots[sl] = &o
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, o := range slots {
		o.indexOutbox()
	}
	a.slots = slots
	a.publishSlots()
	return nil
}

func (o *slotOut) indexOutbox() {
	o.keys = nil
	if o.Seq == 0 {
		return
	}
	o.keys = map[string]struct{}{}
	_ = keyspace.SlotBatchKeys(o.Outbox, func(k []byte) { o.keys[string(k)] = struct{}{} })
}

// saveSlot stages slot s's migration state in the batch (its deletion if it has none).
func (a *Applier) saveSlot(s int) error {
	a.slotsDirty = true
	if a.slotsLegacy {
		// The first change after reading the single record of earlier versions rewrites it.
		for sl, o := range a.slots {
			if b, err := json.Marshal(o); err != nil {
				return err
			} else if err := a.tx.SetSystemRecord(slotMoveKey(sl), b); err != nil {
				return err
			}
		}
		if err := a.tx.SetSystemRecord(slotMoveRecord, nil); err != nil {
			return err
		}
		a.slotsLegacy = false
	}
	o := a.slots[s]
	if o == nil {
		return a.tx.SetSystemRecord(slotMoveKey(s), nil)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return a.tx.SetSystemRecord(slotMoveKey(s), b)
}

func (a *Applier) publishSlots() {
	list := make([]int, 0, len(a.slots))
	for s := range a.slots {
		list = append(list, s)
	}
	a.slotList.Store(&list)
}

// MigratingSlots lists the slots this shard holds migration state for (safe to call from any
// goroutine).
func (a *Applier) MigratingSlots() []int {
	if p := a.slotList.Load(); p != nil {
		return *p
	}
	return nil
}

// isSlotOp reports whether args is one of the slot mover's operations.
func isSlotOp(args [][]byte) bool {
	return len(args[0]) > 6 && string(args[0][:6]) == "__slot"
}

// runSlotOp applies one of the slot mover's operations.
func (a *Applier) runSlotOp(b *pebble.Batch, args [][]byte) {
	a.slotsDirty = true // an abandoned batch rereads the state
	a.resetTx(b, a.state.PendingPhysical(a.op.DB))
	w := &a.w
	name := string(args[0])
	if a.op.Version < slotCancelVersion && (name == SlotCancelName || (name == SlotOutName && len(args) == 6)) {
		// What a binary of that version answers, so every replica agrees.
		w.Error(fmt.Sprintf("ERR cluster version %d does not support %s yet: upgrade every node first", a.op.Version, name))
		return
	}
	if len(args) < 2 {
		w.Error(ErrSyntax)
		return
	}
	s, err := strconv.Atoi(string(args[1]))
	if err != nil || s < 0 || s >= slot.Count {
		w.Error("ERR Invalid slot")
		return
	}
	o := a.slots[s]
	switch {
	case name == SlotInName && len(args) == 5:
		from, err1 := strconv.ParseUint(string(args[2]), 10, 64)
		seq, err2 := strconv.ParseUint(string(args[3]), 10, 64)
		if err1 != nil || err2 != nil {
			w.Error(ErrSyntax)
			return
		}
		key := slotInKey(s, from)
		if last, _ := a.tx.SystemRecord(key); len(last) == 8 && binary.BigEndian.Uint64(last) >= seq {
			w.Int(0)
			return
		}
		n, err := a.tx.ImportSlot(args[4])
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		if err := a.tx.SetSystemRecord(key, binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			panic("slot state: " + err.Error())
		}
		w.Int(int64(n))
	case name == SlotOutName && (len(args) == 5 || len(args) == 6):
		to, err1 := strconv.ParseUint(string(args[2]), 10, 64)
		maxKeys, err2 := strconv.Atoi(string(args[3]))
		maxBytes, err3 := strconv.Atoi(string(args[4]))
		var epoch uint64
		var err4 error
		if len(args) == 6 {
			epoch, err4 = strconv.ParseUint(string(args[5]), 10, 64)
		}
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || maxKeys < 1 || maxBytes < 1 {
			w.Error(ErrSyntax)
			return
		}
		if o != nil && (epoch < o.Epoch || (o.Cancelled && epoch == o.Epoch)) {
			w.Error(errSlotCancelled)
			return
		}
		if o != nil && o.Seq != 0 {
			w.Array(2)
			w.Int(int64(o.Seq))
			w.Bulk(o.Outbox)
			return
		}
		if o == nil || o.To != to || o.Cancelled {
			o = &slotOut{To: to, Epoch: epoch}
			a.slots[s] = o
		}
		o.Epoch = max(o.Epoch, epoch)
		batch, n, last, err := a.tx.ExportSlot(nil, s, o.Cursor, maxKeys, maxBytes)
		if err != nil {
			panic("slot export: " + err.Error()) // drops the batch; see Apply
		}
		if n > 0 {
			o.Seq, o.Outbox, o.Cursor = a.index, batch, last
			o.indexOutbox()
		}
		a.redirectWaiters(b, s, to)
		a.resetTx(b, a.state.PendingPhysical(a.op.DB))
		if err := a.saveSlot(s); err != nil {
			panic("slot state: " + err.Error())
		}
		w.Array(2)
		w.Int(int64(o.Seq))
		w.Bulk(o.Outbox)
	case name == SlotAckName && len(args) == 3:
		seq, err := strconv.ParseUint(string(args[2]), 10, 64)
		if err != nil {
			w.Error(ErrSyntax)
			return
		}
		if o == nil || o.Seq != seq {
			w.Int(0)
			return
		}
		o.Seq, o.Outbox, o.keys = 0, nil, nil
		if err := a.saveSlot(s); err != nil {
			panic("slot state: " + err.Error())
		}
		w.Int(1)
	case name == SlotCancelName && len(args) == 3:
		epoch, err := strconv.ParseUint(string(args[2]), 10, 64)
		if err != nil {
			w.Error(ErrSyntax)
			return
		}
		if o != nil && !o.Cancelled && o.Epoch >= epoch {
			w.Int(0) // started: it completes
			return
		}
		if o == nil || o.Epoch < epoch || !o.Cancelled {
			a.slots[s] = &slotOut{Epoch: epoch, Cancelled: true}
			a.publishSlots()
			if err := a.saveSlot(s); err != nil {
				panic("slot state: " + err.Error())
			}
		}
		w.Int(1)
	case name == SlotOwnName && len(args) == 2:
		if o != nil {
			delete(a.slots, s)
			if err := a.saveSlot(s); err != nil {
				panic("slot state: " + err.Error())
			}
		}
		w.OK()
	default:
		w.Error(ErrSyntax)
	}
}

// redirectWaiters answers -ASK to the clients blocked here on keys of slot s none of which this
// shard holds any more: the keys are created on (or moved to) the target from now on, so they
// would wait here forever. The client sends its command again to the target, where the key's
// arrival serves it.
func (a *Applier) redirectWaiters(b *pebble.Batch, s int, to uint64) {
	if a.waiters.Empty() {
		return
	}
	a.resetTx(b, 0)
	tokens, err := a.tx.AllWaiters()
	if err != nil {
		panic("slot move: " + err.Error())
	}
	reply := []byte("-ASK " + strconv.Itoa(s) + " @" + strconv.FormatUint(to, 10) + "\r\n")
	for _, token := range tokens {
		a.resetTx(b, 0)
		payload, _, found, err := a.tx.WaiterPayload(token)
		if err != nil || !found || DecodeOp(payload, &a.waitOp) != nil || len(a.waitOp.Cmds) != 1 {
			continue
		}
		inSlot, held := false, false
		a.resetTx(b, a.state.PendingPhysical(a.waitOp.DB))
		for _, key := range opKeys(a.waitOp.Cmds[0]) {
			if slot.KeySlot(key) != s {
				continue
			}
			inSlot = true
			if e, err := a.tx.Peek(key); err == nil && e.Exists() {
				held = true
			}
		}
		if !inSlot || held {
			continue
		}
		a.resetTx(b, 0)
		if _, err := a.tx.RemoveWaiter(a.waiters, token); err != nil {
			panic("slot move: " + err.Error())
		}
		if idx, ok := a.blockedHere[token]; ok {
			a.results[idx] = reply
			delete(a.blockedHere, token)
		} else {
			a.served = append(a.served, Served{Token: token, Reply: reply})
		}
	}
}

// slotCheck decides whether a client's operation on a slot migrating out of this shard runs
// here. Redis Cluster's rules: a request whose keys are all here runs; one whose keys are all
// gone (moved, or never here: new keys are created on the target) is sent to the target with
// -ASK; a request with keys on both sides, or with a key in flight (in the outbox, not yet
// acknowledged by the target), gets -TRYAGAIN. It returns the error reply, or "" to run the
// operation. The ASK reply names the target shard as "@<id>"; the proposing server puts the
// address of the shard's leader in its place.
func (a *Applier) slotCheck(b *pebble.Batch, cmds [][][]byte) string {
	present, absent, sl := 0, 0, -1
	var o *slotOut
	for _, args := range cmds {
		for _, key := range opKeys(args) {
			s := slot.KeySlot(key)
			so := a.slots[s]
			if so == nil || so.Cancelled {
				continue
			}
			o, sl = so, s
			if _, moving := so.keys[string(key)]; moving {
				return errTryAgainKey
			}
			a.resetTx(b, a.state.PendingPhysical(a.op.DB))
			e, err := a.tx.Peek(key)
			if err != nil {
				panic("slot check: " + err.Error())
			}
			if e.Exists() {
				present++
			} else {
				absent++
			}
		}
	}
	switch {
	case absent == 0:
		return ""
	case present > 0:
		return errTryAgainSlot
	}
	return "ASK " + strconv.Itoa(sl) + " @" + strconv.FormatUint(o.To, 10)
}

// opKeys lists the keys of one command of an operation.
func opKeys(args [][]byte) [][]byte {
	name := string(args[0])
	if name == EvalName || name == FCallName {
		if len(args) < 6 {
			return nil
		}
		n, ok := ParseInt(args[5])
		if !ok || n < 0 || n > int64(len(args)-6) {
			return nil
		}
		return args[6 : 6+n]
	}
	cmd := Lookup(args[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(args) > 1 {
		if sub := cmd.LookupSub(args[1]); sub != nil {
			cmd = sub
		}
	}
	if cmd == nil || !CheckArity(cmd.Arity, len(args)) {
		return nil
	}
	refs, _ := cmd.GetKeys(args)
	keys := make([][]byte, 0, len(refs))
	for _, r := range refs {
		keys = append(keys, args[r.Pos])
	}
	return keys
}
