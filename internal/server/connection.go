package server

import (
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// Version is the Redis version cairn reports, the one whose semantics it follows.
const Version = "8.2.0"

// CairnVersion is cairn's own version.
const CairnVersion = "0.1.0"

func init() {
	registerLocal("select", cmdSelect)
	registerLocal("hello", cmdHello)
	registerLocal("auth", cmdAuth)
	registerLocal("quit", cmdQuit)
	registerLocal("reset", cmdReset)
	registerLocal("multi", cmdMulti)
	registerLocal("exec", cmdExec)
	registerLocal("discard", cmdDiscard)
}

func cmdSelect(s *Server, cl *Client, args [][]byte) {
	db, ok := command.ParseInt(args[1])
	if !ok {
		cl.loop.w.Error(command.ErrNotInt)
		return
	}
	if db < 0 || db >= keyspace.NumDBs {
		cl.loop.w.Error(command.ErrDBIndex)
		return
	}
	if s.cluster != nil && db != 0 {
		cl.loop.w.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	cl.db = int(db)
	cl.loop.w.OK()
}

func cmdAuth(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	var user, pass []byte
	switch len(args) {
	case 2:
		pass = args[1]
		if s.acl.Default().User().NoPass() {
			w.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	case 3:
		user, pass = args[1], args[2]
	default:
		w.Error(command.ErrSyntax)
		return
	}
	if !s.authenticate(cl, user, pass, args[0]) {
		w.Error("WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	w.OK()
}

func cmdHello(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	proto := cl.proto
	i := 1
	if len(args) > 1 {
		v, ok := command.ParseInt(args[1])
		if !ok {
			w.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			w.Error("NOPROTO unsupported protocol version")
			return
		}
		proto = int(v)
		i = 2
	}
	var name, user, pass []byte
	setName := false
	for ; i < len(args); i++ {
		switch {
		case command.EqualFold(args[i], "auth") && i+2 < len(args):
			// The last AUTH given counts, checked once every option is known.
			user, pass = args[i+1], args[i+2]
			i += 2
		case command.EqualFold(args[i], "setname") && i+1 < len(args):
			if msg := validClientName(args[i+1]); msg != "" {
				w.Error(msg)
				return
			}
			name, setName = args[i+1], true
			i++
		default:
			w.Error("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if user != nil && !s.authenticate(cl, user, pass, args[0]) {
		w.Error("WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	if !cl.authed {
		w.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if setName {
		cl.name = string(name)
	}
	cl.proto = proto
	w.Proto = proto
	w.Map(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(Version)
	w.BulkString("proto")
	w.Int(int64(proto))
	w.BulkString("id")
	w.Int(cl.id)
	w.BulkString("mode")
	w.BulkString(s.mode())
	w.BulkString("role")
	w.BulkString(s.role())
	w.BulkString("modules")
	w.Array(0)
}

func cmdQuit(s *Server, cl *Client, args [][]byte) {
	cl.loop.w.OK()
	cl.closeAfterReply = true
}

func cmdReset(s *Server, cl *Client, args [][]byte) {
	cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = false, false, nil, noSlot
	s.unwatchAll(cl)
	cl.db = 0
	cl.proto = 2
	cl.loop.w.Proto = 2
	cl.replyMode = replyOn
	cl.noEvict, cl.noTouch = false, false
	cl.user = s.acl.Default()
	cl.authed = defaultAuthed(cl.user)
	s.resetPubsub(cl)
	cl.loop.w.Status("RESET")
}

func cmdMulti(s *Server, cl *Client, args [][]byte) {
	if cl.multi {
		cl.loop.w.Error("ERR MULTI calls can not be nested")
		return
	}
	cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = true, false, nil, noSlot
	cl.loop.w.OK()
}

func cmdDiscard(s *Server, cl *Client, args [][]byte) {
	if !cl.multi {
		cl.loop.w.Error("ERR DISCARD without MULTI")
		return
	}
	cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = false, false, nil, noSlot
	s.unwatchAll(cl)
	cl.loop.w.OK()
}

// cmdExec is reached only when EXEC replies at once: outside MULTI, or after a queueing error.
// A valid EXEC is turned into one operation by execProposal.
func cmdExec(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if !cl.multi {
		w.Error("ERR EXEC without MULTI")
		return
	}
	dirty := cl.multiDirty
	queued := cl.queued
	cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = false, false, nil, noSlot
	watchDirty := cl.watchDirty.Load()
	s.unwatchAll(cl)
	switch {
	case dirty:
		w.Error("EXECABORT Transaction discarded because of previous errors.")
	case watchDirty:
		w.NullArray()
	case len(queued) == 0:
		w.Array(0)
	default:
		panic("server: EXEC with queued commands must be proposed")
	}
}

// execProposal turns the queued commands into one operation for shard h, applied atomically,
// with the WATCH check as its first command when keys are watched.
func (s *Server) execProposal(cl *Client, h *hosted) *Proposal {
	var queued [][][]byte
	for _, q := range cl.queued {
		if !isExecLocal(q) { // server commands run when the reply is in (multilocal.go)
			queued = append(queued, q.args)
		}
	}
	cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = false, false, nil, noSlot
	flags := byte(command.OpMulti)
	if len(cl.watched) > 0 {
		ws := make([]command.Watched, len(cl.watched))
		for i, wk := range cl.watched {
			ws[i] = wk.Watched
		}
		queued = append([][][]byte{command.WatchArgs(ws)}, queued...)
		flags |= command.OpWatch
	}
	s.unwatchAll(cl)
	for _, args := range queued {
		if command.EqualFold(args[0], "select") {
			if db, ok := command.ParseInt(args[1]); ok && db >= 0 && db < keyspace.NumDBs {
				cl.db = int(db)
			}
		}
	}
	p := s.proposal(cl, h, flags, queued...)
	return &p
}
