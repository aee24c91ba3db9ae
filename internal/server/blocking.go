package server

import (
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
)

// Blocked clients. Apply decides who is blocked and who is served (command/blocking.go); the
// server only keeps the connection parked, runs the timeout, and turns a disconnect or CLIENT
// UNBLOCK into an operation that removes the waiter. A blocked connection costs no polling: it
// waits, parked like any connection with a write in flight, until a reply reaches it.

// token names a client as a waiter.
func (cl *Client) token() uint64 { return uint64(cl.id) | cl.srv.nodeTag() }

// nodeTag qualifies client tokens with the node in cluster mode: every node applies every
// operation, and only the node whose client it is must answer it.
func (s *Server) nodeTag() uint64 {
	if s.cluster == nil {
		return 0
	}
	return s.cluster.id << 40
}

// blockedOn is called (on the apply goroutine) when a client's operation blocked in a shard.
func (cl *Client) blockedOn(shard uint64, timeoutMs int64) {
	s := cl.srv
	cl.mu.Lock()
	cl.isBlocked = true
	cl.blockedShard = shard
	if timeoutMs > 0 {
		cl.blockTimer = time.AfterFunc(time.Duration(timeoutMs)*time.Millisecond, func() {
			s.unblock(cl, command.UnblockTimeout)
		})
	}
	cl.mu.Unlock()
	s.blockedClients.Add(1)
}

// unblocked clears the blocked state; the caller then completes the client with its reply.
func (cl *Client) unblocked() {
	cl.mu.Lock()
	was := cl.isBlocked
	cl.isBlocked = false
	if cl.blockTimer != nil {
		cl.blockTimer.Stop()
		cl.blockTimer = nil
	}
	cl.mu.Unlock()
	if was {
		cl.srv.blockedClients.Add(-1)
	}
}

// blocked reports whether the client waits in a blocking command; safe from any goroutine.
func (cl *Client) blocked() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.isBlocked
}

// unblock proposes the removal of cl's waiter. If it was still registered, the reply for mode
// (the command's null, or -UNBLOCKED) goes to the client; if apply served it first, the served
// reply has already gone and this one says so.
func (s *Server) unblock(cl *Client, mode string) {
	cl.mu.Lock()
	id := cl.blockedShard
	cl.mu.Unlock()
	h := s.hostedShard(id)
	if h == nil {
		return
	}
	data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Time: s.now(), Shard: id, Version: s.opVersion()}, command.UnblockArgs(cl.token(), mode))
	_ = h.sh.Log().Propose(replica.Proposal{Data: data, Done: func(result []byte, err error) {
		if mode == command.UnblockGone {
			cl.unblocked()
			return
		}
		if err != nil || !command.IsReply(result) {
			return
		}
		cl.unblocked()
		cl.finishBlocked(result)
	}})
}

// onServed delivers the replies of waiters served by a committed batch.
func (s *Server) onServed(served []command.Served) {
	for _, sv := range served {
		if sv.Token>>40 != s.nodeTag()>>40 {
			continue // another node's client
		}
		s.clientsMu.Lock()
		cl := s.clients[int64(sv.Token&(1<<40-1))]
		s.clientsMu.Unlock()
		if cl == nil {
			continue // gone: its element went with it, as when Redis's reply is lost in flight
		}
		cl.unblocked()
		cl.finishBlocked(s.fixAsk(sv.Reply)) // -ASK: its slot moves (slotmove.go)
	}
}

func cmdClientUnblock(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	id, ok := command.ParseInt(args[2])
	if !ok {
		w.Error(command.ErrNotInt)
		return
	}
	mode := command.UnblockTimeout
	if len(args) == 4 {
		switch {
		case command.EqualFold(args[3], "timeout"):
		case command.EqualFold(args[3], "error"):
			mode = command.UnblockError
		default:
			w.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(args) > 4 {
		w.Error(command.ErrSyntax)
		return
	}
	s.clientsMu.Lock()
	target := s.clients[id]
	s.clientsMu.Unlock()
	if target == nil || !target.blocked() {
		w.Int(0)
		return
	}
	s.unblock(target, mode)
	w.Int(1)
}
