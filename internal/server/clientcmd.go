package server

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/command"
)

func init() {
	registerLocal("client", cmdClient)
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
		clientSetInfo(cl, args)
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
		cl.publish()
		w.Verbatim(s.clientLine(cl, cl.snapshotInfo(), time.Now().UnixMilli()) + "\n")
	case "list":
		s.clientList(cl, args)
	case "kill":
		s.clientKill(cl, args)
	case "pause":
		s.clientPause(cl, args)
	case "unpause":
		s.unpauseClients()
		w.OK()
	case "unblock":
		cmdClientUnblock(s, cl, args)
	case "help":
		writeHelp(w, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CACHING (YES|NO)",
			"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
			"GETREDIR",
			"    Return the client ID we are redirecting to when tracking is enabled.",
			"GETNAME", "    Return the name of the current connection.",
			"ID", "    Return the ID of the current connection.",
			"INFO", "    Return information about the current client connection.",
			"KILL <ip:port>", "    Kill connection made from <ip:port>.",
			"KILL <option> <value> [<option> <value> [...]]",
			"    Kill connections. Options are:",
			"    * ADDR (<ip:port>|<unixsocket>:0)",
			"      Kill connections made from the specified address",
			"    * LADDR (<ip:port>|<unixsocket>:0)",
			"      Kill connections made to specified local address",
			"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
			"      Kill connections by type.",
			"    * USER <username>",
			"      Kill connections authenticated by <username>.",
			"    * SKIPME (YES|NO)",
			"      Skip killing current connection (default: yes).",
			"    * ID <client-id>",
			"      Kill connections by client id.",
			"    * MAXAGE <maxage>",
			"      Kill connections older than the specified age.",
			"LIST [options ...]",
			"    Return information about client connections. Options:",
			"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
			"      Return clients of specified type.",
			"    * ID <client-id> [<client-id> ...]",
			"      Return clients of specified IDs only.",
			"PAUSE <timeout> [WRITE|ALL]",
			"    Suspend all, or just write, clients for <timeout> milliseconds.",
			"UNPAUSE", "    Stop the current client pause, resuming traffic.",
			"UNBLOCK <clientid> [TIMEOUT|ERROR]",
			"    Unblock the specified blocked client.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"SETINFO <option> <value>", "    Set client meta attr. Options are:",
			"    * LIB-NAME: the client lib name.",
			"    * LIB-VER: the client lib version.",
			"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
			"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
			"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
			"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
			"         [OPTIN] [OPTOUT] [NOLOOP]",
			"    Control server assisted client side caching.",
			"TRACKINGINFO", "    Report tracking status for the current connection.",
			"HELP", "    Print this help.")
	case "tracking":
		s.clientTracking(cl, args)
	case "caching":
		s.clientCaching(cl, args)
	case "getredir":
		s.clientGetRedir(cl)
	case "trackinginfo":
		s.clientTrackingInfo(cl)
	default:
		w.Error("ERR CLIENT " + strings.ToUpper(sub) + " is not supported by cairn yet")
	}
}

func validClientName(name []byte) string {
	for _, c := range name {
		if c < '!' || c > '~' {
			return "ERR Client names cannot contain spaces, newlines or special characters."
		}
	}
	return ""
}

func clientSetInfo(cl *Client, args [][]byte) {
	w := &cl.loop.w
	attr := string(args[2])
	var dest *string
	switch strings.ToLower(attr) {
	case "lib-name":
		dest = &cl.libName
	case "lib-ver":
		dest = &cl.libVer
	default:
		w.Error("ERR Unrecognized option '" + attr + "'")
		return
	}
	for _, c := range args[3] {
		if c < '!' || c > '~' {
			w.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	*dest = string(args[3])
	w.OK()
}

// clientOverhead approximates the memory a connection costs beyond its buffers: the session,
// the gnet connection and its socket buffers' bookkeeping.
const clientOverhead = 1024

// clientLine formats one line of CLIENT LIST, fields in Redis 8's order.
func (s *Server) clientLine(c *Client, in clientInfo, now int64) string {
	qbuf, omem := c.qbuf.Load(), c.omem.Load()
	cmd := "NULL"
	if lc := c.lastCmd.Load(); lc != nil {
		cmd = lc.Name
	}
	var b strings.Builder
	b.Grow(320)
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	num := func(k string, v int64) { field(k, strconv.FormatInt(v, 10)) }
	num("id", c.id)
	field("addr", c.raddr)
	field("laddr", c.laddr)
	num("fd", int64(c.conn.Fd()))
	field("name", in.name)
	num("age", (now-c.created)/1000)
	num("idle", (now-c.lastActive.Load())/1000)
	field("flags", in.flags)
	num("db", int64(in.db))
	num("sub", int64(c.ps.nsub.Load()))
	num("psub", int64(c.ps.npsub.Load()))
	num("ssub", int64(c.ps.nssub.Load()))
	num("multi", int64(in.multi))
	num("watch", 0)
	num("qbuf", qbuf)
	num("qbuf-free", 0)
	num("argv-mem", 0)
	num("multi-mem", int64(in.multiMem))
	num("rbs", qbuf)
	num("rbp", qbuf)
	num("obl", 0)
	num("oll", 0)
	num("omem", omem)
	num("tot-mem", qbuf+omem+int64(in.multiMem)+clientOverhead)
	field("events", "r")
	field("cmd", cmd)
	field("user", in.user.Name())
	num("redir", c.trackingRedirect())
	num("resp", int64(in.proto))
	field("lib-name", in.libName)
	field("lib-ver", in.libVer)
	num("io-thread", 0)
	return b.String()
}

func (s *Server) snapshotClients() []*Client {
	s.clientsMu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.clientsMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// validClientType checks a TYPE filter's value and returns the type it names.
func validClientType(v []byte) (typ string, ok bool) {
	switch t := strings.ToLower(string(v)); t {
	case "normal", "master", "replica", "pubsub":
		return t, true
	case "slave":
		return "replica", true
	}
	return "", false
}

// clientType is a client's type for TYPE filters: pubsub while it has subscriptions, as in
// Redis; cairn has no replica or master connections yet.
func clientType(c *Client) string {
	if c.ps.subscribed() {
		return "pubsub"
	}
	return "normal"
}

func (s *Server) clientList(cl *Client, args [][]byte) {
	w := &cl.loop.w
	cl.publish()
	clients := s.snapshotClients()
	var ids map[int64]bool
	switch {
	case len(args) == 2:
	case len(args) == 4 && command.EqualFold(args[2], "type"):
		typ, ok := validClientType(args[3])
		if !ok {
			w.Error("ERR Unknown client type '" + string(args[3]) + "'")
			return
		}
		clients = slices.DeleteFunc(clients, func(c *Client) bool { return clientType(c) != typ })
	case len(args) >= 4 && command.EqualFold(args[2], "id"):
		ids = map[int64]bool{}
		for _, a := range args[3:] {
			id, ok := command.ParseInt(a)
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
	now := time.Now().UnixMilli()
	var b strings.Builder
	for _, c := range clients {
		if ids != nil && !ids[c.id] || c.killed.Load() {
			continue // killed clients are on their way out
		}
		b.WriteString(s.clientLine(c, c.snapshotInfo(), now))
		b.WriteByte('\n')
	}
	w.Verbatim(b.String())
}

// killFilter is CLIENT KILL's new form: every option given must match.
type killFilter struct {
	id          int64
	addr, laddr string
	skipMe      bool
	maxAge      int64
	typ         string
	user        *acl.Handle
	none        bool // a TYPE or USER that no client has
}

func (f *killFilter) match(c, self *Client, now int64) bool {
	switch {
	case f.none,
		f.id != 0 && c.id != f.id,
		f.addr != "" && c.raddr != f.addr,
		f.laddr != "" && c.laddr != f.laddr,
		f.skipMe && c == self,
		f.maxAge > 0 && (now-c.created)/1000 < f.maxAge,
		f.typ != "" && clientType(c) != f.typ,
		f.user != nil && c.snapshotInfo().user != f.user:
		return false
	}
	return true
}

func (s *Server) clientKill(cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) == 3 {
		// Old form: CLIENT KILL addr:port.
		for _, c := range s.snapshotClients() {
			if c.raddr == string(args[2]) {
				s.kill(c, cl)
				w.OK()
				return
			}
		}
		w.Error("ERR No such client")
		return
	}
	f := killFilter{skipMe: true}
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			w.Error(command.ErrSyntax)
			return
		}
		v := args[i+1]
		switch strings.ToLower(string(args[i])) {
		case "id":
			n, ok := command.ParseInt(v)
			if !ok || n <= 0 {
				w.Error("ERR client-id should be greater than 0")
				return
			}
			f.id = n
		case "addr":
			f.addr = string(v)
		case "laddr":
			f.laddr = string(v)
		case "skipme":
			switch strings.ToLower(string(v)) {
			case "yes":
				f.skipMe = true
			case "no":
				f.skipMe = false
			default:
				w.Error(command.ErrSyntax)
				return
			}
		case "maxage":
			n, ok := command.ParseInt(v)
			if !ok {
				w.Error(command.ErrNotInt)
				return
			}
			f.maxAge = n
		case "type":
			typ, ok := validClientType(v)
			if !ok {
				w.Error("ERR Unknown client type '" + string(v) + "'")
				return
			}
			f.typ = typ
		case "user":
			h := s.acl.Get(string(v))
			if h == nil {
				w.Error("ERR No such user '" + string(v) + "'")
				return
			}
			f.user = h
		default:
			w.Error(command.ErrSyntax)
			return
		}
	}
	killed := 0
	now := time.Now().UnixMilli()
	for _, c := range s.snapshotClients() {
		if f.match(c, cl, now) {
			s.kill(c, cl)
			killed++
		}
	}
	w.Int(int64(killed))
}

// kill closes a client from any loop. A client killing itself gets its reply first.
func (s *Server) kill(c, self *Client) {
	if c == self {
		c.closeAfterReply = true
		return
	}
	c.killed.Store(true)
	_ = c.conn.Close()
}

func (s *Server) clientPause(cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) > 4 {
		w.Error("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try CLIENT HELP.")
		return
	}
	ms, ok := command.ParseInt(args[2])
	if !ok {
		w.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		w.Error("ERR timeout is negative")
		return
	}
	mode := pauseAll
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			mode = pauseWrite
		case "all":
		default:
			w.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		ms = math.MaxInt64 / int64(time.Millisecond)
	}
	s.pauseClients(time.Duration(ms)*time.Millisecond, mode)
	w.OK()
}
