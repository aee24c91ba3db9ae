package replica

import (
	"maps"
	"slices"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// Quiescence.
//
// A node may hold a thousand replicas, most of them idle at any moment, and a ticking group
// costs a heartbeat from its leader to each follower every tick. So an idle group quiesces, as
// CockroachDB's ranges and TiKV's hibernating regions do: once its leader has had nothing to do
// for a few ticks — every entry committed, applied and held by every live follower, no proposal,
// read or membership change pending — it tells its followers (a note in the node payload, not
// a Raft message), and neither it nor they tick any more. Anything that happens wakes the group: a proposal, a
// read, a membership change, or any Raft message other than a heartbeat response (the leader's
// first append after waking wakes its followers).
//
// Who watches a quiet leader? Nodes exchange a heartbeat every tick whatever their groups do
// (HostConfig.Heard is the transport's record of them), and a quiet follower whose leader's
// node falls silent for an election timeout wakes up, moves its election clock past the
// leader's lease, and — if it is the group's designated successor, the lowest live voter —
// campaigns at once, so a dead leader of a quiet group is replaced about as fast as one of a
// busy group. Quiescence is off without HostConfig.Heard.

// quiesceTicks is how many idle ticks a leader waits before it quiesces its group.
const quiesceTicks = 3

// maybeQuiesce quiesces the group if this replica leads it and it has been idle for
// quiesceTicks ticks, and reports whether it did. Host goroutine, at a tick, before Raft's.
func (r *Raft) maybeQuiesce(o *outbox) bool {
	if r.host.cfg.Heard == nil || !r.idleLeader() {
		r.idle = 0
		return false
	}
	if r.idle++; r.idle < quiesceTicks {
		return false
	}
	bs := r.rn.BasicStatus()
	last, _ := r.ms.LastIndex()
	note := quiesceNote{shard: r.shard, from: r.id, term: bs.HardState.GetTerm(), commit: last}
	r.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id == r.id || pr.Match != last {
			return
		}
		if node := r.nodeOf(id); node != 0 {
			o.quiesce(node, note)
		}
	})
	r.quiet, r.idle = true, 0
	r.publishProgress() // the last refresh until the group wakes
	return true
}

// idleLeader reports whether this replica leads a group with nothing in flight: everything
// committed and applied, every live follower holding the whole log, nothing waiting.
func (r *Raft) idleLeader() bool {
	bs := r.rn.BasicStatus()
	if bs.RaftState != raft.StateLeader || r.held != nil || r.rn.HasReady() || len(r.reads) > 0 {
		return false
	}
	last, _ := r.ms.LastIndex()
	if bs.HardState.GetCommit() != last || r.applied.Load() != last || (r.confState != nil && (len(r.confState.Learners) > 0 || len(r.confState.VotersOutgoing) > 0)) {
		return false
	}
	r.mu.Lock()
	queued := len(r.props) + len(r.readQ) + len(r.confQ) + len(r.inbox) + len(r.repWaits)
	r.mu.Unlock()
	r.pmu.Lock()
	queued += len(r.pending) + len(r.waiting)
	r.pmu.Unlock()
	if queued > 0 {
		return false
	}
	caughtUp := true
	r.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id != r.id && pr.Match != last && r.host.alive(r.nodeOf(id)) {
			caughtUp = false
		}
	})
	return caughtUp
}

// wakeOn reports whether a message wakes a quiet group: anything but a heartbeat response
// (the answers to the leader's last heartbeats carry nothing to act on).
func wakeOn(m *pb.Message) bool {
	return m.GetType() != pb.MsgHeartbeatResp
}

// receiveQuiesce queues a leader's quiesce note for the scheduler.
func (r *Raft) receiveQuiesce(q quiesceNote) {
	r.mu.Lock()
	r.quiesceQ = append(r.quiesceQ, q)
	r.mu.Unlock()
}

// quiescedBy reports whether this follower may quiesce on a leader's note: it follows the
// note's sender in the note's term and holds the leader's whole log, committed.
func (r *Raft) quiescedBy(q quiesceNote) bool {
	bs := r.rn.BasicStatus()
	last, _ := r.ms.LastIndex()
	return bs.RaftState == raft.StateFollower && bs.Lead == q.from && bs.HardState.GetTerm() == q.term &&
		last == q.commit && bs.HardState.GetCommit() == q.commit
}

// checkLeaderAlive wakes a quiet follower whose leader's node has gone silent: its election
// clock moves past the leader's lease, and the designated successor campaigns at once. Host
// goroutine, at each tick of a quiet group.
//
// At a quiet leader it wakes the group when a follower that is behind has come back: a leader
// quiesces with followers on nodes it does not hear from left behind (they could not catch up
// anyway), and nothing else would tell it when their nodes return — the follower, quiet since
// before it fell behind, waits for a leader that is alive and silent. CockroachDB unquiesces
// its ranges when a node becomes live for the same reason.
func (r *Raft) checkLeaderAlive() {
	bs := r.rn.BasicStatus()
	if bs.RaftState == raft.StateLeader {
		last, _ := r.ms.LastIndex()
		behind := false
		r.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
			if id != r.id && pr.Match < last && r.host.alive(r.nodeOf(id)) {
				behind = true
			}
		})
		if behind {
			r.quiet = false
			r.poke()
		}
		return
	}
	if lead := r.nodeOf(bs.Lead); bs.Lead != 0 && r.host.alive(lead) {
		return
	}
	r.quiet = false
	for i := 0; i < r.host.cfg.ElectionTicks; i++ {
		r.rn.Tick()
	}
	if r.successor(bs.Lead) == r.id {
		_ = r.rn.Campaign()
	}
	r.poke()
}

// successor is the voter that campaigns first when the leader lead is gone: the lowest replica
// ID among the live voters other than it, so they do not split the vote.
func (r *Raft) successor(lead uint64) uint64 {
	var best uint64
	if r.confState == nil {
		return 0
	}
	for _, id := range r.confState.Voters {
		if id == lead || (id != r.id && !r.host.alive(r.nodeOf(id))) {
			continue
		}
		if best == 0 || id < best {
			best = id
		}
	}
	return best
}

// alive reports whether the transport heard from a node within an election timeout (this node
// counts as alive). Host goroutine: the answer is kept for the rest of the tick.
func (h *Host) alive(node uint64) bool {
	if node == h.id {
		return true
	}
	if node == 0 || h.cfg.Heard == nil {
		return false
	}
	if h.aliveTick != h.ticks || h.aliveAt == nil {
		h.aliveTick = h.ticks
		clear(h.aliveAt)
		if h.aliveAt == nil {
			h.aliveAt = map[uint64]bool{}
		}
	}
	a, ok := h.aliveAt[node]
	if !ok {
		a = h.cfg.Clock.Now().Sub(h.cfg.Heard(node)) < h.ElectionTimeout()
		h.aliveAt[node] = a
	}
	return a
}

// heartbeat sends each peer node an empty payload, so nodes hear from each other every tick
// even when all their groups are quiet. Host goroutine, at each tick. The peers are worked out
// again only when some group's membership changed.
func (h *Host) heartbeat(o *outbox, shards []*Raft) {
	if h.cfg.Heard == nil {
		return
	}
	if gen := h.membersGen.Load(); gen != h.peersGen || h.peers == nil {
		set := map[uint64]bool{}
		for _, r := range shards {
			for _, node := range r.peerNodes() {
				set[node] = true
			}
		}
		h.peers = slices.Sorted(maps.Keys(set))
		h.peersGen = gen
	}
	for _, node := range h.peers {
		o.peer(node) // an empty payload if nothing else goes there this round
	}
}
