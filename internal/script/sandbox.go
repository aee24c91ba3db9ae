package script

import (
	"context"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// session is one script's Lua state. Every run gets a fresh state, so nothing a script does
// outlives it, and one script's run cannot see another's.
type session struct {
	L      *lua.LState
	req    Request
	source string // "user_script" or "user_function"
	name   string // the script's SHA1 or the function's name, for error texts
	// resp is the protocol redis.call's replies are converted from (redis.setresp).
	resp int
	// errLine is the script line of the last error raised through redis.call, error() or the
	// sandbox, for the "on @user_script:N" suffix.
	errLine int
	rnd     rand48
	// register, set while a library's code is loaded, receives redis.register_function's calls.
	register func(L *lua.LState) int
}

// removedBase are the base library's functions Redis does not give scripts.
var removedBase = []string{"dofile", "loadfile", "print", "module", "require", "newproxy",
	"setfenv", "getfenv", "_printregs", "_GOPHER_LUA_VERSION"}

func newSession(ctx context.Context, req Request, source, name string) *session {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, MinimizeStackMemory: true, RegistrySize: 1024, RegistryMaxSize: 1 << 22, RegistryGrowStep: 1024})
	s := &session{L: L, req: req, source: source, name: name, resp: 2}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{"", lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, n := range removedBase {
		g.RawSetString(n, lua.LNil)
	}
	// Lua's own package library is not opened, but OpenBase registers its loaders' table.
	g.RawSetString("package", lua.LNil)
	g.RawSetString("error", L.NewFunction(s.luaError))
	g.RawSetString("tostring", L.NewFunction(luaToString))
	g.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	s.rnd.seed(req.Seed)
	if m, ok := g.RawGetString("math").(*lua.LTable); ok {
		m.RawSetString("random", L.NewFunction(s.mathRandom))
		m.RawSetString("randomseed", L.NewFunction(s.mathRandomSeed))
	}
	g.RawSetString("redis", s.redisLib())
	g.RawSetString("cjson", openCJSON(L))
	g.RawSetString("cmsgpack", openCMsgpack(L))
	g.RawSetString("bit", openBit(L))
	g.RawSetString("struct", openStruct(L))
	if ctx != nil {
		L.SetContext(ctx)
	}
	return s
}

func (s *session) close() { s.L.Close() }

// lockGlobals makes the global table read-only, as Redis does once a script is loaded: reading
// a global that does not exist and creating one are errors.
func (s *session) lockGlobals() {
	L := s.L
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		s.raiseString(L, "Script attempted to access nonexistent global variable '"+L.ToString(2)+"'")
		return 0
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		s.raiseString(L, "Attempt to modify a readonly table")
		return 0
	}))
	L.SetMetatable(L.G.Global, mt)
}

// currentLine is the script line that called the running Go function.
func (s *session) currentLine(L *lua.LState, level int) int {
	return lineOf(L.Where(level), s.source)
}

// raiseString raises a string error positioned at the calling script line.
func (s *session) raiseString(L *lua.LState, msg string) {
	s.errLine = s.currentLine(L, 1)
	L.RaiseError("%s", msg)
}

// raiseTable raises an error table {err=msg}, as redis.call does with a command's error.
func (s *session) raiseTable(L *lua.LState, msg string) {
	s.errLine = s.currentLine(L, 1)
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	L.Error(t, 0)
}

// luaError is error(), recording the line it was called from.
func (s *session) luaError(L *lua.LState) int {
	obj := L.CheckAny(1)
	level := L.OptInt(2, 1)
	if level > 0 {
		s.errLine = s.currentLine(L, level)
	} else {
		s.errLine = s.currentLine(L, 1)
	}
	L.Error(obj, level)
	return 0
}

// luaToString is tostring with Lua 5.1's number format ("%.14g").
func luaToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(formatNumber(float64(n))))
		return 1
	}
	if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
		L.Push(mt)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
	L.Push(lua.LString(v.String()))
	return 1
}

// formatNumber formats a Lua number as Lua 5.1 does ("%.14g").
func formatNumber(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	out := strconv.FormatFloat(f, 'g', 14, 64)
	// %g drops trailing zeros of the fraction; FormatFloat with a precision keeps them.
	if strings.ContainsAny(out, ".") {
		mant, exp, hasExp := strings.Cut(out, "e")
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(mant, "0")
			mant = strings.TrimSuffix(mant, ".")
		}
		if hasExp {
			// C prints at least two exponent digits.
			sign := exp[:1]
			digits := strings.TrimLeft(exp[1:], "0")
			for len(digits) < 2 {
				digits = "0" + digits
			}
			return mant + "e" + sign + digits
		}
		return mant
	}
	return out
}

func (s *session) mathRandom(L *lua.LState) int {
	r := s.rnd.float()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (s *session) mathRandomSeed(L *lua.LState) int {
	s.rnd.seed(int32(checkInt(L, 1)))
	return 0
}

// checkInt is luaL_checkint: a number, or a string that reads as one.
func checkInt(L *lua.LState, i int) int {
	switch v := L.Get(i).(type) {
	case lua.LNumber:
		return int(v)
	case lua.LString:
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64); err == nil {
			return int(f)
		}
	}
	L.TypeError(i, lua.LTNumber)
	return 0
}
