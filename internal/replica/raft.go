package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Snapshotter is what a state machine adds to be replicated: a consistent copy of itself to
// send to a replica that fell behind, and the installing of such a copy.
type Snapshotter interface {
	StateMachine
	// Checkpoint writes a durable, consistent copy of the state as of the last applied entry
	// into dir, which does not exist yet. After it returns, everything applied so far is
	// durable in the state machine itself too.
	Checkpoint(dir string) error
	// Restore replaces the state with the copy in dir (taking dir over) and returns the index
	// of the last entry that copy had applied.
	Restore(dir string) (applied uint64, err error)
}

// SnapshotVerifier is a state machine that can check a snapshot received from the leader (its
// checksums) before it is installed. One that fails is refused: the stream reports an error to
// the leader, which sends a snapshot again, and the bad copy is never applied.
type SnapshotVerifier interface {
	VerifySnapshot(dir string) error
}

// Role is a replica's part in its group.
type Role int

// Roles.
const (
	RoleFollower Role = iota
	RoleCandidate
	RoleLeader
	RoleLearner
)

func (r Role) String() string {
	switch r {
	case RoleLeader:
		return "leader"
	case RoleCandidate:
		return "candidate"
	case RoleLearner:
		return "learner"
	}
	return "follower"
}

// Peer is what the replica knows about another member.
type Peer struct {
	Member
	Voter bool
	// Match is the highest log index known to be replicated to it (known on the leader only).
	Match uint64
	// Applied is the highest index it reported having applied.
	Applied uint64
	// Active is whether the leader heard from it within an election timeout.
	Active bool
}

// Status describes a replica and its group. ID and Lead are replica IDs.
type Status struct {
	Shard, ID, Lead, Term, Commit, Applied uint64
	Role                                   Role
	Peers                                  []Peer // every non-removed member, this replica included
}

const headerLen = 17 // marker(1) node(8) proposal id(8)

const entryMarker = 0xCA

type pending struct {
	done  Done
	index uint64
	at    time.Time
	conf  bool // a membership change
}

type readBatch struct {
	dones []func(error)
	at    time.Time
}

type confRequest struct {
	op     string
	member Member
	done   func(Member, error)
}

type replicaWait struct {
	index    uint64
	n        int
	deadline time.Time
	done     func(int)
}

// Raft is one shard's replica on this node: a Log whose entries are committed by a Raft quorum
// before they are applied.
//
// Three goroutines touch it: the host's scheduler, which alone drives the RawNode; the shard's
// apply worker (apply.go), which applies committed entries, installs snapshots and takes
// checkpoints; and callers of the public methods, which queue work under mu.
type Raft struct {
	host  *Host
	shard uint64
	// id is this replica's ID in the group (Member.ID), not the node's.
	id uint64
	sm Snapshotter
	rn *raft.RawNode
	ms *raft.MemoryStorage

	// Owned by the host goroutine.
	nextRead  uint64
	reads     map[uint64]*readBatch
	confState *pb.ConfState
	members   Members
	// autoWait is the ticks left before autoPromote may propose again.
	autoWait int
	// campaign asks for an election at the next round (ShardOptions.Campaign).
	campaign bool
	// held is a Ready whose processing waits for the apply worker (ready.go).
	held *readyState
	// waiting (under pmu) are proposals Raft refused for want of room for more uncommitted entries
	// (MaxUncommittedEntriesSize: a big write is in flight), in order, with every proposal made
	// after them behind them so that none overtakes another. Each round retries them; one that
	// waits longer than ProposalTimeout fails with ErrLogFull.
	waiting []waitingProposal
	// reported is the applied index last reported to peers; reportIn the ticks until it is
	// reported again anyway (a report can be lost).
	reported uint64
	reportIn int

	// Proposals: registered by the host, settled by the apply worker, timed out by the host.
	pmu     sync.Mutex
	nextPID uint64
	pending map[uint64]*pending
	byIndex map[uint64]uint64
	// dropped counts proposals that failed for certain without being applied: refused because
	// this replica was not (or no longer) leading, or lost in a leader change (Dropped).
	dropped atomic.Uint64

	work applyQueue

	applied atomic.Uint64
	// applying bounds what a reader can see: it is raised before a batch commits, applied
	// only after.
	applying atomic.Uint64
	lead     atomic.Uint64
	leadNode atomic.Uint64
	term     atomic.Uint64
	role     atomic.Int32
	// force asks the apply worker for a checkpoint at its next chance (a new member needs a
	// snapshot whose configuration includes it).
	force atomic.Bool
	// dirty: the shard has something for the scheduler to do (poke); it is in the host's
	// queue of shards for the next round.
	dirty atomic.Bool
	// quiet: the group is quiesced (quiesce.go) — it neither ticks nor heartbeats until
	// something happens. Host goroutine; idle counts the ticks a leader has had nothing to do.
	quiet bool
	idle  int
	waits waiters
	// snapIndex is the index of the snapshot the log store records; written by the host.
	snapIndex atomic.Uint64

	mu       sync.Mutex
	props    []Proposal
	readQ    []func(error)
	confQ    []confRequest
	inbox    []*pb.Message
	snapRep  []snapReport
	incoming map[uint64]string // snapshot index → received dir
	peerApp  map[uint64]uint64 // replica ID → applied index it reported
	repWaits []replicaWait
	status   Status
	snapRefs map[uint64]int
	// transfer is a leadership transfer asked for (a replica ID; 0: none).
	transfer uint64
	// leaderLost is a node said to have lost its replica (LeaderLost; 0: none).
	leaderLost uint64
	// quiesceQ are leaders' quiesce notes not yet looked at.
	quiesceQ []quiesceNote
	// senders maps replicas that sent messages to their nodes.
	senders   map[uint64]uint64
	stopped   bool
	closeReq  chan struct{}
	memberSet Members
	// Reports of the apply worker for the host (apply.go): a snapshot installed, a checkpoint
	// taken.
	installed uint64
	taken     []checkpoint
}

type owner struct {
	node, pid uint64
}

type snapReport struct {
	to  uint64
	err error
}

// maxInbox bounds the messages queued for a shard; beyond it messages are dropped (Raft
// retransmits) so a flood cannot grow memory without bound.
const maxInbox = 8192

// ShardOptions are how a shard starts.
type ShardOptions struct {
	// Applied is the last index the state machine holds.
	Applied uint64
	// Bootstrap lists the initial members of a new group; nil for a replica that joins an
	// existing group (it starts empty and is sent the state by the leader).
	Bootstrap []Member
	// ReplicaID is this node's replica ID in a group it joins (the leader gave it out). A
	// replica that has state knows its ID already; a bootstrapping one takes it from Bootstrap.
	ReplicaID uint64
	// Campaign makes the replica stand for election at once instead of waiting out an election
	// timeout: the group's preferred leader does, so a new or restarted group has its leader
	// within a round trip, and leaders spread as placement meant. With pre-vote a campaign
	// against a live leader changes nothing.
	Campaign bool
}

// AddShard starts this node's replica of a shard over sm.
func (h *Host) AddShard(shard uint64, sm Snapshotter, opts ShardOptions) (*Raft, error) {
	if h.id == 0 {
		return nil, errors.New("replica: node has no ID")
	}
	r := &Raft{
		host: h, shard: shard, sm: sm, ms: raft.NewMemoryStorage(),
		pending: map[uint64]*pending{}, byIndex: map[uint64]uint64{}, reads: map[uint64]*readBatch{},
		incoming: map[uint64]string{}, peerApp: map[uint64]uint64{}, snapRefs: map[uint64]int{},
		// Proposal IDs of this start: the start's number above 2^40 proposals of it.
		nextPID: h.boot << 40,
	}
	r.work.init(opts.Applied)
	st, err := h.store.load(shard)
	if err != nil {
		return nil, err
	}
	if r.id, err = h.store.replicaID(shard); err != nil {
		return nil, err
	}
	if st.snap == nil && st.hard == nil && len(st.entries) == 0 && opts.Bootstrap != nil {
		if st, err = r.bootstrap(opts.Bootstrap); err != nil {
			return nil, err
		}
	}
	if r.id == 0 {
		if r.id = opts.ReplicaID; r.id == 0 {
			return nil, fmt.Errorf("replica: shard %d has no replica ID for this node", shard)
		}
		if err := h.store.setReplicaID(shard, r.id); err != nil {
			return nil, err
		}
	} else if opts.ReplicaID != 0 && opts.ReplicaID != r.id {
		return nil, fmt.Errorf("replica: shard %d: this node is replica %d, not %d", shard, r.id, opts.ReplicaID)
	}
	if r.members, err = decodeMembers(st.members); err != nil {
		return nil, fmt.Errorf("members of shard %d: %w", shard, err)
	}
	if st.snap != nil {
		if err := r.ms.ApplySnapshot(st.snap); err != nil {
			return nil, err
		}
		r.snapIndex.Store(st.snap.GetMetadata().GetIndex())
		r.confState = st.snap.GetMetadata().GetConfState()
		if m, err := decodeMembers(st.snap.Data); err == nil {
			for _, x := range m.List {
				r.members.apply(memberChange{Op: "learner", Member: x})
				if x.Removed {
					r.members.apply(memberChange{Op: "remove", Member: x})
				}
			}
		}
	}
	if st.hard != nil {
		if err := r.ms.SetHardState(st.hard); err != nil {
			return nil, err
		}
	}
	if err := r.ms.Append(st.entries); err != nil {
		return nil, err
	}
	r.cleanSnapshots()
	c := &raft.Config{
		ID:                        r.id,
		ElectionTick:              h.cfg.ElectionTicks,
		HeartbeatTick:             h.cfg.HeartbeatTicks,
		Storage:                   r.ms,
		Applied:                   r.snapIndex.Load(),
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  16 << 20,
		MaxUncommittedEntriesSize: h.cfg.MaxUncommittedBytes,
		MaxInflightMsgs:           256,
		CheckQuorum:               true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		DisableProposalForwarding: true,
		StepDownOnRemoval:         true,
		Logger:                    raftLogger{h.cfg.Logger.With("shard", shard)},
	}
	if r.rn, err = raft.NewRawNode(c); err != nil {
		return nil, err
	}
	applied := max(r.snapIndex.Load(), opts.Applied)
	r.applied.Store(applied)
	r.applying.Store(applied)
	// The apply worker checkpoints with the configuration as of what it applied; until it
	// applies a membership change, that is the one the log starts from.
	r.work.conf = confMark{index: r.snapIndex.Load(), cs: r.confState, members: r.members.clone()}
	r.work.checkpointed = r.snapIndex.Load()
	r.memberSet = r.members.clone()
	for _, m := range r.members.List {
		if m.Node != h.id && !m.Removed {
			h.cfg.Network.SetPeer(m.Node, m.BusAddr)
		}
	}
	r.campaign = opts.Campaign
	r.publish()
	h.membersGen.Add(1)
	h.mu.Lock()
	h.shards[shard] = r
	started := h.started
	h.mu.Unlock()
	if started {
		r.startWorker()
	}
	r.poke()
	return r, nil
}

// bootstrap writes the initial state of a new group: a snapshot at index 1 whose configuration
// has the initial members as voters, and a checkpoint of the (empty) state machine for it.
func (r *Raft) bootstrap(initial []Member) (*shardState, error) {
	ms := Members{}
	cs := &pb.ConfState{}
	for _, m := range initial {
		ms.apply(memberChange{Op: "learner", Member: m})
		cs.Voters = append(cs.Voters, m.ID)
	}
	self, ok := ms.ByNode(r.host.id)
	if !ok {
		return nil, fmt.Errorf("replica: node %d is not among the initial members of shard %d", r.host.id, r.shard)
	}
	if r.id != 0 && r.id != self.ID {
		return nil, fmt.Errorf("replica: shard %d: this node is replica %d, the initial members say %d", r.shard, r.id, self.ID)
	}
	r.id = self.ID
	snap := &pb.Snapshot{Data: ms.encode(), Metadata: &pb.SnapshotMetadata{Index: new(uint64(1)), Term: new(uint64(1)), ConfState: cs}}
	hard := &pb.HardState{Term: new(uint64(1)), Commit: new(uint64(1))}
	if err := r.sm.Checkpoint(r.snapDir(1)); err != nil {
		return nil, fmt.Errorf("bootstrap checkpoint: %w", err)
	}
	b := r.host.store.db.NewBatch()
	defer b.Close()
	if err := r.host.store.stage(b, r.shard, nil, hard, snap, 0); err != nil {
		return nil, err
	}
	if err := b.Set(shardKey('m', r.shard), seal(ms.encode()), nil); err != nil {
		return nil, err
	}
	if err := b.Set(shardKey('r', r.shard), seal(binary.BigEndian.AppendUint64(nil, r.id)), nil); err != nil {
		return nil, err
	}
	if err := b.Commit(syncOpt); err != nil {
		return nil, err
	}
	return &shardState{hard: hard, snap: snap, members: ms.encode()}, nil
}

// poke tells the scheduler the shard has something to do, and wakes it.
func (r *Raft) poke() {
	h := r.host
	if r.dirty.CompareAndSwap(false, true) {
		h.dmu.Lock()
		h.dirtyQ = append(h.dirtyQ, r)
		h.dmu.Unlock()
	}
	h.wakeup()
}

// Shard is the shard this replica belongs to.
func (r *Raft) Shard() uint64 { return r.shard }

// ID is this replica's ID in its group.
func (r *Raft) ID() uint64 { return r.id }

// Propose implements Log. Only the leader accepts proposals; elsewhere they fail with
// ErrNotLeader.
func (r *Raft) Propose(ps ...Proposal) error {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return ErrStopped
	}
	r.props = append(r.props, ps...)
	r.mu.Unlock()
	r.poke()
	return nil
}

// Applied implements Log.
func (r *Raft) Applied() uint64 { return r.applied.Load() }

// ReadIndex implements Log with Raft's ReadIndex: the leader confirms with a quorum that it
// still leads and returns its commit index, and done runs once this replica has applied that
// far. Reads queued together share one round trip. A new leader answers only after it has
// committed an entry of its own term (Raft does this), so it never serves a stale index.
func (r *Raft) ReadIndex(done func(error)) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		done(ErrStopped)
		return
	}
	r.readQ = append(r.readQ, done)
	r.mu.Unlock()
	r.poke()
}

// WaitApplied implements Log.
func (r *Raft) WaitApplied(index uint64, done func(error)) {
	r.waits.add(index, r.applied.Load, done)
}

// Visible is an upper bound of the index of the state a read may see now: a batch being
// committed is visible before Applied covers it. A session that read must not later read a
// state older than this.
func (r *Raft) Visible() uint64 { return max(r.applying.Load(), r.applied.Load()) }

// Leader returns the current leader's replica ID (0 if none is known).
func (r *Raft) Leader() uint64 { return r.lead.Load() }

// LeaderNode returns the ID of the node hosting the current leader (0 if none is known).
func (r *Raft) LeaderNode() uint64 { return r.leadNode.Load() }

// IsLeader reports whether this replica leads its group.
func (r *Raft) IsLeader() bool { return Role(r.role.Load()) == RoleLeader }

// Term is the current term.
func (r *Raft) Term() uint64 { return r.term.Load() }

// Status returns the replica's view of its group.
func (r *Raft) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.Peers = slices.Clone(st.Peers)
	for i := range st.Peers {
		if st.Peers[i].ID == r.id {
			st.Peers[i].Applied = r.applied.Load()
		} else {
			st.Peers[i].Applied = r.peerApp[st.Peers[i].ID]
		}
	}
	st.Applied = r.applied.Load()
	return st
}

// Dropped counts the proposals that failed for certain without being applied: refused
// because this replica did not lead, or lost in a leader change.
func (r *Raft) Dropped() uint64 { return r.dropped.Load() }

// Members returns the membership table.
func (r *Raft) Members() Members {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.memberSet.clone()
}

// WaitReplicas calls done with the number of other replicas that have applied index, once n of
// them have or at deadline, whichever is first.
func (r *Raft) WaitReplicas(index uint64, n int, deadline time.Time, done func(int)) {
	r.mu.Lock()
	if c := r.countApplied(index); c >= n {
		r.mu.Unlock()
		done(c)
		return
	}
	r.repWaits = append(r.repWaits, replicaWait{index: index, n: n, deadline: deadline, done: done})
	r.mu.Unlock()
}

// countApplied counts the other active members that reported applying index. r.mu is held.
func (r *Raft) countApplied(index uint64) int {
	n := 0
	for _, m := range r.memberSet.List {
		if m.ID != r.id && !m.Removed && r.peerApp[m.ID] >= index {
			n++
		}
	}
	return n
}

// AddLearner admits a new replica, on the node m.Node, as a non-voting member that catches up
// from the leader. A member with ID 0 is given the next unused replica ID (never one a removed
// member had). done gets the member as admitted.
func (r *Raft) AddLearner(m Member, done func(Member, error)) {
	r.changeMembers(confRequest{op: "learner", member: m, done: done})
}

// Promote makes a learner a voter.
func (r *Raft) Promote(id uint64, done func(Member, error)) {
	r.changeMembers(confRequest{op: "promote", member: Member{ID: id}, done: done})
}

// Remove takes a replica out of the group for good.
func (r *Raft) Remove(id uint64, done func(Member, error)) {
	r.changeMembers(confRequest{op: "remove", member: Member{ID: id}, done: done})
}

// LeaderLost tells a follower that node, alive, no longer holds its replica of the group (it
// is rebuilding its state): if node held the leader, the group wakes and elects another, as it
// would had node fallen silent. A quiet group would otherwise wait on a leader that is gone
// while its node keeps answering on the bus.
func (r *Raft) LeaderLost(node uint64) {
	r.mu.Lock()
	r.leaderLost = node
	r.mu.Unlock()
	r.poke()
}

// TransferLeader asks the leader to hand leadership to replica id (balancing leaders over the
// nodes). It is a hint: Raft may not manage it, and nothing waits for it.
func (r *Raft) TransferLeader(id uint64) {
	r.mu.Lock()
	r.transfer = id
	r.mu.Unlock()
	r.poke()
}

func (r *Raft) changeMembers(c confRequest) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		c.done(Member{}, ErrStopped)
		return
	}
	r.confQ = append(r.confQ, c)
	r.mu.Unlock()
	r.poke()
}

// Close implements Log: the shard stops and waiting proposals fail.
func (r *Raft) Close() error {
	h := r.host
	r.mu.Lock()
	if r.closeReq == nil {
		r.closeReq = make(chan struct{})
	}
	ch := r.closeReq
	r.mu.Unlock()
	h.mu.Lock()
	started := h.started
	h.mu.Unlock()
	if !started {
		r.closing(h)
		return nil
	}
	r.poke()
	select {
	case <-ch:
	case <-h.done:
		// The scheduler is gone; nothing else touches the shard now.
		r.closing(h)
	}
	return nil
}

// closing stops the shard if Close asked for it; reports whether it did. Host goroutine (or
// after it stopped).
func (r *Raft) closing(h *Host) bool {
	r.mu.Lock()
	ch := r.closeReq
	r.mu.Unlock()
	if ch == nil {
		return false
	}
	h.mu.Lock()
	delete(h.shards, r.shard)
	h.mu.Unlock()
	h.membersGen.Add(1)
	r.stopWorker()
	r.failAll(ErrStopped)
	select {
	case <-ch:
	default:
		close(ch)
	}
	return true
}

// failAll fails everything waiting on the shard. The apply worker has stopped.
func (r *Raft) failAll(err error) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	props, reads, confs, waits := r.props, r.readQ, r.confQ, r.repWaits
	r.props, r.readQ, r.confQ, r.repWaits = nil, nil, nil, nil
	r.mu.Unlock()
	for _, p := range props {
		p.Done(nil, err)
	}
	for _, f := range reads {
		f(err)
	}
	for _, c := range confs {
		c.done(Member{}, err)
	}
	for _, w := range waits {
		w.done(0)
	}
	r.pmu.Lock()
	pend, waiting := r.pending, r.waiting
	r.pending, r.byIndex, r.waiting = map[uint64]*pending{}, map[uint64]uint64{}, nil
	r.pmu.Unlock()
	for _, p := range waiting {
		p.Done(nil, err)
	}
	for _, p := range pend {
		p.done(nil, err)
	}
	for seq, b := range r.reads {
		delete(r.reads, seq)
		for _, f := range b.dones {
			f(err)
		}
	}
	r.waits.fail(err)
}

// receive queues a message from a peer, and remembers which node its sender is on: a replica
// that joined has no membership table until its first snapshot, and must still answer.
func (r *Raft) receive(m *pb.Message, fromNode uint64) {
	r.mu.Lock()
	if len(r.inbox) < maxInbox {
		r.inbox = append(r.inbox, m)
	}
	if r.senders == nil {
		r.senders = map[uint64]uint64{}
	}
	r.senders[m.GetFrom()] = fromNode
	r.mu.Unlock()
}

func (r *Raft) receiveSnapshot(m *pb.Message, dir string, fromNode uint64) {
	r.mu.Lock()
	if r.senders == nil {
		r.senders = map[uint64]uint64{}
	}
	r.senders[m.GetFrom()] = fromNode
	idx := m.GetSnapshot().GetMetadata().GetIndex()
	if old, ok := r.incoming[idx]; ok {
		_ = r.host.fs.RemoveAll(old)
	}
	r.incoming[idx] = dir
	r.inbox = append(r.inbox, m)
	r.mu.Unlock()
}

// peerApplied records the applied index a node reported for its replica of this shard.
func (r *Raft) peerApplied(fromNode, applied uint64) {
	r.mu.Lock()
	m, ok := r.memberSet.ByNode(fromNode)
	if !ok {
		r.mu.Unlock()
		return
	}
	if applied > r.peerApp[m.ID] {
		r.peerApp[m.ID] = applied
	}
	var ready []replicaWait
	keep := r.repWaits[:0]
	for _, w := range r.repWaits {
		if c := r.countApplied(w.index); c >= w.n {
			w.n = c
			ready = append(ready, w)
		} else {
			keep = append(keep, w)
		}
	}
	r.repWaits = keep
	r.mu.Unlock()
	for _, w := range ready {
		w.done(w.n)
	}
}

// peerNodes lists the nodes hosting the other members. Host goroutine.
func (r *Raft) peerNodes() []uint64 {
	var out []uint64
	for _, m := range r.members.List {
		if m.ID != r.id && !m.Removed {
			out = append(out, m.Node)
		}
	}
	return out
}

// reportEvery is how many ticks an unchanged applied index goes unreported: reports travel
// with every tick while it moves, and now and then while it does not, in case one was lost.
const reportEvery = 10

// report tells the other members' nodes this replica's applied index (WAIT counts replicas by
// it). Host goroutine, once a tick.
func (r *Raft) report(o *outbox) {
	applied := r.applied.Load()
	if r.reportIn--; applied == r.reported && r.reportIn > 0 {
		return
	}
	r.reported, r.reportIn = applied, reportEvery
	for _, node := range r.peerNodes() {
		o.report(node, r.shard, applied)
	}
}

// nodeOf is the node hosting replica id (0 if unknown): the members table says, or else the
// node a message from that replica came from. Host goroutine.
func (r *Raft) nodeOf(id uint64) uint64 {
	if m, ok := r.members.Get(id); ok {
		return m.Node
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.senders[id]
}

// tick advances Raft's clock and expires what waited too long. Host goroutine.
func (r *Raft) tick(now time.Time) {
	r.rn.Tick()
	cfg := &r.host.cfg
	var expired []*pending
	r.pmu.Lock()
	for pid, p := range r.pending {
		if now.Sub(p.at) > cfg.ProposalTimeout {
			delete(r.pending, pid)
			if p.index != 0 {
				delete(r.byIndex, p.index)
			}
			expired = append(expired, p)
		}
	}
	r.pmu.Unlock()
	for _, p := range expired {
		p.done(nil, ErrUnknown)
	}
	for seq, b := range r.reads {
		if now.Sub(b.at) > cfg.ReadTimeout {
			delete(r.reads, seq)
			for _, f := range b.dones {
				f(ErrNoLeader)
			}
		}
	}
	r.mu.Lock()
	var late []replicaWait
	keep := r.repWaits[:0]
	for _, w := range r.repWaits {
		if !w.deadline.IsZero() && !now.Before(w.deadline) {
			w.n = r.countApplied(w.index)
			late = append(late, w)
		} else {
			keep = append(keep, w)
		}
	}
	r.repWaits = keep
	r.mu.Unlock()
	for _, w := range late {
		w.done(w.n)
	}
	r.autoPromote()
	r.publishProgress()
}

// autoPromote proposes making a learner a voter once it has caught up with the leader's log,
// at most once an election timeout. The wait is counted in ticks, as Raft counts its own, not
// read off the Clock: a Clock without a monotonic reading (the simulation's; time.Now has one)
// set back would hold promotions off for as long as it jumped (tests/sim seed 1284: a new node
// stayed a learner for 65 s, and the replacement it was part of did not finish).
func (r *Raft) autoPromote() {
	if r.autoWait > 0 {
		r.autoWait--
	}
	if !r.IsLeader() || r.autoWait > 0 {
		return
	}
	st := r.rn.Status()
	if len(st.Config.Voters[1]) > 0 {
		return // joint configuration: wait for it to be left
	}
	for id, pr := range st.Progress {
		if pr.IsLearner && pr.Match >= st.HardState.GetCommit() && pr.RecentActive {
			r.autoWait = r.host.cfg.ElectionTicks
			r.proposeConf(confRequest{op: "promote", member: Member{ID: id}, done: func(m Member, err error) {
				if err != nil {
					r.host.cfg.Logger.Warn("promoting a learner failed", "shard", r.shard, "replica", id, "err", err)
				} else {
					r.host.cfg.Logger.Info("learner promoted to voter", "shard", r.shard, "replica", id, "node", m.Node)
				}
			}})
			return
		}
	}
}

// drain steps queued messages and submits queued proposals, reads and membership changes.
// Host goroutine.
func (r *Raft) drain(now time.Time) {
	r.mu.Lock()
	inbox, props, reads, confs, reps, transfer, notes := r.inbox, r.props, r.readQ, r.confQ, r.snapRep, r.transfer, r.quiesceQ
	r.inbox, r.props, r.readQ, r.confQ, r.snapRep, r.transfer, r.quiesceQ = nil, nil, nil, nil, nil, 0, nil
	lost := r.leaderLost
	r.leaderLost = 0
	r.mu.Unlock()
	if lead := r.rn.BasicStatus().Lead; lost != 0 && lead != raft.None && r.nodeOf(lead) == lost {
		// The leader's node says it no longer holds its replica: wake as if its node had
		// fallen silent.
		r.quiet = false
		for i := 0; i < r.host.cfg.ElectionTicks; i++ {
			r.rn.Tick()
		}
		if r.successor(lead) == r.id {
			_ = r.rn.Campaign()
		}
	}
	if transfer != 0 && r.rn.BasicStatus().RaftState == raft.StateLeader {
		r.rn.TransferLeader(transfer)
	}
	if r.campaign {
		r.campaign = false
		if r.rn.BasicStatus().RaftState != raft.StateLeader {
			_ = r.rn.Campaign()
		}
	}
	for _, rep := range reps {
		status := raft.SnapshotFinish
		if rep.err != nil {
			status = raft.SnapshotFailure
			r.host.cfg.Logger.Warn("sending snapshot failed", "shard", r.shard, "to", rep.to, "err", rep.err)
		}
		r.rn.ReportSnapshot(rep.to, status)
	}
	if len(props) > 0 || len(reads) > 0 || len(confs) > 0 || transfer != 0 || r.campaign {
		r.quiet = false
	}
	for _, m := range inbox {
		// Proposals are never forwarded between nodes (each is tracked by its proposer), so
		// one arriving from the network is dropped.
		if r.removedPeer(m.GetFrom()) || m.GetType() == pb.MsgProp {
			continue
		}
		_ = r.rn.Step(m)
		if wakeOn(m) {
			r.quiet = false
		}
	}
	for _, q := range notes {
		if r.quiescedBy(q) {
			r.quiet, r.idle = true, 0
			// A quiet group stops ticking, and with it the status refresh: publish the state it
			// goes quiet in (a follower that quiesced before its first tick after an election
			// would report no leader for as long as the group stays quiet).
			r.publishProgress()
		}
	}
	r.propose(props, now)
	if len(reads) > 0 {
		if r.rn.BasicStatus().Lead == raft.None {
			for _, f := range reads {
				f(ErrNoLeader)
			}
		} else {
			r.nextRead++
			ctx := binary.BigEndian.AppendUint64(nil, r.nextRead)
			r.reads[r.nextRead] = &readBatch{dones: reads, at: now}
			r.rn.ReadIndex(ctx)
		}
	}
	for _, c := range confs {
		r.proposeConf(c)
	}
}

// waitingProposal is a proposal waiting for room in the uncommitted log, since at.
type waitingProposal struct {
	Proposal
	at time.Time
}

// propose appends a round's proposals as one Raft proposal of many entries: the leader sends
// them to each follower in one append message, which each acknowledges once, instead of one
// message and one acknowledgement per operation. Host goroutine.
//
// Raft refuses a proposal that would take its uncommitted entries past
// MaxUncommittedEntriesSize (one entry alone is always taken): with a big write in flight, the
// next write waits here, in order, until the big one commits.
func (r *Raft) propose(props []Proposal, now time.Time) {
	r.pmu.Lock()
	waiting := r.waiting
	r.waiting = nil
	r.pmu.Unlock()
	if len(waiting) == 0 && len(props) == 0 {
		return
	}
	all := append(waiting, make([]waitingProposal, 0, len(props))...)
	for _, p := range props {
		all = append(all, waitingProposal{p, now})
	}
	if r.rn.BasicStatus().RaftState != raft.StateLeader {
		r.dropped.Add(uint64(len(all)))
		for _, p := range all {
			p.Done(nil, ErrNotLeader)
		}
		return
	}
	for len(all) > 0 {
		err := r.step(all, now)
		if err == nil {
			return
		}
		if !errors.Is(err, raft.ErrProposalDropped) || r.rn.BasicStatus().RaftState != raft.StateLeader || r.rn.BasicStatus().LeadTransferee != raft.None {
			r.dropped.Add(uint64(len(all)))
			for _, p := range all {
				p.Done(nil, ErrNotLeader)
			}
			return
		}
		// Too big together: the first alone, then the rest again.
		if len(all) == 1 || r.step(all[:1], now) != nil {
			break
		}
		all = all[1:]
	}
	timeout := r.host.cfg.ProposalTimeout
	for len(all) > 0 && now.Sub(all[0].at) > timeout {
		r.dropped.Add(1)
		all[0].Done(nil, ErrLogFull)
		all = all[1:]
	}
	r.pmu.Lock()
	r.waiting = all
	r.pmu.Unlock()
}

// step proposes entries for props and registers them as pending.
func (r *Raft) step(props []waitingProposal, now time.Time) error {
	r.pmu.Lock()
	first := r.nextPID + 1
	r.nextPID += uint64(len(props))
	r.pmu.Unlock()
	ents := make([]*pb.Entry, len(props))
	for i, p := range props {
		data := make([]byte, headerLen, headerLen+len(p.Data))
		data[0] = entryMarker
		binary.BigEndian.PutUint64(data[1:], r.host.id)
		binary.BigEndian.PutUint64(data[9:], first+uint64(i))
		ents[i] = &pb.Entry{Data: append(data, p.Data...)}
	}
	if err := r.rn.Step(&pb.Message{Type: pb.MsgProp.Enum(), From: new(r.id), Entries: ents}); err != nil {
		return err // the ids drawn stay unused: they only need to be unique
	}
	r.pmu.Lock()
	for i, p := range props {
		r.pending[first+uint64(i)] = &pending{done: p.Done, at: now}
	}
	r.pmu.Unlock()
	return nil
}

func (r *Raft) removedPeer(id uint64) bool {
	m, ok := r.members.Get(id)
	return ok && m.Removed
}

// proposeConf proposes a membership change through joint consensus. Host goroutine.
func (r *Raft) proposeConf(c confRequest) {
	fail := func(err error) { c.done(Member{}, err) }
	if r.rn.BasicStatus().RaftState != raft.StateLeader {
		fail(ErrNotLeader)
		return
	}
	m := c.member
	if m.Node == 0 && c.op == "learner" {
		m.Node = m.ID
	}
	var typ pb.ConfChangeType
	switch c.op {
	case "learner":
		for _, x := range r.members.List {
			if x.Removed {
				continue
			}
			if (m.Node != 0 && x.Node == m.Node) || (m.Addr != "" && x.Addr == m.Addr) {
				if m.ID == 0 || m.ID == x.ID {
					c.done(x, nil) // already admitted: joining again is answered, not repeated
					return
				}
				fail(fmt.Errorf("node %d (%s) already hosts replica %d", x.Node, x.Addr, x.ID))
				return
			}
		}
		if m.ID == 0 {
			m.ID = r.members.MaxID + 1
		} else if _, ok := r.members.Get(m.ID); ok {
			fail(fmt.Errorf("replica ID %d was already used", m.ID))
			return
		}
		if m.Node == 0 {
			m.Node = m.ID
		}
		typ = pb.ConfChangeAddLearnerNode
	case "promote":
		x, ok := r.members.Get(m.ID)
		if !ok || x.Removed {
			fail(fmt.Errorf("no replica %d", m.ID))
			return
		}
		m = x
		typ = pb.ConfChangeAddNode
	case "remove":
		x, ok := r.members.Get(m.ID)
		if !ok || x.Removed {
			fail(fmt.Errorf("no replica %d", m.ID))
			return
		}
		m = x
		typ = pb.ConfChangeRemoveNode
	default:
		fail(fmt.Errorf("unknown membership change %q", c.op))
		return
	}
	body, _ := json.Marshal(memberChange{Op: c.op, Member: m})
	r.pmu.Lock()
	r.nextPID++
	pid := r.nextPID
	r.pmu.Unlock()
	ctx := make([]byte, headerLen, headerLen+len(body))
	ctx[0] = entryMarker
	binary.BigEndian.PutUint64(ctx[1:], r.host.id)
	binary.BigEndian.PutUint64(ctx[9:], pid)
	ctx = append(ctx, body...)
	cc := &pb.ConfChangeV2{
		Transition: pb.ConfChangeTransitionJointImplicit.Enum(),
		Changes:    []*pb.ConfChangeSingle{{Type: typ.Enum(), NodeId: new(m.ID)}},
		Context:    ctx,
	}
	if err := r.rn.ProposeConfChange(cc); err != nil {
		fail(fmt.Errorf("membership change refused (another is in progress?): %w", err))
		return
	}
	member := m
	r.pmu.Lock()
	r.pending[pid] = &pending{at: r.host.cfg.Clock.Now(), conf: true, done: func(_ []byte, err error) { c.done(member, err) }}
	r.pmu.Unlock()
}

// errConfPending is reported to a membership change refused because another is still under
// way. It was not applied.
var errConfPending = errors.New("replica: another membership change is in progress; try again")

// resolve completes a pending proposal. r.pmu is held; the completion runs after it is let go
// (the caller collects them).
func (r *Raft) resolveLocked(pid uint64, result []byte, err error, done *[]func()) {
	p := r.pending[pid]
	if p == nil {
		return
	}
	delete(r.pending, pid)
	if p.index != 0 && r.byIndex[p.index] == pid {
		delete(r.byIndex, p.index)
	}
	if err == ErrDropped {
		r.dropped.Add(1)
	}
	*done = append(*done, func() { p.done(result, err) })
}

// settle resolves the proposal this node made at index, now that the entry there is known:
// a match succeeded, anything else means the proposal's entry was replaced. r.pmu is held.
func (r *Raft) settleLocked(index uint64, node, pid uint64, result []byte, done *[]func()) {
	if old, ok := r.byIndex[index]; ok && (node != r.host.id || old != pid) {
		r.resolveLocked(old, nil, ErrDropped, done)
	}
	if node == r.host.id {
		r.resolveLocked(pid, result, nil, done)
	}
}

// readStates hands read indexes to the reads waiting for them. Host goroutine.
func (r *Raft) readStates(rs []raft.ReadState) {
	for _, s := range rs {
		if len(s.RequestCtx) != 8 {
			continue
		}
		seq := binary.BigEndian.Uint64(s.RequestCtx)
		b := r.reads[seq]
		if b == nil {
			continue
		}
		delete(r.reads, seq)
		for _, f := range b.dones {
			r.waits.add(s.Index, r.applied.Load, f)
		}
	}
}

// publish makes the replica's role and term visible to other goroutines. Host goroutine.
func (r *Raft) publish() {
	st := r.rn.BasicStatus()
	r.lead.Store(st.Lead)
	r.leadNode.Store(r.nodeOf(st.Lead))
	r.term.Store(st.HardState.GetTerm())
	role := RoleFollower
	switch st.RaftState {
	case raft.StateLeader:
		role = RoleLeader
	case raft.StateCandidate, raft.StatePreCandidate:
		role = RoleCandidate
	}
	if role == RoleFollower && r.confState != nil && slices.Contains(r.confState.Learners, r.id) {
		role = RoleLearner
	}
	r.role.Store(int32(role))
}

// publishProgress refreshes the status other goroutines read. Host goroutine, once a tick.
func (r *Raft) publishProgress() {
	r.publish()
	st := r.rn.Status()
	out := Status{Shard: r.shard, ID: r.id, Lead: st.Lead, Term: st.HardState.GetTerm(), Commit: st.HardState.GetCommit(), Role: Role(r.role.Load())}
	voters := map[uint64]bool{}
	if r.confState != nil {
		for _, id := range r.confState.Voters {
			voters[id] = true
		}
	}
	for _, m := range r.members.List {
		if m.Removed {
			continue
		}
		p := Peer{Member: m, Voter: voters[m.ID]}
		if pr, ok := st.Progress[m.ID]; ok {
			p.Match, p.Active = pr.Match, pr.RecentActive
		}
		out.Peers = append(out.Peers, p)
	}
	r.mu.Lock()
	r.status = out
	r.mu.Unlock()
}

// snapDir is where this node keeps the checkpoint for the snapshot at index.
func (r *Raft) snapDir(index uint64) string {
	return filepath.Join(r.host.cfg.Dir, "snap", strconv.FormatUint(r.shard, 10), fmt.Sprintf("%020d", index))
}

// Forget deletes everything this node holds of a shard's group — its log, hard state,
// snapshot metadata, membership table, replica ID and checkpoints — after the shard was closed
// (Close) because the node's replica left the group. The node can later host a replica of the
// same shard again, under the new replica ID the group gives it (replica IDs are never reused).
func (h *Host) Forget(shard uint64) error {
	h.mu.Lock()
	_, open := h.shards[shard]
	h.mu.Unlock()
	if open {
		return fmt.Errorf("replica: shard %d is still open", shard)
	}
	if err := h.store.forget(shard); err != nil {
		return err
	}
	return h.fs.RemoveAll(filepath.Join(h.cfg.Dir, "snap", strconv.FormatUint(shard, 10)))
}
