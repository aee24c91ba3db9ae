package server

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/command"
)

// The slow log, as Redis's: commands that took at least slowlog-log-slower-than microseconds
// (-1 disables it, 0 logs everything), the newest slowlog-max-len of them.
//
// A command's time is what dispatch measures for INFO commandstats: from taking the request
// off the connection to having its reply, so a write's time includes its wait for the log (and
// the sync under appendfsync always), which in Redis is not part of the command; a pipelined
// write's time starts when the reply before it was filled (runStart), so the time it waited
// behind the writes before it is not counted, as Redis does not count it. Commands that
// block (BLPOP...) are not logged, since their time is mostly waiting; the commands of a
// transaction are each logged with the time of the whole transaction.

func init() {
	registerLocal("slowlog", cmdSlowlog)
}

// Redis truncates what it keeps of a command: at most slowLogMaxArgs arguments, each at most
// slowLogMaxString bytes.
const (
	slowLogMaxArgs   = 32
	slowLogMaxString = 128
)

type slowEntry struct {
	id, time, duration int64 // duration in microseconds
	args               [][]byte
	addr, name         string
}

type slowLog struct {
	mu      sync.Mutex
	entries []slowEntry // oldest first
	nextID  int64
}

// isSlow reports whether a command that took d is for the slow log or the latency monitor, a
// check cheap enough for every command.
func (s *Server) isSlow(d time.Duration) bool {
	if t := s.cfg.live.slowlogSlower.Load(); t >= 0 && d.Microseconds() >= t {
		return true
	}
	t := s.cfg.live.latencyThreshold.Load()
	return t > 0 && d.Milliseconds() >= t
}

// observeSlow records a command that isSlow picked out.
func (s *Server) observeSlow(cl *Client, cmd *command.Command, args [][]byte, d time.Duration) {
	if cmd.Flags&command.FlagBlocking != 0 {
		return
	}
	if t := s.cfg.live.slowlogSlower.Load(); t >= 0 && d.Microseconds() >= t && cmd.Flags&command.FlagSkipSlowlog == 0 {
		s.slow.push(cl, cmd, args, d.Microseconds(), s.cfg.live.slowlogMaxLen.Load())
	}
	if t := s.cfg.live.latencyThreshold.Load(); t > 0 && d.Milliseconds() >= t {
		event := "command"
		if cmd.Flags&command.FlagFast != 0 {
			event = "fast-command"
		}
		s.latency.add(event, d.Milliseconds(), time.Now().Unix())
	}
}

func (l *slowLog) push(cl *Client, cmd *command.Command, args [][]byte, usec, maxLen int64) {
	e := slowEntry{time: time.Now().Unix(), duration: usec, args: slowArgs(cmd, args), addr: cl.raddr, name: cl.name}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	if n := int64(len(l.entries)) - maxLen; n > 0 {
		l.entries = append(l.entries[:0], l.entries[n:]...)
	}
}

// slowArgs copies what the slow log keeps of a command's arguments: credentials redacted, the
// 32nd argument on replaced by a count of the rest, long arguments cut at 128 bytes.
func slowArgs(cmd *command.Command, args [][]byte) [][]byte {
	n := min(len(args), slowLogMaxArgs)
	redact := redactFrom(cmd, args)
	out := make([][]byte, n)
	for i := 0; i < n; i++ {
		a := args[i]
		switch {
		case n != len(args) && i == n-1:
			out[i] = []byte("... (" + strconv.Itoa(len(args)-n+1) + " more arguments)")
		case i >= redact:
			out[i] = []byte("(redacted)")
		case len(a) > slowLogMaxString:
			out[i] = append(append([]byte(nil), a[:slowLogMaxString]...), "... ("+strconv.Itoa(len(a)-slowLogMaxString)+" more bytes)"...)
		default:
			out[i] = append([]byte(nil), a...)
		}
	}
	return out
}

// observePending records a slow command whose reply came later: a write, a deferred
// server-side command, or a transaction, whose commands are each logged with the time of the
// whole (Redis times them one by one; apply runs them as one operation).
func (s *Server) observePending(cl *Client, p *pendingReply, d time.Duration) {
	if p.multi != nil {
		s.observeSlow(cl, p.cmd, nil, d) // EXEC: the latency monitor only (skip_slowlog)
		for i, c := range p.multi {
			if i < len(p.multiArgs) {
				s.observeSlow(cl, c, p.multiArgs[i], d)
			}
		}
		return
	}
	s.observeSlow(cl, p.cmd, p.argv(), d)
}

// argv is the arguments of a pending reply's command, for the slow log.
func (p *pendingReply) argv() [][]byte {
	if p.args != nil {
		return p.args
	}
	if p.op != nil {
		var op command.Op
		if command.DecodeOp(p.op, &op) == nil && len(op.Cmds) == 1 {
			return op.Cmds[0]
		}
	}
	return [][]byte{[]byte(p.cmd.Name)}
}

func cmdSlowlog(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "get":
		if len(args) > 3 {
			w.Error("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try SLOWLOG HELP.")
			return
		}
		count := int64(10)
		if len(args) == 3 {
			n, ok := command.ParseInt(args[2])
			if !ok || n < -1 {
				w.Error("ERR count should be greater than or equal to -1")
				return
			}
			count = n
		}
		s.slow.mu.Lock()
		defer s.slow.mu.Unlock()
		es := s.slow.entries
		if count == -1 || count > int64(len(es)) {
			count = int64(len(es))
		}
		w.Array(int(count))
		for i := len(es) - 1; i >= len(es)-int(count); i-- {
			e := &es[i]
			w.Array(6)
			w.Int(e.id)
			w.Int(e.time)
			w.Int(e.duration)
			w.Array(len(e.args))
			for _, a := range e.args {
				w.Bulk(a)
			}
			w.BulkString(e.addr)
			w.BulkString(e.name)
		}
	case "len":
		s.slow.mu.Lock()
		n := len(s.slow.entries)
		s.slow.mu.Unlock()
		w.Int(int64(n))
	case "reset":
		s.slow.mu.Lock()
		s.slow.entries = nil
		s.slow.mu.Unlock()
		w.OK()
	case "help":
		writeHelp(w, "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET [<count>]",
			"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
			"    Entries are made of:",
			"    id, timestamp, time in microseconds, arguments array, client IP and port,",
			"    client name",
			"LEN",
			"    Return the length of the slowlog.",
			"RESET",
			"    Reset the slowlog.",
			"HELP",
			"    Prints this help.")
	}
}

// runStart is the start to time a reply that came later from, so its time is its own: from
// when it was submitted, or from when the reply before it in the pipeline was filled if that is
// later (until then it waited behind that one, as it would have waited unread in Redis's
// input buffer), to when it was filled. The start is moved by the time since it was filled, so
// that time.Since gives exactly that.
func runStart(submitted, done, prev time.Time) time.Time {
	if done.IsZero() {
		return submitted
	}
	from := submitted
	if prev.After(from) {
		from = prev
	}
	return from.Add(time.Since(done))
}
