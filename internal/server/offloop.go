package server

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/shard"
)

// Long reads off the event loop.
//
// An event loop serves many connections one request at a time, so a read whose cost grows with
// the data (SORT of a million-element list, SUNION of big sets, KEYS over millions of keys,
// LRANGE 0 -1 of a huge list) would stall every other connection of the loop for its whole run.
// Such a read runs on a goroutine of its own instead, as a forwarded read does: its reply takes
// the connection's next reply place (reserveLocal), the connection stops processing its input
// until the reply is in (so a pipelined GET after it still replies after it), and the other
// connections of the loop go on.
//
// Which reads go off the loop is decided per request, cheaply: a read command whose complexity
// in the Redis command docs is O(N) in the data has a cost function here, which estimates its
// cost from the metadata of its keys (a collection's element count, a string's length, the
// database's key count) and from its arguments (a range, a COUNT, a LIMIT). A read whose
// estimate reaches offLoopCost, or any read with more than offLoopArgs arguments (a big MGET),
// runs off the loop; everything else runs inline at full speed. GET, HGET and other fast
// commands have no cost function and pay one flag test.
//
// The goroutine reads from a view acquired on the loop (the reference keeps the engine open
// until the read releases it, even if the view is replaced meanwhile) through a snapshot taken
// when the read starts, as an inline read does, so it sees one point in time, including every
// write the connection made before it. Reads in MULTI and scripts run in apply as before, and
// are atomic; writes (SORT ... STORE, SUNIONSTORE) run in apply and are not bounded here.

const (
	// offLoopCost is the estimated cost (elements, or stringUnit bytes) from which a read runs
	// off the loop: about a millisecond of work, where handing it to a goroutine and waking
	// the loop again (tens of microseconds) no longer matters.
	offLoopCost = 1024
	// offLoopArgs is the number of arguments from which any read runs off the loop.
	offLoopArgs = 1024
	// stringUnit is how many bytes of a string cost as much as one element of a collection.
	stringUnit = 16 << 10
)

// costProbe estimates the cost of one read from the metadata of view v.
type costProbe struct {
	r   *shard.Reader
	v   *shard.View
	db  int
	now int64
}

// size is what reading key goes through: elements, or a string's length in stringUnits (at
// least 1 for a string that exists).
func (p *costProbe) size(key []byte) int64 {
	n, isString := p.r.Size(p.v, p.db, key, p.now)
	if isString {
		return n/stringUnit + 1
	}
	return n
}

// bytes is a string's length in bytes (0 for anything else).
func (p *costProbe) bytes(key []byte) int64 {
	n, isString := p.r.Size(p.v, p.db, key, p.now)
	if !isString {
		return 0
	}
	return n
}

func (p *costProbe) keys() int64 { return shard.Keys(p.v, p.db) }

// readCost estimates the cost of a read command from its arguments and the view's metadata.
type readCost func(p *costProbe, cmd *command.Command, args [][]byte) int64

// readCosts is the cost function of every read command whose cost grows with the data, by
// command ID; nil for the rest. The read commands left out (TestOffLoopClassification lists
// them) are O(1) or O(log N), bounded by what they name (GEOPOS, HMGET: their argument count),
// or may turn into a write (PFCOUNT caches a cardinality, XREAD blocks): those always run inline.
var readCosts = func() []readCost {
	byName := map[string]readCost{
		// Whole collections, and set and sorted-set algebra over several.
		"smembers": costKeys, "hgetall": costKeys, "hkeys": costKeys, "hvals": costKeys,
		"sunion": costKeys, "sinter": costKeys, "sdiff": costKeys, "sintercard": costKeys,
		"zunion": costKeys, "zinter": costKeys, "zdiff": costKeys, "zintercard": costKeys,
		"lpos": costKeys, "lindex": costKeys, "dump": costKeys,
		"georadius_ro": costKeys, "georadiusbymember_ro": costKeys, "geosearch": costKeys,
		"xinfo|stream": costKeys,
		// Ranges: what the range covers, bounded by the collection.
		"lrange":    costRankRange,
		"zrange":    costZRange,
		"zrevrange": costRankRange, "zrangebyscore": costZRange, "zrevrangebyscore": costZRange,
		"zrangebylex": costZRange, "zrevrangebylex": costZRange,
		"xrange": costCount, "xrevrange": costCount, "xpending": costCount,
		// Sampling: what the count asks for.
		"srandmember": costRandom, "zrandmember": costRandom, "hrandfield": costRandom,
		// Cursors: what one call visits.
		"scan": costCount, "sscan": costCount, "hscan": costCount, "zscan": costCount,
		// The keyspace.
		"keys": costKeyspace, "keyrange": costKeyRange,
		// SORT reads every element and, with BY and GET patterns, a key per element and pattern.
		"sort": costSort, "sort_ro": costSort,
		// Strings: their length.
		"getrange": costStrings, "substr": costStrings, "bitcount": costStrings,
		"bitpos": costStrings, "lcs": costLCS,
		// Queries over an index: their cost is not known in advance.
		"ft.search": costAlways, "ft.aggregate": costAlways,
	}
	return costsByID(byName)
}()

func lookupCommand(name string) *command.Command {
	for i := 0; i < len(name); i++ {
		if name[i] == '|' {
			top := command.Lookup([]byte(name[:i]))
			if top == nil {
				return nil
			}
			return top.LookupSub([]byte(name[i+1:]))
		}
	}
	return command.Lookup([]byte(name))
}

func maxCommandID() int {
	n := 0
	for _, c := range command.All() {
		n = max(n, c.ID)
		for _, sub := range c.Subcommands {
			n = max(n, sub.ID)
		}
	}
	return n
}

func costKeys(p *costProbe, cmd *command.Command, args [][]byte) int64 {
	var n int64
	keys, _ := cmd.GetKeys(args) // from the key specs: SINTERCARD's and ZUNION's keys move
	for _, k := range keys {
		if k.Pos < len(args) {
			n += p.size(args[k.Pos])
		}
	}
	return n
}

// costRankRange is LRANGE's and ZREVRANGE's: the elements between two ranks.
func costRankRange(p *costProbe, _ *command.Command, args [][]byte) int64 {
	if len(args) < 4 {
		return 0
	}
	start, ok1 := command.ParseInt(args[2])
	stop, ok2 := command.ParseInt(args[3])
	if !ok1 || !ok2 {
		return 0
	}
	n := p.size(args[1])
	if start < 0 {
		start = max(n+start, 0)
	}
	if stop < 0 {
		stop = n + stop
	}
	stop = min(stop, n-1)
	if start > stop {
		return 0
	}
	// A list is read from its nearer end, a sorted set's rank found by a seek: the span is
	// what is read either way, give or take the distance to it.
	return stop - start + 1
}

// costZRange is ZRANGE's (any form) and the older score and lex ranges': a rank range costs its
// span, LIMIT bounds the rest, and a score or lex range without LIMIT may cover the whole set.
func costZRange(p *costProbe, cmd *command.Command, args [][]byte) int64 {
	byRange := cmd.Name != "zrange"
	for i := 4; i < len(args); i++ {
		switch {
		case command.EqualFold(args[i], "byscore"), command.EqualFold(args[i], "bylex"):
			byRange = true
		case command.EqualFold(args[i], "limit") && i+2 < len(args):
			off, ok1 := command.ParseInt(args[i+1])
			cnt, ok2 := command.ParseInt(args[i+2])
			if ok1 && ok2 && cnt >= 0 {
				return max(off, 0) + cnt
			}
		}
	}
	if !byRange {
		return costRankRange(p, cmd, args)
	}
	return p.size(args[1])
}

// costCount is that of commands bounded by a COUNT argument (XRANGE, SCAN): the count, or the
// whole collection without one (SCAN's default count is 10).
func costCount(p *costProbe, cmd *command.Command, args [][]byte) int64 {
	for i := 2; i+1 < len(args); i++ {
		if command.EqualFold(args[i], "count") {
			if n, ok := command.ParseInt(args[i+1]); ok && n >= 0 {
				return n
			}
		}
	}
	switch cmd.Name {
	case "scan", "sscan", "hscan", "zscan":
		return 10
	}
	if cmd.Name == "xpending" && len(args) <= 3 {
		return 0 // the summary form
	}
	return p.size(args[1])
}

// costRandom is SRANDMEMBER's, ZRANDMEMBER's and HRANDFIELD's: as many elements as the count
// asks for (a negative count may repeat them, beyond the collection's size).
func costRandom(p *costProbe, _ *command.Command, args [][]byte) int64 {
	if len(args) < 3 {
		return 0
	}
	n, ok := command.ParseInt(args[2])
	if !ok {
		return 0
	}
	if n < 0 {
		return -n
	}
	return min(n, p.size(args[1]))
}

func costKeyspace(p *costProbe, _ *command.Command, _ [][]byte) int64 { return p.keys() }

// costKeyRange is KEYRANGE's: its LIMIT, or the database's keys.
func costKeyRange(p *costProbe, _ *command.Command, args [][]byte) int64 {
	for i := 3; i+1 < len(args); i++ {
		if command.EqualFold(args[i], "limit") {
			if n, ok := command.ParseInt(args[i+1]); ok && n >= 0 {
				return n
			}
		}
	}
	return p.keys()
}

func costSort(p *costProbe, _ *command.Command, args [][]byte) int64 {
	per := int64(1)
	for i := 2; i+1 < len(args); i++ {
		if command.EqualFold(args[i], "by") || command.EqualFold(args[i], "get") {
			per++
			i++
		}
	}
	return p.size(args[1]) * per
}

func costStrings(p *costProbe, _ *command.Command, args [][]byte) int64 {
	return p.bytes(args[1]) / stringUnit
}

// costLCS is LCS's: a table of one string's length by the other's.
func costLCS(p *costProbe, _ *command.Command, args [][]byte) int64 {
	if len(args) < 3 {
		return 0
	}
	a, b := p.bytes(args[1]), p.bytes(args[2])
	if a == 0 || b == 0 {
		return 0
	}
	if a > (1<<62)/b {
		return 1 << 62
	}
	return a * b / 1024
}

func costAlways(*costProbe, *command.Command, [][]byte) int64 { return offLoopCost }

// offLoopCandidate reports, without reading anything, whether a read might run off the loop.
// This is all a fast command pays.
func offLoopCandidate(cmd *command.Command, args [][]byte) bool {
	if cmd.ID < len(readCosts) && readCosts[cmd.ID] != nil {
		return true
	}
	return len(args) > offLoopArgs && cmd.Flags&(command.FlagBlocking|command.FlagWrite) == 0 &&
		cmd.Name != "pfcount" && !isScriptCall(cmd)
}

// runsOffLoop reports whether the read of cmd should run off the loop, estimating its cost
// from view v.
func runsOffLoop(lp *loop, v *shard.View, cmd *command.Command, args [][]byte, db int, now int64) bool {
	if len(args) > offLoopArgs {
		return true
	}
	f := readCosts[cmd.ID]
	p := costProbe{r: &lp.data, v: v, db: db, now: now}
	return f(&p, cmd, args) >= offLoopCost
}

// readOffLoop runs a read on a goroutine with view v (whose reference it takes over), its
// reply filling the connection's next reply place. It runs on the connection's loop, which
// stops processing the connection's input until the reply is in.
func (s *Server) readOffLoop(cl *Client, cmd *command.Command, args [][]byte, h *hosted, v *shard.View, start time.Time, drop bool) {
	db, proto, noTouch := cl.db, cl.proto, cl.noTouch
	if cmd.Flags&command.FlagWrite == 0 {
		s.trackRead(cl, cmd, args)
	}
	miss := s.offLoopMissHook(db)
	s.offLoop(cl, cmd, args, start, drop, func(args [][]byte) []byte {
		defer v.Release()
		w := resp.Writer{Proto: proto}
		var r shard.Reader
		r.OnMiss = miss
		r.NoTouch = noTouch
		// Nothing that runs here asks to become a write (offLoopCandidate leaves those out).
		r.Run(h.sh, v, cmd, args, db, &w, start.UnixMilli())
		if r.Hits != 0 {
			s.stats.keyspaceHits.Add(r.Hits)
		}
		if r.Misses != 0 {
			s.stats.keyspaceMisses.Add(r.Misses)
		}
		return w.Buf
	})
}

// keysOffLoop runs KEYS over several shards (a cluster node's) off the loop, merging their
// keys, when together they hold enough keys for it to be long. It reports whether it did.
func (s *Server) keysOffLoop(cl *Client, cmd *command.Command, args [][]byte, shards []*hosted, start time.Time, drop bool) bool {
	db, proto := cl.db, cl.proto
	var total int64
	for _, h := range shards {
		keys, _ := h.sh.KeyCounts()
		total += keys[db]
	}
	if total < offLoopCost {
		return false
	}
	views := make([]*shard.View, len(shards))
	for i, h := range shards {
		views[i] = h.sh.Acquire()
	}
	s.offLoop(cl, cmd, args, start, drop, func(args [][]byte) []byte {
		defer func() {
			for _, v := range views {
				v.Release()
			}
		}()
		var all [][]byte
		var r shard.Reader
		for i, h := range shards {
			w := resp.Writer{Proto: 2}
			r.Run(h.sh, views[i], cmd, args, db, &w, start.UnixMilli())
			keys, ok := bulkArray(w.Buf)
			if !ok {
				return w.Buf // an error
			}
			all = append(all, keys...)
		}
		w := resp.Writer{Proto: proto}
		w.Array(len(all))
		for _, k := range all {
			w.Bulk(k)
		}
		return w.Buf
	})
	return true
}

// offLoop runs a command's work on a goroutine; run's reply fills the connection's next reply
// place, taken now. It runs on the connection's loop, which stops processing the connection's
// input until the reply is in; the reply is accounted (command stats, slow log), dropped under
// CLIENT REPLY OFF, when it is sent (emit).
func (s *Server) offLoop(cl *Client, cmd *command.Command, args [][]byte, start time.Time, drop bool, run func(args [][]byte) []byte) {
	args = copyArgs(args) // the originals are in the connection's input buffer
	pos := cl.reserveLocal()
	cl.pending = append(cl.pending, pendingReply{cmd: cmd, start: start, drop: drop, args: args})
	s.feedMonitors(cl, cl.db, cmd, args)
	cl.cs.parked = true
	s.stats.offLoopReads.Add(1)
	go func() {
		var reply []byte
		defer func() {
			if r := recover(); r != nil {
				w := resp.Writer{Proto: 2}
				w.Error(fmt.Sprintf("ERR internal error (a bug) in '%s': %v", cmd.Name, r))
				reply = w.Buf
				s.logger.Error("command panicked", "cmd", cmd.Name, "panic", r, "stack", string(debug.Stack()))
			}
			cl.finish(pos, reply)
		}()
		reply = run(args)
	}()
}

// bulkArray reads a RESP array of bulk strings (KEYS's reply), of any length; ok is false for
// anything else.
func bulkArray(b []byte) (items [][]byte, ok bool) {
	line := func() (int64, bool) {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 2 {
			return 0, false
		}
		n, ok := command.ParseInt(b[1:i])
		b = b[i+2:]
		return n, ok
	}
	if len(b) == 0 || b[0] != '*' {
		return nil, false
	}
	n, ok := line()
	if !ok || n < 0 {
		return nil, false
	}
	items = make([][]byte, 0, min(n, 1<<20))
	for ; n > 0; n-- {
		if len(b) == 0 || b[0] != '$' {
			return nil, false
		}
		l, ok := line()
		if !ok || l < 0 || int64(len(b)) < l+2 {
			return nil, false
		}
		items = append(items, b[:l:l])
		b = b[l+2:]
	}
	return items, len(b) == 0
}

// offLoopMissHook is missHook for a read off the loop: the events are published from the
// read's goroutine, with buffers of its own.
func (s *Server) offLoopMissHook(db int) func(key []byte) {
	flags := s.cfg.live.notifyFlags.Load()
	if flags&notifyKeyMiss == 0 || flags&(notifyKeyspace|notifyKeyevent) == 0 || s.hub.subs.Load() == 0 {
		return nil
	}
	var channel, frame []byte
	return func(key []byte) {
		s.notifyEvent(flags, db, "keymiss", key, &channel, &frame, nil)
	}
}

// Long writes. On a single node under appendfsync everysec or no, an event loop applies its
// connections' writes itself (pass.go), so a write whose cost grows with the data
// (SUNIONSTORE of two big sets, SORT ... STORE of a big list) would hold every connection of
// the loop for its whole run. A write whose estimate, from the same metadata as a read's,
// reaches offLoopCost is instead handed to the shard's log goroutine, which applies it as it
// applies every write under appendfsync always: its connection is parked until the reply is
// in, and the loop goes on serving its other connections. The write is still computed at
// apply time, against exactly the state it is applied to, in the log's one sequence (the log
// applies a run at a time under one lock), so nothing about its result changes; only the
// goroutine it runs on does. What still waits for it is the shard's other writes — a loop
// whose own pass has writes for that shard waits for the lock at the end of its pass.

// writeCosts is the cost function of each write command whose apply cost grows with the data
// it reads or copies, by command ID.
var writeCosts = func() []readCost {
	byName := map[string]readCost{
		"sunionstore": costKeys, "sinterstore": costKeys, "sdiffstore": costKeys,
		"zunionstore": costKeys, "zinterstore": costKeys, "zdiffstore": costKeys,
		"zrangestore": costKeys, "georadius": costKeys, "georadiusbymember": costKeys,
		"geosearchstore": costKeys, "copy": costKeys, "bitop": costKeys,
		"sort": costSort, "ltrim": costKeys, "lrem": costKeys,
		"zremrangebyrank": costKeys, "zremrangebyscore": costKeys, "zremrangebylex": costKeys,
	}
	return costsByID(byName)
}()

// longWrite reports whether the write of cmd to shard h should be applied off the event loop.
// Only a write the loop would apply itself is considered.
func (s *Server) longWrite(cl *Client, cmd *command.Command, args [][]byte, h *hosted, now int64) bool {
	if cmd.ID >= len(writeCosts) || writeCosts[cmd.ID] == nil || h == nil || s.syncPolicy() == engine.SyncAlways {
		return false
	}
	if _, ok := h.sh.Log().(*replica.Local); !ok {
		return false // a replicated log applies on its own goroutine
	}
	v := h.sh.Acquire()
	defer v.Release()
	p := costProbe{r: &cl.loop.data, v: v, db: cl.db, now: now}
	return writeCosts[cmd.ID](&p, cmd, args) >= offLoopCost
}

// costsByID turns a table of cost functions by command name into one indexed by command ID.
func costsByID(byName map[string]readCost) []readCost {
	out := make([]readCost, maxCommandID()+1)
	for name, f := range byName {
		cmd := lookupCommand(name)
		if cmd == nil {
			panic("offloop: no command " + name)
		}
		out[cmd.ID] = f
	}
	return out
}
