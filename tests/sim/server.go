package sim

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
)

// A node's request path from Version4: what internal/server's request.go, route.go and
// dispatch.go do with a connection's input, over the simulated node. Requests arrive as RESP
// bytes and are parsed with the production reader; the command is looked up in the production
// table, its slot worked out with cluster.KeysSlot and routed with cluster.RouteSlot over the
// node's placement; a write that routes here is proposed to its shard's log, a read passes its
// consistency level's gate and runs through shard.Reader, and anything else is answered with
// the error the server would send. The server's connection code itself (gnet event loops,
// reply ordering across shards, proxying) is not driven here.

// parkTimeout is how long a read waits at its gate before it is refused: the server's
// 2 election timeouts and 2 s.
const parkTimeout = 2*electionTicks*tickInterval + 2*time.Second

// conn is a client's connection to one incarnation of a node: the server's per-connection
// state that routing and MULTI read.
type conn struct {
	n   *Node
	c   *Client
	inc int

	reader resp.Reader
	// rec is the request being served; in is what is left of its bytes, out the replies
	// written so far. A request that waits (a write in the log, a read at its gate) resumes
	// from its completion.
	rec     *Record
	in, out []byte
	// Transaction state, as the server's Client holds it.
	multi, multiDirty bool
	queued            [][][]byte
	multiSlot         int
	// asking is the ASKING flag (Version5): the next command may run on a slot's importing
	// shard.
	asking bool
	// closed is set when the client gives up on a request and hangs up.
	closed bool
}

// connTo is the client's connection to node n, opened anew after the node restarted.
func (c *Client) connTo(n *Node) *conn {
	if cn := c.conns[n.idx]; cn != nil && cn.inc == n.incarnation {
		return cn
	}
	cn := &conn{n: n, c: c, inc: n.incarnation, multiSlot: cluster.NoSlot}
	c.conns[n.idx] = cn
	n.conns = slices.DeleteFunc(n.conns, func(cn *conn) bool { return cn.closed })
	n.conns = append(n.conns, cn)
	return cn
}

// hangUp closes the client's connection to node idx: a client that stops waiting for a reply
// drops the connection, as Redis clients do, so the node's late reply reaches nobody.
func (c *Client) hangUp(idx int) {
	if cn := c.conns[idx]; cn != nil {
		cn.closed = true
		delete(c.conns, idx)
	}
}

// alive reports whether the connection is open, to the process it was opened to.
func (cn *conn) alive() bool { return !cn.closed && cn.n.up && cn.n.incarnation == cn.inc }

// serve processes a request's bytes.
func (cn *conn) serve(rec *Record, req []byte) {
	cn.rec, cn.in, cn.out = rec, req, nil
	cn.next()
}

// next processes the input until it is used up, or a command waits for a completion.
func (cn *conn) next() {
	for len(cn.in) > 0 {
		args, k, _, err := cn.reader.Parse(cn.in)
		if err != nil {
			// The client encodes every request itself: a request the reader refuses is a bug of
			// one side or the other.
			cn.n.w.problem("%s refused c%d's request %q: %v", cn.n.name, cn.c.id, cn.in, err)
			cn.in = nil
			cn.errorReply("ERR " + err.Error())
			break
		}
		cn.in = cn.in[k:]
		if len(args) == 0 {
			continue
		}
		// The reader reuses its slice of arguments; the bytes are the request's own.
		if cn.command(slices.Clone(args)) {
			return
		}
	}
	cn.flush()
}

// flush sends the request's replies to its client, once the process runs: a paused one writes
// nothing.
func (cn *conn) flush() {
	n := cn.n
	if !cn.alive() || cn.rec == nil {
		return
	}
	if n.paused {
		n.held = append(n.held, cn.flush)
		return
	}
	rec, out := cn.rec, cn.out
	cn.rec, cn.out = nil, nil
	n.w.after(n.w.clientLatency(), func() { cn.c.onReply(rec, out) })
}

// resume goes on with request rec's input once its waiting command has its reply.
func (cn *conn) resume(rec *Record, reply []byte) {
	if !cn.alive() || cn.rec != rec {
		return // the connection died, or the client hung up
	}
	cn.out = append(cn.out, reply...)
	cn.next()
}

func (cn *conn) errorReply(msg string) {
	w := resp.Writer{Proto: 2, Buf: cn.out}
	w.Error(msg)
	cn.out = w.Buf
}

func (cn *conn) status(msg string) {
	w := resp.Writer{Proto: 2, Buf: cn.out}
	w.Status(msg)
	cn.out = w.Buf
}

// unwrapConsistency is the server's: "CONSISTENCY <level> <command> args..." is the command at
// that level.
func unwrapConsistency(args [][]byte) ([][]byte, Level, bool) {
	if len(args) > 2 && command.EqualFold(args[0], "consistency") {
		for _, lv := range []Level{Strong, Session, Eventual} {
			if command.EqualFold(args[1], lv.String()) {
				return args[2:], lv, true
			}
		}
	}
	return args, Strong, false
}

// command handles one command as the server's parseRequest, route and dispatch do. It
// reports whether the command waits for a completion (which calls resume).
func (cn *conn) command(args [][]byte) (wait bool) {
	n := cn.n
	args, level, _ := unwrapConsistency(args)
	if n.w.cfg.Version >= Version5 && len(args) == 1 && command.EqualFold(args[0], "asking") {
		cn.asking = true
		cn.status("OK")
		return false
	}
	asking := cn.asking
	if asking {
		// Redis clears the flag after every command but ASKING, MULTI and those a transaction
		// queues before EXEC (the server's keepAsking).
		switch {
		case command.EqualFold(args[0], "multi"):
		case command.EqualFold(args[0], "exec"), command.EqualFold(args[0], "discard"):
			cn.asking = false
		case !cn.multi:
			cn.asking = false
		}
	}
	top := command.Lookup(args[0])
	if top != nil && top.Flags&command.FlagInternal != 0 {
		top = nil
	}
	if top == nil {
		cn.flagMulti()
		cn.errorReply("ERR unknown command '" + string(args[0]) + "'")
		return false
	}
	cmd := top
	if len(top.Subcommands) > 0 && len(args) > 1 {
		if cmd = top.LookupSub(args[1]); cmd == nil {
			cn.flagMulti()
			cn.errorReply("ERR unknown subcommand '" + string(args[1]) + "'")
			return false
		}
	}
	runnable := command.CheckArity(cmd.Arity, len(args))
	var write bool
	if cn.multi {
		write = top.Name == "exec" && len(args) == 1 && !cn.multiDirty && len(cn.queued) > 0
	} else {
		write = runnable && cmd.Run != nil && cmd.IsWrite()
	}
	sl := cluster.NoSlot
	switch {
	case write && cn.multi:
		sl = cn.multiSlot
	case runnable:
		sl = cluster.KeysSlot(cmd, args)
	}
	if !runnable {
		cn.flagMulti()
		cn.errorReply(command.ErrWrongArgs(cmd.Name))
		return false
	}
	if cn.multi && !write {
		cn.queue(top, cmd, args, sl)
		return false
	}
	if cmd.Run == nil && !write {
		if top.Name == "multi" {
			cn.multi, cn.multiSlot = true, cluster.NoSlot
			cn.status("OK")
			return false
		}
		cn.errorReply("ERR the simulation does not serve '" + cmd.Name + "'")
		return false
	}
	if sl == cluster.CrossSlot {
		cn.abortMulti()
		cn.errorReply(cluster.ErrCrossSlot)
		return false
	}
	if sl == cluster.NoSlot {
		cn.abortMulti()
		cn.errorReply("ERR the simulation serves only commands with keys")
		return false
	}
	// A slot in motion (the server's routeMigrating): after ASKING the importing shard serves
	// it here; otherwise every request with a reply goes through the source's log, whose
	// applier runs it or answers -ASK or -TRYAGAIN.
	var s *Shard
	if n.w.cfg.Version >= Version5 {
		if m := n.w.topo.Migration(sl); m != nil {
			if t := n.shard(m.To); asking && t != nil && (t.raft.IsLeader() || !write) {
				s = t
			} else if !asking && !write {
				write = true
				cn.rec.ViaLog = true
			}
		}
	}
	if s == nil {
		rt := cluster.RouteSlot(placement{n}, sl, write)
		if rt.Kind != cluster.Here {
			cn.abortMulti()
			cn.errorReply(rt.Error())
			return false
		}
		if s = n.shard(rt.Shard); s == nil {
			n.w.problem("%s routed slot %d here, to shard %d, which it does not hold", n.name, sl, rt.Shard)
			cn.errorReply("ERR misrouted")
			return false
		}
		if want := cn.rec.Shard; want != rt.Shard && n.w.cfg.Version < Version5 {
			n.w.problem("%s routed c%d's %s (slot %d) to shard %d; the slot table gives shard %d", n.name, cn.c.id, cn.rec.Input, sl, rt.Shard, want)
		}
	}
	if n.w.cfg.Version >= Version5 {
		cn.rec.Shard = s.id
	}
	if write {
		if cn.multi {
			cmds := cn.queued
			cn.multi, cn.multiDirty, cn.queued, cn.multiSlot = false, false, nil, cluster.NoSlot
			cn.propose(s, command.OpMulti, cmds)
		} else {
			cn.propose(s, 0, [][][]byte{args})
		}
		return true
	}
	if !write {
		cn.rec.ViaLog = false
	}
	return cn.gate(s, level, args, sl, asking)
}

// queue handles a command inside MULTI, as dispatch does: the transaction's own commands run,
// any other is queued, and its slot joins the transaction's.
func (cn *conn) queue(top, cmd *command.Command, args [][]byte, sl int) {
	switch top.Name {
	case "multi":
		cn.flagMulti()
		cn.errorReply("ERR MULTI calls can not be nested")
	case "discard":
		cn.multi, cn.multiDirty, cn.queued, cn.multiSlot = false, false, nil, cluster.NoSlot
		cn.status("OK")
	case "exec":
		// Not a write: the transaction failed to queue, or is empty.
		dirty := cn.multiDirty
		cn.multi, cn.multiDirty, cn.queued, cn.multiSlot = false, false, nil, cluster.NoSlot
		w := resp.Writer{Proto: 2, Buf: cn.out}
		if dirty {
			w.Error("EXECABORT Transaction discarded because of previous errors.")
		} else {
			w.Array(0)
		}
		cn.out = w.Buf
	default:
		if cmd.Run == nil {
			cn.flagMulti()
			cn.errorReply("ERR the simulation does not queue '" + cmd.Name + "'")
			return
		}
		if sl == cluster.CrossSlot {
			cn.flagMulti()
			cn.errorReply(cluster.ErrCrossSlot)
			return
		}
		cn.queued = append(cn.queued, args)
		cn.multiSlot = cluster.JoinSlot(cn.multiSlot, sl)
		cn.status("QUEUED")
	}
}

func (cn *conn) flagMulti() {
	if cn.multi {
		cn.multiDirty = true
	}
}

// abortMulti ends a transaction whose EXEC routing refused, as Redis discards it.
func (cn *conn) abortMulti() {
	cn.multi, cn.multiDirty, cn.queued, cn.multiSlot = false, false, nil, cluster.NoSlot
}

// propose encodes the write as the server's proposal does and hands it to the shard's log. The
// operation's client token is the proposing node's ID above a counter of the simulation's, so
// that every operation in the log names the request it came from.
func (cn *conn) propose(s *Shard, flags byte, cmds [][][]byte) {
	n, w, c, rec := cn.n, cn.n.w, cn.c, cn.rec
	w.tokens++
	rec.OpID = n.id<<40 | w.tokens
	w.hist.index(rec)
	w.tracef("%s proposes c%d's %s to shard %d as op %x", n.name, c.id, rec.Input, s.id, rec.OpID)
	data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Flags: flags, Time: n.opTime(), Client: rec.OpID, Shard: s.id}, cmds...)
	r := s.raft
	done := func(res []byte, err error) {
		var reply []byte
		if err != nil {
			reply = errorReply(err)
		} else {
			reply = append([]byte(nil), res...)
			if w.cfg.Version >= Version5 {
				reply = n.fixAsk(reply)
			}
			// The server notes the session's position in the proposer's completion.
			c.notePosition(s.id, r.Applied())
		}
		w.complete(c.id, func() { cn.resume(rec, reply) })
	}
	if err := r.Propose(replica.Proposal{Data: data, Done: done}); err != nil {
		done(nil, err)
	}
	n.dirty = true
}

// gate passes a read through its level's gate (the server's readGate), then runs it.
func (cn *conn) gate(s *Shard, level Level, args [][]byte, sl int, asking bool) (wait bool) {
	n, c, rec := cn.n, cn.c, cn.rec
	r := s.raft
	run := func() {
		if n.w.cfg.Version >= Version5 && !asking && slotLeft(s, sl) {
			// The slot's keys may have left this replica (the server's slotLeft).
			cn.errorReply(errSlotLeft)
			return
		}
		cn.runRead(s, args)
	}
	switch level {
	case Eventual:
		run()
		return false
	case Session:
		rec.Position = c.pos[s.id]
		if r.Applied() >= rec.Position {
			run()
			return false
		}
		cn.park(func(done func(error)) { r.WaitApplied(rec.Position, done) }, run)
		return true
	}
	cn.park(r.ReadIndex, run)
	n.dirty = true
	return true
}

var errReadTimeout = errors.New("read timed out waiting for this replica to catch up")

// park waits for a read's gate, or its timeout, then runs the read (or answers the error).
func (cn *conn) park(register func(done func(error)), run func()) {
	w, c, rec := cn.n.w, cn.c, cn.rec
	fired := false
	finish := func(err error) {
		if !fired {
			fired = true
			cn.gated(rec, err, run)
		}
	}
	w.after(parkTimeout, func() { finish(errReadTimeout) })
	register(func(err error) { w.complete(c.id, func() { finish(err) }) })
}

// gated goes on with request rec's read once its gate is passed (or failed).
func (cn *conn) gated(rec *Record, err error, run func()) {
	n := cn.n
	if !cn.alive() || cn.rec != rec {
		return
	}
	if n.paused {
		// The reply is written when the process runs again.
		n.held = append(n.held, func() { cn.gated(rec, err, run) })
		return
	}
	if err != nil {
		cn.errorReply(replyText(err))
	} else {
		run()
	}
	cn.next()
}

// runRead runs a read on the node's replica through shard.Reader, as the server's read does,
// and raises the session's position to what the replica shows (the server's routed).
func (cn *conn) runRead(s *Shard, args [][]byte) {
	n, c, rec := cn.n, cn.c, cn.rec
	out := s.read(args, n.clock.Now().UnixMilli())
	rec.StateIndex = s.raft.Applied()
	cn.out = append(cn.out, out...)
	c.notePosition(s.id, s.raft.Visible())
}

// dropConns closes the connections of a process that died: a client waiting for a reply
// learns that the connection was lost.
func (n *Node) dropConns() {
	conns := n.conns
	n.conns = nil
	for _, cn := range conns {
		if rec := cn.rec; rec != nil && !cn.closed {
			cn.rec = nil
			c := cn.c
			n.w.after(n.w.clientLatency(), func() { c.connLost(rec) })
		}
	}
}

// placement is what a simulated node knows of where slots are served, for cluster.RouteSlot:
// the slot table, its own replicas, and for the shards it does not hold the leader the meta
// group last recorded.
type placement struct{ n *Node }

func (p placement) ShardOf(sl int) uint64 { return uint64(p.n.w.slots[sl]) }

func (p placement) Local(id uint64) (hosted, leads bool) {
	s := p.n.shard(id)
	return s != nil, s != nil && s.raft.IsLeader()
}

func (p placement) LeaderAddr(id uint64) (string, bool) {
	w := p.n.w
	node := uint64(0)
	if s := p.n.shard(id); s != nil {
		if node = s.raft.LeaderNode(); node == 0 {
			return "", false // an election is under way: the group itself says so
		}
	} else if sh := w.topo.Shard(id); sh != nil {
		node = sh.Leader
		if node == 0 && len(sh.Replicas) > 0 {
			node = sh.Replicas[0].Node
		}
	}
	if m := w.topo.Nodes[node]; m == nil || m.Removed {
		return "", false
	}
	return w.nodes[node-1].name, true
}

// reportLeaders records the shards this node leads in the topology, as a server reports its
// leaderships to the meta group: what nodes that do not hold a shard redirect its clients to.
func (n *Node) reportLeaders() {
	for _, s := range n.shards {
		if !s.raft.IsLeader() {
			continue
		}
		if sh := n.w.topo.Shard(s.id); sh != nil && s.raft.Term() > sh.LeaderTerm {
			sh.Leader, sh.LeaderTerm = n.id, s.raft.Term()
		}
	}
}

// replyText is the server's error reply for an error of the log or of a read gate.
func replyText(err error) string {
	switch {
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, replica.ErrDropped):
		return "TRYAGAIN The write was not applied: the leader changed. It is safe to retry."
	case errors.Is(err, replica.ErrUnknown):
		return "ERR The write's outcome is unknown: no quorum confirmed it in time. It may or may not be applied."
	case errors.Is(err, replica.ErrStopped):
		return "ERR The server is shutting down; the outcome of the write is unknown."
	case errors.Is(err, replica.ErrNoLeader):
		return "CLUSTERDOWN The cluster is down"
	case errors.Is(err, errReadTimeout):
		return "TRYAGAIN The read timed out waiting for this replica to catch up"
	}
	return "ERR " + err.Error()
}

func errorReply(err error) []byte {
	w := resp.Writer{Proto: 2}
	w.Error(replyText(err))
	return w.Buf
}

// outcomeUnknown reports whether an error reply says a write may or may not have been applied.
func outcomeUnknown(msg string) bool {
	return strings.HasPrefix(msg, "ERR The write's outcome is unknown") || strings.HasPrefix(msg, "ERR The server is shutting down")
}
