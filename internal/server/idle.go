package server

import (
	"slices"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// timeout N closes clients idle for N seconds, as Redis does: any bytes read count as activity
// (a client in the middle of sending a big request is not idle), and subscribers, clients
// blocked in BLPOP and the like (their command has its own timeout), MONITOR clients (Redis
// counts them as replicas) and clients waiting for the reply of a command still running (a
// long read off the event loop, a write in apply, DEBUG SLEEP: Redis, running one command at a
// time, never finds a client idle in the middle of its command) are never closed by it.

// noteRead records activity when bytes arrived since c's last event: OnTraffic also runs when
// apply completes a write or a throttled connection is rechecked, which are not the client's.
func (cl *Client) noteRead(c gnet.Conn) {
	if cl.inputBytes(c) > cl.qbuf.Load() {
		cl.lastActive.Store(time.Now().UnixMilli())
	}
}

// idleExempt reports whether timeout never closes cl. Safe from the cron goroutine.
func (s *Server) idleExempt(cl *Client) bool {
	if cl.ps.subscribed() || cl.blocked() || cl.busy() {
		return true
	}
	s.mon.mu.Lock()
	defer s.mon.mu.Unlock()
	return slices.Contains(s.mon.clients, cl)
}

// busy reports whether a reply of cl's is still being produced off its event loop.
func (cl *Client) busy() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.inflight > 0
}
