package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
)

// Version5: slots move between shards, shards split and merge.
//
// The topology is the production meta state machine (cluster.Meta, applied in one step: the
// meta group's own Raft is not simulated), so slot-migrate, slot-migrated, the cancels,
// shard-split, shard-merge and shard-retire are the server's. What carries a move out is the
// server's slot mover (internal/server/slotmove.go) redone as events: on every node that
// believes it leads a shard with slots migrating out, a mover takes the next run of slots to
// one target, moves them up to slotMoveParallel at a time — __slotout in the source's log,
// __slotin in the target's (retried), __slotack in the source's — and hands the run over with
// one slot-migrated; a cancelled slot asks its log first (__slotcancel). A leader that clears
// the migration state of slots that are its own again (__slotown) is driveSlots'. The applier
// of every shard (command/slotmove.go) is the production one: it answers -ASK and -TRYAGAIN.
//
// Differences from the server: every node reads the meta group's topology the instant it
// changes (no node routes on a stale one); the mover's proposals go to the shards' leaders
// directly, not through forwarding; a retired shard's replicas stay open until their node
// restarts (Raft.Close waits for the host goroutine the simulation does not run); there is no
// rate limit and no gossip of shard sizes (the nemesis picks splits and merges).

const (
	slotBatchKeys    = 10000
	slotBatchBytes   = 1 << 20
	handOverRun      = 64
	slotMoveParallel = 16
	// moverStepTimeout bounds a mover's wait for one proposal: a proposal to a leader that
	// crashed or lost its term is never answered, and the server's mover gives up on it.
	moverStepTimeout = 5 * time.Second
)

// openMeta starts the meta state machine with the founding topology.
func (w *World) openMeta() error {
	m, err := cluster.OpenMeta("/meta", vfs.NewMem(), nil)
	if err != nil {
		return err
	}
	w.meta = m
	_, err = w.metaApply(cluster.MetaOp{Op: "init", Topology: w.founding})
	return err
}

// metaApply applies one meta operation and makes its topology every node's.
func (w *World) metaApply(op cluster.MetaOp) (cluster.MetaResult, error) {
	data, err := json.Marshal(op)
	if err != nil {
		return cluster.MetaResult{}, err
	}
	w.metaIndex++
	results := make([][]byte, 1)
	if err := w.meta.Apply([]replica.Entry{{Index: w.metaIndex, Data: data}}, results); err != nil {
		return cluster.MetaResult{}, err
	}
	var res cluster.MetaResult
	if err := json.Unmarshal(results[0], &res); err != nil {
		return res, err
	}
	if t := w.meta.Topology(); t != w.topo {
		w.topo, w.slots = t, t.Slots()
		w.reconcile()
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, nil
}

// reconcile opens the replicas the topology gives running nodes and they do not hold yet (a
// new shard's), as the server's reconcileHosting does.
func (w *World) reconcile() {
	for _, n := range w.activeNodes() {
		if !n.up {
			continue
		}
		for _, sh := range w.topo.ShardsOf(n.id) {
			if n.shard(sh.ID) != nil {
				continue
			}
			if err := n.addShard(sh.ID); err != nil {
				w.tracef("%s cannot open its new replica of shard %d: %v", n.name, sh.ID, err)
				n.crash("storage failure")
				w.after(w.between(500*time.Millisecond, 3*time.Second), n.restart)
				break
			}
			w.tracef("%s opens its replica of shard %d", n.name, sh.ID)
			n.dirty = true
		}
	}
}

// liveShards are the shards of the topology that own slots and are not retiring.
func (w *World) liveShards() []*cluster.Shard {
	var out []*cluster.Shard
	for _, sh := range w.topo.Shards {
		if !sh.Retiring && len(sh.Ranges) > 0 {
			out = append(out, sh)
		}
	}
	return out
}

// reshaper starts a slot move, a cancel, a split or a merge every little while until the fault
// phase ends (with or without faults: moves are the workload here, not faults).
func (w *World) reshaper(until time.Duration) {
	w.after(w.between(300*time.Millisecond, 2500*time.Millisecond), func() {
		if w.now >= until {
			return
		}
		w.reshape()
		w.reshaper(until)
	})
}

func (w *World) reshape() {
	live := w.liveShards()
	switch p := w.rng.IntN(100); {
	case p < 50:
		// A slot some key group lives in, with a few of its neighbours owned by the same shard.
		sl := w.groupSlot[w.groups[w.rng.IntN(len(w.groups))]]
		from := w.slots[sl]
		start, end := sl, sl
		for k := w.rng.IntN(4); k > 0; k-- {
			if start > 0 && w.slots[start-1] == from && w.rng.IntN(2) == 0 {
				start--
			} else if end < len(w.slots)-1 && w.slots[end+1] == from {
				end++
			}
		}
		var targets []uint64
		for _, sh := range live {
			if sh.ID != uint64(from) {
				targets = append(targets, sh.ID)
			}
		}
		if len(targets) == 0 {
			return
		}
		to := targets[w.rng.IntN(len(targets))]
		w.faults.SlotMoves++
		w.metaOp(cluster.MetaOp{Op: "slot-migrate", Start: start, End: end, To: to})
	case p < 62:
		if len(w.topo.Migrations) == 0 {
			return
		}
		m := w.topo.Migrations[w.rng.IntN(len(w.topo.Migrations))]
		if src := w.topo.Shard(m.From); src == nil || src.Retiring {
			// Cancelling a merge's slot leaves the merged-away shard retiring with a slot it
			// keeps for good (nothing migrates it again, nor retires the shard): see the
			// simulation's notes. The nemesis cancels MIGRATE-SLOTS and splits only.
			return
		}
		w.faults.MoveCancels++
		w.metaOp(cluster.MetaOp{Op: "slot-migrate-cancel", Start: m.Slot, End: m.Slot})
	case p < 81:
		if w.replacing || len(live) >= 2*w.cfg.Shards {
			return
		}
		sh := live[w.rng.IntN(len(live))]
		if w.topo.Busy(sh) != "" || sh.SlotCount() < 2 {
			return
		}
		w.faults.Splits++
		w.metaOp(cluster.MetaOp{Op: "shard-split", Shard: sh.ID})
	default:
		if w.replacing || len(live) < 3 {
			return
		}
		a := live[w.rng.IntN(len(live))]
		var into []*cluster.Shard
		for _, b := range live {
			if b != a && cluster.Adjacent(a, b) && w.topo.Busy(b) == "" {
				into = append(into, b)
			}
		}
		if w.topo.Busy(a) != "" || len(into) == 0 {
			return
		}
		w.faults.Merges++
		w.metaOp(cluster.MetaOp{Op: "shard-merge", Shard: a.ID, To: into[w.rng.IntN(len(into))].ID})
	}
}

// metaOp applies an operation an operator (or the placement loop) proposes, tracing it.
func (w *World) metaOp(op cluster.MetaOp) {
	res, err := w.metaApply(op)
	switch {
	case err != nil:
		w.tracef("meta %s shard=%d %d-%d to=%d refused: %v", op.Op, op.Shard, op.Start, op.End, op.To, err)
	default:
		w.tracef("meta %s shard=%d %d-%d to=%d: shard %d", op.Op, op.Shard, op.Start, op.End, op.To, res.Shard)
	}
}

// driveMoves runs every tick, as each node's cluster loop does: for every shard a running node
// believes it leads, a mover for its slots migrating out and __slotown for slots that are its
// own again; and the retirement of merged-away shards that own no slot any more.
func (w *World) driveMoves() {
	w.after(tickInterval, w.driveMoves)
	for _, sh := range slices.Clone(w.topo.Shards) {
		if sh.Retiring && len(sh.Ranges) == 0 && w.topo.Busy(&cluster.Shard{ID: sh.ID}) == "" {
			w.metaOp(cluster.MetaOp{Op: "shard-retire", Shard: sh.ID})
			continue
		}
		for _, n := range w.activeNodes() {
			s := n.shard(sh.ID)
			if !n.up || n.paused || s == nil || !s.raft.IsLeader() {
				continue
			}
			w.driveOwn(n, s)
			out := false
			for _, m := range w.topo.Migrations {
				out = out || m.From == sh.ID
			}
			key := moverKey{sh.ID, n.id}
			if out && w.movers[key] == nil {
				mv := &mover{w: w, shard: sh.ID, n: n, inc: n.incarnation}
				w.movers[key] = mv
				w.tracef("%s starts moving slots out of shard %d", n.name, sh.ID)
				mv.next()
			}
		}
	}
}

// driveOwn has shard s, which node n leads, forget the migration state of slots that are its
// own again, or importing into it (the server's driveSlots).
func (w *World) driveOwn(n *Node, s *Shard) {
	for _, sl := range s.MigratingSlots() {
		m := w.topo.Migration(sl)
		if m != nil && m.From == s.id {
			continue
		}
		if uint64(w.slots[sl]) != s.id && (m == nil || m.To != s.id) {
			continue
		}
		key := [2]uint64{s.id, uint64(sl)}
		if w.owning[key] {
			continue
		}
		w.owning[key] = true
		w.proposeSystem(n, s.id, []string{command.SlotOwnName, strconv.Itoa(sl)}, func([]byte, error) { delete(w.owning, key) })
	}
}

type moverKey struct{ shard, node uint64 }

// mover moves the slots migrating out of a shard its node leads (the server's runSlotMoves).
type mover struct {
	w     *World
	shard uint64
	n     *Node
	inc   int
	// parallel slot moves in flight, and the run they belong to.
	run     []cluster.SlotMigration
	fed     int
	busy    int
	failed  bool
	stopped bool
}

// valid reports whether the mover's node still runs and leads its shard.
func (mv *mover) valid() bool {
	n := mv.n
	s := n.shard(mv.shard)
	return n.up && n.incarnation == mv.inc && !n.paused && s != nil && s.raft.IsLeader()
}

func (mv *mover) stop(why string) {
	if mv.stopped {
		return
	}
	mv.stopped = true
	mv.w.tracef("%s stops moving slots out of shard %d: %s", mv.n.name, mv.shard, why)
	delete(mv.w.movers, moverKey{mv.shard, mv.n.id})
}

// next takes up the next run of slots migrating out of the shard.
func (mv *mover) next() {
	w := mv.w
	if mv.stopped {
		return
	}
	if !mv.valid() {
		mv.stop("no longer leads")
		return
	}
	var run []cluster.SlotMigration
	for _, x := range w.topo.Migrations {
		if x.From != mv.shard {
			continue
		}
		if n := len(run); n > 0 && (x.To != run[0].To || x.Slot != run[n-1].Slot+1 || x.Cancel || run[0].Cancel) || n == handOverRun {
			break
		}
		run = append(run, x)
	}
	if len(run) == 0 {
		mv.stop("done")
		return
	}
	if m := run[0]; m.Cancel {
		args := []string{command.SlotCancelName, strconv.Itoa(m.Slot), strconv.FormatUint(m.Epoch, 10)}
		w.proposeSystem(mv.n, mv.shard, args, func(res []byte, err error) {
			if err != nil {
				mv.stop(fmt.Sprintf("__slotcancel: %v", err))
				return
			}
			if string(res) == ":1\r\n" {
				w.metaOp(cluster.MetaOp{Op: "slot-migrate-cancelled", Shard: m.From, Start: m.Slot, To: m.To})
				mv.next()
				return
			}
			w.tracef("slot %d's migration was cancelled after it started: it completes", m.Slot)
			mv.moveRun(run[:1])
		})
		return
	}
	mv.moveRun(run)
}

// moveRun moves a run's slots, up to slotMoveParallel at a time (one at a time for a short
// run), then hands over those it took up.
func (mv *mover) moveRun(run []cluster.SlotMigration) {
	mv.run, mv.fed, mv.busy, mv.failed = run, 0, 0, false
	parallel := min(slotMoveParallel, max(1, len(run)/4))
	for range parallel {
		mv.feed()
	}
	if mv.busy == 0 {
		mv.ran()
	}
}

// cancelled reports whether migration m was cancelled or ended since the run began.
func (mv *mover) cancelled(m cluster.SlotMigration) bool {
	mm := mv.w.topo.Migration(m.Slot)
	return mm == nil || (mm.Cancel && !m.Cancel) || mm.Epoch != m.Epoch
}

// feed starts the next slot of the run, if any is left and nothing failed.
func (mv *mover) feed() {
	if mv.failed || mv.stopped || mv.fed == len(mv.run) || mv.cancelled(mv.run[mv.fed]) {
		return
	}
	m := mv.run[mv.fed]
	mv.fed++
	mv.busy++
	mv.moveSlot(m, func(err error) {
		mv.busy--
		if err != nil && !mv.failed {
			mv.failed = true
			mv.stop(fmt.Sprintf("slot %d: %v", m.Slot, err))
		}
		mv.feed()
		if mv.busy == 0 {
			mv.ran()
		}
	})
}

// ran hands over the slots of the run that moved, then goes on with the next run.
func (mv *mover) ran() {
	if mv.failed || mv.stopped {
		return
	}
	if mv.fed == 0 {
		mv.next() // the first was cancelled meanwhile: taken up on its own
		return
	}
	run := mv.run[:mv.fed]
	last := run[len(run)-1]
	mv.w.metaOp(cluster.MetaOp{Op: "slot-migrated", Shard: last.From, Start: run[0].Slot, End: last.Slot, To: last.To})
	mv.next()
}

// moveSlot moves one slot's records, batch by batch (the server's moveSlot).
func (mv *mover) moveSlot(m cluster.SlotMigration, done func(error)) {
	w := mv.w
	sl, to, epoch := strconv.Itoa(m.Slot), strconv.FormatUint(m.To, 10), strconv.FormatUint(m.Epoch, 10)
	if !mv.valid() {
		done(errors.New("no longer leads"))
		return
	}
	out := []string{command.SlotOutName, sl, to, strconv.Itoa(slotBatchKeys), strconv.Itoa(slotBatchBytes), epoch}
	w.proposeSystem(mv.n, mv.shard, out, func(res []byte, err error) {
		if err != nil {
			done(err)
			return
		}
		seq, batch, err := parseSlotOut(res)
		if err != nil {
			done(err)
			return
		}
		if seq == 0 {
			done(nil) // the slot is empty here
			return
		}
		in := []string{command.SlotInName, sl, strconv.FormatUint(m.From, 10), strconv.FormatUint(seq, 10), string(batch)}
		var attempt func(int)
		attempt = func(i int) {
			if mv.stopped {
				done(errors.New("stopped"))
				return
			}
			retry := func(err error) {
				if i == 50 {
					done(err)
					return
				}
				w.after(100*time.Millisecond, func() { attempt(i + 1) })
			}
			lead := w.leaderOf(m.To)
			if lead == nil {
				retry(fmt.Errorf("shard %d has no leader", m.To))
				return
			}
			w.proposeSystem(lead, m.To, in, func(res []byte, err error) {
				if err == nil && (len(res) == 0 || res[0] != ':') {
					err = fmt.Errorf("the target shard answered %q", res)
				}
				if err != nil {
					retry(err)
					return
				}
				if !mv.valid() {
					done(errors.New("no longer leads"))
					return
				}
				ack := []string{command.SlotAckName, sl, strconv.FormatUint(seq, 10)}
				w.proposeSystem(mv.n, mv.shard, ack, func(_ []byte, err error) {
					if err != nil {
						done(err)
						return
					}
					mv.moveSlot(m, done)
				})
			})
		}
		attempt(0)
	})
}

var errStepTimeout = errors.New("no answer in time")

// proposeSystem proposes one of the server's own operations to node n's replica of a shard,
// and calls done once with its reply (or an error, or errStepTimeout).
func (w *World) proposeSystem(n *Node, shard uint64, args []string, done func([]byte, error)) {
	s := n.shard(shard)
	if !n.up || s == nil {
		done(nil, replica.ErrNotLeader)
		return
	}
	fired := false
	finish := func(res []byte, err error) {
		if !fired {
			fired = true
			done(res, err)
		}
	}
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Flags: command.OpSystem, Time: n.opTime(), Shard: shard, Version: w.topo.Active()}, bargs)
	w.after(moverStepTimeout, func() { finish(nil, errStepTimeout) })
	// Completions raised in one step run in the order of their proposals (Raft raises them in
	// map order), so that a seed replays.
	w.sysProposals++
	order := 1<<30 + int(w.sysProposals)
	cb := func(res []byte, err error) {
		res = bytes.Clone(res)
		w.complete(order, func() { finish(res, err) })
	}
	if err := s.raft.Propose(replica.Proposal{Data: data, Done: cb}); err != nil {
		cb(nil, err)
	}
	n.dirty = true
}

// parseSlotOut reads __slotout's reply: *2 :seq $batch.
func parseSlotOut(b []byte) (uint64, []byte, error) {
	out, rest, err := parseOne(b)
	if err != nil || len(rest) != 0 || len(out.Multi) != 2 || !out.Multi[0].IsInt || out.Multi[0].Int < 0 {
		return 0, nil, fmt.Errorf("unexpected reply to %s: %q", command.SlotOutName, b)
	}
	return uint64(out.Multi[0].Int), []byte(out.Multi[1].Str), nil
}

// fixAsk puts the address of the target shard's leader in an -ASK reply of the applier, which
// names the shard ("-ASK <slot> @<shard>"); -TRYAGAIN while the shard has no known leader (the
// server's fixAsk).
func (n *Node) fixAsk(result []byte) []byte {
	if !bytes.HasPrefix(result, []byte("-ASK ")) {
		return result
	}
	at := bytes.LastIndexByte(result, '@')
	if at < 0 {
		return result
	}
	id, err := strconv.ParseUint(string(bytes.TrimRight(result[at+1:], "\r\n")), 10, 64)
	if err != nil {
		return result
	}
	addr, ok := placement{n}.LeaderAddr(id)
	if !ok {
		return []byte("-TRYAGAIN The slot's target shard has no leader now\r\n")
	}
	out := append([]byte(nil), result[:at]...)
	out = append(out, addr...)
	return append(out, "\r\n"...)
}

// errSlotLeft answers a read for a slot whose migration state this replica holds.
const errSlotLeft = "TRYAGAIN The slot is moving to another shard; retry"

// slotLeft reports whether shard s's replica holds migration state for slot sl.
func slotLeft(s *Shard, sl int) bool { return slices.Contains(s.MigratingSlots(), sl) }

// retiring reports whether a merged-away shard waits for its retirement.
func (w *World) retiring() bool {
	for _, sh := range w.topo.Shards {
		if sh.Retiring {
			return true
		}
	}
	return false
}
