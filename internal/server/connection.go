package server

import (
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	registerLocal("client", cmdClient)
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
	cl.db = int(db)
	cl.loop.w.OK()
}

func (s *Server) checkPassword(user, pass []byte) bool {
	if user != nil && !strings.EqualFold(string(user), "default") {
		return false
	}
	if s.cfg.RequirePass == "" {
		return true
	}
	return subtle.ConstantTimeCompare(pass, []byte(s.cfg.RequirePass)) == 1
}

func cmdAuth(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	var user, pass []byte
	switch len(args) {
	case 2:
		pass = args[1]
		if s.cfg.RequirePass == "" {
			w.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	case 3:
		user, pass = args[1], args[2]
	default:
		w.Error(command.ErrSyntax)
		return
	}
	if !s.checkPassword(user, pass) {
		w.Error("WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	cl.authed = true
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
	var name []byte
	setName := false
	for ; i < len(args); i++ {
		switch {
		case command.EqualFold(args[i], "auth") && i+2 < len(args):
			if !s.checkPassword(args[i+1], args[i+2]) {
				w.Error("WRONGPASS invalid username-password pair or user is disabled.")
				return
			}
			cl.authed = true
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
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.Array(0)
}

func cmdQuit(s *Server, cl *Client, args [][]byte) {
	cl.loop.w.OK()
	cl.closeAfterReply = true
}

func cmdReset(s *Server, cl *Client, args [][]byte) {
	cl.multi, cl.multiDirty, cl.queued = false, false, nil
	s.unwatchAll(cl)
	cl.db = 0
	cl.proto = 2
	cl.loop.w.Proto = 2
	cl.replyMode = replyOn
	cl.noEvict, cl.noTouch = false, false
	cl.authed = s.cfg.RequirePass == ""
	cl.loop.w.Status("RESET")
}

func cmdMulti(s *Server, cl *Client, args [][]byte) {
	if cl.multi {
		cl.loop.w.Error("ERR MULTI calls can not be nested")
		return
	}
	cl.multi, cl.multiDirty, cl.queued = true, false, nil
	cl.loop.w.OK()
}

func cmdDiscard(s *Server, cl *Client, args [][]byte) {
	if !cl.multi {
		cl.loop.w.Error("ERR DISCARD without MULTI")
		return
	}
	cl.multi, cl.multiDirty, cl.queued = false, false, nil
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
	cl.multi, cl.multiDirty, cl.queued = false, false, nil
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

// execProposal turns the queued commands into one operation, applied atomically, with the
// WATCH check as its first command when keys are watched.
func (s *Server) execProposal(cl *Client) *Proposal {
	queued := cl.queued
	cl.multi, cl.multiDirty, cl.queued = false, false, nil
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
	return s.proposal(cl, flags, queued...)
}

func validClientName(name []byte) string {
	for _, c := range name {
		if c < '!' || c > '~' {
			return "ERR Client names cannot contain spaces, newlines or special characters."
		}
	}
	return ""
}

func cmdClient(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "id":
		w.Int(cl.id)
	case "getname":
		if cl.name == "" {
			w.Null()
		} else {
			w.BulkString(cl.name)
		}
	case "setname":
		if msg := validClientName(args[2]); msg != "" {
			w.Error(msg)
			return
		}
		cl.name = string(args[2])
		w.OK()
	case "setinfo":
		attr := strings.ToLower(string(args[2]))
		for _, c := range args[3] {
			if c < '!' || c > '~' {
				w.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
				return
			}
		}
		switch attr {
		case "lib-name":
			cl.libName = string(args[3])
		case "lib-ver":
			cl.libVer = string(args[3])
		default:
			w.Error("ERR Unrecognized option '" + string(args[2]) + "'")
			return
		}
		w.OK()
	case "reply":
		switch strings.ToLower(string(args[2])) {
		case "on":
			cl.replyMode = replyOn
			w.OK()
		case "off":
			cl.replyMode = replyOff
		case "skip":
			if cl.replyMode != replyOff {
				cl.replyMode = replySkipNext
			}
		default:
			w.Error(command.ErrSyntax)
		}
	case "no-evict", "no-touch":
		var on bool
		switch strings.ToLower(string(args[2])) {
		case "on":
			on = true
		case "off":
		default:
			w.Error(command.ErrSyntax)
			return
		}
		if sub == "no-evict" {
			cl.noEvict = on
		} else {
			cl.noTouch = on
		}
		w.OK()
	case "info":
		w.Verbatim(s.clientInfo(cl) + "\n")
	case "list":
		s.clientList(cl, args)
	case "kill":
		s.clientKill(cl, args)
	case "unblock":
		if len(args) < 3 {
			w.Error(command.ErrWrongArgs("client|unblock"))
			return
		}
		cmdClientUnblock(s, cl, args)
	case "help":
		lines := []string{
			"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GETNAME", "    Return the name of the current connection.",
			"ID", "    Return the ID of the current connection.",
			"INFO", "    Return information about the current client connection.",
			"KILL <ip:port>", "    Kill connection made from <ip:port>.",
			"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME, MAXAGE.",
			"LIST [options ...]", "    Return information about client connections. Options: TYPE (NORMAL|MASTER|REPLICA|PUBSUB), ID <id>...",
			"NO-EVICT (ON|OFF)", "    Protect the current client connection from eviction.",
			"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
			"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
			"SETINFO <option> <value>", "    Set client meta attr. Options are LIB-NAME, LIB-VER.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"HELP", "    Print this help.",
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.Status(l)
		}
	default:
		w.Error("ERR unknown subcommand '" + string(args[1]) + "'. Try CLIENT HELP.")
	}
}

// clientInfo formats one line of CLIENT LIST for cl.
func (s *Server) clientInfo(cl *Client) string {
	now := time.Now().UnixMilli()
	flags := "N"
	if cl.multi {
		flags = "x"
	}
	if cl.noEvict {
		flags += "e"
	}
	if cl.noTouch {
		flags += "T"
	}
	multi := -1
	if cl.multi {
		multi = len(cl.queued)
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=0 psub=0 ssub=0 multi=%d watch=0 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s",
		cl.id, cl.raddr, cl.laddr, cl.conn.Fd(), cl.name, (now-cl.created)/1000, (now-cl.lastActive.Load())/1000,
		flags, cl.db, multi, cl.lastCmdName(), cl.proto, cl.libName, cl.libVer)
}

func (cl *Client) lastCmdName() string {
	if cl.lastCmd == "" {
		return "NULL"
	}
	return cl.lastCmd
}

func (s *Server) snapshotClients() []*Client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}

func (s *Server) clientList(cl *Client, args [][]byte) {
	w := &cl.loop.w
	clients := s.snapshotClients()
	var ids map[int64]bool
	for i := 2; i < len(args); i++ {
		switch {
		case command.EqualFold(args[i], "type") && i+1 < len(args):
			switch strings.ToLower(string(args[i+1])) {
			case "normal":
			case "master", "replica", "slave", "pubsub":
				clients = nil
			default:
				w.Error("ERR Unknown client type '" + string(args[i+1]) + "'")
				return
			}
			i++
		case command.EqualFold(args[i], "id") && i+1 < len(args):
			ids = map[int64]bool{}
			for i++; i < len(args); i++ {
				id, ok := command.ParseInt(args[i])
				if !ok || id <= 0 {
					w.Error("ERR Invalid client ID")
					return
				}
				ids[id] = true
			}
		default:
			w.Error(command.ErrSyntax)
			return
		}
	}
	var b strings.Builder
	sortClients(clients)
	for _, c := range clients {
		if ids != nil && !ids[c.id] {
			continue
		}
		b.WriteString(s.clientInfo(c))
		b.WriteByte('\n')
	}
	w.Verbatim(b.String())
}

func sortClients(cs []*Client) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].id < cs[j-1].id; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func (s *Server) clientKill(cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) == 3 {
		// Old form: CLIENT KILL addr:port.
		for _, c := range s.snapshotClients() {
			if c.raddr == string(args[2]) {
				s.kill(c)
				w.OK()
				return
			}
		}
		w.Error("ERR No such client")
		return
	}
	var (
		id            int64
		addr, laddr   string
		skipMe              = true
		maxAge        int64 = -1
		filterApplied bool
	)
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			w.Error(command.ErrSyntax)
			return
		}
		v := string(args[i+1])
		switch strings.ToLower(string(args[i])) {
		case "id":
			n, ok := command.ParseInt(args[i+1])
			if !ok || n <= 0 {
				w.Error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "addr":
			addr = v
		case "laddr":
			laddr = v
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				w.Error(command.ErrSyntax)
				return
			}
		case "maxage":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				w.Error(command.ErrSyntax)
				return
			}
			maxAge = n
		case "type":
			switch strings.ToLower(v) {
			case "normal", "master", "replica", "slave", "pubsub":
			default:
				w.Error("ERR Unknown client type '" + v + "'")
				return
			}
			if strings.ToLower(v) != "normal" {
				filterApplied = true
				id = -1 // matches no one: cairn has no replica or pub/sub clients of that type yet
			}
		case "user":
			// Only the default user exists.
			if v != "default" {
				id = -1
			}
		default:
			w.Error(command.ErrSyntax)
			return
		}
	}
	_ = filterApplied
	killed := 0
	now := time.Now().UnixMilli()
	for _, c := range s.snapshotClients() {
		if (id != 0 && c.id != id) || (addr != "" && c.raddr != addr) || (laddr != "" && c.laddr != laddr) ||
			(skipMe && c == cl) || (maxAge >= 0 && (now-c.created)/1000 < maxAge) {
			continue
		}
		s.kill(c)
		killed++
	}
	w.Int(int64(killed))
}

// kill closes a client from any loop.
func (s *Server) kill(c *Client) {
	c.killed.Store(true)
	if c.loop == nil {
		return
	}
	_ = c.conn.Close()
}
