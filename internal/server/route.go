package server

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/slot"
)

// level is how fresh a read must be.
type level uint8

const (
	// levelStrong reads are linearizable: they wait for a Raft read index.
	levelStrong level = iota
	// levelSession reads see the session's own writes and never go back in time: they wait
	// until this replica has applied the session's position.
	levelSession
	// levelEventual reads run at once on whatever this replica has.
	levelEventual
	levelDefault // no override
)

var levelNames = [...]string{"strong", "session", "eventual"}

func parseLevel(b []byte) (level, bool) {
	for i, n := range levelNames {
		if command.EqualFold(b, n) {
			return level(i), true
		}
	}
	return levelDefault, false
}

// clusterSession is a connection's state in cluster mode.
type clusterSession struct {
	// Loop-owned.
	level    level
	readonly bool
	// gateBytes is how much of the connection's input, from its current position, the last
	// read barrier covers: commands received before the barrier was taken may be served by it,
	// later ones need their own.
	gateBytes int
	gateOpen  bool
	// parked is set by a command that replies later (WAIT): processing stops until it does.
	parked bool

	// position is the highest log index the session has seen; lastWrite the index of its last
	// write. Written by completions on other goroutines.
	position  atomic.Uint64
	lastWrite atomic.Uint64

	// Results of a barrier, under Client.mu.
	gateReady bool
	gateErr   error
}

// noteWrite records that one of the session's writes is applied at or below index.
func (cl *Client) noteWrite(index uint64) {
	raise(&cl.cs.position, index)
	raise(&cl.cs.lastWrite, index)
}

func raise(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// unwrapConsistency turns "CONSISTENCY <level> <command> args..." into the command and its
// level. Anything else is returned as it is, with levelDefault.
func unwrapConsistency(args [][]byte) ([][]byte, level) {
	if len(args) > 2 && command.EqualFold(args[0], "consistency") {
		if lv, ok := parseLevel(args[1]); ok {
			return args[2:], lv
		}
	}
	return args, levelDefault
}

type gateAction int

const (
	gateRun  gateAction = iota // run the command now
	gateWait                   // stop: the connection is parked until the barrier is passed
	gateDone                   // the command was answered (with an error) and consumed
)

// readGate decides whether a command may run now in cluster mode. Only reads of data are
// gated; a strong read waits for a read index, a session read for the session's position.
// pending is how many bytes of input, from this command on, are buffered.
func (s *Server) readGate(cl *Client, args [][]byte, override level, pending, n int) gateAction {
	if cl.multi || !cl.authed {
		return gateRun
	}
	cmd, sub := resolve(args)
	if cmd == nil {
		return gateRun
	}
	if sub != nil {
		cmd = sub
	}
	if cmd.Run == nil || cmd.IsWrite() || !command.CheckArity(cmd.Arity, len(args)) {
		return gateRun
	}
	cs := &cl.cs
	cl.mu.Lock()
	ready, err := cs.gateReady, cs.gateErr
	cs.gateReady, cs.gateErr = false, nil
	cl.mu.Unlock()
	if err != nil {
		cl.loop.w.Error(replyText(err))
		return gateDone
	}
	if ready {
		cs.gateOpen = true
	}
	lv := override
	if lv == levelDefault {
		lv = cs.level
	}
	r := s.cluster.raft
	if lv == levelStrong && cs.readonly && !r.IsLeader() {
		lv = levelEventual // READONLY: a replica answers from what it has, as Redis's replicas do
	}
	switch lv {
	case levelEventual:
		return gateRun
	case levelSession:
		pos := cs.position.Load()
		if r.Applied() >= pos || ready {
			return gateRun
		}
		s.park(cl, func(done func(error)) { r.WaitApplied(pos, done) })
		return gateWait
	}
	if cs.gateOpen && cs.gateBytes >= n {
		return gateRun
	}
	cs.gateOpen = false
	cs.gateBytes = pending
	s.park(cl, r.ReadIndex)
	return gateWait
}

// consumed accounts for a command taken off the input, for the read barrier's coverage.
func (cs *clusterSession) consumed(n int) {
	if cs.gateBytes > 0 {
		cs.gateBytes -= n
	}
	if cs.gateBytes <= 0 {
		cs.gateOpen = false
	}
}

// afterRead moves the session's position past what a read may have seen.
func (s *Server) afterRead(cl *Client) {
	raise(&cl.cs.position, s.cluster.raft.Visible())
}

var errReadTimeout = errors.New("read timed out waiting for this replica to catch up")

// park parks the connection until a barrier completes (or times out); its result is picked up
// by readGate when the connection's input is processed again.
func (s *Server) park(cl *Client, register func(done func(error))) {
	cl.mu.Lock()
	cl.inflight++
	cl.mu.Unlock()
	var once sync.Once
	finish := func(err error) {
		once.Do(func() {
			cl.mu.Lock()
			cl.cs.gateReady, cl.cs.gateErr = err == nil, err
			cl.inflight--
			last := cl.inflight == 0
			cl.mu.Unlock()
			if last {
				_ = cl.conn.Wake(nil)
			}
		})
	}
	t := time.AfterFunc(2*s.cluster.host.ElectionTimeout()+2*time.Second, func() { finish(errReadTimeout) })
	register(func(err error) {
		t.Stop()
		finish(err)
	})
}

// redirectWrite answers a write that this node cannot take: -MOVED to the leader (Redis
// Cluster's redirection, which cluster-aware clients follow), or -CLUSTERDOWN while there is
// no leader. With cluster-proxy the write is forwarded instead (at submit). It reports whether
// it answered.
func (s *Server) redirectWrite(cl *Client, args [][]byte) bool {
	c := s.cluster
	if c.raft.IsLeader() {
		return false
	}
	addr, ok := c.leaderAddr()
	if !ok {
		if cl.multi {
			cl.multi, cl.multiDirty, cl.queued = false, false, nil
		}
		cl.loop.w.Error("CLUSTERDOWN The cluster is down")
		return true
	}
	if s.cfg.ClusterProxy() {
		return false
	}
	slot := -1
	if cl.multi {
		for _, q := range cl.queued {
			if slot = firstKeySlot(q); slot >= 0 {
				break
			}
		}
		cl.multi, cl.multiDirty, cl.queued = false, false, nil
	} else {
		slot = firstKeySlot(args)
	}
	if slot < 0 {
		cl.loop.w.Error("READONLY You can't write against a read only replica.")
		return true
	}
	cl.loop.w.Error("MOVED " + strconv.Itoa(slot) + " " + addr)
	return true
}

func firstKeySlot(args [][]byte) int {
	cmd, sub := resolve(args)
	if cmd == nil {
		return -1
	}
	if sub != nil {
		cmd = sub
	}
	for _, i := range cmd.KeyPositions(args) {
		return slot.KeySlot(args[i])
	}
	return -1
}

// replyText is the Redis error reply for an error of the log.
func replyText(err error) string {
	switch {
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, replica.ErrDropped):
		return "TRYAGAIN The write was not applied: the leader changed. It is safe to retry."
	case errors.Is(err, replica.ErrUnknown):
		return "ERR The write's outcome is unknown: no quorum confirmed it in time. It may or may not be applied."
	case errors.Is(err, replica.ErrStopped):
		return "ERR The server is shutting down; the outcome of the write is unknown."
	case errors.Is(err, replica.ErrNoLeader):
		return "CLUSTERDOWN The cluster is down"
	case errors.Is(err, errReadTimeout):
		return "TRYAGAIN The read timed out waiting for this replica to catch up"
	}
	return "ERR " + err.Error()
}

// errorReply encodes the error reply for a failed operation.
func errorReply(err error) []byte {
	w := resp.Writer{Proto: 2}
	w.Error(replyText(err))
	return w.Buf
}

// route gates a command in cluster mode: a write this node cannot take is redirected, a read
// waits for its consistency level. batched is how many writes of this pass are not submitted
// yet; pending how many bytes of input are buffered from this command on; n its size.
func (s *Server) route(cl *Client, args [][]byte, override level, batched, pending, n int) gateAction {
	if s.isWrite(cl, args) {
		if s.cluster.raft.IsLeader() {
			return gateRun
		}
		if batched > 0 {
			return gateWait // leadership moved mid-pass: let the batch finish (and fail) first
		}
		if s.redirectWrite(cl, args) {
			return gateDone
		}
		return gateRun
	}
	return s.readGate(cl, args, override, pending, n)
}

// routed does the accounting after a command ran.
func (s *Server) routed(cl *Client, write bool, n int) {
	cl.cs.consumed(n)
	if !write {
		s.afterRead(cl)
	}
}
