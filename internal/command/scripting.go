package command

import (
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/script"
	"github.com/cairn-db/cairn/internal/slot"
)

// Scripts run in apply, as one operation, so a script is atomic and every replica runs it over
// the same data in the same place of the log, with the same time and random seed. The server
// proposes them in an internal form that carries what apply cannot know by itself:
//
//	__eval  <shard> <slots> <mode> <body>  <numkeys> key... arg...
//	__fcall <shard> <slots> <mode> <fname> <numkeys> key... arg...
//	__function load|delete|flush|restore ...
//
// shard names the shard (for SCRIPT KILL and the BUSY reply); slots is the slot ranges the
// shard owned when the script was proposed ("*": all, on a single node), which the keys a
// script touches must be in; mode is "rw", or "ro" for EVAL_RO / FCALL_RO.
const (
	EvalName     = "__eval"
	FCallName    = "__fcall"
	FunctionName = "__function"
)

// FunctionsRecord is the system record holding a shard's function libraries.
const FunctionsRecord = "functions"

// Scripts is the Lua engine apply and the server share: it caches compiled scripts.
var Scripts = script.NewEngine()

func init() {
	Register(
		&Command{Name: EvalName, Arity: -7, Flags: FlagWrite | FlagInternal, Run: runEval},
		&Command{Name: FCallName, Arity: -7, Flags: FlagWrite | FlagInternal, Run: runFCall},
		&Command{Name: FunctionName, Arity: -2, Flags: FlagWrite | FlagInternal, Run: runFunction},
	)
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"} {
		Register(&Command{Name: name, Keys: scriptKeys})
	}
}

// scriptKeys finds EVAL's and FCALL's declared keys: numkeys of them after the numkeys argument.
func scriptKeys(args [][]byte) []int {
	if len(args) < 3 {
		return nil
	}
	n, ok := ParseInt(args[2])
	if !ok || n <= 0 || n > int64(len(args)-3) {
		return nil
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = 3 + i
	}
	return pos
}

// ScriptNumKeys validates EVAL's and FCALL's numkeys, returning the error reply's text.
func ScriptNumKeys(args [][]byte) string {
	n, ok := ParseInt(args[2])
	switch {
	case !ok && (EqualFold(args[0], "fcall") || EqualFold(args[0], "fcall_ro")):
		return "ERR Bad number of keys provided"
	case !ok:
		return ErrNotInt
	case n < 0:
		return "ERR Number of keys can't be negative"
	case n > int64(len(args)-3):
		return "ERR Number of keys can't be greater than number of args"
	}
	return ""
}

// scriptCall is the parsed internal form.
type scriptCall struct {
	shard      uint64
	slots      []slotRange // nil: every slot
	readOnly   bool
	target     []byte // body or function name
	keys, argv [][]byte
}

type slotRange struct{ from, to int }

func parseScriptCall(c *Ctx) (scriptCall, bool) {
	a := c.Args
	var sc scriptCall
	shard, err := strconv.ParseUint(string(a[1]), 10, 64)
	if err != nil {
		c.Err("ERR malformed script operation")
		return sc, false
	}
	sc.shard = shard
	if string(a[2]) != "*" {
		sc.slots = []slotRange{}
		for _, r := range strings.Split(string(a[2]), ",") {
			if r == "" {
				continue
			}
			from, to, _ := strings.Cut(r, "-")
			f, err1 := strconv.Atoi(from)
			t, err2 := strconv.Atoi(to)
			if err1 != nil || err2 != nil {
				c.Err("ERR malformed script operation")
				return sc, false
			}
			sc.slots = append(sc.slots, slotRange{f, t})
		}
	}
	sc.readOnly = string(a[3]) == "ro"
	sc.target = a[4]
	n, ok := ParseInt(a[5])
	if !ok || n < 0 || n > int64(len(a)-6) {
		c.Err("ERR malformed script operation")
		return sc, false
	}
	sc.keys, sc.argv = a[6:6+n], a[6+n:]
	return sc, true
}

func (sc *scriptCall) owns(s int) bool {
	if sc.slots == nil {
		return true
	}
	for _, r := range sc.slots {
		if s >= r.from && s <= r.to {
			return true
		}
	}
	return false
}

func runEval(c *Ctx) {
	sc, ok := parseScriptCall(c)
	if !ok {
		return
	}
	flags, msg := script.ShebangFlags(sc.target)
	if msg != "" {
		c.Err(msg)
		return
	}
	if flags&script.FlagNoWrites != 0 {
		sc.readOnly = true
	}
	run := &script.Running{Shard: sc.shard, Name: script.SHA1Hex(sc.target), Args: c.Args}
	h := &scriptHost{c: c, sc: &sc, run: run, db: c.DB}
	defer c.Tx.SetDB(c.Tx.DB())
	ctx := script.Scripts.Start(context.Background(), run)
	defer script.Scripts.Done(run)
	Scripts.Eval(ctx, c.W, sc.target, h.request())
}

func runFCall(c *Ctx) {
	sc, ok := parseScriptCall(c)
	if !ok {
		return
	}
	libs, err := LoadFunctions(c.Tx)
	if err != nil {
		c.Fail(err)
		return
	}
	fn := libs.Funcs[strings.ToLower(string(sc.target))]
	if fn == nil {
		c.Err("ERR Function not found")
		return
	}
	if sc.readOnly && fn.Flags&script.FlagNoWrites == 0 {
		c.Err("ERR Can not execute a script with write flag using *_ro command.")
		return
	}
	if fn.Flags&script.FlagNoWrites != 0 {
		sc.readOnly = true
	}
	run := &script.Running{Shard: sc.shard, Function: true, Name: fn.Name, Args: c.Args}
	h := &scriptHost{c: c, sc: &sc, run: run, db: c.DB}
	defer c.Tx.SetDB(c.Tx.DB())
	ctx := script.Scripts.Start(context.Background(), run)
	defer script.Scripts.Done(run)
	Scripts.Call(ctx, c.W, fn, h.request())
}

// scriptHost runs a script's redis.call over apply's batch, as the script's own commands.
type scriptHost struct {
	c   *Ctx
	db  int // the database SELECT chose inside the script
	sc  *scriptCall
	run *script.Running
	w   resp.Writer
	sub Ctx
}

func (h *scriptHost) request() script.Request {
	return script.Request{Host: h, Keys: h.sc.keys, Args: h.sc.argv, Proto: h.c.W.Proto, Run: h.run,
		Seed: int32(h.c.Rand.Uint32())}
}

// hasBlockOption reports whether XREAD or XREADGROUP has a BLOCK option before STREAMS.
func hasBlockOption(args [][]byte) bool {
	for _, a := range args[1:] {
		if EqualFold(a, "streams") {
			return false
		}
		if EqualFold(a, "block") {
			return true
		}
	}
	return false
}

// selectDB is SELECT inside a script: it changes the database of the script's later commands,
// not the caller's.
func (h *scriptHost) selectDB(arg []byte) {
	db, ok := ParseInt(arg)
	switch {
	case !ok:
		h.w.Error(ErrNotInt)
	case db < 0 || db >= keyspace.NumDBs:
		h.w.Error(ErrDBIndex)
	default:
		h.db = int(db)
		h.c.Tx.SetDB(h.c.Physical(h.db))
		h.w.OK()
	}
}

// Call implements script.Host.
func (h *scriptHost) Call(args [][]byte, proto int) []byte {
	h.w = resp.Writer{Proto: proto, Buf: h.w.Buf[:0]}
	w := &h.w
	cmd := Lookup(args[0])
	if cmd == nil || cmd.Flags&FlagInternal != 0 {
		w.Error("ERR Unknown Redis command called from script")
		return w.Buf
	}
	if len(cmd.Subcommands) > 0 && len(args) > 1 {
		if sub := cmd.LookupSub(args[1]); sub != nil {
			cmd = sub
		}
	}
	switch {
	case !CheckArity(cmd.Arity, len(args)):
		w.Error("ERR Wrong number of args calling Redis command from script")
		return w.Buf
	case cmd.Name == "xread" || cmd.Name == "xreadgroup":
		if hasBlockOption(args) {
			w.Error("ERR " + cmd.Name + " command is not allowed with BLOCK option from scripts")
			return w.Buf
		}
	}
	switch {
	case cmd.Flags&FlagNoScript != 0, cmd.Flags&FlagBlocking != 0 && cmd.Name != "xread" && cmd.Name != "xreadgroup":
		w.Error("ERR This Redis command is not allowed from script")
		return w.Buf
	case cmd.Name == "select":
		h.selectDB(args[1])
		return w.Buf
	case cmd.Run == nil:
		w.Error("ERR '" + strings.ToUpper(cmd.Name) + "' cannot be called from a script in cairn")
		return w.Buf
	case cmd.IsWrite() && h.sc.readOnly:
		w.Error("ERR Write commands are not allowed from read-only scripts.")
		return w.Buf
	}
	if keys, ok := cmd.GetKeys(args); ok {
		for _, k := range keys {
			if !h.sc.owns(slot.KeySlot(args[k.Pos])) {
				w.Error("ERR Script attempted to access a non local key in a cluster node script")
				return w.Buf
			}
		}
	}
	if cmd.IsWrite() {
		h.run.NoteWrite()
	}
	c := h.c
	h.sub = Ctx{Cmd: cmd, Args: args, W: w, Tx: c.Tx, State: c.State, DB: h.db, Now: c.Now, Rand: c.Rand,
		Limits: c.Limits, InApply: c.InApply, NoBlock: true, Waiters: c.Waiters, Cursors: c.Cursors}
	cmd.Run(&h.sub)
	return w.Buf
}

// functionCache keeps the last libraries decoded from each record value, so FCALL does not
// recompile them.
var functionCache struct {
	sync.Mutex
	m map[string]*script.Libraries
}

// LoadFunctions reads a shard's function libraries through tx. The result is shared: do not
// change it (copy with Clone).
func LoadFunctions(tx *keyspace.Tx) (*script.Libraries, error) {
	rec, err := tx.SystemRecord(FunctionsRecord)
	if err != nil {
		return nil, err
	}
	key := string(rec)
	functionCache.Lock()
	libs := functionCache.m[key]
	functionCache.Unlock()
	if libs != nil {
		return libs, nil
	}
	libs, err = Scripts.DecodeLibraries(rec)
	if err != nil {
		return nil, err
	}
	functionCache.Lock()
	if functionCache.m == nil || len(functionCache.m) > 64 {
		functionCache.m = map[string]*script.Libraries{}
	}
	functionCache.m[key] = libs
	functionCache.Unlock()
	return libs, nil
}

// runFunction applies FUNCTION LOAD, DELETE, FLUSH and RESTORE to the shard's libraries.
//
//	__function load <replace:0|1> <code>
//	__function delete <name>
//	__function flush
//	__function restore <policy> <encoded libraries>
func runFunction(c *Ctx) {
	cur, err := LoadFunctions(c.Tx)
	if err != nil {
		c.Fail(err)
		return
	}
	libs := script.NewLibraries()
	for _, n := range cur.Names() {
		_ = libs.Add(cur.Libs[n], true)
	}
	sub := strings.ToLower(string(c.Args[1]))
	switch {
	case sub == "load" && len(c.Args) == 4:
		lib, err := Scripts.LoadLibrary(c.Args[3])
		if err == nil {
			err = libs.Add(lib, string(c.Args[2]) == "1")
		}
		if err != nil {
			c.Err(err.Error())
			return
		}
		if err := c.Tx.SetSystemRecord(FunctionsRecord, libs.Encode()); err != nil {
			c.Fail(err)
			return
		}
		c.W.BulkString(lib.Name)
	case sub == "delete" && len(c.Args) == 3:
		if !libs.Delete(string(c.Args[2])) {
			c.Err("ERR Library not found")
			return
		}
		if err := c.Tx.SetSystemRecord(FunctionsRecord, libs.Encode()); err != nil {
			c.Fail(err)
			return
		}
		c.W.OK()
	case sub == "flush" && len(c.Args) == 2:
		if err := c.Tx.SetSystemRecord(FunctionsRecord, nil); err != nil {
			c.Fail(err)
			return
		}
		c.W.OK()
	case sub == "restore" && len(c.Args) == 4:
		in, err := Scripts.DecodeLibraries(c.Args[3])
		if err != nil {
			c.Err(err.Error())
			return
		}
		policy := strings.ToLower(string(c.Args[2]))
		if policy == "flush" {
			libs = script.NewLibraries()
		}
		for _, n := range in.Names() {
			lib := in.Libs[n]
			if policy == "append" && libs.Libs[n] != nil {
				c.Err("ERR Library " + n + " already exists")
				return
			}
			if err := libs.Add(lib, true); err != nil {
				c.Err(err.Error())
				return
			}
		}
		if err := c.Tx.SetSystemRecord(FunctionsRecord, libs.Encode()); err != nil {
			c.Fail(err)
			return
		}
		c.W.OK()
	default:
		c.Err("ERR malformed function operation")
	}
}

// OpHasScript reports whether an encoded operation runs a script (alone or in MULTI): such an
// operation may run long, so it is applied by the log's goroutine, never on an event loop.
func OpHasScript(b []byte) bool {
	if len(b) < opHeaderLen || b[0] != opVersion {
		return false
	}
	b = b[opHeaderLen:]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return false
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		nargs, k := binary.Uvarint(b)
		if k <= 0 {
			return false
		}
		b = b[k:]
		for j := uint64(0); j < nargs; j++ {
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return false
			}
			arg := b[k : k+int(l)]
			if j == 0 && (string(arg) == EvalName || string(arg) == FCallName) {
				return true
			}
			b = b[k+int(l):]
		}
	}
	return false
}
