package server

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/shard"
)

func init() {
	registerLocal("debug", cmdDebug)
}

const errDebugNotAllowed = `ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`

// debugAllowed applies enable-debug-command, whose default is "no" as in Redis.
func (s *Server) debugAllowed(cl *Client) bool {
	switch s.cfg.EnableDebugCommand {
	case "yes":
		return true
	case "local":
		host, _, err := net.SplitHostPort(cl.raddr)
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

func cmdDebug(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if !s.debugAllowed(cl) {
		w.Error(errDebugNotAllowed)
		return
	}
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		writeHelp(w, "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ERROR <string>", "    Return an error reply with <string> as its message.",
			"LOG <message>", "    Write <message> to the server log.",
			"OBJECT <key>", "    Show low level info about `key` and associated value.",
			"SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background when they are not",
			"    accessed (otherwise the default behavior). Setting it to 1 reenables it.",
			"SLEEP <seconds>", "    Delay this connection's reply by <seconds>. Decimals allowed.",
			"    (cairn delays only the calling connection; the server keeps serving others.)",
			"HELP", "    Print this help.")
	case sub == "sleep" && len(args) == 3:
		debugSleep(s, cl, args[2])
	case sub == "object" && len(args) == 3:
		s.debugObject(cl, args[2])
	case sub == "error" && len(args) == 3:
		w.Error(string(args[2]))
	case sub == "log" && len(args) == 3:
		s.logger.Warn("DEBUG LOG: " + string(args[2]))
		w.OK()
	case sub == "set-active-expire" && len(args) == 3:
		on, ok := command.ParseInt(args[2])
		if !ok {
			w.Error(command.ErrNotInt)
			return
		}
		s.noActiveExpire.Store(on == 0)
		w.OK()
	case isRedisDebugSub(sub):
		w.Error("ERR DEBUG " + strings.ToUpper(sub) + " is not supported by cairn")
	default:
		w.Error("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try DEBUG HELP.")
	}
}

// isRedisDebugSub lists the DEBUG subcommands Redis has that cairn does not.
func isRedisDebugSub(sub string) bool {
	switch sub {
	case "aof-flush-sleep", "assert", "change-repl-id", "config-rewrite-force-all", "crash-and-recover",
		"digest", "digest-value", "leak", "htstats", "htstats-key", "loadaof", "replicate", "mallctl",
		"mallctl-str", "drop-cluster-packet-filter", "oom", "panic", "populate", "protocol", "reload",
		"restart", "sdslen", "segfault", "quicklist-packed-threshold", "set-skip-checksum-validation",
		"stringmatch-test", "structsize", "listpack", "quicklist", "client-eviction", "pause-cron",
		"replybuffer", "jmap", "dict-resizing", "script":
		return true
	}
	return false
}

// debugSleep delays the reply without blocking the event loop: the connection is parked and
// its reply delivered when the timer fires. Like Redis, a value that is not a number sleeps 0.
func debugSleep(s *Server, cl *Client, arg []byte) {
	secs, err := strconv.ParseFloat(string(arg), 64)
	if err != nil || secs < 0 {
		secs = 0
	}
	d := time.Duration(secs * float64(time.Second))
	pos := cl.reserveLocal()
	cl.deferred = true
	time.AfterFunc(d, func() { cl.complete(pos, []byte("+OK\r\n"), nil) })
}

// debugObject answers DEBUG OBJECT in Redis's line format. cairn stores values in its own
// layout, so the encoding is the one Redis would choose for a value of that size, and
// serializedlength an estimate.
func (s *Server) debugObject(cl *Client, key []byte) {
	w := &cl.loop.w
	var tx keyspace.Tx
	h := s.hostedShard(s.keyShard(key))
	if h == nil {
		w.Error(command.ErrNoSuchKey)
		return
	}
	v := h.sh.Acquire()
	defer v.Release()
	shard.PointTx(&tx, v, cl.db, time.Now().UnixMilli())
	e, err := tx.Lookup(key)
	if err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	if !e.Exists() {
		w.Error(command.ErrNoSuchKey)
		return
	}
	enc := redisEncoding(&e.Meta)
	size := e.StrLen()
	if e.Type.IsCollection() {
		size = e.Count * 8
	}
	lru := (time.Now().Unix()) & (1<<24 - 1)
	line := fmt.Sprintf("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:0",
		uintptr(0x7f0000000000)+uintptr(len(key)), enc, size, lru)
	if enc == "quicklist" {
		line += fmt.Sprintf(" ql_nodes:1 ql_avg_node:%.2f ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:%d", float64(e.Count), size)
	}
	w.Status(line)
}

// redisEncoding is the encoding Redis would give a value like this one, for OBJECT-style
// reports.
func redisEncoding(m *keyspace.Meta) string {
	switch m.Type {
	case keyspace.TypeString:
		if m.Chunked {
			return "raw"
		}
		if _, ok := command.ParseInt(m.Value); ok && len(m.Value) <= 20 && (len(m.Value) == 1 || m.Value[0] != '0') {
			return "int"
		}
		if len(m.Value) <= 44 {
			return "embstr"
		}
		return "raw"
	case keyspace.TypeList:
		if m.Count <= 128 {
			return "listpack"
		}
		return "quicklist"
	case keyspace.TypeSet, keyspace.TypeHash:
		if m.Count <= 128 {
			return "listpack"
		}
		return "hashtable"
	case keyspace.TypeZSet:
		if m.Count <= 128 {
			return "listpack"
		}
		return "skiplist"
	case keyspace.TypeStream:
		return "stream"
	}
	return "unknown"
}
