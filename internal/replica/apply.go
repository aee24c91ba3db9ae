package replica

import (
	"fmt"
	"sync"

	pb "go.etcd.io/raft/v3/raftpb"
)

// The apply worker.
//
// Applying committed entries, installing snapshots and taking checkpoints write to the state
// machine's storage, and a checkpoint or an install can take a while; none of it may hold up the
// scheduler, which keeps every group on the node alive (a leader that stalls past its election
// timeout loses its lease on the group). So each shard has a worker of its own: the scheduler
// hands it committed entries in log order and goes on, and the worker applies them, answers
// their proposers, and reports back what the scheduler needs to know (a snapshot installed, a
// checkpoint taken).
//
// What must stay in order with the state machine goes through the same queue: a membership
// change is applied to Raft by the scheduler once the worker has applied every entry before it,
// and the worker learns of it by a mark in the queue, so a checkpoint always carries the
// configuration as of the index it was taken at.

// maxApplyBacklog bounds the committed entries queued for a worker: beyond it the scheduler
// holds the shard's next Ready until the worker catches up, so a slow disk slows its group's
// commits instead of filling memory.
const maxApplyBacklog = 1 << 16

// applyQueue is the work the scheduler hands a shard's apply worker, in log order.
type applyQueue struct {
	mu      sync.Mutex
	items   []applyItem
	backlog int // entries queued
	// waiting is set while the scheduler holds a Ready for the worker: it then wakes the
	// scheduler when it has done something.
	waiting bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	// Owned by the worker.
	smApplied    uint64   // the state machine holds every entry up to here
	conf         confMark // the configuration as of what was applied
	checkpointed uint64   // index of the last checkpoint
	runBuf       []Entry
	ownBuf       []owner
	resBuf       [][]byte
}

type applyItem struct {
	entries []*pb.Entry
	snap    *pb.Snapshot
	conf    *confMark
}

// confMark is the group's configuration once the membership change at index was applied.
type confMark struct {
	index   uint64
	cs      *pb.ConfState
	members Members
}

// checkpoint is a checkpoint the worker took, for the scheduler to record as the snapshot.
type checkpoint struct {
	index uint64
	conf  confMark
}

func (q *applyQueue) init(smApplied uint64) {
	q.smApplied = smApplied
	q.wake = make(chan struct{}, 1)
}

// enqueue hands the worker an item. Host goroutine.
func (r *Raft) enqueue(it applyItem) {
	q := &r.work
	q.mu.Lock()
	q.items = append(q.items, it)
	q.backlog += len(it.entries)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// hasWork reports whether the worker has something to do: queued items, or a checkpoint that
// was asked for and can be taken now (one that cannot waits for the next entry, and is no work
// until then). Worker goroutine (with ManualApply, the caller of Host.Apply).
func (r *Raft) hasWork() bool {
	r.work.mu.Lock()
	queued := len(r.work.items) > 0
	r.work.mu.Unlock()
	return queued || (r.force.Load() && r.checkpointDue())
}

// requestCheckpoint asks the worker for a checkpoint at its next chance: a new member needs a
// snapshot whose configuration includes it.
func (r *Raft) requestCheckpoint() {
	r.force.Store(true)
	select {
	case r.work.wake <- struct{}{}:
	default:
	}
}

// backlog is how many entries wait for the worker.
func (r *Raft) backlog() int {
	r.work.mu.Lock()
	defer r.work.mu.Unlock()
	return r.work.backlog
}

// waitForWorker asks the worker to wake the scheduler once it has made progress.
func (r *Raft) waitForWorker() {
	r.work.mu.Lock()
	r.work.waiting = true
	r.work.mu.Unlock()
}

// startWorker starts the shard's apply goroutine, unless the host applies by hand
// (HostConfig.ManualApply).
func (r *Raft) startWorker() {
	if r.host.cfg.ManualApply {
		return
	}
	q := &r.work
	q.mu.Lock()
	if q.stop != nil {
		q.mu.Unlock()
		return
	}
	q.stop, q.done = make(chan struct{}), make(chan struct{})
	q.mu.Unlock()
	go func() {
		defer close(q.done)
		for {
			select {
			case <-q.stop:
				return
			case <-q.wake:
			}
			if err := r.applyQueued(); err != nil {
				r.host.fatal(fmt.Errorf("apply shard %d: %w", r.shard, err))
				return
			}
		}
	}()
}

// stopWorker stops the apply goroutine and waits for it. Work still queued is dropped: it is in
// the log, and replay applies it after a restart.
func (r *Raft) stopWorker() {
	q := &r.work
	q.mu.Lock()
	stop, done := q.stop, q.done
	q.mu.Unlock()
	if stop == nil {
		return
	}
	select {
	case <-stop:
	default:
		close(stop)
	}
	<-done
}

// applyQueued does everything queued. Worker goroutine (or Host.Apply).
func (r *Raft) applyQueued() error {
	q := &r.work
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.mu.Unlock()
	for _, it := range items {
		var err error
		switch {
		case it.snap != nil:
			err = r.install(it.snap)
		case it.conf != nil:
			r.applyMark(it.conf)
		default:
			err = r.applyEntries(it.entries)
		}
		if err != nil {
			return err
		}
		q.mu.Lock()
		q.backlog -= len(it.entries)
		q.mu.Unlock()
	}
	if err := r.maybeCheckpoint(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	q.mu.Lock()
	wake := q.waiting
	q.waiting = false
	q.mu.Unlock()
	if wake {
		r.poke()
	}
	return nil
}

// applyEntries applies committed operations in runs through the state machine and answers
// their proposers.
func (r *Raft) applyEntries(ents []*pb.Entry) error {
	q := &r.work
	run, owners := q.runBuf[:0], q.ownBuf[:0]
	var done []func()
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		results := q.resBuf[:0]
		for range run {
			results = append(results, nil)
		}
		r.applying.Store(run[len(run)-1].Index)
		if err := r.sm.Apply(run, results); err != nil {
			return err
		}
		last := run[len(run)-1].Index
		q.smApplied = last
		r.applied.Store(last)
		r.pmu.Lock()
		for i, e := range run {
			r.settleLocked(e.Index, owners[i].node, owners[i].pid, results[i], &done)
			results[i] = nil
		}
		r.pmu.Unlock()
		for _, f := range done {
			f()
		}
		done = done[:0]
		q.resBuf = results[:0]
		r.waits.release(last)
		run, owners = run[:0], owners[:0]
		return nil
	}
	for _, e := range ents {
		idx := e.GetIndex()
		node, pid, own := entryOwner(e)
		if idx <= q.smApplied {
			// Already in the state machine (replay after a restart, or a snapshot that was
			// ahead of its index): only the bookkeeping is left.
			r.pmu.Lock()
			r.settleLocked(idx, node, pid, nil, &done)
			r.pmu.Unlock()
			for _, f := range done {
				f()
			}
			done = done[:0]
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
	}
	err := flush()
	q.runBuf, q.ownBuf = run[:0], owners[:0]
	return err
}

// applyMark records a membership change the scheduler applied to Raft: the worker has applied
// everything before it, and its index counts as applied.
func (r *Raft) applyMark(m *confMark) {
	r.work.conf = *m
	if m.index > r.applied.Load() {
		r.applying.Store(max(r.applying.Load(), m.index))
		r.applied.Store(m.index)
		r.waits.release(m.index)
	}
}

// install replaces the state machine with a snapshot received from the leader, then
// checkpoints it so this node can serve the same snapshot later.
func (r *Raft) install(snap *pb.Snapshot) error {
	q := &r.work
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
	q.smApplied = max(applied, idx)
	r.applying.Store(max(r.applying.Load(), q.smApplied))
	r.applied.Store(q.smApplied)
	members, err := decodeMembers(snap.Data)
	if err != nil {
		return fmt.Errorf("members of the snapshot at %d: %w", idx, err)
	}
	q.conf = confMark{index: idx, cs: snap.GetMetadata().GetConfState(), members: members}
	// Proposals this node made before are covered by the snapshot: whether they made it in is
	// not known here.
	var done []func()
	r.pmu.Lock()
	for pid, p := range r.pending {
		if p.index != 0 && p.index <= idx {
			r.resolveLocked(pid, nil, ErrUnknown, &done)
		}
	}
	r.pmu.Unlock()
	for _, f := range done {
		f()
	}
	ck := r.snapDir(idx)
	_ = r.host.fs.RemoveAll(ck)
	if err := r.host.fs.MkdirAll(r.host.fs.PathDir(ck), 0o755); err != nil {
		return err
	}
	if err := r.sm.Checkpoint(ck); err != nil {
		return err
	}
	q.checkpointed = idx
	r.waits.release(r.applied.Load())
	r.mu.Lock()
	r.installed = idx
	r.mu.Unlock()
	r.host.cfg.Logger.Info("installed snapshot", "shard", r.shard, "index", idx, "applied", applied)
	return nil
}

// checkpointDue reports whether a checkpoint should be taken now: SnapshotEntries entries were
// applied since the last one, or one was asked for (requestCheckpoint), and the state allows
// one. Worker goroutine.
func (r *Raft) checkpointDue() bool {
	q := &r.work
	applied := r.applied.Load()
	force := r.force.Load()
	if applied <= q.checkpointed || (!force && applied-q.checkpointed < r.host.cfg.SnapshotEntries) {
		return false
	}
	if applied > q.smApplied && !force {
		// The last entries were membership changes the state machine has not recorded; its
		// checkpoint would not hold them. Wait for the next operation.
		return false
	}
	if last, _ := r.ms.LastIndex(); applied > last {
		// The state machine is ahead of the log (it installed a snapshot, or applied committed
		// entries, whose record the log lost in a crash): a snapshot must name an index the
		// log holds. Wait until the leader has filled the log up to here.
		return false
	}
	return true
}

// maybeCheckpoint checkpoints the state machine once enough entries were applied since the
// last checkpoint, and reports it to the scheduler, which records it as the snapshot and
// compacts the log behind it.
func (r *Raft) maybeCheckpoint() error {
	if !r.checkpointDue() {
		return nil
	}
	q := &r.work
	applied := r.applied.Load()
	r.force.Store(false)
	dir := r.snapDir(applied)
	fs := r.host.fs
	_ = fs.RemoveAll(dir)
	if err := fs.MkdirAll(fs.PathDir(dir), 0o755); err != nil {
		return err
	}
	if err := r.sm.Checkpoint(dir); err != nil {
		return err
	}
	q.checkpointed = applied
	r.mu.Lock()
	r.taken = append(r.taken, checkpoint{index: applied, conf: q.conf})
	r.mu.Unlock()
	r.poke()
	return nil
}
