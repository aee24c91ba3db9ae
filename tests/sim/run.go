package sim

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/slot"
	"github.com/cairn-db/cairn/tests/check"
)

// Run runs one simulation, heals it, and checks what it recorded.
func Run(cfg Config) Result {
	cfg = cfg.resolve()
	w, err := boot(cfg)
	if err != nil {
		return Result{Config: cfg, Violations: []string{err.Error()}}
	}
	levels := []Level{Strong, Session, Eventual, Strong, Session}
	for i := range cfg.Clients {
		c := newClient(w, i, levels[i%len(levels)])
		w.clients = append(w.clients, c)
		c.schedule(w.between(0, 300*time.Millisecond))
	}
	if !cfg.NoFaults {
		w.nemesis(cfg.Duration)
	}
	if cfg.Version >= Version5 {
		w.reshaper(cfg.Duration)
	}
	w.runUntil(cfg.Duration, nil)

	// Heal, keep the clients going a little while the cluster recovers, then stop them.
	w.healAll()
	w.runUntil(w.now+3*time.Second, nil)
	w.stopping = true
	w.runUntil(w.now+writeTimeout+time.Second, func() bool {
		for _, c := range w.clients {
			if c.cur != nil {
				return false
			}
		}
		return true
	})
	converged := w.awaitConvergence(60 * time.Second)
	if converged {
		w.finalReads()
		w.compareEngines()
	}
	res := Result{Config: cfg, Faults: w.faults}
	res.Ops, res.Checks = w.check(converged)
	res.Violations = w.problems
	res.TraceHash = w.traceHash()
	for _, n := range w.nodes {
		n.closeAll()
	}
	return res
}

// boot starts a cluster: its nodes up, their layout founded, the key groups picked.
func boot(cfg Config) (*World, error) {
	w := newWorld(cfg)
	w.net = newNetwork(w)
	if cfg.Version < Version2 {
		w.net.corruptSnap = 0
	}
	if cfg.NoFaults {
		w.net.drop, w.net.dup, w.net.spike, w.net.corruptSnap = 0, 0, 0, 0
	}
	w.tracef("seed %d: %s", cfg.Seed, cfg)
	for i := range cfg.Nodes {
		w.nodes = append(w.nodes, newNode(w, i))
	}
	if cfg.Version >= Version4 {
		if err := w.found(); err != nil {
			return nil, err
		}
	}
	if cfg.Version >= Version5 {
		w.movers, w.owning = map[moverKey]*mover{}, map[[2]uint64]bool{}
		if err := w.openMeta(); err != nil {
			return nil, fmt.Errorf("opening the meta state: %w", err)
		}
		w.after(tickInterval, w.driveMoves)
	}
	w.pickGroups()
	for _, n := range w.nodes {
		n.start()
		// Nodes tick out of step with each other, as real ones do.
		w.after(w.between(0, tickInterval), n.tickLoop)
	}
	return w, nil
}

// found computes the cluster's layout as its founding nodes do (cluster.Bootstrap): the slots
// split evenly over the shards, each shard's replicas placed on Replicas nodes.
func (w *World) found() error {
	var initial []cluster.InitialNode
	for _, n := range w.nodes {
		initial = append(initial, cluster.InitialNode{ID: n.id, Addr: n.name})
	}
	t, err := cluster.Bootstrap(initial, func(addr string) (string, error) { return addr, nil }, w.cfg.Shards, w.cfg.Replicas)
	if err != nil {
		return fmt.Errorf("founding the cluster: %w", err)
	}
	for _, n := range w.nodes {
		if t.Nodes[n.id] == nil || t.Nodes[n.id].Addr != n.name {
			return fmt.Errorf("founding the cluster: %s is not node %d", n.name, n.id)
		}
	}
	w.founding, w.topo, w.slots = t, t.Clone(), t.Slots()
	var layout []string
	for _, sh := range t.Shards {
		layout = append(layout, fmt.Sprintf("%d:%v", sh.ID, sh.NodeIDs()))
	}
	w.tracef("layout %v", layout)
	return nil
}

// shardOfSlot is the shard owning a slot: the slot table's, or before Version4 the sim's equal
// ranges.
func (w *World) shardOfSlot(sl int) uint64 {
	if w.slots != nil {
		return uint64(w.slots[sl])
	}
	return uint64(1 + sl*w.cfg.Shards/slot.Count)
}

// pickGroups chooses key groups spread evenly over the shards, at least one in each.
func (w *World) pickGroups() {
	w.groupShard, w.groupSlot = map[int]uint64{}, map[int]int{}
	per := (w.cfg.Groups + w.cfg.Shards - 1) / w.cfg.Shards
	count := map[uint64]int{}
	if w.cfg.Version >= Version4 {
		// One group per shard first, so that every shard is covered however few groups there are.
		per = 1
	}
	for len(w.groups) < w.cfg.Groups {
		for g := 0; len(w.groups) < w.cfg.Groups && g < 100000; g++ {
			if _, taken := w.groupShard[g]; taken {
				continue
			}
			sl := slot.KeySlot([]byte(check.Key(g, 0)))
			shard := w.shardOfSlot(sl)
			if count[shard] >= per {
				continue
			}
			count[shard]++
			w.groups = append(w.groups, g)
			w.groupShard[g], w.groupSlot[g] = shard, sl
		}
		per++
	}
}

// holders are the active nodes that hold a replica of a shard.
func (w *World) holders(sid uint64) []*Node {
	if w.topo == nil {
		return w.activeNodes()
	}
	var out []*Node
	sh := w.topo.Shard(sid)
	if sh == nil {
		return nil // retired
	}
	for _, r := range sh.Replicas {
		if n := w.nodes[r.Node-1]; !n.gone {
			out = append(out, n)
		}
	}
	return out
}

// awaitConvergence runs until every node is up and has applied everything its shard's leader
// committed, twice in a row a tick apart.
func (w *World) awaitConvergence(limit time.Duration) bool {
	deadline := w.now + limit
	stable := 0
	for w.now < deadline {
		w.runUntil(w.now+tickInterval, nil)
		if w.converged() {
			stable++
			if stable == 3 {
				w.tracef("converged")
				return true
			}
		} else {
			stable = 0
		}
	}
	var state []string
	for _, n := range w.activeNodes() {
		if !n.up {
			state = append(state, n.name+" down")
			continue
		}
		if n.paused {
			state = append(state, n.name+" paused")
		}
		for _, s := range n.shards {
			st := s.raft.Status()
			state = append(state, fmt.Sprintf("%s/%d %s term %d commit %d applied %d", n.name, s.id, st.Role, st.Term, st.Commit, st.Applied))
		}
	}
	if w.topo != nil && w.cfg.Version >= Version5 {
		for _, m := range w.topo.Migrations {
			state = append(state, fmt.Sprintf("slot %d migrating %d->%d (epoch %d cancel %v)", m.Slot, m.From, m.To, m.Epoch, m.Cancel))
			if len(state) > 60 {
				break
			}
		}
		for _, sh := range w.topo.Shards {
			if sh.Retiring {
				state = append(state, fmt.Sprintf("shard %d retiring with %d slots", sh.ID, sh.SlotCount()))
			}
		}
	}
	w.problem("no convergence %v after faults healed: %v", limit, state)
	return false
}

func (w *World) converged() bool {
	if w.replacing {
		return false
	}
	active := w.activeNodes()
	for _, n := range active {
		if !n.up {
			return false
		}
	}
	if w.cfg.Version >= Version5 && (len(w.topo.Migrations) > 0 || w.retiring()) {
		return false
	}
	for _, sid := range w.shardIDs() {
		var lead *Shard
		holders := w.holders(sid)
		for _, n := range holders {
			s := n.shard(sid)
			if s == nil {
				return false
			}
			if s.raft.IsLeader() && (lead == nil || s.raft.Term() > lead.raft.Term()) {
				lead = s
			}
		}
		if lead == nil {
			return false
		}
		commit := lead.raft.Status().Commit
		for _, n := range holders {
			if n.shard(sid).raft.Applied() != commit {
				return false
			}
		}
	}
	return true
}

// finalReads reads every key at strong once the cluster has healed: the last word on what the
// history did, for the linearizability check.
func (w *World) finalReads() {
	c := newClient(w, len(w.clients), Strong)
	c.final = true
	w.clients = append(w.clients, c)
	for _, g := range w.groups {
		for slot := range check.KeysPerGroup {
			deadline := w.now + 30*time.Second
			for {
				rec := c.start(check.Input{Kind: check.Get, Group: g, Slot: slot})
				w.runUntil(w.now+readTimeout+time.Second, func() bool { return rec.Status != Pending })
				if rec.Status == OK {
					break
				}
				if w.now >= deadline {
					w.problem("final read of %s never succeeded: %s", check.Key(g, slot), rec.Why)
					break
				}
				w.runUntil(w.now+100*time.Millisecond, nil)
			}
		}
	}
}

// compareEngines checks that every replica of a shard holds the same bytes.
func (w *World) compareEngines() {
	for _, sid := range w.shardIDs() {
		var ref [][2][]byte
		active := w.holders(sid)
		for i, n := range active {
			kvs, err := dump(n.shard(sid))
			if err != nil {
				w.problem("reading %s shard %d: %v", n.name, sid, err)
				continue
			}
			if i == 0 {
				ref = kvs
				continue
			}
			if d := firstDiff(ref, kvs); d != "" {
				w.problem("shard %d: %s and %s differ after healing: %s", sid, active[0].name, n.name, d)
			}
		}
	}
}

func dump(s *Shard) ([][2][]byte, error) {
	v := s.Acquire()
	defer v.Release()
	it, err := v.Engine.DB().NewIter(nil)
	if err != nil {
		return nil, err
	}
	var out [][2][]byte
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, [2][]byte{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

func firstDiff(a, b [][2][]byte) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i >= len(a):
			return fmt.Sprintf("extra key %q", b[i][0])
		case i >= len(b):
			return fmt.Sprintf("missing key %q", a[i][0])
		case !bytes.Equal(a[i][0], b[i][0]):
			return fmt.Sprintf("key %q against %q", a[i][0], b[i][0])
		case !bytes.Equal(a[i][1], b[i][1]):
			return fmt.Sprintf("key %q: value %q against %q", a[i][0], a[i][1], b[i][1])
		}
	}
	return ""
}
