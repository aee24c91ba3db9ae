package sim

import (
	"bytes"
	"encoding/binary"

	"github.com/zeebo/xxh3"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
)

// Ledger is every shard's log as the replicas applied it: what each index holds, and the reply
// applying it produced. Replicas must agree on both (state machine safety, and determinism of
// apply), and no operation may be applied at two indexes.
type Ledger struct {
	w      *World
	shards map[uint64]*shardLog
	seq    uint64
}

type shardLog struct {
	entries map[uint64]ledgerEntry
	byOp    map[uint64]uint64 // operation → index
	last    uint64
}

type ledgerEntry struct {
	opID   uint64
	data   uint64 // hash of the entry
	result uint64 // hash of the reply
	node   uint64 // first node seen applying it
	// From Version5: the order in which entries of all shards were first applied (a batch
	// exported by a source is applied before the target imports it), whether the reply says
	// the operation did nothing (-ASK, -TRYAGAIN: its slot is moving), and for the slot
	// mover's operations the entry and reply themselves.
	seq       uint64
	refused   bool
	sysData   []byte
	sysResult []byte
}

func newLedger(w *World) *Ledger { return &Ledger{w: w, shards: map[uint64]*shardLog{}} }

func (l *Ledger) shard(id uint64) *shardLog {
	s := l.shards[id]
	if s == nil {
		s = &shardLog{entries: map[uint64]ledgerEntry{}, byOp: map[uint64]uint64{}}
		l.shards[id] = s
	}
	return s
}

// checkEntry checks that an entry of a shard's log is an operation of that shard whose keys
// are in one slot the shard owns: a cross-slot request, or one of another shard's slots, must
// never reach a log.
func (l *Ledger) checkEntry(shard, index uint64, data []byte) {
	var op command.Op
	if err := command.DecodeOp(data, &op); err != nil {
		l.w.problem("shard %d index %d: not an operation: %v", shard, index, err)
		return
	}
	if op.Shard != shard {
		l.w.problem("shard %d index %d: op %x was proposed to shard %d", shard, index, op.Client, op.Shard)
	}
	sl := cluster.NoSlot
	for _, args := range op.Cmds {
		if cmd := command.Lookup(args[0]); cmd != nil {
			sl = cluster.JoinSlot(sl, cluster.KeysSlot(cmd, args))
		}
	}
	switch {
	case sl == cluster.CrossSlot:
		l.w.problem("shard %d index %d: op %x has keys in several slots: %q", shard, index, op.Client, op.Cmds)
	case sl >= 0 && l.w.shardOfSlot(sl) != shard && !l.w.migrating(sl, shard):
		l.w.problem("shard %d index %d: op %x has keys of slot %d, which shard %d owns", shard, index, op.Client, sl, l.w.shardOfSlot(sl))
	}
}

// opID reads the client field of an encoded operation, where the simulation's clients put the
// operation's ID.
func opID(data []byte) uint64 {
	if len(data) < 20 {
		return 0
	}
	return binary.BigEndian.Uint64(data[12:20])
}

// observe records a run of entries a node applied.
func (l *Ledger) observe(n *Node, shard uint64, entries []replica.Entry, results [][]byte) {
	s := l.shard(shard)
	for i, e := range entries {
		le := ledgerEntry{opID: opID(e.Data), data: xxh3.Hash(e.Data), result: xxh3.Hash(results[i]), node: n.id}
		if e.Data == nil {
			le.data = 0
		}
		if old, ok := s.entries[e.Index]; ok {
			switch {
			case old.data != le.data:
				l.w.problem("shard %d index %d: n%d applied op %x, n%d applied op %x", shard, e.Index, old.node, old.opID, n.id, le.opID)
			case old.result != le.result:
				l.w.problem("shard %d index %d (op %x): n%d and n%d produced different replies", shard, e.Index, le.opID, old.node, n.id)
			}
			continue
		}
		if l.w.cfg.Version >= Version5 {
			l.seq++
			le.seq = l.seq
			le.refused = refusedInMotion(results[i])
			if le.opID == 0 && len(e.Data) > 0 {
				le.sysData, le.sysResult = bytes.Clone(e.Data), bytes.Clone(results[i])
			}
		}
		s.entries[e.Index] = le
		s.last = max(s.last, e.Index)
		if len(e.Data) > 0 && !le.refused {
			l.checkEntry(shard, e.Index, e.Data)
		}
		l.w.tracef("apply shard %d index %d op %x on n%d: %q", shard, e.Index, le.opID, n.id, results[i])
		if le.opID == 0 {
			continue
		}
		if at, ok := s.byOp[le.opID]; ok && at != e.Index {
			l.w.problem("shard %d: op %x applied twice, at %d and %d", shard, le.opID, at, e.Index)
			continue
		}
		s.byOp[le.opID] = e.Index
	}
}

// refusedInMotion reports whether an operation's reply says the applier did not run it because
// its slot is moving (command/slotmove.go's slotCheck): -ASK or -TRYAGAIN.
func refusedInMotion(result []byte) bool {
	return bytes.HasPrefix(result, []byte("-ASK ")) || bytes.HasPrefix(result, []byte("-TRYAGAIN "))
}

// migrating reports whether slot sl is migrating out of or into shard (Version5): both may
// run its operations then.
func (w *World) migrating(sl int, shard uint64) bool {
	if w.cfg.Version < Version5 {
		return false
	}
	m := w.topo.Migration(sl)
	return m != nil && (m.From == shard || m.To == shard)
}
