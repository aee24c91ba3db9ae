package server

import (
	"errors"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
)

// level is how fresh a read must be.
type level uint8

const (
	// levelStrong reads are linearizable: they wait for a Raft read index.
	levelStrong level = iota
	// levelSession reads see the session's own writes and never go back in time: they wait
	// until this replica has applied the session's position in the shard.
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
	// asking: ASKING was sent; the next request may run on a slot's importing shard.
	asking bool
	// gateBytes is how much of the connection's input, from its current position, the last
	// read barrier covers: commands received before the barrier was taken may be served by it,
	// later ones need their own. gateShard is the shard it was taken on.
	gateBytes int
	gateOpen  bool
	gateShard uint64
	// parked is set by a command that replies later (WAIT): processing stops until it does.
	parked bool

	// Results of a barrier, under Client.mu.
	gateReady bool
	gateErr   error

	// positions is the session's position per shard: the highest log index it has seen, and
	// lastWrite the shard and index of its last write. Under posMu: written by completions on
	// apply goroutines.
	posMu     sync.Mutex
	positions map[uint64]uint64
	lastShard uint64
	lastWrite uint64
}

// position is the session's position in a shard.
func (cs *clusterSession) position(shard uint64) uint64 {
	cs.posMu.Lock()
	defer cs.posMu.Unlock()
	return cs.positions[shard]
}

// raisePosition moves the session's position in a shard forward.
func (cs *clusterSession) raisePosition(shard, index uint64) {
	cs.posMu.Lock()
	defer cs.posMu.Unlock()
	if cs.positions == nil {
		cs.positions = map[uint64]uint64{}
	}
	if index > cs.positions[shard] {
		cs.positions[shard] = index
	}
}

// noteWrite records that one of the session's writes is applied at or below index in shard.
func (cl *Client) noteWrite(shard, index uint64) {
	cs := &cl.cs
	cs.raisePosition(shard, index)
	cs.posMu.Lock()
	if shard != cs.lastShard || index > cs.lastWrite {
		cs.lastShard, cs.lastWrite = shard, index
	}
	cs.posMu.Unlock()
}

type gateAction int

const (
	gateRun  gateAction = iota // run the command now
	gateWait                   // stop: the connection is parked until the barrier is passed
	gateDone                   // the command was answered (with an error) and consumed
)

// route decides where a request runs. On a single node every data command runs on its one
// shard. In a cluster a command with keys runs on the shard owning their slot if this node
// holds a replica of it — a write only if that replica leads — and is redirected otherwise;
// a read first passes its consistency level's barrier. batched is how many writes of this pass
// are not submitted yet: an answer given at once (a redirection) waits for them, so replies keep
// request order. pending is how many bytes of input are buffered from this request on.
func (s *Server) route(cl *Client, r *request, batched, pending int) (*hosted, gateAction) {
	c := s.cluster
	if c == nil {
		h := s.hostedShard(singleShard)
		if act, busy := s.busyGate(cl, r, h, batched); busy {
			return nil, act
		}
		return h, gateRun
	}
	if r.cmd == nil || !r.runnable || (cl.multi && !r.write) || cl.inSubscribedMode() || cl.monitor {
		return nil, gateRun // dispatch answers (an error, QUEUED, a subscription) at once
	}
	if r.cmd.Run == nil && !r.write && r.top.Name != "watch" {
		return nil, gateRun // a server command
	}
	if r.slot == crossSlot {
		if s.cfg.ClusterProxy() && !cl.multi && scatterable(r.cmd) {
			if batched > 0 {
				return nil, gateWait
			}
			return nil, gateRun // dispatch splits it by shard
		}
		if batched > 0 {
			return nil, gateWait
		}
		s.abortMulti(cl)
		cl.loop.w.Error(cluster.ErrCrossSlot)
		return nil, gateDone
	}
	var h *hosted
	if r.slot == noSlot {
		if isKeylessData(r.cmd) || isSearchCommand(r.cmd) {
			if batched > 0 {
				return nil, gateWait // its reply's place comes after the batch's
			}
			return nil, gateRun // dispatch runs it over the shards this node leads
		}
		h = s.anyLedShard()
		if h == nil {
			if r.write {
				if batched > 0 {
					return nil, gateWait
				}
				s.abortMulti(cl)
				cl.loop.w.Error("CLUSTERDOWN This node leads no shard to run the command on")
				return nil, gateDone
			}
			return nil, gateRun // a command that touches no data: dispatch runs it without a shard
		}
		if !r.write {
			return h, gateRun
		}
	} else if h = s.routeMigrating(cl, r); h != nil {
		// ASKING: the slot's importing shard serves it here.
	} else {
		rt := cluster.RouteSlot(placement{s}, r.slot, r.write)
		if rt.Kind != cluster.Here {
			if rt.Shard != 0 && s.cfg.ClusterProxy() && r.top.Name != "watch" {
				// Forwarded to the shard's leader (submit for writes, dispatch for reads).
				if h = s.hostedShard(rt.Shard); h == nil {
					h = s.remoteShard(rt.Shard)
				}
				return h, gateRun
			}
			if batched > 0 {
				return nil, gateWait
			}
			s.abortMulti(cl)
			if rt.Kind == cluster.Moved && c.maybeStale(r.slot) {
				cl.loop.w.Error(errMaybeStale) // stale.go
			} else {
				cl.loop.w.Error(rt.Error())
			}
			return nil, gateDone
		}
		h = s.hostedShard(rt.Shard)
		if h != nil {
			h.load.ops.Add(1)
			h.slotLoad.count(r.slot)
		}
	}
	if act, busy := s.busyGate(cl, r, h, batched); busy {
		return nil, act
	}
	if r.write || r.top.Name == "watch" {
		return h, gateRun
	}
	act := s.readGate(cl, r, h, pending)
	if act == gateRun && slotLeft(h, r.slot) && !cl.cs.asking {
		cl.loop.w.Error(errSlotLeft)
		return nil, gateDone
	}
	return h, act
}

// anyLedShard is a shard this node leads, for commands that need one but no particular one.
func (s *Server) anyLedShard() *hosted {
	for _, h := range s.allHosted() {
		if h.leads() {
			return h
		}
	}
	return nil
}

// abortMulti ends a transaction whose EXEC was refused by routing (CROSSSLOT, MOVED): Redis
// discards it.
func (s *Server) abortMulti(cl *Client) {
	if cl.multi {
		cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = false, false, nil, noSlot
		s.unwatchAll(cl)
	}
}

// placement is a cluster node's knowledge of where slots are served, for routing.
type placement struct{ s *Server }

func (p placement) ShardOf(sl int) uint64 { return p.s.shardOfSlot(sl) }

func (p placement) Local(id uint64) (hosted, leads bool) {
	h := p.s.hostedShard(id)
	return h != nil, h != nil && h.leads()
}

func (p placement) LeaderAddr(id uint64) (string, bool) { return p.s.cluster.leaderAddr(id) }

// readGate decides whether a read may run now on shard h: a strong read waits for a read
// index, a session read for the session's position in the shard. pending is how many bytes
// of input, from this command on, are buffered.
func (s *Server) readGate(cl *Client, r *request, h *hosted, pending int) gateAction {
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
	lv := r.level
	if lv == levelDefault {
		lv = cs.level
	}
	rf := h.raft
	if lv == levelStrong && cs.readonly && !rf.IsLeader() {
		lv = levelEventual // READONLY: a replica answers from what it has, as Redis's replicas do
	}
	switch lv {
	case levelEventual:
		return gateRun
	case levelSession:
		pos := cs.position(h.id())
		if rf.Applied() >= pos || ready {
			return gateRun
		}
		s.park(cl, func(done func(error)) { rf.WaitApplied(pos, done) })
		return gateWait
	}
	if cs.gateOpen && cs.gateShard == h.id() && cs.gateBytes >= r.n {
		return gateRun
	}
	cs.gateOpen = false
	cs.gateBytes = pending
	cs.gateShard = h.id()
	s.park(cl, rf.ReadIndex)
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

// routed does the accounting after a command ran on shard h (nil: none).
func (s *Server) routed(cl *Client, r *request, h *hosted, write bool) {
	if s.cluster == nil {
		return
	}
	if cl.cs.asking && !keepAsking(cl, r) {
		cl.cs.asking = false
	}
	cl.cs.consumed(r.n)
	if !write && h != nil && h.raft != nil {
		// A session that read must not later read a state older than what it may have seen.
		cl.cs.raisePosition(h.id(), h.raft.Visible())
	}
}

// replyText is the Redis error reply for an error of the log.
func replyText(err error) string {
	switch {
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, replica.ErrDropped):
		return "TRYAGAIN The write was not applied: the leader changed. It is safe to retry."
	case errors.Is(err, replica.ErrLogFull):
		return "TRYAGAIN The write was not applied: big writes ahead of it did not commit in time. It is safe to retry."
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
