package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// readyState is a shard's Ready as the scheduler works through it. Most are done within one
// round; one that must wait for the apply worker (a snapshot to install, a membership change
// whose predecessors are not applied yet, a worker too far behind) is held across rounds, and
// only that shard waits.
type readyState struct {
	r  *Raft
	rd raft.Ready
	// early: the shard led before this Ready, in the same term, and sent its messages before
	// its own append was durable (Raft thesis 10.2.1).
	early bool
	// next is the next committed entry to hand to the worker.
	next int
	// install: the worker has the snapshot to install, and the Ready waits for it.
	install bool
}

// begin takes the shard's next Ready. Host goroutine.
func (r *Raft) begin(out *outbox, wasLeader bool, term uint64) *readyState {
	if r.held != nil {
		st := r.held
		r.held = nil
		return st
	}
	if !r.rn.HasReady() {
		return nil
	}
	rd := r.rn.Ready()
	// Only a leader that led before this round, in the same term, sends ahead of its fsync:
	// messages from an election just won may carry a vote not yet durable.
	st := &readyState{r: r, rd: rd}
	st.early = wasLeader && r.rn.BasicStatus().RaftState == raft.StateLeader && (rd.HardState == nil || rd.HardState.GetTerm() == term)
	if st.early {
		r.outgoing(out, rd.Messages)
	}
	r.readStates(rd.ReadStates)
	if !raft.IsEmptySnap(rd.Snapshot) {
		// Snapshots are installed in the state machine before the log records them, so a crash
		// in between leaves a state machine ahead of its log (replay skips what it holds),
		// never behind.
		r.enqueue(applyItem{snap: rd.Snapshot})
		st.install = true
	}
	return st
}

// handOff gives the Ready's committed entries to the apply worker and applies its membership
// changes to Raft, each once the worker has applied everything before it. Committed entries are
// durable on a quorum already, so handing them over before this node's own append is durable
// keeps the fsync off the replies' path. It reports false if the Ready must wait for the
// worker. Host goroutine.
func (st *readyState) handOff() (bool, error) {
	r := st.r
	if st.install {
		r.mu.Lock()
		done := r.installed >= st.rd.Snapshot.GetMetadata().GetIndex()
		r.mu.Unlock()
		if !done {
			r.waitForWorker()
			return false, nil
		}
		if err := r.afterInstall(st.rd.Snapshot); err != nil {
			return false, err
		}
		st.install = false
	}
	ents := st.rd.CommittedEntries
	if st.next == 0 && len(ents) > 0 && r.backlog() > maxApplyBacklog {
		r.waitForWorker()
		return false, nil
	}
	for st.next < len(ents) {
		j := st.next
		for j < len(ents) && ents[j].GetType() == pb.EntryNormal {
			j++
		}
		if j > st.next {
			r.enqueue(applyItem{entries: ents[st.next:j]})
			st.next = j
		}
		if j == len(ents) {
			break
		}
		e := ents[j]
		if r.applied.Load()+1 < e.GetIndex() {
			r.waitForWorker()
			if r.applied.Load()+1 < e.GetIndex() {
				return false, nil
			}
		}
		if err := r.applyConf(e); err != nil {
			return false, fmt.Errorf("membership change at %d: %w", e.GetIndex(), err)
		}
		st.next = j + 1
	}
	return true, nil
}

// applyConf applies a committed membership change to Raft and to the members table, and tells
// the worker. Host goroutine.
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
			if ch.Member.Node == 0 {
				ch.Member.Node = ch.Member.ID
			}
			if ch.Op == "learner" {
				// The newcomer needs a snapshot whose configuration includes it: one from before
				// would be refused.
				r.requestCheckpoint()
			}
			if err := r.host.store.db.Set(shardKey('m', r.shard), seal(r.members.encode()), nil); err != nil {
				return err
			}
			r.mu.Lock()
			r.memberSet = r.members.clone()
			r.mu.Unlock()
			r.host.membersGen.Add(1)
			switch {
			case ch.Member.ID == r.id && ch.Op == "remove":
				r.host.cfg.Logger.Warn("this replica was removed from its group", "shard", r.shard, "replica", r.id)
			case ch.Member.Node != r.host.id && ch.Op == "remove":
				if !r.host.nodeInUse(ch.Member.Node) {
					r.host.cfg.Network.SetPeer(ch.Member.Node, "")
				}
			case ch.Member.Node != r.host.id:
				r.host.cfg.Network.SetPeer(ch.Member.Node, ch.Member.BusAddr)
			}
		}
	}
	var done []func()
	r.pmu.Lock()
	r.settleLocked(e.GetIndex(), node, pid, nil, &done)
	r.pmu.Unlock()
	for _, f := range done {
		f()
	}
	r.enqueue(applyItem{conf: &confMark{index: e.GetIndex(), cs: proto.Clone(r.confState).(*pb.ConfState), members: r.members.clone()}})
	return nil
}

// afterInstall brings the scheduler's view of the group up to a snapshot the worker installed.
// Host goroutine.
func (r *Raft) afterInstall(snap *pb.Snapshot) error {
	r.confState = snap.GetMetadata().GetConfState()
	m, err := decodeMembers(snap.Data)
	if err != nil {
		return nil // a snapshot without a table keeps the one we have
	}
	r.members = m
	if err := r.host.store.db.Set(shardKey('m', r.shard), seal(m.encode()), nil); err != nil {
		return err
	}
	r.mu.Lock()
	r.memberSet = m.clone()
	r.mu.Unlock()
	r.host.membersGen.Add(1)
	for _, x := range m.List {
		if x.Node == r.host.id {
			continue
		}
		switch {
		case !x.Removed:
			r.host.cfg.Network.SetPeer(x.Node, x.BusAddr)
		case !r.host.nodeInUse(x.Node):
			// A removed member's node is forgotten only if no live member of any group here
			// is on it: a node whose old replica left this group may hold a new one of it, or
			// replicas of other groups.
			r.host.cfg.Network.SetPeer(x.Node, "")
		}
	}
	return nil
}

// recordCheckpoints records the newest checkpoint the worker took as the shard's snapshot, in
// b, and returns the index to compact the log to once b is durable (0: none). Host goroutine.
func (r *Raft) recordCheckpoints(b *pebble.Batch) (compact uint64, err error) {
	if r.held != nil && r.held.install {
		return 0, nil // an install decides the snapshot; record after it
	}
	r.mu.Lock()
	taken := r.taken
	r.taken = nil
	r.mu.Unlock()
	if len(taken) == 0 {
		return 0, nil
	}
	ck := taken[len(taken)-1]
	if ck.index <= r.snapIndex.Load() {
		return 0, nil
	}
	snap, err := r.ms.CreateSnapshot(ck.index, ck.conf.cs, ck.conf.members.encode())
	if errors.Is(err, raft.ErrSnapOutOfDate) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	data, err := proto.Marshal(snap)
	if err != nil {
		return 0, err
	}
	if err := b.Set(shardKey('s', r.shard), seal(data), nil); err != nil {
		return 0, err
	}
	r.snapIndex.Store(ck.index)
	keep := r.host.cfg.KeepEntries
	if ck.index <= keep {
		return 0, nil
	}
	compact = ck.index - keep
	if first, _ := r.ms.FirstIndex(); compact <= first {
		return 0, nil
	}
	if err := b.DeleteRange(entryKey(r.shard, 0), entryKey(r.shard, compact), nil); err != nil {
		return 0, err
	}
	return compact, nil
}

// outgoing routes a Ready's messages: snapshots are streamed on their own, the rest batched
// per node.
func (r *Raft) outgoing(o *outbox, msgs []*pb.Message) {
	for _, m := range msgs {
		if m.GetType() == pb.MsgSnap {
			r.sendSnapshot(m)
			continue
		}
		if node := r.nodeOf(m.GetTo()); node != 0 {
			o.add(node, r.shard, m)
		}
	}
}

// persisted updates the in-memory log after a round's batch is durable, and notes the index
// each of this node's proposals landed at.
func (r *Raft) persisted(rd raft.Ready) error {
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := r.ms.ApplySnapshot(rd.Snapshot); err != nil {
			return err
		}
		r.snapIndex.Store(rd.Snapshot.GetMetadata().GetIndex())
		r.cleanSnapshots()
	}
	if err := r.ms.Append(rd.Entries); err != nil {
		return err
	}
	if rd.HardState != nil {
		if err := r.ms.SetHardState(rd.HardState); err != nil {
			return err
		}
	}
	var done []func()
	r.pmu.Lock()
	for _, e := range rd.Entries {
		node, pid, ok := entryOwner(e)
		if !ok || node != r.host.id {
			continue
		}
		if p := r.pending[pid]; p != nil && p.index == 0 {
			p.index = e.GetIndex()
			if old, ok := r.byIndex[p.index]; ok && old != pid {
				r.resolveLocked(old, nil, ErrDropped, &done)
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
		r.resolveLocked(pid, nil, errConfPending, &done)
	}
	r.pmu.Unlock()
	for _, f := range done {
		f()
	}
	return nil
}

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

// sendSnapshot streams the checkpoint for a MsgSnap to its follower in the background.
func (r *Raft) sendSnapshot(m *pb.Message) {
	idx := m.GetSnapshot().GetMetadata().GetIndex()
	to := m.GetTo()
	node := r.nodeOf(to)
	if cs := m.GetSnapshot().GetMetadata().GetConfState(); node == 0 || (!slices.Contains(cs.GetVoters(), to) && !slices.Contains(cs.GetLearners(), to)) {
		r.requestCheckpoint()
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
		r.requestCheckpoint()
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
		err := h.cfg.Network.SendSnapshot(node, header, dir)
		r.mu.Lock()
		r.snapRefs[idx]--
		r.snapRep = append(r.snapRep, snapReport{to: to, err: err})
		r.mu.Unlock()
		r.cleanSnapshots()
		r.poke()
	})
}

// cleanSnapshots deletes checkpoints older than the current snapshot that no stream is reading.
// Deleting one a stream still reads would race log truncation against snapshot sending; newer
// ones are the worker's, not recorded yet.
func (r *Raft) cleanSnapshots() {
	base := r.host.fs.PathDir(r.snapDir(0))
	names, err := r.host.fs.List(base)
	if err != nil {
		return
	}
	cur := r.snapIndex.Load()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range names {
		idx, err := strconv.ParseUint(name, 10, 64)
		if err != nil || idx >= cur || r.snapRefs[idx] > 0 {
			continue
		}
		_ = r.host.fs.RemoveAll(r.host.fs.PathJoin(base, name))
		delete(r.snapRefs, idx)
	}
}
