package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/resp"
)

// Pushes are output that reaches a connection without it asking: pub/sub messages, keyspace
// notifications, tracking invalidations. They are produced on any event loop (PUBLISH) and on
// the apply goroutine (notifications, invalidations), but only a connection's own loop may write
// to it. So a push is appended to the connection's outbox, and the connection is put on its
// loop's list of connections to flush; the first one to land on the list schedules one flush
// task on that loop (gnet's EventLoop.Execute, which is safe from any goroutine). A publisher on
// the same loop flushes at the end of its event instead. One flush writes everything the
// connection gathered since the last one with one write, so a burst of messages to many
// subscribers costs one write per subscriber, not one per message.
//
// The bytes waiting in the outbox and in gnet's outbound buffer are the connection's pending
// output; client-output-buffer-limit bounds them (outputlimit.go), so a subscriber that stops
// reading is disconnected instead of growing the server's memory without end.

// outbox is one connection's pushes waiting for its loop.
type outbox struct {
	mu      sync.Mutex
	buf     []byte
	queued  bool // on the loop's flush list
	closing bool // over its output limit or closed: pushes are dropped

	// Owned by the connection's loop.
	spare     []byte
	softSince int64 // Unix seconds the pending output went over the soft limit, 0 if under
}

// maxKeptOutbox is the largest outbox buffer kept for reuse after a flush: enough for the usual
// batch, small enough that a burst to many subscribers does not stay allocated after it.
const maxKeptOutbox = 16 << 10

// pushQueue is one loop's list of connections with pushes to flush.
type pushQueue struct {
	mu        sync.Mutex
	dirty     []*Client
	scheduled bool // a flush task is queued on the loop
	pending   atomic.Bool

	spare []*Client // owned by the loop
	task  flushTask
}

// flushTask is the runnable a loop executes to flush its pushes.
type flushTask struct {
	s  *Server
	lp *loop
}

// Run implements gnet.Runnable; it runs on the loop.
func (t *flushTask) Run(context.Context) error {
	t.s.flushPushes(t.lp)
	return nil
}

// push queues one push for cl. from is the loop the caller runs on (nil off the loops): a push
// from cl's own loop is flushed when the loop's current event ends, any other schedules a flush
// task. (Tracking also passes cl's loop to hold a push until cl's next event.) The caller may
// reuse frame once push returns.
func (s *Server) push(cl *Client, frame []byte, from *loop) {
	o := &cl.ps.out
	o.mu.Lock()
	if o.closing {
		o.mu.Unlock()
		return
	}
	o.buf = append(o.buf, frame...)
	queued := len(o.buf)
	first := !o.queued
	o.queued = true
	o.mu.Unlock()
	// Backstop for a loop too busy to flush: what has not even reached the loop is bounded by
	// the hard limit too. The loop checks the exact pending output when it writes.
	if lim := s.outputLimitFor(cl); lim.hard > 0 && int64(queued) >= lim.hard {
		s.closeOverLimit(cl)
		return
	}
	if first {
		s.scheduleFlush(cl, from == cl.loop)
	}
}

func (s *Server) scheduleFlush(cl *Client, local bool) {
	q := &cl.loop.pushes
	q.mu.Lock()
	q.dirty = append(q.dirty, cl)
	trigger := !local && !q.scheduled
	if trigger {
		q.scheduled = true
	}
	q.pending.Store(true)
	q.mu.Unlock()
	if trigger && cl.loop.el != nil {
		if err := cl.loop.el.Execute(context.Background(), &q.task); err != nil {
			// The engine is stopping: the connections are closing anyway.
			q.mu.Lock()
			q.scheduled = false
			q.mu.Unlock()
		}
	}
}

// flushPushes writes the pushes gathered for the loop's connections. It runs on the loop.
func (s *Server) flushPushes(lp *loop) {
	q := &lp.pushes
	if !q.pending.Load() {
		return
	}
	q.mu.Lock()
	batch := q.dirty
	q.dirty = q.spare[:0]
	q.scheduled = false
	q.pending.Store(false)
	q.mu.Unlock()
	for _, cl := range batch {
		s.flushClient(cl)
	}
	clear(batch)
	q.spare = batch
}

// takeOutbox empties cl's outbox and returns what it held; the caller hands the buffer back
// with returnOutbox once written. It runs on cl's loop.
func (cl *Client) takeOutbox() []byte {
	o := &cl.ps.out
	o.mu.Lock()
	buf := o.buf
	o.buf = o.spare
	o.spare = nil
	o.queued = false
	o.mu.Unlock()
	return buf
}

func (cl *Client) returnOutbox(buf []byte) {
	if cap(buf) <= maxKeptOutbox {
		cl.ps.out.spare = buf[:0]
	}
}

// flushClient writes cl's outbox to its connection and checks its output limits.
func (s *Server) flushClient(cl *Client) {
	buf := cl.takeOutbox()
	if len(buf) == 0 || cl.ps.closed {
		cl.returnOutbox(buf)
		return
	}
	s.stats.netOut.Add(int64(len(buf)))
	_, _ = cl.conn.Write(buf)
	cl.returnOutbox(buf)
	pending := int64(cl.conn.OutboundBuffered())
	cl.omem.Store(pending) // for CLIENT LIST
	s.checkOutputLimits(cl, pending)
}

// drainOutbox appends cl's pending pushes to w, the reply being built in cl's own event, so they
// keep their place before the replies that follow (a subscription's confirmation after the
// messages of the channels it had before, a published message before PUBLISH's own reply).
func (cl *Client) drainOutbox(w *resp.Writer) {
	if !cl.ps.out.hasPending() {
		return
	}
	buf := cl.takeOutbox()
	w.Raw(buf)
	cl.returnOutbox(buf)
}

func (o *outbox) hasPending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) > 0
}

// checkOutputLimits enforces client-output-buffer-limit on the output cl's connection has not
// yet sent (pending), as Redis does after adding output: over the hard limit, or over the soft
// limit for longer than its seconds, the client is closed, and it reports true. It runs on cl's
// loop.
func (s *Server) checkOutputLimits(cl *Client, pending int64) bool {
	lim := s.outputLimitFor(cl)
	if lim.hard == 0 && lim.soft == 0 {
		return false
	}
	// Redis counts only the output beyond a client's fixed 16 KB reply buffer
	// (getClientOutputBufferMemoryUsage), so tiny limits do not cut off small replies.
	pending = max(0, pending-replyBufferBytes)
	o := &cl.ps.out
	over := lim.hard > 0 && pending >= lim.hard
	if lim.soft > 0 && pending >= lim.soft {
		now := time.Now().Unix()
		if o.softSince == 0 {
			o.softSince = now
		} else if now-o.softSince > lim.seconds {
			over = true
		}
	} else {
		o.softSince = 0
	}
	if over {
		s.closeOverLimit(cl)
	}
	return over
}

// replyBufferBytes is the size of Redis's fixed per-client reply buffer (PROTO_REPLY_CHUNK_BYTES),
// which output limits do not count.
const replyBufferBytes = 16 << 10

// closeOverLimit drops cl's pending pushes and closes it, from any goroutine.
func (s *Server) closeOverLimit(cl *Client) {
	o := &cl.ps.out
	o.mu.Lock()
	if o.closing {
		o.mu.Unlock()
		return
	}
	o.closing = true
	o.buf = nil
	o.mu.Unlock()
	s.stats.outputLimitDisconnects.Add(1)
	if cl.ps.subscribed() {
		s.stats.slowSubscribers.Add(1)
	}
	s.logger.Warn(fmt.Sprintf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", s.describeClient(cl)))
	cl.killed.Store(true)
	_ = cl.conn.Close() // gnet closes it on its own loop
}

// describeClient names a client in log lines as Redis does, with its CLIENT LIST line.
func (s *Server) describeClient(cl *Client) string {
	return s.clientLine(cl, cl.snapshotInfo(), time.Now().UnixMilli())
}

// afterEvent runs at the end of each event of cl's loop: it flushes the pushes the event
// produced for the loop's connections and checks cl's own output against its limits.
func (s *Server) afterEvent(cl *Client) {
	s.flushPushes(cl.loop)
	if !cl.ps.closed {
		s.checkOutputLimits(cl, int64(cl.conn.OutboundBuffered()))
	}
}
