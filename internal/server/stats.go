package server

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/command"
)

// cmdStat is one command's counters for INFO commandstats. They are updated from every event
// loop, so they are atomic.
type cmdStat struct {
	calls, usec, rejected, failed atomic.Int64
	// hist is the distribution of the command's durations, for LATENCY HISTOGRAM and INFO
	// latencystats (hdrhist.go).
	hist latencyHist
}

// cmdStats holds a cmdStat for every command and subcommand. The map is built once, before the
// server serves, and only read afterwards, so lookups need no lock.
type cmdStats map[*command.Command]*cmdStat

func newCmdStats() cmdStats {
	m := cmdStats{}
	for _, c := range command.All() {
		m[c] = &cmdStat{}
		for _, sc := range c.Subcommands {
			m[sc] = &cmdStat{}
		}
	}
	return m
}

func (m cmdStats) reset() {
	for _, st := range m {
		st.calls.Store(0)
		st.usec.Store(0)
		st.rejected.Store(0)
		st.failed.Store(0)
		st.hist.reset()
	}
}

// errorStats counts error replies by their prefix ("ERR", "WRONGTYPE"), as INFO errorstats.
type errorStats struct {
	mu sync.Mutex
	m  map[string]int64
}

// maxErrorCodes bounds the distinct prefixes tracked, as Redis does, so a client inventing
// error codes cannot grow the map without end.
const maxErrorCodes = 128

func (e *errorStats) add(code string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	if _, ok := e.m[code]; !ok && len(e.m) >= maxErrorCodes {
		return
	}
	e.m[code]++
}

func (e *errorStats) snapshot() [][2]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([][2]any, 0, len(e.m))
	for k, v := range e.m {
		out = append(out, [2]any{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0].(string) < out[j][0].(string) })
	return out
}

func (e *errorStats) reset() {
	e.mu.Lock()
	e.m = nil
	e.mu.Unlock()
}

// errorCode returns the prefix of an encoded error reply: the word after '-' when it is
// followed by a space within 32 bytes, else "ERR", as Redis counts them.
func errorCode(reply []byte) string {
	n := len(reply)
	if n > 32 {
		n = 32
	}
	for i := 1; i < n; i++ {
		if reply[i] == ' ' {
			return string(reply[1:i])
		}
	}
	return "ERR"
}

// noteError counts one error reply.
func (s *Server) noteError(reply []byte) {
	s.stats.errorReplies.Add(1)
	s.errStats.add(errorCode(reply))
}

// account records a command that ran: its time and whether it failed (replied with an error).
// It returns the time the command took.
func (s *Server) account(c *command.Command, start time.Time, reply []byte) time.Duration {
	d := time.Since(start)
	failed := len(reply) > 0 && reply[0] == '-'
	if failed {
		s.noteError(reply)
	}
	st := s.cmdStats[c]
	if st == nil {
		return d
	}
	st.calls.Add(1)
	st.usec.Add(d.Microseconds())
	if failed {
		st.failed.Add(1)
	}
	if s.cfg.live.latencyTracking.Load() {
		st.hist.record(d)
	}
	return d
}

// reject records a command refused before it ran (arity, authentication, transaction state).
func (s *Server) reject(c *command.Command, reply []byte) {
	s.noteError(reply)
	if st := s.cmdStats[c]; st != nil {
		st.rejected.Add(1)
	}
}

// accountExec records the commands of a transaction from EXEC's reply: each element of the
// array is the reply of one queued command.
func (s *Server) accountExec(cmds []*command.Command, start time.Time, reply []byte) {
	rest := reply
	_, rest = skipLine(rest)
	for _, c := range cmds {
		elem := rest
		var ok bool
		rest, ok = skipReply(rest)
		if !ok {
			return
		}
		s.account(c, start, elem[:len(elem)-len(rest)])
	}
}

// skipLine returns the line at the start of b (without CRLF) and what follows it.
func skipLine(b []byte) (line, rest []byte) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:]
		}
	}
	return b, nil
}

// skipReply skips one encoded reply (RESP2 or RESP3) at the start of b.
func skipReply(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	line, rest := skipLine(b)
	if len(line) == 0 {
		return nil, false
	}
	n := 0
	neg := false
	for i, c := range line[1:] {
		if i == 0 && c == '-' {
			neg = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	switch line[0] {
	case '$', '=', '!':
		if neg {
			return rest, true
		}
		if len(rest) < n+2 {
			return nil, false
		}
		return rest[n+2:], true
	case '*', '~', '>':
		if neg {
			return rest, true
		}
		for i := 0; i < n; i++ {
			var ok bool
			if rest, ok = skipReply(rest); !ok {
				return nil, false
			}
		}
		return rest, true
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			var ok bool
			if rest, ok = skipReply(rest); !ok {
				return nil, false
			}
		}
		if line[0] == '|' {
			return skipReply(rest)
		}
		return rest, true
	}
	return rest, true
}

// opsSampler keeps the last samples of a counter to report a rate, as Redis's
// instantaneous_ops_per_sec: the mean over the last 16 samples.
type opsSampler struct {
	lastAt    time.Time
	lastCount int64
	samples   [16]float64
	idx       int
}

func (o *opsSampler) sample(now time.Time, count int64) {
	if !o.lastAt.IsZero() {
		dt := now.Sub(o.lastAt).Seconds()
		if dt > 0 {
			o.samples[o.idx%len(o.samples)] = float64(count-o.lastCount) / dt
			o.idx++
		}
	}
	o.lastAt, o.lastCount = now, count
}

func (o *opsSampler) rate() float64 {
	var sum float64
	for _, v := range o.samples {
		sum += v
	}
	return sum / float64(len(o.samples))
}

// rates are the sampled rates INFO reports; the cron goroutine writes them, INFO reads them.
type rates struct {
	mu                   sync.Mutex
	ops, netIn, netOut   opsSampler
	opsRate, inKB, outKB float64
}

// sampleRates is called by the cron every 100 ms.
func (s *Server) sampleRates() {
	now := time.Now()
	r := &s.rates
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops.sample(now, s.stats.commands.Load())
	r.netIn.sample(now, s.stats.netIn.Load())
	r.netOut.sample(now, s.stats.netOut.Load())
	r.opsRate, r.inKB, r.outKB = r.ops.rate(), r.netIn.rate()/1024, r.netOut.rate()/1024
	s.sampleShardRates(now)
}

// opsPerSec is the recent command rate (INFO's instantaneous_ops_per_sec).
func (r *rates) opsPerSec() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(r.opsRate + 0.5)
}
