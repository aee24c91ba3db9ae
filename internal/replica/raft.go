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
	"google.golang.org/protobuf/proto"
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

// Status describes a replica and its group.
type Status struct {
	Shard, ID, Lead, Term, Commit, Applied uint64
	Role                                   Role
	Peers                                  []Peer // every non-removed member, this node included
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
type Raft struct {
	host  *Host
	shard uint64
	sm    Snapshotter
	rn    *raft.RawNode
	ms    *raft.MemoryStorage

	// Owned by the host goroutine.
	nextPID   uint64
	pending   map[uint64]*pending
	byIndex   map[uint64]uint64
	nextRead  uint64
	reads     map[uint64]*readBatch
	confState *pb.ConfState
	smApplied uint64 // the state machine holds every entry up to here
	snapIndex uint64
	members   Members
	force     bool // take a snapshot at the next chance
	// autoWait is the ticks left before autoPromote may propose again.
	autoWait int
	runBuf   []Entry
	ownBuf   []owner
	resBuf   [][]byte

	applied atomic.Uint64
	// applying bounds what a reader can see: it is raised before a batch commits, applied
	// only after.
	applying atomic.Uint64
	lead     atomic.Uint64
	term     atomic.Uint64
	role     atomic.Int32
	waits    waiters

	mu        sync.Mutex
	props     []Proposal
	readQ     []func(error)
	confQ     []confRequest
	inbox     []*pb.Message
	snapRep   []snapReport
	incoming  map[uint64]string // snapshot index → received dir
	peerApp   map[uint64]uint64
	repWaits  []replicaWait
	status    Status
	snapRefs  map[uint64]int
	stopped   bool
	closeReq  chan struct{}
	memberSet Members
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
	// Bootstrap lists the initial members of a new group; nil for a node that joins an existing
	// group (it starts empty and is sent the state by the leader).
	Bootstrap []Member
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
		smApplied: opts.Applied,
		// Proposal IDs of this start: the start's number above 2^40 proposals of it.
		nextPID: h.boot << 40,
	}
	st, err := h.store.load(shard)
	if err != nil {
		return nil, err
	}
	if st.snap == nil && st.hard == nil && len(st.entries) == 0 && opts.Bootstrap != nil {
		if st, err = r.bootstrap(opts.Bootstrap); err != nil {
			return nil, err
		}
	}
	if r.members, err = decodeMembers(st.members); err != nil {
		return nil, fmt.Errorf("members of shard %d: %w", shard, err)
	}
	if st.snap != nil {
		if err := r.ms.ApplySnapshot(st.snap); err != nil {
			return nil, err
		}
		r.snapIndex = st.snap.GetMetadata().GetIndex()
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
		ID:                        h.id,
		ElectionTick:              h.cfg.ElectionTicks,
		HeartbeatTick:             h.cfg.HeartbeatTicks,
		Storage:                   r.ms,
		Applied:                   r.snapIndex,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  16 << 20,
		MaxUncommittedEntriesSize: 256 << 20,
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
	r.applied.Store(max(r.snapIndex, r.smApplied))
	r.applying.Store(r.applied.Load())
	r.memberSet = r.members.clone()
	for _, m := range r.members.List {
		if m.ID != h.id && !m.Removed {
			h.cfg.Network.SetPeer(m.ID, m.BusAddr)
		}
	}
	r.publish()
	h.mu.Lock()
	h.shards[shard] = r
	h.mu.Unlock()
	h.wakeup()
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
	snap := &pb.Snapshot{Data: ms.encode(), Metadata: &pb.SnapshotMetadata{Index: new(uint64(1)), Term: new(uint64(1)), ConfState: cs}}
	hard := &pb.HardState{Term: new(uint64(1)), Commit: new(uint64(1))}
	if err := r.sm.Checkpoint(r.snapDir(1)); err != nil {
		return nil, fmt.Errorf("bootstrap checkpoint: %w", err)
	}
	b := r.host.store.db.NewBatch()
	defer b.Close()
	if err := r.host.store.stage(b, r.shard, nil, hard, snap); err != nil {
		return nil, err
	}
	if err := b.Set(shardKey('m', r.shard), seal(ms.encode()), nil); err != nil {
		return nil, err
	}
	if err := b.Commit(syncOpt); err != nil {
		return nil, err
	}
	return &shardState{hard: hard, snap: snap, members: ms.encode()}, nil
}

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
	r.host.wakeup()
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
	r.host.wakeup()
}

// WaitApplied implements Log.
func (r *Raft) WaitApplied(index uint64, done func(error)) {
	r.waits.add(index, r.applied.Load, done)
}

// Visible is an upper bound of the index of the state a read may see now: a batch being
// committed is visible before Applied covers it. A session that read must not later read a
// state older than this.
func (r *Raft) Visible() uint64 { return max(r.applying.Load(), r.applied.Load()) }

// Leader returns the current leader's ID (0 if none is known).
func (r *Raft) Leader() uint64 { return r.lead.Load() }

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
		if st.Peers[i].ID == r.host.id {
			st.Peers[i].Applied = r.applied.Load()
		} else {
			st.Peers[i].Applied = r.peerApp[st.Peers[i].ID]
		}
	}
	st.Applied = r.applied.Load()
	return st
}

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
		if m.ID != r.host.id && !m.Removed && r.peerApp[m.ID] >= index {
			n++
		}
	}
	return n
}

// AddLearner admits a new node as a non-voting member that catches up from the leader. A node
// with ID 0 is given the next unused ID (never one a removed node had). done gets the member
// as admitted.
func (r *Raft) AddLearner(m Member, done func(Member, error)) {
	r.changeMembers(confRequest{op: "learner", member: m, done: done})
}

// Promote makes a learner a voter.
func (r *Raft) Promote(id uint64, done func(Member, error)) {
	r.changeMembers(confRequest{op: "promote", member: Member{ID: id}, done: done})
}

// Remove takes a node out of the group for good.
func (r *Raft) Remove(id uint64, done func(Member, error)) {
	r.changeMembers(confRequest{op: "remove", member: Member{ID: id}, done: done})
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
	r.host.wakeup()
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
	h.wakeup()
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
	r.failAll(ErrStopped)
	select {
	case <-ch:
	default:
		close(ch)
	}
	return true
}

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
	// The host goroutine has stopped or no longer sees this shard: its state is ours.
	for pid, p := range r.pending {
		delete(r.pending, pid)
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

// receive queues a message from a peer.
func (r *Raft) receive(m *pb.Message) {
	r.mu.Lock()
	if len(r.inbox) < maxInbox {
		r.inbox = append(r.inbox, m)
	}
	r.mu.Unlock()
}

func (r *Raft) receiveSnapshot(m *pb.Message, dir string) {
	r.mu.Lock()
	idx := m.GetSnapshot().GetMetadata().GetIndex()
	if old, ok := r.incoming[idx]; ok {
		_ = r.host.fs.RemoveAll(old)
	}
	r.incoming[idx] = dir
	r.inbox = append(r.inbox, m)
	r.mu.Unlock()
}

func (r *Raft) peerApplied(from, applied uint64) {
	r.mu.Lock()
	if applied > r.peerApp[from] {
		r.peerApp[from] = applied
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

func (r *Raft) peerIDs() []uint64 {
	var out []uint64
	for _, m := range r.memberSet.List {
		if m.ID != r.host.id && !m.Removed {
			out = append(out, m.ID)
		}
	}
	return out
}

// tick advances Raft's clock and expires what waited too long. Host goroutine.
func (r *Raft) tick(now time.Time) {
	r.rn.Tick()
	cfg := &r.host.cfg
	for pid, p := range r.pending {
		if now.Sub(p.at) > cfg.ProposalTimeout {
			delete(r.pending, pid)
			if p.index != 0 {
				delete(r.byIndex, p.index)
			}
			p.done(nil, ErrUnknown)
		}
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
	var expired []replicaWait
	keep := r.repWaits[:0]
	for _, w := range r.repWaits {
		if !w.deadline.IsZero() && !now.Before(w.deadline) {
			w.n = r.countApplied(w.index)
			expired = append(expired, w)
		} else {
			keep = append(keep, w)
		}
	}
	r.repWaits = keep
	r.mu.Unlock()
	for _, w := range expired {
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
					r.host.cfg.Logger.Warn("promoting a learner failed", "shard", r.shard, "node", id, "err", err)
				} else {
					r.host.cfg.Logger.Info("learner promoted to voter", "shard", r.shard, "node", id)
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
	inbox, props, reads, confs, reps := r.inbox, r.props, r.readQ, r.confQ, r.snapRep
	r.inbox, r.props, r.readQ, r.confQ, r.snapRep = nil, nil, nil, nil, nil
	r.mu.Unlock()
	for _, rep := range reps {
		status := raft.SnapshotFinish
		if rep.err != nil {
			status = raft.SnapshotFailure
			r.host.cfg.Logger.Warn("sending snapshot failed", "shard", r.shard, "to", rep.to, "err", rep.err)
		}
		r.rn.ReportSnapshot(rep.to, status)
	}
	for _, m := range inbox {
		// Proposals are never forwarded between nodes (each is tracked by its proposer), so
		// one arriving from the network is dropped.
		if r.removedPeer(m.GetFrom()) || m.GetType() == pb.MsgProp {
			continue
		}
		_ = r.rn.Step(m)
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

// propose appends a round's proposals as one Raft proposal of many entries: the leader sends
// them to each follower in one append message, which each acknowledges once, instead of one
// message and one acknowledgement per operation. Host goroutine.
func (r *Raft) propose(props []Proposal, now time.Time) {
	if len(props) == 0 {
		return
	}
	if r.rn.BasicStatus().RaftState != raft.StateLeader {
		for _, p := range props {
			p.Done(nil, ErrNotLeader)
		}
		return
	}
	first := r.nextPID + 1
	ents := make([]*pb.Entry, len(props))
	for i, p := range props {
		r.nextPID++
		data := make([]byte, headerLen, headerLen+len(p.Data))
		data[0] = entryMarker
		binary.BigEndian.PutUint64(data[1:], r.host.id)
		binary.BigEndian.PutUint64(data[9:], r.nextPID)
		ents[i] = &pb.Entry{Data: append(data, p.Data...)}
	}
	err := r.rn.Step(&pb.Message{Type: pb.MsgProp.Enum(), From: new(r.host.id), Entries: ents})
	for i, p := range props {
		if err != nil {
			p.Done(nil, ErrNotLeader)
			continue
		}
		r.pending[first+uint64(i)] = &pending{done: p.Done, at: now}
	}
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
	var typ pb.ConfChangeType
	switch c.op {
	case "learner":
		for _, x := range r.members.List {
			if !x.Removed && x.Addr == m.Addr && m.Addr != "" {
				if m.ID == 0 || m.ID == x.ID {
					c.done(x, nil) // already admitted: joining again is answered, not repeated
					return
				}
				fail(fmt.Errorf("address %s belongs to node %d", m.Addr, x.ID))
				return
			}
		}
		if m.ID == 0 {
			m.ID = r.members.MaxID + 1
		} else if _, ok := r.members.Get(m.ID); ok {
			fail(fmt.Errorf("node ID %d was already used", m.ID))
			return
		}
		typ = pb.ConfChangeAddLearnerNode
	case "promote":
		x, ok := r.members.Get(m.ID)
		if !ok || x.Removed {
			fail(fmt.Errorf("no node %d", m.ID))
			return
		}
		m = x
		typ = pb.ConfChangeAddNode
	case "remove":
		x, ok := r.members.Get(m.ID)
		if !ok || x.Removed {
			fail(fmt.Errorf("no node %d", m.ID))
			return
		}
		m = x
		typ = pb.ConfChangeRemoveNode
	default:
		fail(fmt.Errorf("unknown membership change %q", c.op))
		return
	}
	body, _ := json.Marshal(memberChange{Op: c.op, Member: m})
	r.nextPID++
	ctx := make([]byte, headerLen, headerLen+len(body))
	ctx[0] = entryMarker
	binary.BigEndian.PutUint64(ctx[1:], r.host.id)
	binary.BigEndian.PutUint64(ctx[9:], r.nextPID)
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
	r.pending[r.nextPID] = &pending{at: r.host.cfg.Clock.Now(), conf: true, done: func(_ []byte, err error) { c.done(member, err) }}
}

// outgoing routes a Ready's messages: snapshots are streamed on their own, the rest batched.
func (r *Raft) outgoing(o *outbox, msgs []*pb.Message) {
	for _, m := range msgs {
		if m.GetType() == pb.MsgSnap {
			r.sendSnapshot(m)
			continue
		}
		o.add(r.shard, m)
	}
}

// persisted updates the in-memory log after a round's batch is durable, and notes the index
// each of this node's proposals landed at.
func (r *Raft) persisted(rd raft.Ready) error {
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := r.ms.ApplySnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := r.ms.Append(rd.Entries); err != nil {
		return err
	}
	if rd.HardState != nil {
		if err := r.ms.SetHardState(rd.HardState); err != nil {
			return err
		}
	}
	for _, e := range rd.Entries {
		node, pid, ok := entryOwner(e)
		if !ok || node != r.host.id {
			continue
		}
		if p := r.pending[pid]; p != nil && p.index == 0 {
			p.index = e.GetIndex()
			if old, ok := r.byIndex[p.index]; ok && old != pid {
				r.resolve(old, nil, ErrDropped)
			}
			r.byIndex[p.index] = pid
		}
	}
	// Raft appends a membership change proposed while another is still pending as an empty
	// entry instead, without a word: such a change is in no entry now, and would otherwise
	// wait for ProposalTimeout to learn it. Found by the simulation (tests/sim).
	var replaced []uint64
	for pid, p := range r.pending {
		if p.conf && p.index == 0 {
			replaced = append(replaced, pid)
		}
	}
	slices.Sort(replaced)
	for _, pid := range replaced {
		r.resolve(pid, nil, errConfPending)
	}
	return nil
}

// errConfPending is reported to a membership change refused because another is still under
// way. It was not applied.
var errConfPending = errors.New("replica: another membership change is in progress; try again")

func entryOwner(e *pb.Entry) (node, pid uint64, ok bool) {
	data := e.Data
	if e.GetType() == pb.EntryConfChangeV2 {
		var cc pb.ConfChangeV2
		if proto.Unmarshal(e.Data, &cc) != nil {
			return 0, 0, false
		}
		data = cc.Context
	} else if e.GetType() != pb.EntryNormal {
		return 0, 0, false
	}
	if len(data) < headerLen || data[0] != entryMarker {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(data[1:]), binary.BigEndian.Uint64(data[9:]), true
}

// resolve completes a pending proposal.
func (r *Raft) resolve(pid uint64, result []byte, err error) {
	p := r.pending[pid]
	if p == nil {
		return
	}
	delete(r.pending, pid)
	if p.index != 0 && r.byIndex[p.index] == pid {
		delete(r.byIndex, p.index)
	}
	p.done(result, err)
}

// settle resolves the proposal this node made at index, now that the entry there is known:
// a match succeeded, anything else means the proposal's entry was replaced.
func (r *Raft) settle(index uint64, node, pid uint64, result []byte) {
	if old, ok := r.byIndex[index]; ok && (node != r.host.id || old != pid) {
		r.resolve(old, nil, ErrDropped)
	}
	if node == r.host.id {
		r.resolve(pid, result, nil)
	}
}

// applyCommitted applies committed entries: operations in runs through the state machine,
// membership changes to Raft and the members table. Host goroutine.
func (r *Raft) applyCommitted(ents []*pb.Entry) error {
	run, owners := r.runBuf[:0], r.ownBuf[:0]
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		results := r.resBuf[:0]
		for range run {
			results = append(results, nil)
		}
		r.applying.Store(run[len(run)-1].Index)
		if err := r.sm.Apply(run, results); err != nil {
			return err
		}
		last := run[len(run)-1].Index
		r.smApplied = last
		r.applied.Store(last)
		for i, e := range run {
			r.settle(e.Index, owners[i].node, owners[i].pid, results[i])
			results[i] = nil
		}
		r.resBuf = results[:0]
		r.waits.release(last)
		run, owners = run[:0], owners[:0]
		return nil
	}
	for _, e := range ents {
		idx := e.GetIndex()
		switch e.GetType() {
		case pb.EntryNormal:
			node, pid, own := entryOwner(e)
			if idx <= r.smApplied {
				// Already in the state machine (replay after a restart, or a snapshot that was
				// ahead of its index): only the bookkeeping is left.
				r.settle(idx, node, pid, nil)
				continue
			}
			var data []byte
			if own {
				data = e.Data[headerLen:]
			}
			run = append(run, Entry{Index: idx, Data: data})
			owners = append(owners, owner{node, pid})
			if len(run) >= maxRun {
				if err := flush(); err != nil {
					return err
				}
			}
		case pb.EntryConfChange, pb.EntryConfChangeV2:
			if err := flush(); err != nil {
				return err
			}
			if err := r.applyConf(e); err != nil {
				return err
			}
			if idx > r.applied.Load() {
				r.applied.Store(idx)
				r.waits.release(idx)
			}
		}
	}
	err := flush()
	r.runBuf, r.ownBuf = run[:0], owners[:0]
	return err
}

func (r *Raft) applyConf(e *pb.Entry) error {
	var cc pb.ConfChangeV2
	if e.GetType() == pb.EntryConfChange {
		var v1 pb.ConfChange
		if err := proto.Unmarshal(e.Data, &v1); err != nil {
			return err
		}
		cc = *v1.AsV2()
	} else if err := proto.Unmarshal(e.Data, &cc); err != nil {
		return err
	}
	r.confState = r.rn.ApplyConfChange(&cc)
	node, pid, own := entryOwner(e)
	if own && len(cc.Context) > headerLen {
		var ch memberChange
		if err := json.Unmarshal(cc.Context[headerLen:], &ch); err == nil {
			r.members.apply(ch)
			if ch.Op == "learner" {
				// The newcomer needs a snapshot whose configuration includes it: one from before
				// would be refused.
				r.force = true
			}
			if err := r.host.store.db.Set(shardKey('m', r.shard), seal(r.members.encode()), nil); err != nil {
				return err
			}
			r.mu.Lock()
			r.memberSet = r.members.clone()
			r.mu.Unlock()
			if ch.Member.ID != r.host.id {
				if ch.Op == "remove" {
					r.host.cfg.Network.SetPeer(ch.Member.ID, "")
				} else {
					r.host.cfg.Network.SetPeer(ch.Member.ID, ch.Member.BusAddr)
				}
			} else if ch.Op == "remove" {
				r.host.cfg.Logger.Warn("this node was removed from the group", "shard", r.shard)
			}
		}
	}
	r.settle(e.GetIndex(), node, pid, nil)
	return nil
}

// readStates hands read indexes to the reads waiting for them.
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
	r.term.Store(st.HardState.GetTerm())
	role := RoleFollower
	switch st.RaftState {
	case raft.StateLeader:
		role = RoleLeader
	case raft.StateCandidate, raft.StatePreCandidate:
		role = RoleCandidate
	}
	if role == RoleFollower && r.confState != nil && slices.Contains(r.confState.Learners, r.host.id) {
		role = RoleLearner
	}
	r.role.Store(int32(role))
}

// publishProgress refreshes the status other goroutines read. Host goroutine, once a tick.
func (r *Raft) publishProgress() {
	r.publish()
	st := r.rn.Status()
	out := Status{Shard: r.shard, ID: r.host.id, Lead: st.Lead, Term: st.HardState.GetTerm(), Commit: st.HardState.GetCommit(), Role: Role(r.role.Load())}
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

// maybeSnapshot checkpoints the state machine once enough entries were applied since the last
// checkpoint, records the snapshot, and compacts the log behind it, keeping KeepEntries for
// followers that lag a little. Host goroutine.
func (r *Raft) maybeSnapshot() error {
	applied := r.applied.Load()
	cfg := &r.host.cfg
	if applied <= r.snapIndex || (!r.force && applied-r.snapIndex < cfg.SnapshotEntries) {
		return nil
	}
	if applied > r.smApplied {
		// The last entries were membership changes the state machine has not recorded; its
		// checkpoint would not hold them. Wait for the next operation.
		if !r.force {
			return nil
		}
	}
	if last, _ := r.ms.LastIndex(); applied > last {
		// The state machine is ahead of the log (it installed a snapshot, or applied committed
		// entries, whose record the log lost in a crash): a snapshot must name an index the
		// log holds. Wait until the leader has filled the log up to here.
		return nil
	}
	r.force = false
	dir := r.snapDir(applied)
	fs := r.host.fs
	_ = fs.RemoveAll(dir)
	if err := fs.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := r.sm.Checkpoint(dir); err != nil {
		return err
	}
	snap, err := r.ms.CreateSnapshot(applied, r.confState, r.members.encode())
	if err != nil {
		return err
	}
	b := r.host.store.db.NewBatch()
	defer b.Close()
	data, err := proto.Marshal(snap)
	if err != nil {
		return err
	}
	if err := b.Set(shardKey('s', r.shard), seal(data), nil); err != nil {
		return err
	}
	if err := b.Commit(syncOpt); err != nil {
		return err
	}
	r.snapIndex = applied
	if applied > cfg.KeepEntries {
		compact := applied - cfg.KeepEntries
		if first, _ := r.ms.FirstIndex(); compact > first {
			if err := r.ms.Compact(compact); err != nil {
				return err
			}
			if err := r.host.store.compact(r.shard, compact); err != nil {
				return err
			}
		}
	}
	r.cleanSnapshots()
	return nil
}

// installSnapshot replaces the state machine with a snapshot received from the leader, then
// checkpoints it so this node can serve the same snapshot later. Host goroutine.
func (r *Raft) installSnapshot(snap *pb.Snapshot) error {
	idx := snap.GetMetadata().GetIndex()
	r.mu.Lock()
	dir, ok := r.incoming[idx]
	delete(r.incoming, idx)
	for i, d := range r.incoming {
		if i <= idx {
			_ = r.host.fs.RemoveAll(d)
			delete(r.incoming, i)
		}
	}
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("snapshot at %d was never received", idx)
	}
	r.applying.Store(max(r.applying.Load(), idx))
	applied, err := r.sm.Restore(dir)
	if err != nil {
		return err
	}
	r.smApplied = max(applied, idx)
	r.applying.Store(max(r.applying.Load(), r.smApplied))
	r.applied.Store(r.smApplied)
	r.confState = snap.GetMetadata().GetConfState()
	if m, err := decodeMembers(snap.Data); err == nil {
		r.members = m
		if err := r.host.store.db.Set(shardKey('m', r.shard), seal(m.encode()), nil); err != nil {
			return err
		}
		r.mu.Lock()
		r.memberSet = m.clone()
		r.mu.Unlock()
		for _, x := range m.List {
			if x.ID != r.host.id {
				addr := x.BusAddr
				if x.Removed {
					addr = ""
				}
				r.host.cfg.Network.SetPeer(x.ID, addr)
			}
		}
	}
	// Proposals this node made before are covered by the snapshot: whether they made it in is
	// not known here.
	for pid, p := range r.pending {
		if p.index != 0 && p.index <= idx {
			delete(r.pending, pid)
			delete(r.byIndex, p.index)
			p.done(nil, ErrUnknown)
		}
	}
	ck := r.snapDir(idx)
	_ = r.host.fs.RemoveAll(ck)
	if err := r.host.fs.MkdirAll(filepath.Dir(ck), 0o755); err != nil {
		return err
	}
	if err := r.sm.Checkpoint(ck); err != nil {
		return err
	}
	r.snapIndex = idx
	r.cleanSnapshots()
	r.waits.release(r.applied.Load())
	r.host.cfg.Logger.Info("installed snapshot", "shard", r.shard, "index", idx, "applied", applied)
	return nil
}

// sendSnapshot streams the checkpoint for a MsgSnap to its follower in the background.
func (r *Raft) sendSnapshot(m *pb.Message) {
	idx := m.GetSnapshot().GetMetadata().GetIndex()
	to := m.GetTo()
	if cs := m.GetSnapshot().GetMetadata().GetConfState(); !slices.Contains(cs.GetVoters(), to) && !slices.Contains(cs.GetLearners(), to) {
		r.force = true
		r.rn.ReportSnapshot(to, raft.SnapshotFailure)
		return
	}
	dir := r.snapDir(idx)
	r.mu.Lock()
	_, err := r.host.fs.Stat(dir)
	if err == nil {
		r.snapRefs[idx]++
	}
	r.mu.Unlock()
	if err != nil {
		// The checkpoint is gone (a crash between installing and checkpointing): make a new one
		// and let Raft ask again.
		r.force = true
		r.rn.ReportSnapshot(to, raft.SnapshotFailure)
		return
	}
	header, err := encodeSnapshotHeader(r.shard, m)
	if err != nil {
		r.rn.ReportSnapshot(to, raft.SnapshotFailure)
		return
	}
	h := r.host
	h.senders.Add(1)
	h.cfg.Go(func() {
		defer h.senders.Done()
		err := h.cfg.Network.SendSnapshot(to, header, dir)
		r.mu.Lock()
		r.snapRefs[idx]--
		r.snapRep = append(r.snapRep, snapReport{to: to, err: err})
		r.mu.Unlock()
		r.cleanSnapshots()
		h.wakeup()
	})
}

// cleanSnapshots deletes checkpoints that are neither the current snapshot nor being sent.
// Deleting one a stream still reads would race log truncation against snapshot sending.
func (r *Raft) cleanSnapshots() {
	base := filepath.Dir(r.snapDir(0))
	names, err := r.host.fs.List(base)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.snapIndex
	for _, name := range names {
		idx, err := strconv.ParseUint(name, 10, 64)
		if err != nil || idx == cur || r.snapRefs[idx] > 0 {
			continue
		}
		_ = r.host.fs.RemoveAll(filepath.Join(base, name))
		delete(r.snapRefs, idx)
	}
}
