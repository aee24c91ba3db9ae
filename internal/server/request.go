package server

import (
	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
)

// request is one request, worked out once: the command, whether it goes through a shard's log,
// which shard, and how fresh a read must be. Routing, MULTI queueing and dispatch all read it,
// so they cannot disagree about it.
type request struct {
	args [][]byte
	// n is the request's size in the input.
	n int
	// level is a CONSISTENCY prefix's level; levelDefault without one.
	level level
	// top is the command looked up by name; cmd the one that runs (a container's subcommand,
	// or top). Both nil for an unknown command; cmd nil, top set, for an unknown subcommand.
	top, cmd *command.Command
	// runnable: the arity fits and the client may run it (authenticated, or no auth needed,
	// and its user's ACL allows it).
	runnable bool
	// denied is why the client's user may not run it (acl.OK when it may). execDenied: it is
	// an EXEC and the user may no longer run a queued command.
	denied     acl.Denial
	execDenied bool
	// write: dispatch proposes it to its shard's log and its reply comes later; anything else
	// replies at once. A read that turns into a write (command.Ctx.WantWrite) counts as a read
	// here: it runs with no write in flight.
	write bool
	// slot is the hash slot of its keys: noSlot without keys, crossSlot when they span several.
	// Worked out in cluster mode only (a single node's one shard owns every slot).
	slot int
}

const (
	noSlot    = cluster.NoSlot
	crossSlot = cluster.CrossSlot
)

var (
	keysSlot = cluster.KeysSlot
	joinSlot = cluster.JoinSlot
)

// parseRequest works out a request in the client's current state (MULTI, subscribed mode,
// MONITOR and authentication change what it is).
func (s *Server) parseRequest(cl *Client, args [][]byte, n int) request {
	args, lv := unwrapConsistency(args)
	r := request{args: args, n: n, level: lv, slot: noSlot}
	r.top = command.Lookup(args[0])
	if r.top != nil && r.top.Flags&command.FlagInternal != 0 {
		r.top = nil
	}
	if r.top == nil {
		return r
	}
	r.cmd = r.top
	if len(r.top.Subcommands) > 0 && len(args) > 1 {
		r.cmd = r.top.LookupSub(args[1])
		if r.cmd == nil {
			return r
		}
	}
	r.runnable = command.CheckArity(r.cmd.Arity, len(args)) && (cl.authed || r.cmd.Flags&command.FlagNoAuth != 0)
	if r.runnable && cl.authed {
		if r.denied = checkACL(cl, r.cmd, args); r.denied.Reason != acl.OK {
			r.runnable = false
		}
	}
	switch {
	case cl.monitor, cl.inSubscribedMode():
		// Only (un)subscribing and PING run there.
	case cl.multi:
		r.write = r.top.Name == "exec" && len(args) == 1 && !cl.multiDirty && len(cl.queued) > 0 && cl.authed && r.denied.Reason == acl.OK && !cl.watchDirty.Load()
		if r.write && queuedDenied(cl) >= 0 {
			r.write, r.execDenied = false, true
		}
	default:
		r.write = r.runnable && r.cmd.Run != nil && r.cmd.IsWrite() && !sortReads(r.cmd, args)
	}
	if s.cluster != nil {
		if r.write && cl.multi {
			r.slot = joinSlot(cl.multiSlot, cl.watchSlot)
		} else if r.runnable {
			r.slot = keysSlot(r.cmd, args)
		}
	}
	if r.runnable && isScriptCall(r.cmd) && !cl.monitor && !cl.inSubscribedMode() {
		s.prepareScript(cl, &r) // EVAL, FCALL: proposed in the form apply runs (scripting.go)
	}
	return r
}

// unwrapConsistency turns "CONSISTENCY <level> <command> args..." into the command and its
// level. Anything else is returned as it is, with levelDefault.
func unwrapConsistency(args [][]byte) ([][]byte, level) {
	if len(args) > 2 && command.EqualFold(args[0], "consistency") {
		if lv, ok := parseLevel(args[1]); ok {
			return args[2:], lv
		}
	}
	return args, levelDefault
}

// sortReads reports whether a SORT only reads (it has no STORE), so that it runs as a read, as
// SORT_RO does: a read takes no place in the log, and a long one can run off the event loop.
// Any argument spelled STORE keeps it a write.
func sortReads(cmd *command.Command, args [][]byte) bool {
	if cmd.Name != "sort" {
		return false
	}
	for _, a := range args[2:] {
		if command.EqualFold(a, "store") {
			return false
		}
	}
	return true
}
