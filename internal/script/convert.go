package script

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/cairn-db/cairn/internal/resp"
)

// parseReply converts one RESP reply into a Lua value as Redis does for redis.call, in the
// script's protocol: integers become numbers, bulk strings strings, nulls false (RESP2) or nil
// (RESP3), statuses {ok=...}, errors {err=...}, arrays tables; in RESP3 maps {map={...}},
// sets {set={...}}, doubles {double=n}, booleans booleans, big numbers {big_number=s}. It
// returns the value and the bytes it used.
func parseReply(L *lua.LState, b []byte, proto int) (lua.LValue, int) {
	if len(b) < 3 {
		return lua.LFalse, len(b)
	}
	line, next := replyLine(b)
	switch b[0] {
	case '+':
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(line))
		return t, next
	case '-':
		return errorTable(L, string(line)), next
	case ':':
		n, _ := strconv.ParseInt(string(line), 10, 64)
		return lua.LNumber(n), next
	case '$', '=':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return nullValue(proto), next
		}
		s := b[next : next+n]
		if b[0] == '=' {
			t := L.NewTable()
			inner := L.NewTable()
			if len(s) >= 4 {
				inner.RawSetString("format", lua.LString(s[:3]))
				s = s[4:]
			}
			inner.RawSetString("string", lua.LString(s))
			t.RawSetString("verbatim_string", inner)
			return t, next + n + 2
		}
		return lua.LString(s), next + n + 2
	case '*', '~', '>':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return nullValue(proto), next
		}
		t := L.CreateTable(n, 0)
		for i := 0; i < n; i++ {
			v, k := parseReply(L, b[next:], proto)
			next += k
			if b[0] == '~' {
				t.RawSet(v, lua.LTrue)
			} else {
				t.RawSetInt(i+1, v)
			}
		}
		if b[0] == '~' {
			wrap := L.NewTable()
			wrap.RawSetString("set", t)
			return wrap, next
		}
		return t, next
	case '%':
		n, _ := strconv.Atoi(string(line))
		t := L.NewTable()
		for i := 0; i < n; i++ {
			k, used := parseReply(L, b[next:], proto)
			next += used
			v, used := parseReply(L, b[next:], proto)
			next += used
			t.RawSet(k, v)
		}
		wrap := L.NewTable()
		wrap.RawSetString("map", t)
		return wrap, next
	case '|':
		// Attributes are not part of the reply: skip them and read what follows.
		n, _ := strconv.Atoi(string(line))
		for i := 0; i < 2*n; i++ {
			_, used := parseReply(L, b[next:], proto)
			next += used
		}
		v, used := parseReply(L, b[next:], proto)
		return v, next + used
	case '_':
		return nullValue(proto), next
	case '#':
		return lua.LBool(len(line) > 0 && line[0] == 't'), next
	case ',':
		f, _ := strconv.ParseFloat(string(line), 64)
		switch string(line) {
		case "inf":
			f = math.Inf(1)
		case "-inf":
			f = math.Inf(-1)
		case "nan":
			f = math.NaN()
		}
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t, next
	case '(':
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(line))
		return t, next
	}
	return lua.LFalse, len(b)
}

func nullValue(proto int) lua.LValue {
	if proto >= 3 {
		return lua.LNil
	}
	return lua.LFalse
}

// replyLine returns a reply's first line without its type byte, and where the next part starts.
func replyLine(b []byte) ([]byte, int) {
	for i := 1; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[1:i], i + 2
		}
	}
	return b[1:], len(b)
}

// maxReplyDepth bounds how deep a script's returned tables are followed (Redis's limit on
// nested replies); a table that contains itself would otherwise never end.
const maxReplyDepth = 1000

// writeLua writes a script's result as a reply, as Redis converts Lua values: numbers become
// integers (truncated), strings bulk strings, true the integer 1 (a boolean after
// redis.setresp(3)), false and nil a null; a table with a string field err an error, with ok a
// status, double a double, big_number, map, set and verbatim_string the RESP3 types (as their
// RESP2 forms to a RESP2 client); any other table an array of its elements up to the first nil.
func writeLua(w *resp.Writer, v lua.LValue, scriptProto, depth int) {
	if depth > maxReplyDepth {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch v := v.(type) {
	case lua.LString:
		w.Bulk([]byte(v))
	case lua.LNumber:
		w.Int(luaInt(float64(v)))
	case lua.LBool:
		if scriptProto >= 3 {
			w.Bool(bool(v))
		} else if v {
			w.Int(1)
		} else {
			w.Null()
		}
	case *lua.LTable:
		writeTable(w, v, scriptProto, depth)
	default:
		w.Null()
	}
}

// luaInt converts a Lua number to an integer reply as C's cast does: toward zero.
func luaInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return math.MinInt64
	case f >= math.MaxInt64:
		return math.MinInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func writeTable(w *resp.Writer, t *lua.LTable, scriptProto, depth int) {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(string(e))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.Status(string(s))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		w.BigNumber(string(s))
		return
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		n := 0
		m.ForEach(func(lua.LValue, lua.LValue) { n++ })
		w.Map(n)
		m.ForEach(func(k, v lua.LValue) {
			writeLua(w, k, scriptProto, depth+1)
			writeLua(w, v, scriptProto, depth+1)
		})
		return
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		n := 0
		s.ForEach(func(lua.LValue, lua.LValue) { n++ })
		w.Set(n)
		s.ForEach(func(k, _ lua.LValue) { writeLua(w, k, scriptProto, depth+1) })
		return
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		if s, ok := vs.RawGetString("string").(lua.LString); ok {
			if w.RESP3() {
				w.Verbatim(string(s))
			} else {
				w.Bulk([]byte(s))
			}
			return
		}
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.Array(n)
	for i := 1; i <= n; i++ {
		writeLua(w, t.RawGetInt(i), scriptProto, depth+1)
	}
}
