package server

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
)

// localHandler runs a command that manages the connection or the server rather than data.
type localHandler func(s *Server, cl *Client, args [][]byte)

// locals maps command names ("client", "config|get" is looked up by the container) to handlers.
var locals = map[string]localHandler{}

func registerLocal(name string, h localHandler) { locals[name] = h }

// resolve finds the command for args, descending into a subcommand where the container has
// them. It writes no reply.
func resolve(args [][]byte) (cmd *command.Command, sub *command.Command) {
	cmd = command.Lookup(args[0])
	if cmd == nil || cmd.Flags&command.FlagInternal != 0 {
		return nil, nil
	}
	if len(cmd.Subcommands) > 0 && len(args) > 1 {
		sub = cmd.LookupSub(args[1])
	}
	return cmd, sub
}

// dispatch runs one request on shard h (nil for commands that need none, or on a single node
// unused by server commands). A write returns the proposal to submit — exactly when r.write —
// and anything else has written its reply to the loop's writer. stop asks the caller to stop
// processing this connection's input for now.
func (s *Server) dispatch(cl *Client, r *request, h *hosted) (p *Proposal, stop bool) {
	lp := cl.loop
	args := r.args
	s.stats.commands.Add(1)
	start := time.Now()
	cl.lastActive.Store(start.UnixMilli())
	mark := lp.w.Len()
	db := cl.db
	drop := cl.replyMode == replyOff || cl.replyMode == replySkip
	// ran is the command that ran and replied at once; refused one turned away before running.
	var ran, refused *command.Command
	defer func() {
		if r := recover(); r != nil {
			// A command that panics is a bug: the client gets an error, the server stays up.
			// Reads change nothing, and writes panic in apply, which drops their batch.
			lp.w.Truncate(mark)
			lp.w.Error(fmt.Sprintf("ERR internal error (a bug) in '%s': %v", args[0], r))
			s.logger.Error("command panicked", "cmd", string(args[0]), "panic", r, "stack", string(debug.Stack()))
		}
		reply := lp.w.Buf[mark:]
		switch {
		case refused != nil:
			s.reject(refused, reply)
		case ran != nil:
			if d := s.account(ran, start, reply); s.isSlow(d) {
				s.observeSlow(cl, ran, args, d)
			}
			s.feedMonitors(cl, db, ran, args)
		case len(reply) > 0 && reply[0] == '-':
			s.noteError(reply)
		}
		// CLIENT REPLY OFF/SKIP: drop what this command wrote.
		switch cl.replyMode {
		case replyOff, replySkip:
			dropReplies(&lp.w, mark)
			if cl.replyMode == replySkip {
				cl.replyMode = replyOn
			}
		case replySkipNext:
			cl.replyMode = replySkip
		}
	}()

	cmd, full := r.top, r.cmd
	if cmd == nil {
		s.unknownCommand(cl, args)
		return nil, false
	}
	if full == nil {
		s.flagMultiError(cl)
		lp.w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try " + strings.ToUpper(cmd.Name) + " HELP.")
		return nil, false
	}
	cl.lastCmd.Store(full)
	cl.ps.trk.beginCommand(cmd.Name == "client", cl.multi)
	if !command.CheckArity(full.Arity, len(args)) {
		refused = full
		s.wrongArgs(cl, full.Name)
		return nil, false
	}
	if !cl.authed && full.Flags&command.FlagNoAuth == 0 {
		refused = full
		s.flagMultiError(cl)
		lp.w.Error("NOAUTH Authentication required.")
		return nil, false
	}
	if r.denied.Reason != acl.OK {
		refused = full
		s.refuseACL(cl, r.denied, full, args)
		return nil, false
	}
	if msg := cl.user.User().SortPatternDenied(full, args); msg != "" {
		refused = full
		s.flagMultiError(cl)
		lp.w.Error(msg)
		return nil, false
	}
	if r.execDenied {
		refused = full
		s.refuseExec(cl)
		return nil, false
	}
	if cl.monitor && full.Flags&(command.FlagWrite|command.FlagReadOnly|command.FlagMayReplicate) != 0 {
		refused = full
		lp.w.Error("ERR Replica can't interact with the keyspace")
		return nil, false
	}
	if (r.write || full.Flags&command.FlagWrite != 0) && s.writeRefused() && (h == nil || !h.remote) {
		// (A write forwarded to another node's shard does not touch this node's disk.)
		refused = full
		s.flagMultiError(cl)
		lp.w.Error(s.diskFullError())
		return nil, false
	}
	if cl.inSubscribedMode() {
		if handled, rejected := s.subscribedRefusal(cl, full, args); handled {
			if rejected {
				refused = full
			} else {
				ran = full
			}
			return nil, false
		}
	}
	if r.write && cl.multi {
		s.trackQueued(cl)
		queued := make([]*command.Command, len(cl.queued))
		for i, q := range cl.queued {
			queued[i] = q.cmd
			s.feedMonitors(cl, db, q.cmd, q.args)
		}
		s.feedMonitors(cl, db, full, args)
		cl.pending = append(cl.pending, pendingReply{cmd: full, multi: queued, multiArgs: cl.queuedArgs(), locals: execLocals(cl.queued), start: start, drop: drop})
		p := s.execProposal(cl, h)
		cl.publish()
		return p, false
	}
	if cl.multi && !isTxControl(cmd.Name) {
		if full.Flags&command.FlagNoMulti != 0 || (s.cluster != nil && isSearchCommand(full)) {
			refused = full
			s.flagMultiError(cl)
			lp.w.Error("ERR Command not allowed inside a transaction")
			return nil, false
		}
		if full.Run == nil && !multiLocalOK(full.Name) && !multiServerOK(cmd, full) {
			refused = full
			s.flagMultiError(cl)
			lp.w.Error("ERR '" + strings.ToUpper(full.Name) + "' inside MULTI is not supported by cairn")
			return nil, false
		}
		if r.slot == crossSlot {
			refused = full
			s.flagMultiError(cl)
			lp.w.Error(cluster.ErrCrossSlot)
			return nil, false
		}
		if s.refuseQueuedScript(cl, full, args) {
			refused = full
			return nil, false
		}
		cl.queued = append(cl.queued, queuedCmd{args: copyArgs(args), cmd: full})
		cl.multiSlot = joinSlot(cl.multiSlot, r.slot)
		cl.publish()
		lp.w.Status("QUEUED")
		return nil, false
	}
	if r.write && isScriptCall(full) {
		return s.proposeWrite(cl, full, args, db, start, drop, h), false
	}
	if full.Run == nil {
		lh := locals[full.Name]
		if lh == nil {
			lh = locals[cmd.Name]
		}
		if lh == nil {
			lp.w.Error("ERR command '" + full.Name + "' is not supported by cairn")
			return nil, false
		}
		cl.target = h
		lh(s, cl, args)
		cl.target = nil
		cl.publish()
		cl.ps.proto.Store(int32(cl.proto))
		if cl.deferred {
			// The handler replies later, in a place it reserved (DEBUG SLEEP, WAIT).
			cl.deferred = false
			cl.pending = append(cl.pending, pendingReply{cmd: full, start: start, drop: drop, args: copyArgs(args)})
			s.feedMonitors(cl, db, full, args)
			return nil, true
		}
		ran = full
		return nil, cl.closeAfterReply
	}
	if s.cluster != nil && isSearchCommand(full) {
		ran = full
		return nil, s.searchCluster(cl, r, full, args) // searchcluster.go: over every shard
	}
	if s.cluster != nil && h == nil && isKeylessData(full) {
		if full.Name == "keys" && !s.cfg.ClusterProxy() && s.keysOffLoop(cl, full, args, s.keylessShards(cl, r, full), start, drop) {
			return nil, true
		}
		ran = full
		if s.cfg.ClusterProxy() {
			s.scatterKeyless(cl, full, args)
			return nil, true
		}
		return nil, s.keylessData(cl, r, full, args)
	}
	if s.cluster != nil && h == nil && r.slot == crossSlot {
		ran = full
		s.scatter(cl, full, args)
		return nil, true
	}
	if r.write {
		return s.proposeWrite(cl, full, args, db, start, drop, h), false
	}
	ran = full
	if h == nil {
		s.runPure(cl, full, args)
		return nil, false
	}
	if h.remote {
		s.cluster.forwardRead(cl, h.id(), args)
		return nil, true
	}
	if offLoopCandidate(full, args) {
		v := h.sh.Acquire()
		if runsOffLoop(lp, v, full, args, db, start.UnixMilli()) {
			ran = nil // accounted when its reply is in (emit)
			s.readOffLoop(cl, full, args, h, v, start, drop)
			return nil, true
		}
		v.Release()
	}
	if s.read(cl, full, args, h, start) && h.leads() {
		// The read asked to be a write (PFCOUNT caching a cardinality): its reply is dropped
		// and it runs again in apply. No write is in flight here, or the read would have waited.
		lp.w.Truncate(mark)
		ran = nil
		return s.proposeWrite(cl, full, args, db, start, drop, h), false
	}
	return nil, false
}

// proposeWrite queues a write's reply and returns its proposal to shard h, which is valid until
// the connection's next write (cl.prop).
func (s *Server) proposeWrite(cl *Client, cmd *command.Command, args [][]byte, db int, start time.Time, drop bool, h *hosted) *Proposal {
	if s.cfg.ProtoMaxBulkLen() > 0 {
		s.noteBigValues(args)
	}
	s.feedMonitors(cl, db, cmd, args)
	if !cl.longWrite && s.longWrite(cl, cmd, args, h, start.UnixMilli()) {
		cl.longWrite = true // its pass's writes go to the log's goroutine (offloop.go)
		s.stats.offLoopWrites.Add(1)
	}
	cl.prop = s.proposal(cl, h, 0, args)
	cl.pending = append(cl.pending, pendingReply{cmd: cmd, start: start, drop: drop, op: cl.prop.Data})
	return &cl.prop
}

func isTxControl(name string) bool {
	switch name {
	case "exec", "discard", "multi", "watch", "unwatch", "quit", "reset":
		return true
	}
	return false
}

// multiLocalOK lists the server-side commands that may be queued in MULTI; apply runs them
// (they are given Run functions for that).
func multiLocalOK(name string) bool {
	return name == "select" || name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" || name == "fcall" || name == "fcall_ro"
}

func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		start := len(buf)
		buf = append(buf, a...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// proposal encodes args as an operation for shard h's log. Its Done is set when it is
// submitted, with the place its reply is to fill.
func (s *Server) proposal(cl *Client, h *hosted, flags byte, cmds ...[][]byte) Proposal {
	size := 0
	for _, c := range cmds {
		size += command.OpSize(c)
	}
	hdr := command.OpHeader{Proto: cl.proto, DB: cl.db, Flags: flags, Time: s.now(), Client: cl.token(), Shard: h.id(), Version: s.opVersion()}
	if data := inPlaceProposal(cl, hdr, cmds); data != nil {
		return Proposal{Data: data}
	}
	return Proposal{Data: command.AppendOpHeader(make([]byte, 0, size), hdr, cmds...)}
}

// read runs a read command at once against shard h, at now (when its request was taken up). It
// reports whether the command asked to run as a write instead (command.Ctx.WantWrite).
func (s *Server) read(cl *Client, cmd *command.Command, args [][]byte, h *hosted, now time.Time) bool {
	lp := cl.loop
	if cmd.Flags&command.FlagWrite == 0 {
		// SORT without STORE runs as a read, but Redis does not track the keys of a command
		// flagged as a write.
		s.trackRead(cl, cmd, args)
	}
	v := h.sh.Acquire()
	defer v.Release()
	r := &lp.data
	r.OnMiss = s.missHook(cl)
	r.NoTouch = cl.noTouch
	want := r.Run(h.sh, v, cmd, args, cl.db, &lp.w, now.UnixMilli())
	if r.Hits != 0 {
		s.stats.keyspaceHits.Add(r.Hits)
	}
	if r.Misses != 0 {
		s.stats.keyspaceMisses.Add(r.Misses)
	}
	return want
}

func (s *Server) flagMultiError(cl *Client) {
	if cl.multi {
		cl.multiDirty = true
	}
}

func (s *Server) wrongArgs(cl *Client, name string) {
	s.flagMultiError(cl)
	cl.loop.w.Error(command.ErrWrongArgs(name))
}

// unknownCommand replies as Redis does: the name, and the first arguments quoted, at most 128
// bytes of them.
func (s *Server) unknownCommand(cl *Client, args [][]byte) {
	s.flagMultiError(cl)
	var a strings.Builder
	for i := 1; i < len(args) && a.Len() < 128; i++ {
		a.WriteString("'")
		a.WriteString(truncate(string(args[i]), 128-a.Len()))
		a.WriteString("' ")
	}
	cl.loop.w.Error("ERR unknown command '" + truncate(string(args[0]), 128) + "', with args beginning with: " + a.String())
}

func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

// noteBigValues counts values over 1 MB and logs a rate-limited warning.
func (s *Server) noteBigValues(args [][]byte) {
	for _, a := range args[1:] {
		if len(a) > 1<<20 {
			s.stats.bigValues.Add(1)
			now := time.Now().Unix()
			last := s.stats.lastBigValueWarn.Load()
			if now-last >= 60 && s.stats.lastBigValueWarn.CompareAndSwap(last, now) {
				s.logger.Warn("value over 1 MB written; large values cost memory and latency", "bytes", len(a))
			}
			return
		}
	}
}
