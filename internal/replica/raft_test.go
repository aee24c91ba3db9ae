package replica

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// kvSM is a test state machine: "set k v" and "incr k" over a map. Checkpoint writes the map
// to a file; a "crash" resets it to the last checkpoint, as an unsynced engine would be.
type kvSM struct {
	mu      sync.Mutex
	data    map[string]string
	applied uint64
	ckpt    string // last checkpoint file, for crash simulation
}

func newKV() *kvSM { return &kvSM{data: map[string]string{}} }

func (s *kvSM) Apply(ents []Entry, results [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range ents {
		if e.Index <= s.applied {
			panic(fmt.Sprintf("entry %d applied twice (applied %d)", e.Index, s.applied))
		}
		s.applied = e.Index
		if e.Data == nil {
			continue
		}
		f := strings.Fields(string(e.Data))
		switch f[0] {
		case "set":
			s.data[f[1]] = f[2]
			results[i] = []byte("OK")
		case "incr":
			n, _ := strconv.Atoi(s.data[f[1]])
			n++
			s.data[f[1]] = strconv.Itoa(n)
			results[i] = []byte(strconv.Itoa(n))
		}
	}
	return nil
}

type kvFile struct {
	Data    map[string]string
	Applied uint64
}

func (s *kvSM) Checkpoint(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(kvFile{s.data, s.applied})
	s.ckpt = filepath.Join(dir, "kv.json")
	return os.WriteFile(s.ckpt, b, 0o644)
}

func (s *kvSM) Restore(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kv.json"))
	if err != nil {
		return 0, err
	}
	var f kvFile
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data, s.applied = f.Data, f.Applied
	if s.data == nil {
		s.data = map[string]string{}
	}
	return f.Applied, os.RemoveAll(dir)
}

func (s *kvSM) get(k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[k]
}

// memNet is an in-process network between hosts that can cut links.
type memNet struct {
	mu    sync.Mutex
	hosts map[uint64]*Host
	cut   map[[2]uint64]bool
	// heard is when a payload from one node (second) last reached another (first), for
	// HostConfig.Heard in clusters that quiesce.
	heard map[[2]uint64]time.Time
	// snapDelay slows snapshot streams down; snapFailures counts streams that could not read
	// their checkpoint.
	snapDelay    time.Duration
	snapFailures int
	// addrs is each node's table of peer bus addresses, as the replica layer set it (SetPeer).
	addrs map[[2]uint64]string
}

func newMemNet() *memNet {
	return &memNet{hosts: map[uint64]*Host{}, cut: map[[2]uint64]bool{}, heard: map[[2]uint64]time.Time{}, addrs: map[[2]uint64]string{}}
}

func (n *memNet) heardAt(at, from uint64) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.heard[[2]uint64{at, from}]
}

type memEnd struct {
	net  *memNet
	from uint64
}

func (n *memNet) end(id uint64) *memEnd { return &memEnd{net: n, from: id} }

func (n *memNet) blocked(a, b uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut[[2]uint64{a, b}] || n.hosts[b] == nil
}

// isolate cuts id off from every other node (both ways); heal restores all links.
func (n *memNet) isolate(id uint64, ids ...uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, o := range ids {
		if o != id {
			n.cut[[2]uint64{id, o}] = true
			n.cut[[2]uint64{o, id}] = true
		}
	}
}

func (n *memNet) heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = map[[2]uint64]bool{}
}

func (e *memEnd) Send(to uint64, payload []byte) bool {
	if e.net.blocked(e.from, to) {
		return false
	}
	e.net.mu.Lock()
	h := e.net.hosts[to]
	e.net.heard[[2]uint64{to, e.from}] = time.Now()
	e.net.mu.Unlock()
	_ = h.Deliver(e.from, append([]byte(nil), payload...))
	return true
}

func (e *memEnd) SendSnapshot(to uint64, header []byte, dir string) error {
	if e.net.blocked(e.from, to) {
		return errors.New("unreachable")
	}
	e.net.mu.Lock()
	h := e.net.hosts[to]
	e.net.mu.Unlock()
	dst := filepath.Join(h.SnapshotInbox(), fmt.Sprintf("from-%d-%d", e.from, time.Now().UnixNano()))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	e.net.mu.Lock()
	delay := e.net.snapDelay
	e.net.mu.Unlock()
	time.Sleep(delay)
	b, err := os.ReadFile(filepath.Join(dir, "kv.json"))
	if err != nil {
		e.net.mu.Lock()
		e.net.snapFailures++
		e.net.mu.Unlock()
		return err
	}
	if err := os.WriteFile(filepath.Join(dst, "kv.json"), b, 0o644); err != nil {
		return err
	}
	return h.ReceiveSnapshot(e.from, header, dst)
}

// SetPeer records the address; the in-memory network delivers by node ID whatever it is.
func (e *memEnd) SetPeer(id uint64, addr string) {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	if addr == "" {
		delete(e.net.addrs, [2]uint64{e.from, id})
		return
	}
	e.net.addrs[[2]uint64{e.from, id}] = addr
}

// peerAddr is the address node at has for node peer.
func (n *memNet) peerAddr(at, peer uint64) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addrs[[2]uint64{at, peer}]
}

type testNode struct {
	id uint64
	// replica is the node's replica ID when it joins a group (0: it has one or bootstraps).
	replica uint64
	dir     string
	host    *Host
	r       *Raft
	sm      *kvSM
}

type testCluster struct {
	t     *testing.T
	net   *memNet
	nodes map[uint64]*testNode
	cfg   HostConfig
}

func newTestCluster(t *testing.T, n int, tweak func(*HostConfig)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, net: newMemNet(), nodes: map[uint64]*testNode{}}
	c.cfg = HostConfig{TickInterval: 10 * time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1, Logger: testLogger(t)}
	if tweak != nil {
		tweak(&c.cfg)
	}
	var members []Member
	for i := 1; i <= n; i++ {
		members = append(members, Member{ID: uint64(i), Addr: fmt.Sprintf("node%d", i), BusAddr: fmt.Sprintf("bus%d", i)})
	}
	for i := 1; i <= n; i++ {
		nd := &testNode{id: uint64(i), dir: t.TempDir(), sm: newKV()}
		c.nodes[nd.id] = nd
		c.start(nd, members)
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *testCluster) start(nd *testNode, bootstrap []Member) {
	c.t.Helper()
	cfg := c.cfg
	cfg.Dir = nd.dir
	cfg.Network = c.net.end(nd.id)
	if cfg.Heard != nil { // the cluster quiesces: each node hears through the network
		cfg.Heard = func(node uint64) time.Time { return c.net.heardAt(nd.id, node) }
	}
	cfg.OnFatal = func(err error) { c.t.Errorf("node %d: fatal: %v", nd.id, err) }
	h, err := OpenHost(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	if h.NodeID() == 0 {
		if err := h.SetNodeID(nd.id); err != nil {
			c.t.Fatal(err)
		}
	}
	r, err := h.AddShard(1, nd.sm, ShardOptions{Applied: nd.sm.applied, Bootstrap: bootstrap, ReplicaID: nd.replica})
	if err != nil {
		c.t.Fatal(err)
	}
	nd.host, nd.r = h, r
	c.net.mu.Lock()
	c.net.hosts[nd.id] = h
	c.net.mu.Unlock()
	h.Start()
}

// stop closes a node's host; crash also resets its state machine to its last checkpoint.
func (c *testCluster) stop(id uint64, crash bool) {
	nd := c.nodes[id]
	c.net.mu.Lock()
	delete(c.net.hosts, id)
	c.net.mu.Unlock()
	if nd.host == nil {
		return
	}
	_ = nd.host.Close()
	nd.host = nil
	if crash {
		s := newKV()
		if nd.sm.ckpt != "" {
			if b, err := os.ReadFile(nd.sm.ckpt); err == nil {
				var f kvFile
				_ = json.Unmarshal(b, &f)
				s.data, s.applied = f.Data, f.Applied
			}
		}
		nd.sm = s
	}
}

func (c *testCluster) stopAll() {
	for id := range c.nodes {
		c.stop(id, false)
	}
}

func (c *testCluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *testCluster) leader() *testNode {
	c.t.Helper()
	var l *testNode
	c.waitFor("a leader", func() bool {
		for _, nd := range c.nodes {
			if nd.host != nil && nd.r.IsLeader() {
				l = nd
				return true
			}
		}
		return false
	})
	return l
}

func propose(r *Raft, data string) ([]byte, error) {
	ch := make(chan struct{})
	var res []byte
	var perr error
	err := r.Propose(Proposal{Data: []byte(data), Done: func(b []byte, err error) { res, perr = b, err; close(ch) }})
	if err != nil {
		return nil, err
	}
	<-ch
	return res, perr
}

// write proposes on the leader, retrying on leadership errors.
func (c *testCluster) write(data string) []byte {
	c.t.Helper()
	for i := 0; i < 100; i++ {
		res, err := propose(c.leader().r, data)
		if err == nil {
			return res
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrDropped) {
			c.t.Fatalf("propose %q: %v", data, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("propose %q: no leader accepted it", data)
	return nil
}

func (c *testCluster) waitValue(id uint64, k, want string) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("node %d to have %s=%s", id, k, want), func() bool { return c.nodes[id].sm.get(k) == want })
}

func TestRaftReplicates(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	if got := string(c.write("set a 1")); got != "OK" {
		t.Fatalf("set = %q, want OK", got)
	}
	// The reply comes from apply: when it arrives, the proposer's state machine holds the write.
	if v := c.leader().sm.get("a"); v != "1" {
		t.Fatalf("after the reply the leader's state machine has a = %q, want 1", v)
	}
	for i := 0; i < 10; i++ {
		c.write("incr n")
	}
	for id := range c.nodes {
		c.waitValue(id, "a", "1")
		c.waitValue(id, "n", "10")
	}
}

func TestRaftFollowerRefusesProposals(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	for id, nd := range c.nodes {
		if id == l.id {
			continue
		}
		if _, err := propose(nd.r, "set x 1"); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("propose on follower: err = %v, want ErrNotLeader", err)
		}
		if n := nd.r.Dropped(); n != 1 {
			t.Errorf("a follower's dropped proposals after refusing one: %d, want 1", n)
		}
	}
	if n := l.r.Dropped(); n != 0 {
		t.Errorf("the leader's dropped proposals: %d, want 0", n)
	}
}

func TestRaftFailover(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.write("set a 1")
	old := c.leader()
	c.stop(old.id, true)
	c.write("set a 2")
	if l := c.leader(); l.id == old.id {
		t.Fatalf("leader = %d, the stopped node", l.id)
	}
	c.start(old, nil)
	c.waitValue(old.id, "a", "2")
}

// A restarted node whose state machine lost everything since its last checkpoint replays the
// log and applies nothing twice (kvSM panics if it does).
func TestRaftRestartReplays(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	for i := 0; i < 50; i++ {
		c.write("incr n")
	}
	for id := range c.nodes {
		c.waitValue(id, "n", "50")
	}
	for id := range c.nodes {
		c.stop(id, true)
	}
	for _, nd := range c.nodes {
		c.start(nd, nil)
	}
	c.write("incr n")
	for id := range c.nodes {
		c.waitValue(id, "n", "51")
	}
}

func TestRaftSnapshotCatchUp(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	c.write("set a 1")
	l := c.leader()
	var lag uint64
	for id := range c.nodes {
		if id != l.id {
			lag = id
			break
		}
	}
	c.net.isolate(lag, 1, 2, 3)
	for i := 0; i < 100; i++ {
		c.write("incr n")
	}
	c.net.heal()
	c.waitValue(lag, "n", "100")
	c.write("set a 2")
	c.waitValue(lag, "a", "2")
}

// A proposal whose entry a new leader overwrote fails with ErrDropped and is not applied: it
// must never be re-proposed behind the client's back.
func TestRaftLostProposalFails(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.write("set a 1")
	old := c.leader()
	c.net.isolate(old.id, 1, 2, 3)
	type result struct {
		res []byte
		err error
	}
	ch := make(chan result, 1)
	_ = old.r.Propose(Proposal{Data: []byte("incr lost"), Done: func(b []byte, err error) { ch <- result{b, err} }})
	c.waitFor("a new leader", func() bool {
		for id, nd := range c.nodes {
			if id != old.id && nd.r.IsLeader() {
				return true
			}
		}
		return false
	})
	for id, nd := range c.nodes {
		if id != old.id && nd.r.IsLeader() {
			if _, err := propose(nd.r, "set a 2"); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.net.heal()
	select {
	case r := <-ch:
		if !errors.Is(r.err, ErrDropped) {
			t.Fatalf("lost proposal: result %q, err %v; want ErrDropped", r.res, r.err)
		}
		if n := old.r.Dropped(); n < 1 {
			t.Errorf("the old leader's dropped proposals: %d, want at least the lost one", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lost proposal never completed")
	}
	c.waitValue(old.id, "a", "2")
	for id, nd := range c.nodes {
		if v := nd.sm.get("lost"); v != "" {
			t.Fatalf("node %d applied the lost INCR: lost=%q", id, v)
		}
	}
}

func TestRaftReadIndex(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.write("set a 1")
	for id, nd := range c.nodes {
		ch := make(chan error, 1)
		nd.r.ReadIndex(func(err error) { ch <- err })
		if err := <-ch; err != nil {
			t.Fatalf("node %d: ReadIndex: %v", id, err)
		}
		if v := nd.sm.get("a"); v != "1" {
			t.Fatalf("node %d after ReadIndex: a = %q, want 1", id, v)
		}
	}
}

// An isolated node, leader or not, cannot complete a ReadIndex: it would serve a stale read.
func TestRaftReadIndexNeedsQuorum(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.ReadTimeout = 300 * time.Millisecond })
	c.write("set a 1")
	old := c.leader()
	c.net.isolate(old.id, 1, 2, 3)
	ch := make(chan error, 1)
	old.r.ReadIndex(func(err error) { ch <- err })
	select {
	case err := <-ch:
		if err == nil {
			t.Fatal("ReadIndex on an isolated leader succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadIndex on an isolated leader never returned")
	}
}

func TestRaftMembership(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	for i := 0; i < 50; i++ {
		c.write("incr n")
	}
	// A fourth node joins as a learner, catches up from a snapshot, and is promoted.
	added := c.changeMembers(func(r *Raft, done func(Member, error)) { r.AddLearner(Member{Addr: "node4"}, done) })
	if added.ID != 4 {
		t.Fatalf("new node ID = %d, want 4", added.ID)
	}
	c.startLearner(4, added.ID, "n", "50")
	// Remove node 2; a node joining afterwards gets ID 5, never 2 again.
	c.changeMembers(func(r *Raft, done func(Member, error)) { r.Remove(2, done) })
	c.stop(2, false)
	delete(c.nodes, 2)
	c.write("incr n")
	added = c.changeMembers(func(r *Raft, done func(Member, error)) { r.AddLearner(Member{Addr: "node5"}, done) })
	if added.ID != 5 {
		t.Fatalf("node joining after a removal got ID %d, want 5", added.ID)
	}
	for id := range c.nodes {
		c.waitValue(id, "n", "51")
	}
}

// startLearner starts node id, added to the group as learner replica, and waits until it holds
// k=want and has been promoted to a voter.
func (c *testCluster) startLearner(id, replica uint64, k, want string) {
	c.t.Helper()
	nd := &testNode{id: id, replica: replica, dir: c.t.TempDir(), sm: newKV()}
	c.nodes[id] = nd
	c.start(nd, nil)
	c.waitValue(id, k, want)
	c.waitFor(fmt.Sprintf("node %d to become a voter", id), func() bool {
		for _, p := range c.leader().r.Status().Peers {
			if p.ID == replica && p.Voter {
				return true
			}
		}
		return false
	})
}

func (c *testCluster) changeMembers(f func(*Raft, func(Member, error))) Member {
	c.t.Helper()
	for i := 0; i < 200; i++ {
		ch := make(chan struct{})
		var m Member
		var err error
		f(c.leader().r, func(mm Member, e error) { m, err = mm, e; close(ch) })
		<-ch
		if err == nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("membership change never succeeded")
	return Member{}
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("RAFT_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A leader elected a moment after a write was acknowledged may not know yet that it was
// committed. It must not answer a read index before committing an entry of its own term, or the
// read would miss the acknowledged write.
func TestRaftReadIndexAfterElectionSeesCommittedWrites(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	for i := 1; i <= 5; i++ {
		want := strconv.Itoa(i)
		c.write("set x " + want)
		old := c.leader()
		c.stop(old.id, false)
		var nl *testNode
		c.waitFor("a new leader", func() bool {
			for _, nd := range c.nodes {
				if nd.host != nil && nd.r.IsLeader() {
					nl = nd
					return true
				}
			}
			return false
		})
		ch := make(chan error, 1)
		nl.r.ReadIndex(func(err error) { ch <- err })
		if err := <-ch; err != nil {
			t.Fatalf("round %d: ReadIndex on the new leader: %v", i, err)
		}
		if got := nl.sm.get("x"); got != want {
			t.Fatalf("round %d: read on the new leader after its read index: x = %q, want %q (acknowledged)", i, got, want)
		}
		c.start(old, nil)
	}
}

// Snapshots are taken and the log compacted while a slow snapshot stream is still reading an
// older checkpoint: the checkpoint being sent must survive until the stream ends.
func TestRaftCompactionDoesNotRaceSnapshotSend(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 10; cfg.KeepEntries = 2 })
	c.write("set a 1")
	l := c.leader()
	var lag uint64
	for id := range c.nodes {
		if id != l.id {
			lag = id
			break
		}
	}
	c.net.isolate(lag, 1, 2, 3)
	for i := 0; i < 40; i++ {
		c.write("incr n")
	}
	c.net.mu.Lock()
	c.net.snapDelay = 300 * time.Millisecond
	c.net.mu.Unlock()
	c.net.heal()
	// Keep writing while the stream sleeps: several new checkpoints replace the one being sent.
	for i := 0; i < 60; i++ {
		c.write("incr n")
	}
	c.waitValue(lag, "n", "100")
	c.net.mu.Lock()
	failures := c.net.snapFailures
	c.net.mu.Unlock()
	if failures > 0 {
		t.Fatalf("%d snapshot streams found their checkpoint deleted under them", failures)
	}
}

// A node whose replica left a group forgets it, and can later host the same shard again under
// the new replica ID the group gives it, catching up from the leader.
func TestRaftForgetAndRejoin(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.SnapshotEntries = 20; cfg.KeepEntries = 5 })
	for i := 0; i < 30; i++ {
		c.write("incr n")
	}
	var follower *testNode
	for _, nd := range c.nodes {
		if !nd.r.IsLeader() {
			follower = nd
			break
		}
	}
	old := follower.r.ID()
	c.changeMembers(func(r *Raft, done func(Member, error)) { r.Remove(old, done) })
	if err := follower.host.Forget(1); err == nil {
		t.Fatal("Forget of an open shard succeeded")
	}
	if err := follower.r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := follower.host.Forget(1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		c.write("incr n")
	}
	added := c.changeMembers(func(r *Raft, done func(Member, error)) {
		r.AddLearner(Member{Node: follower.id, Addr: fmt.Sprintf("node%d", follower.id)}, done)
	})
	if added.ID == old {
		t.Fatalf("the returning replica got its old ID %d back", old)
	}
	follower.sm = newKV()
	r, err := follower.host.AddShard(1, follower.sm, ShardOptions{ReplicaID: added.ID})
	if err != nil {
		t.Fatalf("hosting the shard again: %v", err)
	}
	follower.r = r
	c.waitValue(follower.id, "n", "60")
	c.waitFor("the returning replica to become a voter", func() bool {
		for _, p := range c.leader().r.Status().Peers {
			if p.ID == added.ID && p.Voter {
				return true
			}
		}
		return false
	})
}

// A follower cut off while its group was quiet, and left behind by writes meanwhile, catches up
// once its node is back, though nothing more is written: the quiet leader wakes when a follower
// that is behind becomes reachable again.
func TestRaftQuietGroupCatchesUpReturningFollower(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.Heard = func(uint64) time.Time { return time.Time{} } })
	c.write("set a 1")
	for id := range c.nodes {
		c.waitValue(id, "a", "1")
	}
	lead := c.leader()
	var f uint64
	for id := range c.nodes {
		if id != lead.id {
			f = id
			break
		}
	}
	time.Sleep(300 * time.Millisecond) // the group quiesces
	c.net.isolate(f, 1, 2, 3)
	time.Sleep(400 * time.Millisecond) // f's node is no longer heard
	c.write("set b 2")
	time.Sleep(400 * time.Millisecond) // the leader quiesces again, leaving f behind
	c.net.heal()
	c.waitValue(f, "b", "2")
}

// A proposal that does not fit beside the uncommitted entries ahead of it (a big write in
// flight) waits for them, in order, instead of failing: Raft refuses it
// (MaxUncommittedEntriesSize), and it used to come back as ErrNotLeader.
func TestProposalWaitsForUncommittedRoom(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) {
		cfg.ElectionTicks = 30 // the leader keeps leading a while without its followers
		cfg.MaxUncommittedBytes = 64 << 10
	})
	l := c.leader()
	c.write("set k 0")
	var others []uint64
	for id := range c.nodes {
		if id != l.id {
			others = append(others, id)
		}
	}
	c.net.isolate(l.id, others...)
	big := func(v string) string { return "set k " + v + strings.Repeat("x", 40<<10) }
	type result struct {
		b   []byte
		err error
	}
	first, second := make(chan result, 1), make(chan result, 1)
	if err := l.r.Propose(Proposal{Data: []byte(big("a")), Done: func(b []byte, err error) { first <- result{b, err} }}); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the first write in the log", func() bool {
		l.r.pmu.Lock()
		defer l.r.pmu.Unlock()
		return len(l.r.pending) == 1
	})
	if err := l.r.Propose(Proposal{Data: []byte(big("b")), Done: func(b []byte, err error) { second <- result{b, err} }}); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the second write to wait for room", func() bool {
		l.r.pmu.Lock()
		defer l.r.pmu.Unlock()
		return len(l.r.waiting) == 1
	})
	select {
	case r := <-second:
		t.Fatalf("the second write finished while the first was uncommitted: %q, %v", r.b, r.err)
	default:
	}
	c.net.heal()
	for i, ch := range []chan result{first, second} {
		select {
		case r := <-ch:
			if r.err != nil || string(r.b) != "OK" {
				t.Fatalf("write %d: %q, %v", i+1, r.b, r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("write %d did not finish", i+1)
		}
	}
	for id := range c.nodes {
		c.waitValue(id, "k", "b"+strings.Repeat("x", 40<<10))
	}
}
