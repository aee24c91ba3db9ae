package script

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/cairn-db/cairn/internal/resp"
)

// Log levels of redis.log, as Redis numbers them.
const (
	LogDebug = iota
	LogVerbose
	LogNotice
	LogWarning
)

// Replication flags of redis.set_repl.
const (
	replNone    = 0
	replAOF     = 1
	replReplica = 2
	replAll     = 3
)

// redisVersionNum encodes a "major.minor.patch" version as Redis's REDIS_VERSION_NUM does.
func redisVersionNum(v string) int {
	parts := strings.SplitN(v, ".", 3)
	n := 0
	for i := 0; i < 3; i++ {
		x := 0
		if i < len(parts) {
			x, _ = strconv.Atoi(parts[i])
		}
		n = n<<8 | x
	}
	return n
}

func (s *session) redisLib() *lua.LTable {
	L := s.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return s.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return s.redisCall(L, false) },
		"error_reply":        s.errorReply,
		"status_reply":       s.statusReply,
		"sha1hex":            s.sha1hex,
		"log":                s.log,
		"setresp":            s.setResp,
		"set_repl":           s.setRepl,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"register_function":  s.registerFunction,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": LogDebug, "LOG_VERBOSE": LogVerbose, "LOG_NOTICE": LogNotice, "LOG_WARNING": LogWarning,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replReplica, "REPL_REPLICA": replReplica, "REPL_ALL": replAll,
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(RedisVersion))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum(RedisVersion)))
	return t
}

// redisCall is redis.call (raise: a command's error is raised) and redis.pcall (it is
// returned as an error table).
func (s *session) redisCall(L *lua.LState, raise bool) int {
	if s.register != nil {
		s.raiseString(L, "Attempt to call redis.call while loading a library")
	}
	n := L.GetTop()
	fail := func(msg string) int {
		if raise {
			s.raiseTable(L, msg)
		}
		L.Push(errorTable(L, msg))
		return 1
	}
	if n == 0 {
		return fail("ERR Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = appendLuaNumber(nil, float64(v))
		default:
			return fail("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	if s.req.Host == nil {
		return fail("ERR Unknown Redis command called from script")
	}
	reply := s.req.Host.Call(args, s.resp)
	if raise && len(reply) > 0 && reply[0] == '-' {
		msg, _, _ := strings.Cut(string(reply[1:]), "\r\n")
		s.raiseTable(L, msg)
	}
	v, _ := parseReply(L, reply, s.resp)
	L.Push(v)
	return 1
}

// appendLuaNumber formats a number argument of redis.call as Redis does: integers exactly,
// other values in the shortest form that reads back.
func appendLuaNumber(dst []byte, f float64) []byte {
	if f == float64(int64(f)) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return resp.AppendDouble(dst, f)
}

func errorTable(L *lua.LState, msg string) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	return t
}

func (s *session) errorReply(L *lua.LState) int {
	msg := L.CheckString(1)
	L.Push(errorTable(L, msg))
	return 1
}

func (s *session) statusReply(L *lua.LState) int {
	t := L.NewTable()
	t.RawSetString("ok", lua.LString(L.CheckString(1)))
	L.Push(t)
	return 1
}

func (s *session) sha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		s.raiseString(L, "wrong number of arguments")
	}
	L.Push(lua.LString(SHA1Hex([]byte(L.ToString(1)))))
	return 1
}

func (s *session) log(L *lua.LState) int {
	if L.GetTop() < 2 {
		s.raiseString(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		s.raiseString(L, "First argument must be a number (log level).")
	}
	if lv < LogDebug || lv > LogWarning {
		s.raiseString(L, "Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= L.GetTop(); i++ {
		if i > 2 {
			b.WriteByte(' ')
		}
		v := L.Get(i)
		if n, ok := v.(lua.LNumber); ok {
			b.WriteString(formatNumber(float64(n)))
		} else {
			b.WriteString(v.String())
		}
	}
	if s.req.Log != nil {
		s.req.Log(int(lv), b.String())
	}
	return 0
}

func (s *session) setResp(L *lua.LState) int {
	if L.GetTop() != 1 {
		s.raiseString(L, "redis.setresp() requires one argument.")
	}
	v := L.CheckInt(1)
	if v != 2 && v != 3 {
		s.raiseString(L, "RESP version must be 2 or 3.")
	}
	s.resp = v
	return 0
}

// setRepl is redis.set_repl. Cairn's replicas run the whole script, so every write reaches
// every replica whatever the flags; they are validated as Redis validates them.
func (s *session) setRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		s.raiseString(L, "redis.set_repl() requires one argument.")
	}
	v := L.CheckInt(1)
	if v < replNone || v > replAll {
		s.raiseString(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	return 0
}
