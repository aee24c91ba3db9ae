package server

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/rdb"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/script"
	"github.com/cairn-db/cairn/internal/shard"
)

// Scripting: EVAL and FCALL are proposed to their shard's log in an internal form (see
// command.EvalName) and run in apply, one log entry each, so they are atomic and replicated.
// parseRequest turns a valid call into that form (resolving EVALSHA to the script's body, so a
// replica that never saw SCRIPT LOAD applies it); an invalid one is answered here. The script
// cache (SCRIPT LOAD) is the node's, as in Redis; function libraries are replicated state,
// stored in each shard.

func init() {
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"} {
		registerLocal(name, cmdScriptCallError)
	}
	registerLocal("script", cmdScript)
	registerLocal("function", cmdFunction)
}

// busyThresholdMs is busy-reply-threshold (lua-time-limit): past it a running script makes
// commands on its shard answer BUSY.
var busyThresholdMs atomic.Int64

func init() {
	busyThresholdMs.Store(5000)
	script.RedisVersion = Version
}

// scriptCache is a node's SCRIPT LOAD cache: bodies by SHA1.
type scriptCache struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

func (s *Server) scripts() *scriptCache { return &s.scriptCache }

func (c *scriptCache) add(body []byte) string {
	sha := script.SHA1Hex(body)
	c.mu.Lock()
	if c.bodies == nil {
		c.bodies = map[string][]byte{}
	}
	if _, ok := c.bodies[sha]; !ok {
		c.bodies[sha] = append([]byte(nil), body...)
	}
	c.mu.Unlock()
	return sha
}

func (c *scriptCache) get(sha []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bodies[strings.ToLower(string(sha))]
}

func isScriptCall(cmd *command.Command) bool {
	switch cmd.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// loadEverywhere puts a script loaded with SCRIPT LOAD into every node's cache before SCRIPT
// LOAD answers. Redis keeps a cache per node, and Redis Cluster clients load a script on every
// master before EVALSHA; in cairn each node also holds replicas of other nodes' shards, which
// some clients (redis-py) then take for replicas and skip, so a script loaded anywhere is
// loaded everywhere — and at once, since such a client may send EVALSHA to another node right
// after. A node that does not answer within a second is left out (it misses the script, as a
// Redis node restarted since would).
func (c *clusterNode) loadEverywhere(body []byte) {
	b := append([]byte(nil), body...)
	var wg sync.WaitGroup
	for _, n := range c.topology().t.LiveNodes() {
		if n.ID == c.id {
			continue
		}
		wg.Add(1)
		go func(id uint64) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, _ = c.bus.CallPeer(ctx, id, reqScriptLoad, b)
		}(n.ID)
	}
	wg.Wait()
}

// scriptCallError is what is wrong with a script call, as its error reply; "" if nothing.
func (s *Server) scriptCallError(name string, args [][]byte) string {
	if msg := command.ScriptNumKeys(args); msg != "" {
		return msg
	}
	switch name {
	case "evalsha", "evalsha_ro":
		if s.scripts().get(args[1]) == nil {
			return "NOSCRIPT No matching script. Please use EVAL."
		}
	case "eval", "eval_ro":
		if _, msg := script.ShebangFlags(args[1]); msg != "" {
			return msg
		}
	}
	return ""
}

// prepareScript turns a valid script call into the operation apply runs, in r.args. Outside
// MULTI it becomes a write; an invalid call stays a server command that answers its error.
func (s *Server) prepareScript(cl *Client, r *request) {
	r.write = false
	args := r.args
	name := r.cmd.Name
	if s.scriptCallError(name, args) != "" {
		return
	}
	op := command.EvalName
	body := args[1]
	switch name {
	case "evalsha", "evalsha_ro":
		body = s.scripts().get(args[1])
	case "eval", "eval_ro":
		s.scripts().add(body)
	default:
		op = command.FCallName
	}
	mode := "rw"
	if strings.HasSuffix(name, "_ro") {
		mode = "ro"
	}
	shardID, slots := s.scriptPlacement(cl, r)
	out := make([][]byte, 0, len(args)+4)
	out = append(out, []byte(op), []byte(strconv.FormatUint(shardID, 10)), []byte(slots), []byte(mode), body)
	out = append(out, args[2:]...)
	r.args = out
	r.write = !cl.multi
}

// scriptPlacement is the shard a script runs on and the slots it may touch there.
func (s *Server) scriptPlacement(cl *Client, r *request) (uint64, string) {
	if s.cluster == nil {
		return singleShard, "*"
	}
	sl := r.slot
	if cl.multi {
		sl = joinSlot(cl.multiSlot, sl)
	}
	var id uint64
	if sl >= 0 {
		id = s.shardOfSlot(sl)
	} else if h := s.anyLedShard(); h != nil {
		id = h.id()
	}
	var b strings.Builder
	if t := s.cluster.topology(); t != nil && t.t != nil {
		for _, sh := range t.t.Shards {
			if sh.ID != id {
				continue
			}
			for _, rg := range sh.Ranges {
				if b.Len() > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Itoa(rg.Start))
				b.WriteByte('-')
				b.WriteString(strconv.Itoa(rg.End))
			}
		}
	}
	return id, b.String()
}

// refuseQueuedScript answers a script call queued in MULTI that parseRequest could not turn
// into an operation (NOSCRIPT, a bad numkeys): the transaction is flagged, as for any command
// refused while queued.
func (s *Server) refuseQueuedScript(cl *Client, cmd *command.Command, args [][]byte) bool {
	if !isScriptCall(cmd) || string(args[0]) == command.EvalName || string(args[0]) == command.FCallName {
		return false
	}
	s.flagMultiError(cl)
	cl.loop.w.Error(s.scriptCallError(cmd.Name, args))
	return true
}

// cmdScriptCallError answers a script call that could not be proposed.
func cmdScriptCallError(s *Server, cl *Client, args [][]byte) {
	cmd := command.Lookup(args[0])
	if msg := s.scriptCallError(cmd.Name, args); msg != "" {
		cl.loop.w.Error(msg)
		return
	}
	cl.loop.w.Error("CLUSTERDOWN This node leads no shard to run the script on")
}

// scriptBusy reports whether a script has run on shard h past busy-reply-threshold.
func scriptBusy(h *hosted) bool {
	return h != nil && script.Scripts.Busy(h.id(), time.Duration(busyThresholdMs.Load())*time.Millisecond)
}

// busyGate turns away a data command for shard h while a script runs long there, as Redis
// answers every command but a few while a script is busy.
func (s *Server) busyGate(cl *Client, r *request, h *hosted, batched int) (gateAction, bool) {
	if r.cmd == nil || !r.runnable || r.cmd.Flags&command.FlagAllowBusy != 0 || (r.cmd.Run == nil && !r.write) || !scriptBusy(h) {
		return gateRun, false
	}
	if batched > 0 {
		return gateWait, true
	}
	s.flagMultiError(cl)
	cl.loop.w.Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
	return gateDone, true
}

// stopScripts ends the running scripts before a shutdown: those that wrote nothing are killed;
// one that wrote cannot be stopped without leaving half its writes behind, so the process
// exits at once, as SHUTDOWN NOSAVE ends a busy redis-server. Nothing of that script's
// operation is committed; what was acknowledged before it is already in the log.
func (s *Server) stopScripts() {
	script.Scripts.Kill(false)
	script.Scripts.Kill(true)
	if r := script.Scripts.Current(); r != nil && r.Wrote() {
		s.logger.Warn("exiting with a script still running: it wrote, so it cannot be killed", "script", r.Name)
		os.Exit(1)
	}
}

// hasScript reports whether a proposal holds a script, which must not run on an event loop.
func hasScript(ps []Proposal) bool {
	for _, p := range ps {
		if command.OpHasScript(p.Data) {
			return true
		}
	}
	return false
}

func cmdScript(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "load":
		if len(args) != 3 {
			w.Error(command.ErrWrongArgs("script|load"))
			return
		}
		if _, msg := script.ShebangFlags(args[2]); msg != "" {
			w.Error(msg)
			return
		}
		if msg := command.Scripts.Check(args[2]); msg != "" {
			w.Error(msg)
			return
		}
		sha := s.scripts().add(args[2])
		if c := s.cluster; c != nil {
			body := append([]byte(nil), args[2]...)
			s.parkLocal(cl, func() []byte {
				c.loadEverywhere(body)
				rw := resp.Writer{Proto: cl.proto}
				rw.BulkString(sha)
				return rw.Buf
			})
			return
		}
		w.BulkString(sha)
	case "exists":
		if len(args) < 3 {
			w.Error(command.ErrWrongArgs("script|exists"))
			return
		}
		w.Array(len(args) - 2)
		for _, sha := range args[2:] {
			if s.scripts().get(sha) != nil {
				w.Int(1)
			} else {
				w.Int(0)
			}
		}
	case "flush":
		if len(args) == 3 && !command.EqualFold(args[2], "sync") && !command.EqualFold(args[2], "async") || len(args) > 3 {
			w.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
			return
		}
		c := s.scripts()
		c.mu.Lock()
		c.bodies = map[string][]byte{}
		c.mu.Unlock()
		w.OK()
	case "kill":
		w.Raw([]byte(script.Scripts.Kill(false) + "\r\n"))
	case "help":
		writeHelp(w, "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"DEBUG (YES|SYNC|NO)", "    Set the debug mode for subsequent scripts executed (not supported by cairn).",
			"EXISTS <sha1> [<sha1> ...]", "    Return information about the existence of the scripts in the script cache.",
			"FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache. Very dangerous on replicas.",
			"KILL", "    Kill the currently executing Lua script.",
			"LOAD <script>", "    Load a script into the scripts cache without executing it.",
			"HELP", "    Print this help.")
	case "debug":
		w.Error("ERR SCRIPT DEBUG (the Lua debugger) is not supported by cairn")
	default:
		w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try SCRIPT HELP.")
	}
}

// functionShard is the shard whose libraries FUNCTION LIST, STATS and DUMP report: the single
// node's, or in a cluster one this node leads (each shard holds the libraries loaded through
// the nodes that led it).
func (s *Server) functionShard() *hosted {
	if s.cluster == nil {
		return s.hostedShard(singleShard)
	}
	if h := s.anyLedShard(); h != nil {
		return h
	}
	if all := s.allHosted(); len(all) > 0 {
		return all[0]
	}
	return nil
}

func (s *Server) readFunctions(h *hosted) (*script.Libraries, error) {
	if h == nil || h.remote {
		return script.NewLibraries(), nil
	}
	v := h.sh.Acquire()
	defer v.Release()
	var tx keyspace.Tx
	shard.PointTx(&tx, v, 0, time.Now().UnixMilli())
	return command.LoadFunctions(&tx)
}

func cmdFunction(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "load":
		if len(args) < 3 {
			w.Error(command.ErrWrongArgs("function|load"))
			return
		}
		replace := false
		for _, a := range args[2 : len(args)-1] {
			if !command.EqualFold(a, "replace") {
				w.Error("ERR Unknown option given: " + string(a))
				return
			}
			replace = true
		}
		code := args[len(args)-1]
		if _, err := command.Scripts.LoadLibrary(code); err != nil {
			w.Error(err.Error())
			return
		}
		flag := "0"
		if replace {
			flag = "1"
		}
		s.proposeFunction(cl, [][]byte{[]byte(command.FunctionName), []byte("load"), []byte(flag), code})
	case "delete":
		if len(args) != 3 {
			w.Error(command.ErrWrongArgs("function|delete"))
			return
		}
		s.proposeFunction(cl, [][]byte{[]byte(command.FunctionName), []byte("delete"), args[2]})
	case "flush":
		if len(args) == 3 && !command.EqualFold(args[2], "sync") && !command.EqualFold(args[2], "async") || len(args) > 3 {
			w.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
		s.proposeFunction(cl, [][]byte{[]byte(command.FunctionName), []byte("flush")})
	case "restore":
		if len(args) < 3 || len(args) > 4 {
			w.Error(command.ErrWrongArgs("function|restore"))
			return
		}
		policy := "append"
		if len(args) == 4 {
			policy = strings.ToLower(string(args[3]))
			if policy != "append" && policy != "replace" && policy != "flush" {
				w.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
				return
			}
		}
		codes, msg := decodeFunctionDump(args[2])
		if msg != "" {
			w.Error(msg)
			return
		}
		libs := script.NewLibraries()
		for _, code := range codes {
			lib, err := command.Scripts.LoadLibrary(code)
			if err == nil {
				err = libs.Add(lib, false)
			}
			if err != nil {
				w.Error(err.Error())
				return
			}
		}
		s.proposeFunction(cl, [][]byte{[]byte(command.FunctionName), []byte("restore"), []byte(policy), libs.Encode()})
	case "list":
		s.functionList(cl, args)
	case "stats":
		s.functionStats(cl)
	case "dump":
		libs, err := s.readFunctions(s.functionShard())
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		w.Bulk(encodeFunctionDump(libs))
	case "kill":
		w.Raw([]byte(script.Scripts.Kill(true) + "\r\n"))
	case "help":
		writeHelp(w, "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"LOAD [REPLACE] <FUNCTION CODE>", "    Create a new library with the given library name and code.",
			"DELETE <LIBRARY NAME>", "    Delete the given library.",
			"LIST [LIBRARYNAME PATTERN] [WITHCODE]", "    Return general information on all the libraries.",
			"STATS", "    Return information about the current function running.",
			"KILL", "    Kill the current running function.",
			"FLUSH [ASYNC|SYNC]", "    Delete all the libraries.",
			"DUMP", "    Return a serialized payload representing the current libraries.",
			"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]", "    Restore the libraries represented by the given payload.",
			"HELP", "    Print this help.")
	default:
		w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try FUNCTION HELP.")
	}
}

// proposeFunction applies a change of the libraries to every shard this node leads (the single
// node's one shard), answering the first error or else the first reply.
func (s *Server) proposeFunction(cl *Client, op [][]byte) {
	var targets []*hosted
	if s.cluster == nil {
		targets = []*hosted{s.hostedShard(singleShard)}
	} else {
		targets = s.ledShards()
	}
	if len(targets) == 0 {
		cl.loop.w.Error("CLUSTERDOWN This node leads no shard to store the functions in")
		return
	}
	pos := cl.reserveLocal()
	cl.deferred = true
	s.proposeEach(cl, pos, targets, op)
}

func (s *Server) functionList(cl *Client, args [][]byte) {
	w := &cl.loop.w
	withCode, named := false, false
	var pattern []byte
	for i := 2; i < len(args); i++ {
		switch {
		case command.EqualFold(args[i], "withcode"):
			if withCode {
				w.Error("ERR Unknown argument withcode")
				return
			}
			withCode = true
		case command.EqualFold(args[i], "libraryname"):
			if i == len(args)-1 {
				w.Error("ERR library name argument was not given")
				return
			}
			if named {
				w.Error("ERR library name can be given only once")
				return
			}
			named = true
			i++
			pattern = args[i]
		default:
			w.Error("ERR Unknown argument " + string(args[i]))
			return
		}
	}
	libs, err := s.readFunctions(s.functionShard())
	if err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	var names []string
	for _, n := range libs.Names() {
		if pattern == nil || glob.Match(pattern, []byte(n), false) {
			names = append(names, n)
		}
	}
	w.Array(len(names))
	for _, n := range names {
		lib := libs.Libs[n]
		fields := 3
		if withCode {
			fields++
		}
		w.Map(fields)
		w.BulkString("library_name")
		w.BulkString(lib.Name)
		w.BulkString("engine")
		w.BulkString("LUA")
		w.BulkString("functions")
		w.Array(len(lib.Functions))
		for _, f := range lib.Functions {
			w.Map(3)
			w.BulkString("name")
			w.BulkString(f.Name)
			w.BulkString("description")
			if f.Description == "" {
				w.Null()
			} else {
				w.BulkString(f.Description)
			}
			w.BulkString("flags")
			names := f.Flags.Names()
			w.Set(len(names))
			for _, fl := range names {
				w.BulkString(fl)
			}
		}
		if withCode {
			w.BulkString("library_code")
			w.Bulk(lib.Code)
		}
	}
}

func (s *Server) functionStats(cl *Client) {
	w := &cl.loop.w
	libs, err := s.readFunctions(s.functionShard())
	if err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	w.Map(2)
	w.BulkString("running_script")
	if r := script.Scripts.Current(); r != nil && r.Function {
		w.Map(3)
		w.BulkString("name")
		w.BulkString(r.Name)
		w.BulkString("command")
		// The client's command: FCALL and what follows the internal header.
		w.Array(len(r.Args) - 3)
		w.BulkString("fcall")
		for _, a := range r.Args[4:] {
			w.Bulk(a)
		}
		w.BulkString("duration_ms")
		w.Int(r.Elapsed().Milliseconds())
	} else {
		w.Null()
	}
	w.BulkString("engines")
	w.Map(1)
	w.BulkString("LUA")
	w.Map(2)
	w.BulkString("libraries_count")
	w.Int(int64(len(libs.Libs)))
	w.BulkString("functions_count")
	w.Int(int64(len(libs.Funcs)))
}

// rdbFunction2 is the RDB opcode of a function library in a FUNCTION DUMP payload.
const rdbFunction2 = 245

// encodeFunctionDump builds FUNCTION DUMP's payload as Redis does: each library's code as an
// RDB string after the FUNCTION2 opcode, then the version and checksum.
func encodeFunctionDump(libs *script.Libraries) []byte {
	var out []byte
	for _, n := range libs.Names() {
		out = append(out, rdbFunction2)
		out = rdb.AppendLength(out, uint64(len(libs.Libs[n].Code)))
		out = append(out, libs.Libs[n].Code...)
	}
	return rdb.AppendFooter(out)
}

// decodeFunctionDump reads a FUNCTION DUMP payload (cairn's or redis-server's, whose strings
// may be LZF-compressed) into the libraries' code.
func decodeFunctionDump(p []byte) ([][]byte, string) {
	const bad = "ERR payload version or checksum are wrong"
	if len(p) < 10 {
		return nil, bad
	}
	body, err := rdb.CheckFooter(p)
	if err != nil {
		return nil, bad
	}
	var codes [][]byte
	for len(body) > 0 {
		if body[0] != rdbFunction2 {
			return nil, "ERR given type is not a function"
		}
		code, rest, ok := rdb.ReadString(body[1:])
		if !ok {
			return nil, bad
		}
		codes = append(codes, code)
		body = rest
	}
	return codes, ""
}
