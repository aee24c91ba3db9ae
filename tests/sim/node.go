package sim

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/shard"
)

// Node is one simulated server: a Raft host over its own disk, with a replica of every shard.
type Node struct {
	w    *World
	id   uint64
	idx  int
	name string

	// disk is what the node's writes reach; a crash replaces it with what was synced.
	disk  *vfs.MemFS
	fs    vfs.FS // disk behind the fault injector
	fault *diskFault
	clock *nodeClock
	net   *endpoint

	host   *replica.Host
	shards []*Shard
	up     bool
	// joined marks a node that joined after the cluster formed (it bootstraps nothing);
	// gone one removed from the cluster for good (it may run on a while, but clients and
	// faults leave it alone, and it never restarts).
	joined, gone bool
	// incarnation counts restarts: a read gated on one incarnation must not run on the next.
	incarnation int

	// paused is a stopped process (a long GC pause, SIGSTOP): it neither ticks nor steps, and
	// what clients send it waits in held until it resumes.
	paused bool
	held   []func()

	// conns are the clients' connections to this incarnation (Version4).
	conns []*conn

	dirty        bool
	stepPending  bool
	pendingTicks int
	// applyLater is set while the apply work of a round waits for a later event (Version4);
	// applyNow makes the next step apply whatever it drew.
	applyLater, applyNow bool
	// slow is the time a round takes while the disk is slow; busyUntil is when the current
	// one ends.
	slow      time.Duration
	busyUntil time.Duration
	// lastTime keeps the time assigned to operations monotonic, as the server's now() does.
	lastTime int64
}

// Shard is a node's replica of one shard: the production shard.Shard, and its Raft.
type Shard struct {
	*shard.Shard
	node *Node
	id   uint64
	raft *replica.Raft
	// reader is reused by reads, as an event loop's is.
	reader shard.Reader
}

// nodeClock is a node's view of virtual time, off by a settable amount (clock jumps).
type nodeClock struct {
	w      *World
	offset time.Duration
}

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *nodeClock) Now() time.Time { return epoch.Add(c.w.now + c.offset) }

// NewTicker implements replica.Clock. The simulation ticks hosts itself (Host.Step), so this
// ticker never fires.
func (c *nodeClock) NewTicker(time.Duration) replica.Ticker { return deadTicker{} }

type deadTicker struct{}

func (deadTicker) C() <-chan time.Time { return nil }
func (deadTicker) Stop()               {}

func newNode(w *World, idx int) *Node {
	n := &Node{w: w, idx: idx, id: uint64(idx + 1), name: fmt.Sprintf("n%d", idx+1), disk: vfs.NewCrashableMem()}
	n.clock = &nodeClock{w: w}
	n.fault = &diskFault{}
	n.net = &endpoint{net: w.net, from: n.id}
	return n
}

// bootstrap is the initial membership a node forms the cluster with; nil for a node that
// joined later.
func (n *Node) bootstrap() []replica.Member {
	if n.joined {
		return nil
	}
	var out []replica.Member
	for _, m := range n.w.nodes[:n.w.cfg.Nodes] {
		out = append(out, m.member())
	}
	return out
}

func (n *Node) member() replica.Member {
	return replica.Member{ID: n.id, Addr: n.name, BusAddr: n.name}
}

// replicaMember is the member of a group that is this node's replica id there.
func (n *Node) replicaMember(id uint64) replica.Member {
	return replica.Member{ID: id, Node: n.id, Addr: n.name, BusAddr: n.name}
}

// open starts the node's host and shards from its disk.
func (n *Node) open() error {
	fs := n.fault.wrap(n.disk)
	n.fs = fs
	host, err := replica.OpenHost(replica.HostConfig{
		Dir:             "/raft",
		FS:              fs,
		Clock:           n.clock,
		Network:         n.net,
		Logger:          slog.New(slog.DiscardHandler),
		TickInterval:    tickInterval,
		ElectionTicks:   electionTicks,
		HeartbeatTicks:  1,
		SnapshotEntries: n.w.cfg.SnapshotEntries,
		KeepEntries:     n.w.cfg.KeepEntries,
		Go:              func(f func()) { f() },
		ManualApply:     true,
	})
	if err != nil {
		return err
	}
	n.host = host
	if host.NodeID() == 0 {
		if err := host.SetNodeID(n.id); err != nil {
			return err
		}
	} else if host.NodeID() != n.id {
		return fmt.Errorf("node %s came back as node %d", n.name, host.NodeID())
	}
	n.shards = nil
	if n.w.cfg.Version >= Version4 {
		for _, sh := range n.w.topo.ShardsOf(n.id) {
			if err := n.addShard(sh.ID); err != nil {
				return err
			}
		}
		return nil
	}
	for sid := uint64(1); sid <= uint64(n.w.cfg.Shards); sid++ {
		// Replica IDs are the node IDs here: a new node is admitted to every group under its
		// own.
		s, err := n.openShard(fs, sid, replica.ShardOptions{Bootstrap: n.bootstrap(), ReplicaID: n.id})
		if err != nil {
			return fmt.Errorf("shard %d: %w", sid, err)
		}
		n.shards = append(n.shards, s)
	}
	return nil
}

// addShard opens the node's replica of a shard as the topology places it, as the server's
// hostShard does: a founding replica bootstraps the group with the founding replicas (if it has
// no state yet), the shard's first replica campaigns at once, and any other replica starts
// empty and is sent the state by the leader.
func (n *Node) addShard(sid uint64) error {
	w := n.w
	info := w.topo.Shard(sid)
	opts := replica.ShardOptions{ReplicaID: info.ReplicaOn(n.id), Campaign: info.Replicas[0].Node == n.id}
	if f := w.founding.Shard(sid); f != nil && f.ReplicaOn(n.id) != 0 {
		for _, r := range f.Replicas {
			opts.Bootstrap = append(opts.Bootstrap, w.nodes[r.Node-1].replicaMember(r.ID))
		}
	} else if f == nil && slices.Contains(info.Initial, cluster.Replica{Node: n.id, ID: opts.ReplicaID}) {
		// A shard created after the founding (a split's): its initial replicas start its group
		// (the server's initialMembers).
		for _, r := range info.Initial {
			opts.Bootstrap = append(opts.Bootstrap, w.nodes[r.Node-1].replicaMember(r.ID))
		}
	}
	s, err := n.openShard(n.fs, sid, opts)
	if err != nil {
		return fmt.Errorf("shard %d: %w", sid, err)
	}
	i := 0
	for i < len(n.shards) && n.shards[i].id < sid {
		i++
	}
	n.shards = slices.Insert(n.shards, i, s)
	return nil
}

// openShard opens a shard as server.New does in cluster mode, and adds its replica to the host.
func (n *Node) openShard(fs vfs.FS, sid uint64, opts replica.ShardOptions) (*Shard, error) {
	sh, err := shard.Open(shard.Options{
		ID: sid, Dir: fmt.Sprintf("/shards/%d", sid), FS: fs,
		BlockCacheSize: 8 << 20, MemTableSize: 8 << 20, RecordCacheSize: 1 << 20,
		Limits: command.NewLimits(512 << 20),
		// The Raft log is the durable record.
		SyncPolicy: engine.SyncNo,
	})
	if err != nil {
		return nil, err
	}
	s := &Shard{Shard: sh, node: n, id: sid}
	opts.Applied = sh.Applied()
	if s.raft, err = n.host.AddShard(sid, machine{s}, opts); err != nil {
		sh.Close()
		return nil, err
	}
	sh.SetLog(s.raft)
	return s, nil
}

// closeAll closes the host and the engines (after a crash, on a disk nobody looks at again).
func (n *Node) closeAll() {
	if n.host != nil {
		_ = n.host.Close()
		n.host = nil
	}
	for _, s := range n.shards {
		_ = s.Close()
	}
	n.shards = nil
}

// start boots the node for the first time, or after a crash.
func (n *Node) start() {
	if err := n.open(); err != nil {
		n.w.problem("%s cannot start from its disk: %v", n.name, err)
		n.closeAll()
		return
	}
	n.up = true
	n.incarnation++
	n.applyLater, n.applyNow = false, false
	n.busyUntil = 0
	n.pendingTicks = 0
	n.dirty = true
	n.w.tracef("%s up (incarnation %d)", n.name, n.incarnation)
}

// crash stops the node the hard way: its disk keeps only what was synced.
func (n *Node) crash(why string) {
	if !n.up {
		return
	}
	n.w.tracef("%s crash: %s", n.name, why)
	survived := n.disk.CrashClone(vfs.CrashCloneCfg{})
	n.up = false
	n.paused = false
	n.held = nil
	n.dropConns()
	n.closeAll()
	n.disk = survived
}

// schedule asks for a round: at once, or when a slow disk is done with the last one.
func (n *Node) schedule(tick bool) {
	if !n.up {
		return
	}
	if n.paused {
		// A paused process's ticker fires once when it wakes, however long it slept.
		if tick {
			n.pendingTicks = 1
		}
		return
	}
	if tick {
		n.pendingTicks++
	}
	if n.slow == 0 && n.w.now >= n.busyUntil {
		n.step()
		return
	}
	if !n.stepPending {
		n.stepPending = true
		inc := n.incarnation
		n.w.after(n.busyUntil-n.w.now, func() {
			n.stepPending = false
			if n.incarnation == inc {
				n.step()
			}
		})
	}
}

// step runs the host's scheduler until it has nothing left to do at this instant.
func (n *Node) step() {
	if !n.up || n.paused {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			// The process died: report it, and carry on as after a crash.
			n.w.problem("%s panicked: %v\n%s", n.name, p, debug.Stack())
			n.crash("panic")
			n.w.after(time.Second, n.restart)
		}
	}()
	ticks := n.pendingTicks
	n.pendingTicks = 0
	var (
		more = true
		err  error
	)
	for i := 0; i < max(ticks, 1) && err == nil; i++ {
		more, err = n.host.Step(i < ticks)
	}
	if n.w.cfg.Version >= Version4 && !n.applyNow && (n.applyLater || n.w.chance(applyLaterChance)) {
		// The apply workers are behind, as goroutines of a real process may be: the scheduler
		// runs its rounds alone, and what they committed is applied at a later event.
		for i := 0; more && err == nil; i++ {
			if i == 10000 {
				n.w.problem("%s: the Raft scheduler keeps asking for another round", n.name)
				break
			}
			more, err = n.host.Step(false)
		}
		if err == nil && !n.applyLater {
			n.w.faults.ApplyLater++
			n.applyLater = true
			inc := n.incarnation
			n.w.after(n.w.between(100*time.Microsecond, 5*time.Millisecond), func() {
				if n.incarnation == inc {
					n.applyLater, n.applyNow = false, true
					n.schedule(false)
				}
			})
		}
		more = false
	}
	n.applyNow = false
	// The scheduler and the shards' apply workers take turns until neither has work: the
	// workers apply what the rounds committed, and a round may wait for a worker.
	for i := 0; err == nil && !n.applyLater; i++ {
		if i == 10000 {
			n.w.problem("%s: the Raft scheduler keeps asking for another round", n.name)
			break
		}
		var applied bool
		if applied, err = n.host.Apply(); err != nil || (!more && !applied) {
			break
		}
		more, err = n.host.Step(false)
	}
	n.net.flush()
	if n.w.cfg.Version >= Version4 {
		n.reportLeaders()
	}
	if n.slow > 0 {
		n.busyUntil = n.w.now + n.slow
	}
	if err != nil {
		// A server stops when its scheduler fails (HostConfig.OnFatal shuts it down).
		n.w.tracef("%s stops: %v", n.name, err)
		n.w.faults.DiskFailures++
		n.crash("storage failure")
		n.w.after(n.w.between(500*time.Millisecond, 3*time.Second), func() { n.restart() })
	}
}

// whenRunning runs a client's request on the node now, or when it resumes if it is paused.
func (n *Node) whenRunning(f func()) {
	if n.paused {
		n.held = append(n.held, f)
		return
	}
	f()
}

// resume wakes a paused node. Its first round and the requests that waited for it race, as a
// server's event loops and Raft goroutine do: which goes first is drawn.
func (n *Node) resume() {
	if !n.paused {
		return
	}
	n.paused = false
	held := n.held
	n.held = nil
	n.w.tracef("%s resumes (%d requests waited)", n.name, len(held))
	stepFirst := n.w.rng.IntN(2) == 0
	if stepFirst {
		n.schedule(false)
	}
	for _, f := range held {
		if n.up {
			f()
		}
	}
	n.dirty = true
}

// restart brings a crashed node back, once its disk works again.
func (n *Node) restart() {
	if n.up || n.gone {
		return
	}
	if n.fault.active() {
		n.w.after(500*time.Millisecond, func() { n.restart() })
		return
	}
	n.w.faults.Restarts++
	n.start()
}

// tickLoop ticks the node's Raft every tick interval, until it has left the cluster and is
// down for good.
func (n *Node) tickLoop() {
	if n.gone && !n.up {
		return
	}
	n.w.after(tickInterval, func() {
		n.schedule(true)
		n.tickLoop()
	})
}

// opTime is the time a node assigns to an operation it proposes.
func (n *Node) opTime() int64 {
	t := n.clock.Now().UnixMilli()
	if t <= n.lastTime {
		return n.lastTime
	}
	n.lastTime = t
	return t
}

// shard is the node's replica of shard id, or nil if it holds none (or is down).
func (n *Node) shard(id uint64) *Shard {
	for _, s := range n.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

// applyLaterChance is how often a node's step leaves its apply work for a later event.
const applyLaterChance = 0.3

// machine is the shard as Raft replicates it, reporting every applied entry to the ledger.
type machine struct{ s *Shard }

func (m machine) Apply(entries []replica.Entry, results [][]byte) error {
	if err := m.s.Apply(entries, results); err != nil {
		return err
	}
	m.s.node.w.ledger.observe(m.s.node, m.s.id, entries, results)
	return nil
}

func (m machine) Checkpoint(dir string) error { return m.s.Checkpoint(dir) }

func (m machine) VerifySnapshot(dir string) error { return m.s.VerifySnapshot(dir) }

func (m machine) Restore(dir string) (uint64, error) {
	applied, err := m.s.Restore(dir)
	if err == nil {
		m.s.node.w.tracef("%s shard %d installed a snapshot at %d", m.s.node.name, m.s.id, applied)
	}
	return applied, err
}
