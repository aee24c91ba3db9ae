package script

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/cairn-db/cairn/internal/resp"
)

// Host runs the commands a script calls.
type Host interface {
	// Call runs args as a command and returns its reply encoded in RESP version proto. A
	// command that fails, or that scripts may not call, answers an error reply.
	Call(args [][]byte, proto int) []byte
}

// RedisVersion is what redis.REDIS_VERSION reports; the server sets it to the version it
// reports in INFO before running scripts.
var RedisVersion = "7.0.15"

// Request is one run of a script or a function.
type Request struct {
	Host Host
	// Keys and Args become KEYS and ARGV (a function's two parameters).
	Keys, Args [][]byte
	// Proto is the client's protocol version: the reply is written in it.
	Proto int
	// Run, if not nil, is the registry entry that lets SCRIPT KILL stop the script.
	Run *Running
	// Seed seeds math.random. Redis carries one generator across scripts; cairn seeds it from
	// the log entry, so every replica draws the same numbers.
	Seed int32
	// Log receives redis.log's lines; nil drops them.
	Log func(level int, msg string)
}

// SHA1Hex is the name EVALSHA knows a script body by.
func SHA1Hex(body []byte) string {
	sum := sha1.Sum(body)
	return hex.EncodeToString(sum[:])
}

// Engine compiles scripts and caches what it compiled, by SHA1 of the body; it is safe for
// concurrent use.
type Engine struct {
	mu     sync.Mutex
	protos map[string]*lua.FunctionProto
}

// maxCachedProtos bounds the compiled-script cache; past it the cache starts over, which costs
// only recompilation.
const maxCachedProtos = 4096

// NewEngine returns an engine with an empty cache.
func NewEngine() *Engine { return &Engine{protos: map[string]*lua.FunctionProto{}} }

// compile parses body as a chunk named name ("user_script" or "user_function").
func (e *Engine) compile(key, name string, body []byte) (*lua.FunctionProto, error) {
	e.mu.Lock()
	p := e.protos[key]
	e.mu.Unlock()
	if p != nil {
		return p, nil
	}
	chunk, err := parse.Parse(strings.NewReader(string(body)), name)
	if err != nil {
		return nil, errors.New(parseMessage(name, err))
	}
	p, err = lua.Compile(chunk, name)
	if err != nil {
		return nil, errors.New(parseMessage(name, err))
	}
	e.mu.Lock()
	if len(e.protos) >= maxCachedProtos {
		clear(e.protos)
	}
	e.protos[key] = p
	e.mu.Unlock()
	return p, nil
}

var parseErrRE = regexp.MustCompile(`line:(\d+)\(column:\d+\) near '([^']*)':\s*(.*)`)

// parseMessage turns gopher-lua's parse error into Lua's form: "user_script:1: msg near 'tok'".
func parseMessage(name string, err error) string {
	msg := strings.TrimSpace(err.Error())
	if m := parseErrRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: %s near '%s'", name, m[1], strings.TrimSpace(m[3]), m[2])
	}
	return msg
}

// Flags are a script's or a function's declared flags (the shebang's flags=, or
// register_function's flags).
type Flags uint8

// The flags Redis defines.
const (
	FlagNoWrites Flags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlot
	// FlagShebang marks a script that declared its flags (a shebang line): Redis treats such
	// scripts by their flags rather than by the commands they call.
	FlagShebang
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagNoWrites, "no-writes"}, {FlagAllowOOM, "allow-oom"}, {FlagAllowStale, "allow-stale"},
	{FlagNoCluster, "no-cluster"}, {FlagAllowCrossSlot, "allow-cross-slot-keys"},
}

// Names lists the flags' names, as FUNCTION LIST reports them.
func (f Flags) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

func parseFlag(name string) (Flags, bool) {
	for _, fn := range flagNames {
		if fn.name == name {
			return fn.f, true
		}
	}
	return 0, false
}

// ShebangFlags reads an EVAL script's "#!lua flags=..." first line. A script without one has
// no flags; a malformed one is an error reply's text.
func ShebangFlags(body []byte) (Flags, string) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return 0, ""
	}
	line := string(body)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	parts := strings.Fields(line[2:])
	if len(parts) == 0 || parts[0] != "lua" {
		engine := ""
		if len(parts) > 0 {
			engine = parts[0]
		}
		return 0, "ERR Unexpected engine in script shebang: " + engine
	}
	f := FlagShebang
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return 0, "ERR Unknown lua shebang option: " + p
		}
		for _, name := range strings.Split(v, ",") {
			if name == "" {
				continue
			}
			fl, ok := parseFlag(name)
			if !ok {
				return 0, "ERR Unexpected flag in script shebang: " + name
			}
			f |= fl
		}
	}
	return f, ""
}

// stripShebang blanks the shebang line, keeping line numbers, as Redis does.
func stripShebang(body []byte) []byte {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return body
	}
	i := strings.IndexByte(string(body), '\n')
	if i < 0 {
		return nil
	}
	return body[i:]
}

// Eval runs an EVAL script and writes its reply (or its error) to w.
func (e *Engine) Eval(ctx context.Context, w *resp.Writer, body []byte, req Request) {
	sha := SHA1Hex(body)
	proto, err := e.compile(sha, "user_script", stripShebang(body))
	if err != nil {
		w.Error("ERR Error compiling script (new function): " + err.Error())
		return
	}
	s := newSession(ctx, req, "user_script", sha)
	defer s.close()
	L := s.L
	L.SetGlobal("KEYS", stringsTable(L, req.Keys))
	L.SetGlobal("ARGV", stringsTable(L, req.Args))
	s.lockGlobals()
	L.Push(L.NewFunctionFromProto(proto))
	s.call(w, 0)
}

// call runs the function on the stack with nargs arguments and writes its result.
func (s *session) call(w *resp.Writer, nargs int) {
	L := s.L
	if err := L.PCall(nargs, 1, nil); err != nil {
		s.writeError(w, err)
		return
	}
	ret := L.Get(-1)
	L.Pop(1)
	writeLua(w, ret, s.resp, 0)
}

// writeError writes a script's failure as Redis does: the message, and where it happened.
func (s *session) writeError(w *resp.Writer, err error) {
	if s.req.Run != nil && s.req.Run.killed.Load() {
		what := "SCRIPT KILL"
		if s.source == "user_function" {
			what = "FUNCTION KILL"
		}
		w.Error("ERR Script killed by user with " + what + "... script: " + s.name + ", on @" + s.source + ":" + strconv.Itoa(max(s.errLine, 1)) + ".")
		return
	}
	var msg string
	line := s.errLine
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) {
		switch v := apiErr.Object.(type) {
		case *lua.LTable:
			if e, ok := v.RawGetString("err").(lua.LString); ok {
				msg = string(e)
				break
			}
			msg = "ERR " + v.String()
		case lua.LString:
			msg = "ERR " + string(v)
			if line == 0 {
				line = lineOf(string(v), s.source)
			}
		default:
			msg = "ERR " + apiErr.Error()
		}
	} else {
		msg = "ERR " + err.Error()
	}
	if line == 0 {
		line = lineOf(msg, s.source)
	}
	if line > 0 {
		msg += " script: " + s.name + ", on @" + s.source + ":" + strconv.Itoa(line) + "."
	}
	w.Error(msg)
}

// lineOf finds the line in a Lua error message's position ("user_script:3: ...").
func lineOf(msg, source string) int {
	i := strings.Index(msg, source+":")
	if i < 0 {
		return 0
	}
	rest := msg[i+len(source)+1:]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(rest[:j])
	return n
}

func stringsTable(L *lua.LState, vals [][]byte) *lua.LTable {
	t := L.CreateTable(len(vals), 0)
	for _, v := range vals {
		t.Append(lua.LString(v))
	}
	return t
}

// Check compiles an EVAL script without running it (SCRIPT LOAD), returning the error reply's
// text if it does not compile.
func (e *Engine) Check(body []byte) string {
	if _, err := e.compile(SHA1Hex(body), "user_script", stripShebang(body)); err != nil {
		return "ERR Error compiling script (new function): " + err.Error()
	}
	return ""
}
