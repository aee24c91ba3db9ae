package server

import (
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Output accounting as replies are produced. A pass over a connection's input used to build
// every reply of the pipeline into the loop's writer and hand it to the connection at the end:
// a client pipelining thousands of GETs of a big value and reading nothing held all of them in
// memory at once. Now, after each request:
//
//   - the replies built so far go to the connection once they pass flushChunk, so the loop's
//     writer never holds more than one chunk and one reply;
//   - the client's output limits (client-output-buffer-limit) are checked on what the socket has
//     not taken, and a client over them is cut off before its next reply is built;
//   - a connection whose unsent output passes outputThrottle stops having its input parsed
//     (backpressure): the rest of its pipeline waits in its input buffer, bounded by
//     client-query-buffer-limit, until the socket has taken the output below half of it. gnet
//     does not tell a handler when a socket drained, so a throttled connection is woken every
//     throttleRecheck to look.
const (
	flushChunk      = 64 << 10
	outputThrottle  = 4 << 20
	throttleRecheck = time.Millisecond
)

// backpressure is a connection's throttling state, owned by its loop.
type backpressure struct {
	throttled bool
	timer     *time.Timer
}

// flushWriter hands the replies the loop's writer holds to c.
func (s *Server) flushWriter(c gnet.Conn, lp *loop) {
	if lp.w.Len() == 0 {
		return
	}
	s.stats.netOut.Add(int64(lp.w.Len()))
	_, _ = c.Write(lp.w.Buf)
	if cap(lp.w.Buf) > 1<<20 {
		if cap(lp.w.Buf) >= bigWriteBytes {
			s.memToReturn.Store(true) // have it collected before it piles up
		}
		lp.w.Buf = nil // do not hold a huge reply's buffer for the life of the loop
	}
	lp.w.Reset()
}

// afterReply runs after each request of a pass. It reports whether the pass must stop: the
// client was cut off for its output, or its output is over the throttle.
func (s *Server) afterReply(c gnet.Conn, cl *Client, lp *loop) bool {
	if lp.w.Len() >= flushChunk {
		s.flushWriter(c, lp)
	}
	pending := int64(c.OutboundBuffered() + lp.w.Len())
	if s.checkOutputLimits(cl, pending) {
		return true
	}
	if pending >= outputThrottle {
		cl.bp.throttled = true
		s.recheckLater(c, cl)
		return true
	}
	return false
}

// outputBlocked reports whether c's input must stay unparsed because its output is still over
// the throttle; it clears the throttle once the socket took the output below half of it.
func (s *Server) outputBlocked(c gnet.Conn, cl *Client) bool {
	if !cl.bp.throttled {
		return false
	}
	if c.OutboundBuffered() >= outputThrottle/2 {
		s.recheckLater(c, cl)
		return true
	}
	cl.bp.throttled = false
	return false
}

func (s *Server) recheckLater(c gnet.Conn, cl *Client) {
	if cl.bp.timer == nil {
		cl.bp.timer = time.AfterFunc(throttleRecheck, func() { _ = c.Wake(nil) })
		return
	}
	cl.bp.timer.Reset(throttleRecheck)
}

// stopBackpressure releases a closing connection's timer.
func (cl *Client) stopBackpressure() {
	if cl.bp.timer != nil {
		cl.bp.timer.Stop()
	}
}

// maxClientMemory is maxmemory-clients in bytes (a percentage is of maxmemory); 0 is no limit.
func (s *Server) maxClientMemory() int64 {
	v, _ := s.cfg.Get("maxmemory-clients")
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		n, err := strconv.ParseInt(pct, 10, 64)
		mm, _ := s.cfg.Get("maxmemory")
		max, ok2 := parseMemory(mm)
		if err != nil || !ok2 {
			return 0
		}
		return max * n / 100
	}
	n, _ := parseMemory(v)
	return n
}

// evictClients enforces maxmemory-clients, as Redis 7's client eviction does: while the
// clients together hold more than the limit in their input and output buffers, the biggest
// is disconnected. Clients that set CLIENT NO-EVICT are never chosen. It runs on the cron.
func (s *Server) evictClients() {
	limit := s.maxClientMemory()
	if limit <= 0 {
		return
	}
	type sized struct {
		cl  *Client
		mem int64
	}
	var all []sized
	var total int64
	for _, cl := range s.snapshotClients() {
		m := cl.qbuf.Load() + cl.omem.Load()
		total += m
		if !cl.snapshotInfoNoEvict() {
			all = append(all, sized{cl, m})
		}
	}
	if total <= limit {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mem > all[j].mem })
	for _, c := range all {
		if total <= limit || c.mem == 0 {
			break
		}
		total -= c.mem
		s.stats.evictedClients.Add(1)
		s.logger.Warn("evicting client over maxmemory-clients", "client", s.describeClient(c.cl), "memory", c.mem, "limit", limit)
		s.kill(c.cl, nil)
	}
}

// snapshotInfoNoEvict reads CLIENT NO-EVICT from the published flags (the field is the loop's).
func (cl *Client) snapshotInfoNoEvict() bool {
	return strings.Contains(cl.snapshotInfo().flags, "e")
}

// bigClientBytes is how much buffered input and output a closing client must have held for the
// cron to hand the freed memory back to the OS at once, rather than over the runtime's minutes.
const bigClientBytes = 1 << 20

// noteClosed records that a client holding big buffers went.
func (s *Server) noteClosed(cl *Client) {
	if cl.qbuf.Load()+cl.omem.Load() >= bigClientBytes {
		s.memToReturn.Store(true)
	}
}

// bigWriteBytes is the size of a write operation from which its completion asks the cron to
// return memory: the request and the engine batch that held the value are garbage then, and
// with the heap target the collector set while they were live it would not collect them
// before the engine's flush of the value added its own garbage (a 476 MiB SET peaked at
// 1.6-1.8 GB instead of 1.1 GB).
const bigWriteBytes = 64 << 20

// returnMemory hands freed memory back to the OS after a big client went or a big write was
// applied, at most once a second (it costs a full collection, cheap on a heap of byte slices).
// It runs on the cron.
func (s *Server) returnMemory() {
	if !s.memToReturn.Load() || time.Since(s.lastMemReturn) < time.Second {
		return
	}
	s.memToReturn.Store(false)
	s.lastMemReturn = time.Now()
	debug.FreeOSMemory()
}
