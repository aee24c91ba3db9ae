package server

import (
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// Server commands inside MULTI.
//
// Redis queues PUBLISH, PUBSUB, WAIT, INFO, CONFIG and the other server commands in a
// transaction like any other and runs them in EXEC. Here EXEC is one operation applied on a
// shard's log, and a server command has no place there: it acts on this node (its subscribers,
// its configuration), not on the replicated data. So EXEC's operation carries only the data
// commands; the server commands are remembered with their place in the transaction and run on
// the connection's loop once the operation's reply is in, their replies spliced into EXEC's
// array at their places. A message published in a transaction therefore goes out after the
// transaction's writes are applied, in the order of the PUBLISH commands, and a subscriber
// that reads on receiving it sees them (Celery stores a result with SET and PUBLISH in MULTI).
// A transaction the WATCH check aborts, or that fails, runs none of them.

// multiServerOK reports whether the server command cmd (top is its container, or cmd itself)
// may be queued in MULTI. Excluded are those that change how the connection's later replies
// are encoded or delivered (HELLO, CLIENT REPLY, subscriptions, MONITOR), and those that reply
// later (DEBUG SLEEP, CLUSTER's slow subcommands): run after the transaction's operation, they
// would act out of order with the requests that follow EXEC.
func multiServerOK(top, cmd *command.Command) bool {
	switch top.Name {
	case "publish", "spublish", "pubsub", "wait", "lastsave", "info", "config", "command",
		"role", "latency", "memory", "lolwut", "slowlog", "bgsave":
		return true
	case "client":
		return cmd.Name != "client|reply"
	}
	return false
}

// execLocal is a server command queued in MULTI: its place among the transaction's commands.
type execLocal struct {
	pos  int
	args [][]byte
}

// isExecLocal reports whether a queued command runs on the loop rather than in EXEC's operation.
func isExecLocal(q queuedCmd) bool {
	return q.cmd.Run == nil && !multiLocalOK(q.cmd.Name)
}

// execLocals lists the queued server commands with their places.
func execLocals(queued []queuedCmd) []execLocal {
	var out []execLocal
	for i, q := range queued {
		if isExecLocal(q) {
			out = append(out, execLocal{pos: i, args: q.args})
		}
	}
	return out
}

// emitExec writes EXEC's reply r, the array of the data commands' replies, with the server
// commands run and their replies put in their places. Anything else (the WATCH abort's null,
// an error) is written as it is, and the server commands do not run.
func (s *Server) emitExec(cl *Client, p *pendingReply, r []byte) {
	w := &cl.loop.w
	mark := w.Len()
	elems, ok := resp.ArrayElems(r)
	total := len(elems) + len(p.locals)
	if !ok || total != len(p.multi) {
		w.Raw(r)
	} else {
		w.Array(total)
		cl.inExec = true
		next := 0
		for i := 0; i < total; i++ {
			if next < len(p.locals) && p.locals[next].pos == i {
				s.runExecLocal(cl, p.locals[next].args)
				next++
				continue
			}
			w.Raw(elems[i-next])
		}
		cl.inExec = false
		if cl.ps.total() > 0 {
			// Messages to its own channels follow the array, not inside it.
			cl.drainOutbox(w)
		}
		cl.publish()
		cl.ps.proto.Store(int32(cl.proto))
	}
	if p.drop {
		dropReplies(w, mark)
	}
}

// runExecLocal runs one queued server command, writing its reply.
func (s *Server) runExecLocal(cl *Client, args [][]byte) {
	top, sub := resolve(args)
	full := top
	if sub != nil {
		full = sub
	}
	if top == nil || full == nil {
		cl.loop.w.Error("ERR unknown command '" + strings.ToLower(string(args[0])) + "'")
		return
	}
	lh := locals[full.Name]
	if lh == nil {
		lh = locals[top.Name]
	}
	if lh == nil {
		cl.loop.w.Error("ERR command '" + full.Name + "' is not supported by cairn")
		return
	}
	start := time.Now()
	mark := cl.loop.w.Len()
	lh(s, cl, args)
	s.account(full, start, cl.loop.w.Buf[mark:])
	if cl.deferred {
		// Not reached for the commands multiServerOK admits; kept so a mistake cannot
		// leave a reply place reserved for nothing.
		cl.deferred = false
		s.logger.Error("server command deferred its reply inside EXEC", "cmd", full.Name)
	}
}

// dataCmds is EXEC's queued commands without the server commands: those its operation ran.
func (p *pendingReply) dataCmds() []*command.Command {
	if len(p.locals) == 0 {
		return p.multi
	}
	out := make([]*command.Command, 0, len(p.multi)-len(p.locals))
	next := 0
	for i, c := range p.multi {
		if next < len(p.locals) && p.locals[next].pos == i {
			next++
			continue
		}
		out = append(out, c)
	}
	return out
}
