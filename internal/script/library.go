package script

import (
	"context"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/cairn-db/cairn/internal/resp"
)

// loadTimeout bounds how long a library's code may run while it loads, as Redis bounds it.
const loadTimeout = 500 * time.Millisecond

// Library is a function library: its code and the functions it registers.
type Library struct {
	Name      string
	Code      []byte
	Functions []*Function // sorted by name
	proto     *lua.FunctionProto
}

// Function is one function of a library.
type Function struct {
	Name        string
	Description string
	Flags       Flags
	Library     *Library
}

// errLoad is an error whose text is the whole error reply.
type errLoad string

func (e errLoad) Error() string { return string(e) }

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

const nameRule = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// LoadLibrary parses and runs a library's code ("#!lua name=<name>" and a body that calls
// redis.register_function), returning the library or the error reply's text. The code runs
// in a sandbox where only registering, logging and the libraries are available.
func (e *Engine) LoadLibrary(code []byte) (*Library, error) {
	name, err := libraryHeader(code)
	if err != nil {
		return nil, err
	}
	lib := &Library{Name: name, Code: code}
	proto, err := e.compile("lib:"+SHA1Hex(code), "user_function", stripShebang(code))
	if err != nil {
		return nil, errLoad("ERR Error compiling function: " + err.Error())
	}
	lib.proto = proto
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	s, err := e.register(ctx, lib, Request{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, errLoad("ERR FUNCTION LOAD timeout")
		}
		return nil, err
	}
	s.close()
	if len(lib.Functions) == 0 {
		return nil, errLoad("ERR No functions registered")
	}
	sort.Slice(lib.Functions, func(i, j int) bool { return lib.Functions[i].Name < lib.Functions[j].Name })
	return lib, nil
}

func libraryHeader(code []byte) (string, error) {
	if len(code) < 2 || code[0] != '#' || code[1] != '!' {
		return "", errLoad("ERR Missing library metadata")
	}
	line := string(code)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	parts := strings.Fields(line[2:])
	if len(parts) == 0 {
		return "", errLoad("ERR Missing library metadata")
	}
	if !strings.EqualFold(parts[0], "lua") {
		return "", errLoad("ERR Engine '" + parts[0] + "' not found")
	}
	name := ""
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(p, "name=")
		if !ok {
			return "", errLoad("ERR Invalid metadata value given: " + p)
		}
		name = v
	}
	if name == "" {
		return "", errLoad("ERR Library name was not given")
	}
	if !validName(name) {
		return "", errLoad("ERR " + nameRule)
	}
	return name, nil
}

// register runs the library's code in a new session, collecting what it registers: the
// functions' metadata into lib (when lib.Functions is nil) and their callbacks, returned by
// name, in that session.
func (e *Engine) register(ctx context.Context, lib *Library, req Request) (*session, error) {
	s := newSession(ctx, req, "user_function", lib.Name)
	collect := lib.Functions == nil
	callbacks := map[string]*lua.LFunction{}
	s.register = func(L *lua.LState) int {
		fn, err := registerArgs(L)
		if err != "" {
			s.raiseTable(L, err)
		}
		if _, dup := callbacks[fn.name]; dup {
			s.raiseTable(L, "ERR Function already exists in the library")
		}
		callbacks[fn.name] = fn.cb
		if collect {
			lib.Functions = append(lib.Functions, &Function{Name: fn.name, Description: fn.desc, Flags: fn.flags, Library: lib})
		}
		return 0
	}
	L := s.L
	// Loading sees only what registering needs: the libraries and redis.register_function,
	// redis.log and the constants, not redis.call.
	redis := L.G.Global.RawGetString("redis").(*lua.LTable)
	hidden := map[string]lua.LValue{}
	for _, n := range []string{"call", "pcall", "setresp", "set_repl", "replicate_commands", "breakpoint", "debug", "sha1hex", "error_reply", "status_reply"} {
		hidden[n] = redis.RawGetString(n)
		redis.RawSetString(n, lua.LNil)
	}
	redisMT := L.NewTable()
	redisMT.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		s.raiseString(L, "Script attempted to access nonexistent global variable '"+L.ToString(2)+"'")
		return 0
	}))
	L.SetMetatable(redis, redisMT)
	s.lockGlobals()
	L.Push(L.NewFunctionFromProto(lib.proto))
	if err := L.PCall(0, 0, nil); err != nil {
		msg := "ERR " + err.Error()
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) {
			if t, ok := apiErr.Object.(*lua.LTable); ok {
				msg = lua.LVAsString(t.RawGetString("err"))
			} else {
				msg = "ERR " + lua.LVAsString(apiErr.Object)
			}
		}
		s.close()
		return nil, errLoad("ERR Error registering functions: " + msg)
	}
	s.register = nil
	L.SetMetatable(redis, lua.LNil)
	// Functions cannot register more functions, as in Redis.
	redis.RawSetString("register_function", lua.LNil)
	for n, v := range hidden {
		redis.RawSetString(n, v)
	}
	// Keep the callbacks reachable by name for Call.
	cbs := L.NewTable()
	for n, cb := range callbacks {
		cbs.RawSetString(n, cb)
	}
	L.SetField(L.Get(lua.RegistryIndex), "__cairn_functions", cbs)
	return s, nil
}

type registered struct {
	name, desc string
	flags      Flags
	cb         *lua.LFunction
}

// registerArgs reads redis.register_function's arguments: (name, callback) or a table with
// function_name, callback, and optional flags and description.
func registerArgs(L *lua.LState) (registered, string) {
	var r registered
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return r, "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."
		}
		var bad string
		t.ForEach(func(k, v lua.LValue) {
			if bad != "" {
				return
			}
			key, ok := k.(lua.LString)
			if !ok {
				bad = "ERR named argument key given to redis.register_function is not a string"
				return
			}
			switch string(key) {
			case "function_name":
				s, ok := v.(lua.LString)
				if !ok {
					bad = "ERR function_name argument given to redis.register_function must be a string"
				}
				r.name = string(s)
			case "description":
				s, ok := v.(lua.LString)
				if !ok {
					bad = "ERR description argument given to redis.register_function must be a string"
				}
				r.desc = string(s)
			case "callback":
				f, ok := v.(*lua.LFunction)
				if !ok {
					bad = "ERR callback argument given to redis.register_function must be a function"
				}
				r.cb = f
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					bad = "ERR flags argument to redis.register_function must be a table representing function flags"
					return
				}
				for i := 1; ; i++ {
					fv := ft.RawGetInt(i)
					if fv == lua.LNil {
						break
					}
					fs, ok := fv.(lua.LString)
					if !ok {
						bad = "ERR unknown flag given"
						return
					}
					f, ok := parseFlag(string(fs))
					if !ok {
						bad = "ERR unknown flag given"
						return
					}
					r.flags |= f
				}
			default:
				bad = "ERR unknown argument given to redis.register_function"
			}
		})
		if bad != "" {
			return r, bad
		}
		if r.name == "" {
			return r, "ERR redis.register_function must get a function name argument"
		}
		if r.cb == nil {
			return r, "ERR redis.register_function must get a callback argument"
		}
	case 2:
		name, ok := L.Get(1).(lua.LString)
		if !ok {
			return r, "ERR first argument to redis.register_function must be a string"
		}
		cb, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			return r, "ERR second argument to redis.register_function must be a function"
		}
		r.name, r.cb = string(name), cb
	default:
		return r, "ERR wrong number of arguments to redis.register_function"
	}
	if !validName(r.name) {
		return r, "ERR " + nameRule
	}
	return r, ""
}

// registerFunction is redis.register_function: available only while a library loads.
func (s *session) registerFunction(L *lua.LState) int {
	if s.register == nil {
		s.raiseString(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	return s.register(L)
}

// Call runs function fn of its library with keys and args, writing the reply to w.
func (e *Engine) Call(ctx context.Context, w *resp.Writer, fn *Function, req Request) {
	s, err := e.register(ctx, fn.Library, req)
	if err != nil {
		w.Error(err.Error())
		return
	}
	defer s.close()
	s.name = fn.Name
	L := s.L
	cbs := L.GetField(L.Get(lua.RegistryIndex), "__cairn_functions").(*lua.LTable)
	L.Push(cbs.RawGetString(fn.Name))
	L.Push(stringsTable(L, req.Keys))
	L.Push(stringsTable(L, req.Args))
	s.call(w, 2)
}

// Libraries is a set of libraries by name, with their functions by name (Funcs is keyed by the
// lower-case name: FCALL finds a function whatever the case, as Redis does).
type Libraries struct {
	Libs  map[string]*Library
	Funcs map[string]*Function
}

// NewLibraries returns an empty set.
func NewLibraries() *Libraries {
	return &Libraries{Libs: map[string]*Library{}, Funcs: map[string]*Function{}}
}

// Add adds lib, replacing a library of its name if replace is set; the error's text is the
// error reply.
func (ls *Libraries) Add(lib *Library, replace bool) error {
	old := ls.Libs[lib.Name]
	if old != nil && !replace {
		return errLoad("ERR Library '" + lib.Name + "' already exists")
	}
	for _, f := range lib.Functions {
		if g := ls.Funcs[strings.ToLower(f.Name)]; g != nil && g.Library != old {
			return errLoad("ERR Function " + f.Name + " already exists")
		}
	}
	if old != nil {
		ls.Delete(old.Name)
	}
	ls.Libs[lib.Name] = lib
	for _, f := range lib.Functions {
		ls.Funcs[strings.ToLower(f.Name)] = f
	}
	return nil
}

// Delete removes a library; false if there is none of that name.
func (ls *Libraries) Delete(name string) bool {
	lib := ls.Libs[name]
	if lib == nil {
		return false
	}
	delete(ls.Libs, name)
	for _, f := range lib.Functions {
		delete(ls.Funcs, strings.ToLower(f.Name))
	}
	return true
}

// Names lists the libraries' names in order.
func (ls *Libraries) Names() []string {
	out := make([]string, 0, len(ls.Libs))
	for n := range ls.Libs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Encode serializes the set (the libraries' code, in name order) for storage.
func (ls *Libraries) Encode() []byte {
	var out []byte
	for _, n := range ls.Names() {
		code := ls.Libs[n].Code
		out = binary.AppendUvarint(out, uint64(len(code)))
		out = append(out, code...)
	}
	return out
}

// DecodeLibraries loads a set that Encode produced.
func (e *Engine) DecodeLibraries(b []byte) (*Libraries, error) {
	ls := NewLibraries()
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errors.New("script: malformed library record")
		}
		lib, err := e.LoadLibrary(b[k : k+int(n)])
		if err != nil {
			return nil, err
		}
		if err := ls.Add(lib, true); err != nil {
			return nil, err
		}
		b = b[k+int(n):]
	}
	return ls, nil
}
