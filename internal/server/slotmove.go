package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/slot"
)

func init() { registerLocal("asking", cmdAsking) }

// Moving slots between shards, with Redis Cluster's semantics.
//
//   - CLUSTER MIGRATE-SLOTS (or MigrateSlots) records in the meta group that slots of one
//     shard are migrating to another (cluster.SlotMigration). The source still owns them.
//   - The source shard's leader moves each slot's records (runSlotMoves), batch by batch,
//     through both shards' logs: __slotout in the source takes the next keys out, in key order,
//     into an outbox kept in the source's state; __slotin writes them in the target (keys the
//     target has already win); __slotack empties the outbox. A leader change resumes from the
//     outbox. When the slot is empty, slot-migrated in the meta group hands it to the target
//     (with the slots after it emptied within a second: a split moves thousands).
//   - Every request for a migrating slot goes through the source's log (reads too), where the
//     applier answers it, runs it, or answers -ASK (its keys are gone, or were never there) or
//     -TRYAGAIN (keys on both sides, or in flight) — at apply time, so no request can slip
//     between a batch's taking keys out and its own run (command/slotmove.go).
//   - The target serves a migrating slot's request only after ASKING on the connection.

// Batch bounds of the slot mover.
const (
	slotBatchKeys  = 10000
	slotBatchBytes = 1 << 20
)

// migration is the migration of a slot in the node's view, or nil.
func (v *topoView) migration(s int) *cluster.SlotMigration {
	if len(v.t.Migrations) == 0 || s < 0 {
		return nil
	}
	return v.t.Migration(s)
}

// routeMigrating adjusts the routing of a request for a slot in motion: on the source every
// request goes through the log (r.write), so that the applier decides; a request after ASKING
// runs on the target. It returns the target's replica when the request runs there.
func (s *Server) routeMigrating(cl *Client, r *request) *hosted {
	m := s.cluster.topology().migration(r.slot)
	if m == nil {
		return nil
	}
	if cl.cs.asking {
		if h := s.hostedShard(m.To); h != nil && (h.leads() || !r.write) {
			return h
		}
		return nil
	}
	if !r.write && r.cmd.Run != nil && r.top.Name != "watch" {
		r.write = true
	}
	return nil
}

// slotLeft reports whether shard h's replica holds migration state for slot sl: its keys may
// have moved to another shard, so a read must not be served from this replica's view (the node
// routed it here on a topology that does not know of the move yet). The log decides instead.
func slotLeft(h *hosted, sl int) bool {
	if h == nil || h.sh == nil || sl < 0 {
		return false
	}
	return slices.Contains(h.sh.MigratingSlots(), sl)
}

// errSlotLeft answers a read for a slot that is moving or has moved, on a node whose topology
// does not show it yet.
const errSlotLeft = "TRYAGAIN The slot is moving to another shard; retry"

// keepAsking reports whether the ASKING flag outlives a request: Redis clears it after every
// command but ASKING itself and those of a transaction before EXEC.
func keepAsking(cl *Client, r *request) bool {
	if r.top == nil {
		return false
	}
	switch r.top.Name {
	case "asking", "multi":
		return true
	case "exec", "discard":
		return false
	}
	return cl.multi
}

func cmdAsking(s *Server, cl *Client, args [][]byte) {
	if s.cluster == nil {
		cl.loop.w.Error(errNoCluster)
		return
	}
	cl.cs.asking = true
	cl.loop.w.OK()
}

// fixAsk puts the address of the target shard's leader in an -ASK reply of the applier, which
// names the shard ("-ASK <slot> @<shard>"); -TRYAGAIN while the shard has no known leader.
func (s *Server) fixAsk(result []byte) []byte {
	if s.cluster == nil || !bytes.HasPrefix(result, []byte("-ASK ")) {
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
	addr, ok := s.cluster.leaderAddr(id)
	if !ok {
		return []byte("-TRYAGAIN The slot's target shard has no leader now\r\n")
	}
	out := append([]byte(nil), result[:at]...)
	out = append(out, addr...)
	return append(out, "\r\n"...)
}

// MigrateSlots starts moving slots start..end (owned by one shard) to shard to. It returns
// once the meta group has recorded the migration; the source shard's leader carries it out.
func (c *clusterNode) MigrateSlots(ctx context.Context, start, end int, to uint64) error {
	_, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "slot-migrate", Start: start, End: end, To: to})
	return err
}

// driveSlots, for a shard this node leads, starts moving the slots migrating out of it unless
// that runs already, and has the shard forget the migration state of slots that are its own
// again (moved back, or importing into it).
func (c *clusterNode) driveSlots(h *hosted, v *topoView) {
	t := v.t
	for _, s := range h.sh.MigratingSlots() {
		m := t.Migration(s)
		if m != nil && m.From == h.id() {
			continue
		}
		if uint64(v.slots[s]) != h.id() && (m == nil || m.To != h.id()) {
			continue // gone elsewhere: the state stays, and answers -ASK to stale requests
		}
		key := slotOwnKey{h.id(), s}
		if _, running := c.slotMoving.LoadOrStore(key, true); running {
			continue
		}
		go func() {
			defer c.slotMoving.Delete(key)
			if _, err := c.proposeSystem(h.id(), command.SlotOwnName, strconv.Itoa(s)); err != nil {
				c.logger.Debug("clearing a slot's migration state failed", "shard", h.id(), "slot", s, "err", err)
			}
		}()
	}
	out := false
	for _, m := range t.Migrations {
		if m.From == h.id() {
			out = true
			break
		}
	}
	if !out {
		return
	}
	if _, running := c.slotMoving.LoadOrStore(h.id(), true); running {
		return
	}
	go func() {
		defer c.slotMoving.Delete(h.id())
		if err := c.runSlotMoves(h); err != nil {
			c.logger.Warn("slot move interrupted; it resumes at the next tick", "shard", h.id(), "err", err)
		}
	}()
}

// slotOwnKey marks a shard's __slotown for a slot in flight, in clusterNode.slotMoving.
type slotOwnKey struct {
	shard uint64
	slot  int
}

// runSlotMoves moves the slots migrating out of a shard this node leads, one at a time, batch
// by batch; every step is in the shards' logs, so it resumes wherever it stopped.
func (c *clusterNode) runSlotMoves(h *hosted) error {
	for {
		select {
		case <-c.stop:
			return nil
		default:
		}
		if !h.leads() {
			return errNotLeading
		}
		// The next run of slots migrating out of the shard to one target, contiguous: their
		// records move slot by slot, and one slot-migrated hands them all over.
		// A cancelled migration is taken up on its own.
		var run []cluster.SlotMigration
		for _, x := range c.topology().t.Migrations {
			if x.From != h.id() {
				continue
			}
			if n := len(run); n > 0 && (x.To != run[0].To || x.Slot != run[n-1].Slot+1 || x.Cancel || run[0].Cancel) || n == handOverRun {
				break
			}
			run = append(run, x)
		}
		if len(run) == 0 {
			return nil
		}
		if m := &run[0]; m.Cancel {
			cancelled, err := c.cancelSlot(h, *m)
			if err != nil {
				return err
			}
			if cancelled {
				if err := c.awaitSlotEnded(*m); err != nil {
					return err
				}
				continue
			}
			c.logger.Info("slot migration cancelled after it started: it completes", "slot", m.Slot, "from_shard", m.From, "to_shard", m.To)
		}
		start := time.Now()
		keys, fed, err := c.moveSlots(h, run)
		if err != nil {
			return err
		}
		if fed == 0 {
			continue // the first was cancelled meanwhile: taken up on its own
		}
		run = run[:fed]
		last := run[len(run)-1]
		if err := c.handOverRun(run); err != nil {
			return err
		}
		c.logger.Info("slots moved", "slots", fmt.Sprintf("%d-%d", run[0].Slot, last.Slot), "from_shard", last.From, "to_shard", last.To, "keys", keys, "took", time.Since(start).Round(time.Millisecond))
		if err := c.awaitSlotEnded(last); err != nil {
			return err
		}
	}
}

// A slot whose records have all moved is handed over with the others of its run (at most
// handOverRun slots per slot-migrated); until then the source answers -ASK for it, as while it
// moves. The slots of a run move slotMoveParallel at a time: each slot's batches, outbox and
// acknowledgements are its own, and the proposals of concurrent moves share Raft rounds, so a
// split of thousands of small slots is not a round trip per step of each slot in turn.
const (
	handOverRun      = 64
	slotMoveParallel = 16
)

// moveSlots moves the records of a run of slots, up to slotMoveParallel at a time (one at a
// time for a run of a few, so that a cancellation stops those not begun); it returns how many
// keys moved and how many slots of the run it took up — it stops before a slot whose migration
// was cancelled — or the first error (the run is then handed over by a later try).
func (c *clusterNode) moveSlots(h *hosted, run []cluster.SlotMigration) (int, int, error) {
	var (
		mu    sync.Mutex
		keys  int
		first error
		wg    sync.WaitGroup
	)
	parallel := min(slotMoveParallel, max(1, len(run)/4))
	// A slot taken up with its cancel known was asked about it (cancelSlot): it had started,
	// so it completes; only a cancel that came after the run was taken up stops a slot.
	cancelled := func(m cluster.SlotMigration) bool {
		mm := c.topology().migration(m.Slot)
		return mm == nil || (mm.Cancel && !m.Cancel) || mm.Epoch != m.Epoch
	}
	if parallel == 1 {
		fed := 0
		for _, m := range run {
			if cancelled(m) {
				break
			}
			n, err := c.moveSlot(h, m, 1)
			keys += n
			if err != nil {
				return keys, fed, err
			}
			fed++
		}
		return keys, fed, nil
	}
	next := make(chan cluster.SlotMigration)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range next {
				n, err := c.moveSlot(h, m, parallel)
				mu.Lock()
				keys += n
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	fed := 0
	for _, m := range run {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || cancelled(m) {
			break
		}
		next <- m
		fed++
	}
	close(next)
	wg.Wait()
	return keys, fed, first
}

// awaitSlotEnded waits for the topology to show slot m's migration ended (handed over, or
// cancelled) before the mover takes up the next one.
func (c *clusterNode) awaitSlotEnded(m cluster.SlotMigration) error {
	for deadline := time.Now().Add(10 * time.Second); ; {
		if mm := c.topology().migration(m.Slot); mm == nil || mm.From != m.From || mm.Epoch != m.Epoch {
			c.slotProgress.Delete(m.Slot)
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the end of the slot's migration did not reach this node's topology")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// handOverRun records the hand-over of a run of emptied slots: one slot-migrated for the run
// once the cluster version has ranged hand-overs (3), else one per slot.
func (c *clusterNode) handOverRun(run []cluster.SlotMigration) error {
	ops := []cluster.MetaOp{{Op: "slot-migrated", Shard: run[0].From, Start: run[0].Slot, End: run[len(run)-1].Slot, To: run[0].To}}
	if c.topology().t.ClusterVersion < 3 {
		ops = ops[:0]
		for _, m := range run {
			ops = append(ops, cluster.MetaOp{Op: "slot-migrated", Shard: m.From, Start: m.Slot, To: m.To})
		}
	}
	for _, op := range ops {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		_, err := c.proposeMeta(ctx, op)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// moveSlot moves one slot's records (the caller hands the slot over); it returns how many keys
// moved. Its share of cluster-slot-migrate-rate is one of parallel.
func (c *clusterNode) moveSlot(h *hosted, m cluster.SlotMigration, parallel int) (int, error) {
	sl, to, epoch := strconv.Itoa(m.Slot), strconv.FormatUint(m.To, 10), strconv.FormatUint(m.Epoch, 10)
	outArgs := 6
	if m.Epoch == 0 {
		outArgs = 5 // a migration recorded before version 2: no epoch (version-1 nodes refuse one)
	}
	prog := c.progressOf(m)
	moved := 0
	for {
		select {
		case <-c.stop:
			return moved, errors.New("the node is stopping")
		default:
		}
		if !h.leads() {
			return moved, errNotLeading
		}
		// A rate bound makes batches smaller (a quarter of a second's worth) and paced.
		rate := c.s.cfg.clusterSlotRate.Load()
		if rate > 0 {
			rate = max(1, rate/int64(parallel))
		}
		maxBytes := int64(slotBatchBytes)
		if rate > 0 {
			maxBytes = max(1, min(maxBytes, rate/4))
		}
		began := time.Now()
		reply, err := c.proposeSystem(h.id(), []string{command.SlotOutName, sl, to, strconv.Itoa(slotBatchKeys), strconv.FormatInt(maxBytes, 10), epoch}[:outArgs]...)
		if err != nil {
			return moved, err
		}
		seq, batch, err := parseSlotOut(reply)
		if err != nil {
			return moved, err
		}
		if seq == 0 {
			break // the slot is empty here
		}
		var in []byte
		for attempt := 0; ; attempt++ {
			if in, err = c.proposeSystem(m.To, command.SlotInName, sl, strconv.FormatUint(m.From, 10), strconv.FormatUint(seq, 10), string(batch)); err == nil && len(in) > 0 && in[0] == ':' {
				break
			}
			if err == nil {
				err = fmt.Errorf("the target shard answered %q", truncate(string(in), 200))
			}
			if attempt == 50 {
				return moved, err
			}
			time.Sleep(100 * time.Millisecond)
		}
		n, _ := strconv.Atoi(string(bytes.TrimSpace(in[1:])))
		moved += n
		prog.keys.Add(int64(n))
		prog.batches.Add(1)
		if _, err := c.proposeSystem(h.id(), command.SlotAckName, sl, strconv.FormatUint(seq, 10)); err != nil {
			return moved, err
		}
		if rate > 0 {
			pace := time.Duration(float64(len(batch)) / float64(rate) * float64(time.Second))
			select {
			case <-time.After(pace - time.Since(began)):
			case <-c.stop:
			}
		}
	}
	return moved, nil
}

// proposeSystem proposes one of the server's own operations to a shard's log (this node's
// replica if it leads the shard, else through the leader) and returns its reply.
func (c *clusterNode) proposeSystem(shard uint64, args ...string) ([]byte, error) {
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	op := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Flags: command.OpSystem, Time: c.s.now(), Shard: shard, Version: c.s.opVersion()}, bargs)
	return c.proposeOp(shard, op)
}

// parseSlotOut reads __slotout's reply: *2 :seq $batch.
func parseSlotOut(b []byte) (uint64, []byte, error) {
	bad := fmt.Errorf("unexpected reply to %s: %q", command.SlotOutName, truncate(string(b), 200))
	line := func() (string, bool) {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return "", false
		}
		l := string(b[:i])
		b = b[i+2:]
		return l, true
	}
	if l, ok := line(); !ok || l != "*2" {
		return 0, nil, bad
	}
	l, ok := line()
	if !ok || len(l) < 2 || l[0] != ':' {
		return 0, nil, bad
	}
	seq, err := strconv.ParseUint(l[1:], 10, 64)
	if err != nil {
		return 0, nil, bad
	}
	l, ok = line()
	if !ok || len(l) < 2 || l[0] != '$' {
		return 0, nil, bad
	}
	n, err := strconv.Atoi(l[1:])
	if err != nil || n < 0 || n+2 > len(b) {
		return 0, nil, bad
	}
	return seq, b[:n], nil
}

// parseSlotRange parses a <start-slot> <end-slot> pair, answering an error when it is not one.
func parseSlotRange(w *resp.Writer, a, b []byte) (start, end int64, ok bool) {
	start, ok1 := command.ParseInt(a)
	end, ok2 := command.ParseInt(b)
	if !ok1 || !ok2 || start < 0 || end < start || end >= slot.Count {
		w.Error("ERR Invalid or out of range slot")
		return 0, 0, false
	}
	return start, end, true
}

// migrateSlotsCmd is CLUSTER MIGRATE-SLOTS <start> <end> <target-shard>: the target is a shard
// ID as CLUSTER SHARDS names it (40 hex digits) or its number.
func migrateSlotsCmd(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) != 5 {
		w.Error("ERR wrong number of arguments for 'cluster|migrate-slots' command")
		return
	}
	start, end, ok := parseSlotRange(w, args[2], args[3])
	if !ok {
		return
	}
	to, ok := cluster.ParseName(string(args[4]))
	if !ok {
		n, err := strconv.ParseUint(string(args[4]), 10, 64)
		if err != nil {
			w.Error("ERR Invalid shard id " + string(args[4]))
			return
		}
		to = n
	}
	c := s.cluster
	s.parkLocal(cl, func() []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rw := resp.Writer{Proto: cl.proto}
		if err := c.MigrateSlots(ctx, int(start), int(end), to); err != nil {
			rw.Error("ERR " + err.Error())
		} else {
			rw.OK()
		}
		return rw.Buf
	})
}

// errSetSlot refuses Redis's manual resharding commands.
const errSetSlot = "ERR cairn moves slots itself: use CLUSTER MIGRATE-SLOTS <start-slot> <end-slot> <target-shard-id> (shard IDs as CLUSTER SHARDS lists them); CLUSTER SETSLOT, ADDSLOTS, DELSLOTS and MIGRATE are not supported"

// migrationEntries is the end of a node's CLUSTER NODES line: as in Redis, "[slot->-node]" for
// each slot migrating out of a shard the node leads (to the target shard's leader) and
// "[slot-<-node]" for each importing into one (from the source's leader).
func migrationEntries(node uint64, views []shardView, t *cluster.Topology) string {
	if len(t.Migrations) == 0 {
		return ""
	}
	leader := map[uint64]uint64{}
	for _, v := range views {
		leader[v.info.ID] = v.leader
	}
	var b strings.Builder
	for _, m := range t.Migrations {
		if leader[m.From] == node && leader[m.To] != 0 {
			fmt.Fprintf(&b, " [%d->-%s]", m.Slot, cluster.Name(leader[m.To]))
		}
		if leader[m.To] == node && leader[m.From] != 0 {
			fmt.Fprintf(&b, " [%d-<-%s]", m.Slot, cluster.Name(leader[m.From]))
		}
	}
	return b.String()
}

// migratingFrom reports whether slots are migrating out of a shard, in this node's view.
func (c *clusterNode) migratingFrom(shard uint64) bool {
	for _, m := range c.topology().t.Migrations {
		if m.From == shard {
			return true
		}
	}
	return false
}

// forwardFollowingAsk proposes a connection's writes (cluster-proxy: for a shard with slots
// migrating out, which this node leads) one at a time, and sends on to the target shard those
// the source answers -ASK, so a client that knows nothing of slots is not redirected.
func (c *clusterNode) forwardFollowingAsk(cl *Client, shard uint64, batch []Proposal) {
	for _, p := range batch {
		command.ClearOpClient(p.Data)
		res, err := c.proposeOp(shard, p.Data)
		if err == nil {
			res = c.followAsk(p.Data, res)
		}
		p.Done(res, err)
	}
}

// followAsk, in cluster-proxy mode, runs again on the target shard an operation its source
// shard answered -ASK (the operation's keys are all gone from the source, so the target holds
// them, or they are new), and returns the target's reply; any other reply is returned as it is.
func (c *clusterNode) followAsk(op, result []byte) []byte {
	if !c.s.cfg.ClusterProxy() || !bytes.HasPrefix(result, []byte("-ASK ")) {
		return result
	}
	at := bytes.LastIndexByte(result, '@')
	if at < 0 || len(op) < 28 {
		return result
	}
	to, err := strconv.ParseUint(string(bytes.TrimRight(result[at+1:], "\r\n")), 10, 64)
	if err != nil {
		return result
	}
	op = bytes.Clone(op)
	binary.BigEndian.PutUint64(op[20:28], to) // the envelope's shard (command/op.go)
	res, err := c.proposeOp(to, op)
	if err != nil {
		return errorReply(err)
	}
	return res
}

// proposeOp proposes an encoded operation to a shard, on this node if it leads the shard, else
// through the node that does, and returns its reply.
func (c *clusterNode) proposeOp(shard uint64, op []byte) ([]byte, error) {
	if h := c.s.hostedShard(shard); h != nil && h.leads() {
		done := make(chan struct{})
		var res []byte
		var perr error
		if err := h.raft.Propose(replica.Proposal{Data: op, Done: func(r []byte, err error) { res, perr = r, err; close(done) }}); err != nil {
			return nil, err
		}
		select {
		case <-done:
		case <-c.stop:
			return nil, errors.New("the node is stopping")
		}
		return res, perr
	}
	results, _, err := c.forwardOps(shard, [][]byte{op})
	if err != nil {
		return nil, err
	}
	return results[0], nil
}
