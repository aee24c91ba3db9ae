package replica

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// HostConfig configures a node's Raft scheduler.
type HostConfig struct {
	// Dir holds the Raft log store and the shards' snapshots (a server uses dataDir/raft).
	Dir string
	// FS is the log store's filesystem; nil is the operating system's.
	FS      vfs.FS
	Clock   Clock
	Network Network
	Logger  *slog.Logger

	// TickInterval is one Raft tick; ElectionTicks and HeartbeatTicks count them. The election
	// timeout is randomized by Raft between ElectionTicks and twice that.
	TickInterval   time.Duration
	ElectionTicks  int
	HeartbeatTicks int
	// SnapshotEntries is how many entries are applied between two checkpoints of a shard;
	// KeepEntries how many entries behind a checkpoint stay in the log for followers that lag
	// a little (beyond that they get the snapshot).
	SnapshotEntries uint64
	KeepEntries     uint64
	// ProposalTimeout bounds how long a proposal waits to learn whether its entry committed
	// once it is in the log; ReadTimeout how long a read waits for its read index.
	ProposalTimeout time.Duration
	ReadTimeout     time.Duration
	// MaxUncommittedBytes bounds the entries a leader holds uncommitted (Raft's
	// MaxUncommittedEntriesSize; 0: 256 MiB). A proposal past it waits for the entries ahead
	// of it to commit (Raft.propose); one entry alone is always taken.
	MaxUncommittedBytes uint64
	// OnFatal is called if the node cannot go on (its log or state machine failed to write).
	OnFatal func(error)
	// Go runs f on a goroutine of its own (a snapshot stream); nil is the go statement. The
	// deterministic simulation runs f inline, so a stream starts and ends at a point of its
	// choosing.
	Go func(f func())
	// ManualApply leaves applying to the caller: shards get no apply goroutines, and Apply
	// does their queued work on the caller's goroutine. The deterministic simulation applies
	// this way, at points of its choosing.
	ManualApply bool
	// Heard tells when a frame from a node last arrived (the transport's view of liveness).
	// With it the host sends every peer node a heartbeat each tick, and idle groups quiesce
	// (quiesce.go); without it every group ticks all the time.
	Heard func(node uint64) time.Time
}

func (c *HostConfig) defaults() {
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.TickInterval <= 0 {
		c.TickInterval = 50 * time.Millisecond
	}
	if c.ElectionTicks <= 0 {
		c.ElectionTicks = 10
	}
	if c.HeartbeatTicks <= 0 {
		c.HeartbeatTicks = 1
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = 50000
	}
	if c.KeepEntries == 0 {
		c.KeepEntries = 5000
	}
	election := time.Duration(c.ElectionTicks) * c.TickInterval
	if c.ProposalTimeout <= 0 {
		c.ProposalTimeout = max(10*election, 5*time.Second)
	}
	if c.MaxUncommittedBytes == 0 {
		c.MaxUncommittedBytes = 256 << 20
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = max(4*election, 2*time.Second)
	}
	if c.OnFatal == nil {
		c.OnFatal = func(err error) { panic(err) }
	}
	if c.Go == nil {
		c.Go = func(f func()) { go f() }
	}
}

// Host runs the Raft groups (shards) of one node. One goroutine, the scheduler, drives every
// shard's RawNode: each round it takes every shard's Ready, hands committed entries to the
// shard's apply worker (apply.go), makes all their entries and hard states durable with one
// batch and one fsync, sends all messages for a peer node as one payload, and advances. Raft's
// state is touched by that goroutine only; proposals, reads and incoming messages are queued
// for it, and nothing it does waits for a state machine.
type Host struct {
	cfg   HostConfig
	fs    vfs.FS
	store *logStore
	id    uint64
	// boot numbers this start of the node (counted in the log store); it is the high bits of
	// every proposal ID, so IDs never repeat across restarts.
	boot uint64

	mu     sync.Mutex
	shards map[uint64]*Raft

	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started bool
	senders sync.WaitGroup
	// fatalOnce makes the first fatal error (of the scheduler or a worker) the one reported.
	fatalOnce sync.Once
	// ticks counts scheduler ticks.
	ticks uint64

	// dirtyQ are the shards with something to do in the next round (Raft.poke).
	dmu    sync.Mutex
	dirtyQ []*Raft
	// spareQ is the other half of dirtyQ's double buffer. Host goroutine.
	spareQ []*Raft

	// membersGen counts membership changes of any group; peers are the nodes the groups share,
	// as of peersGen (quiesce.go). aliveAt caches liveness for the tick aliveTick.
	membersGen atomic.Uint64
	peersGen   uint64
	peers      []uint64
	aliveTick  uint64
	aliveAt    map[uint64]bool
}

// OpenHost opens the node's Raft log store. The node ID is read from it (NodeID is 0 for a new
// node until SetNodeID).
func OpenHost(cfg HostConfig) (*Host, error) {
	cfg.defaults()
	fs := cfg.FS
	if fs == nil {
		fs = vfs.Default
	}
	if err := durable.MkdirAll(fs, cfg.Dir); err != nil {
		return nil, err
	}
	store, err := openLogStore(filepath.Join(cfg.Dir, "log"), fs)
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, fs: fs, store: store, shards: map[uint64]*Raft{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	v, err := store.meta("id")
	if err != nil {
		store.close()
		return nil, err
	}
	if len(v) == 8 {
		h.id = binary.BigEndian.Uint64(v)
	}
	if err := h.countBoot(); err != nil {
		store.close()
		return nil, err
	}
	// Snapshots half-received before a restart are of no use.
	_ = fs.RemoveAll(h.inboxDir())
	return h, nil
}

// countBoot numbers this start. An entry this node proposed before a restart can commit after
// it; if a proposal of this start had the same ID, the old entry's result would complete it —
// a reply to the wrong command, before its own entry is even applied. Found by the simulation
// (tests/sim, seed 2016).
func (h *Host) countBoot() error {
	v, err := h.store.meta("boot")
	if err != nil {
		return err
	}
	if len(v) == 8 {
		h.boot = binary.BigEndian.Uint64(v)
	}
	h.boot++
	b := h.store.db.NewBatch()
	defer b.Close()
	if err := h.store.setMeta(b, "boot", binary.BigEndian.AppendUint64(nil, h.boot)); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// NodeID is this node's ID; 0 if it has none yet.
func (h *Host) NodeID() uint64 { return h.id }

// SetNodeID records the node's ID durably. An ID is set once.
func (h *Host) SetNodeID(id uint64) error {
	if h.id != 0 && h.id != id {
		return fmt.Errorf("replica: node already has ID %d", h.id)
	}
	b := h.store.db.NewBatch()
	defer b.Close()
	if err := h.store.setMeta(b, "id", binary.BigEndian.AppendUint64(nil, id)); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	h.id = id
	return nil
}

// ElectionTimeout is the base election timeout.
func (h *Host) ElectionTimeout() time.Duration {
	return time.Duration(h.cfg.ElectionTicks) * h.cfg.TickInterval
}

// Start starts the scheduler goroutine. Shards may be added before or after.
func (h *Host) Start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return
	}
	h.started = true
	for _, r := range h.shards {
		r.startWorker()
	}
	go h.run()
}

// Close stops the scheduler and every shard, and closes the log store.
func (h *Host) Close() error {
	h.mu.Lock()
	started := h.started
	h.mu.Unlock()
	close(h.stop)
	if started {
		<-h.done
	}
	h.senders.Wait()
	h.mu.Lock()
	shards := h.shardList()
	h.mu.Unlock()
	for _, r := range shards {
		r.stopWorker()
		r.failAll(ErrStopped)
	}
	return h.store.close()
}

func (h *Host) shardList() []*Raft {
	out := make([]*Raft, 0, len(h.shards))
	for _, r := range h.shards {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].shard < out[j].shard })
	return out
}

func (h *Host) shard(id uint64) *Raft {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shards[id]
}

func (h *Host) wakeup() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *Host) inboxDir() string { return filepath.Join(h.cfg.Dir, "snap-in") }

// SnapshotInbox is the directory incoming snapshot streams are written under.
func (h *Host) SnapshotInbox() string { return h.inboxDir() }

// Deliver hands the host a payload a peer sent. It never blocks on Raft.
func (h *Host) Deliver(from uint64, payload []byte) error {
	return decodePayload(payload, payloadHandler{
		msg: func(shard uint64, m *pb.Message) {
			if r := h.shard(shard); r != nil && m.GetTo() == r.id {
				r.receive(m, from)
				r.poke()
			}
		},
		report: func(shard, applied uint64) {
			if r := h.shard(shard); r != nil {
				r.peerApplied(from, applied)
			}
		},
		quiesce: func(q quiesceNote) {
			if r := h.shard(q.shard); r != nil {
				r.receiveQuiesce(q)
				r.poke()
			}
		},
	})
}

// ReceiveSnapshot hands the host a snapshot a peer streamed into dir. The host owns dir from
// then on.
func (h *Host) ReceiveSnapshot(from uint64, header []byte, dir string) error {
	shard, m, err := decodeSnapshotHeader(header)
	if err != nil {
		return err
	}
	r := h.shard(shard)
	if r == nil {
		return fmt.Errorf("replica: no shard %d here", shard)
	}
	if m.GetTo() != r.id {
		return fmt.Errorf("replica: a snapshot of shard %d for replica %d, but this node is replica %d", shard, m.GetTo(), r.id)
	}
	if v, ok := r.sm.(SnapshotVerifier); ok {
		if err := v.VerifySnapshot(dir); err != nil {
			h.cfg.Logger.Error("refused a snapshot that fails verification", "shard", shard, "from", from, "err", err)
			return fmt.Errorf("snapshot of shard %d fails verification: %w", shard, err)
		}
	}
	r.receiveSnapshot(m, dir, from)
	r.poke()
	return nil
}

func (h *Host) run() {
	defer close(h.done)
	ticker := h.cfg.Clock.NewTicker(h.cfg.TickInterval)
	defer ticker.Stop()
	for {
		tick := false
		select {
		case <-h.stop:
			return
		case <-ticker.C():
			tick = true
		case <-h.wake:
		}
		if err := h.step(tick); err != nil {
			h.fatal(err)
			<-h.stop
			return
		}
	}
}

// step is one pass of the scheduler: a Raft tick of every shard if tick is set, then a round.
// A failed disk under the log store surfaces as ErrStorage.
func (h *Host) step(tick bool) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		f, ok := p.(storageFatal)
		if !ok {
			panic(p)
		}
		err = fmt.Errorf("%w: %s", ErrStorage, f.msg)
	}()
	var out outbox
	if tick {
		h.mu.Lock()
		shards := h.shardList()
		h.mu.Unlock()
		now := h.cfg.Clock.Now()
		h.ticks++
		for _, r := range shards {
			if r.quiet {
				r.checkLeaderAlive()
				continue
			}
			if r.maybeQuiesce(&out) {
				continue
			}
			r.tick(now)
			r.poke()
		}
		h.heartbeat(&out, shards)
	}
	return h.round(tick, &out)
}

// fatal reports an error the node cannot go on from (its log or a state machine failed to
// write), once: every shard stops, and OnFatal is told.
func (h *Host) fatal(err error) {
	h.fatalOnce.Do(func() {
		h.fail(err)
		h.cfg.OnFatal(err)
	})
}

// fail stops every shard after the scheduler hit an error it cannot go on from.
func (h *Host) fail(err error) {
	h.cfg.Logger.Error("raft scheduler stopped", "err", err)
	h.mu.Lock()
	shards := h.shardList()
	h.mu.Unlock()
	for _, r := range shards {
		r.failAll(ErrStopped)
	}
}

// Apply does the queued apply work of every shard on the caller's goroutine, for a host with
// ManualApply. It reports whether there was any. After an error the host cannot go on, as
// after one of Step.
func (h *Host) Apply() (did bool, err error) {
	h.mu.Lock()
	shards := h.shardList()
	h.mu.Unlock()
	for _, r := range shards {
		if !r.hasWork() {
			continue
		}
		did = true
		if err := r.applyQueued(); err != nil {
			err = fmt.Errorf("apply shard %d: %w", r.shard, err)
			h.fail(err)
			return did, err
		}
	}
	return did, nil
}

// Step runs one pass of the scheduler on the caller's goroutine, for a host that was not
// started: a Raft tick first if tick is set, then a round of the Ready loop. more reports that
// work is waiting (the round asked to go again, or a message, proposal or read was queued).
// The deterministic simulation drives its hosts this way, so every round happens at a point
// of its choosing. After an error the host cannot go on: its shards' waiting operations have
// failed (OnFatal is not called), and it must be closed.
func (h *Host) Step(tick bool) (more bool, err error) {
	select {
	case <-h.wake:
	default:
	}
	if err := h.step(tick); err != nil {
		h.fail(err)
		return false, err
	}
	select {
	case <-h.wake:
		return true, nil
	default:
		return false, nil
	}
}

// round runs one pass of the Ready loop over the shards that have something to do.
func (h *Host) round(tick bool, out *outbox) error {
	h.dmu.Lock()
	shards := h.dirtyQ
	h.dirtyQ = h.spareQ[:0]
	h.dmu.Unlock()
	// In shard order, so a round does the same thing whatever order the pokes came in.
	slices.SortFunc(shards, func(a, b *Raft) int { return cmp.Compare(a.shard, b.shard) })
	shards = slices.Compact(shards)
	for _, r := range shards {
		r.dirty.Store(false)
	}
	defer func() {
		clear(shards)
		h.spareQ = shards[:0]
	}()
	var (
		readies []*readyState
		compact = map[*Raft]uint64{}
	)
	now := h.cfg.Clock.Now()
	b := h.store.db.NewBatch()
	defer b.Close()
	sync := false
	for _, r := range shards {
		if r.closing(h) {
			continue
		}
		wasLeader, term := r.IsLeader(), r.term.Load()
		r.drain(now)
		if c, err := r.recordCheckpoints(b); err != nil {
			return fmt.Errorf("record snapshot of shard %d: %w", r.shard, err)
		} else if c > 0 {
			compact[r] = c
			sync = true
		}
		if tick {
			r.report(out)
		}
		st := r.begin(out, wasLeader, term)
		if st == nil {
			continue
		}
		ok, err := st.handOff()
		if err != nil {
			return fmt.Errorf("shard %d: %w", r.shard, err)
		}
		if !ok {
			r.held = st // the worker pokes the shard when it has done its part
			continue
		}
		readies = append(readies, st)
	}
	for _, st := range readies {
		snap := st.rd.Snapshot
		if raft.IsEmptySnap(snap) {
			snap = nil
		}
		prevLast, err := st.r.ms.LastIndex()
		if err != nil {
			return err
		}
		if err := h.store.stage(b, st.r.shard, st.rd.Entries, st.rd.HardState, snap, prevLast); err != nil {
			return err
		}
		// Raft does not ask to sync for a snapshot alone, but a node that lost the record of one
		// it installed would restart with a state machine ahead of its log for long.
		sync = sync || st.rd.MustSync || snap != nil
	}
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	if !b.Empty() {
		if err := b.Commit(opts); err != nil {
			return fmt.Errorf("write raft log: %w", err)
		}
	}
	for r, c := range compact {
		if err := r.ms.Compact(c); err != nil && !errors.Is(err, raft.ErrCompacted) {
			return err
		}
		r.cleanSnapshots()
	}
	for _, st := range readies {
		if err := st.r.persisted(st.rd); err != nil {
			return err
		}
		if !st.early {
			st.r.outgoing(out, st.rd.Messages)
		}
	}
	h.send(out)
	for _, st := range readies {
		st.r.rn.Advance(st.rd)
		st.r.publish()
	}
	for _, st := range readies {
		// More may be ready (entries committed by this round's appends): go again.
		st.r.poke()
	}
	return nil
}

// send sends each peer node its payload of the round.
func (h *Host) send(o *outbox) {
	for node, p := range o.peers {
		if node == h.id || node == 0 {
			continue
		}
		payload, err := encodePayload(p)
		if err != nil {
			h.cfg.Logger.Error("encode raft messages", "err", err)
			continue
		}
		if !h.cfg.Network.Send(node, payload) {
			for _, m := range p.msgs {
				if r := h.shard(m.shard); r != nil {
					r.rn.ReportUnreachable(m.msg.GetTo())
				}
			}
		}
	}
}

// nodeInUse reports whether a group on this host, counting the one whose membership just
// changed, has a live member on node. Host goroutine.
func (h *Host) nodeInUse(node uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.shards {
		if _, ok := r.members.ByNode(node); ok {
			return true
		}
	}
	return false
}
