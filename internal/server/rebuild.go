package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/shard"
)

// Rebuilding a corrupted node.
//
// A cluster node verifies its state before it starts: every record of its Raft log against its
// checksum (replica.VerifyLog), and its engines by opening them (Pebble checks its manifest and
// log). If any fails, the node's replicas cannot be trusted: a log may lack entries the replica
// told its leader it had, a hard state the vote it gave in a term. None may take part under its
// replica ID again — Raft's safety rests on a voter remembering its votes, and a replica ID is
// never reused in its group — so the node rebuilds every replica it held from the others. The
// node keeps its node ID: identity and replicas are separate.
//
//  1. It writes a marker (dir/rebuild, holding its node ID) and moves its state aside to
//     dir/corrupt-<unix time>/ for the operator, and logs why.
//  2. It starts empty, learns the topology from a peer (named in cluster-initial or
//     cluster-join), and for the meta group and each shard it held asks that group's leader to
//     replace its replica: the old replica ID is removed from the group and the node added back
//     as a learner under a new one, which the meta group records.
//  3. Each leader streams its snapshot to the new replica (verified on receipt) and makes it a
//     voter once it has caught up.
//
// A crash in between resumes at step 2: the marker stays until every replica is replaced, and a
// replacement already done is found done (the old ID is gone, the new learner is there).
const rebuildMarker = "rebuild"

// checkState verifies a cluster node's state and moves a corrupted one aside. Errors that are
// not corruption (a permission, a missing disk) are returned and nothing is moved.
func checkState(cfg *Config, logger *slog.Logger) error {
	raftDir := filepath.Join(cfg.Dir, "raft")
	shardsDir := filepath.Join(cfg.Dir, "shards")
	id, err := replica.VerifyLog(raftDir, nil, hostedShardIDs(cfg.Dir)...)
	var cause error
	switch {
	case errors.Is(err, replica.ErrCorrupt):
		cause = fmt.Errorf("raft log: %w", err)
	case err != nil:
		return fmt.Errorf("verify the raft log: %w", err)
	default:
		for _, sid := range hostedShardIDs(cfg.Dir) {
			sh, err := shard.Open(shard.Options{ID: sid, Dir: filepath.Join(shardsDir, strconv.FormatUint(sid, 10)), Logger: logger, BlockCacheSize: 8 << 20})
			switch {
			case err == nil:
				if err := sh.Close(); err != nil && engine.IsCorruption(err) {
					cause = fmt.Errorf("engine of shard %d: %w", sid, err)
				}
			case engine.IsCorruption(err):
				cause = fmt.Errorf("engine of shard %d: %w", sid, err)
			default:
				return err
			}
			if cause != nil {
				break
			}
		}
	}
	if cause == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, rebuildMarker)); err == nil {
		// A rebuild was under way: what is here is the new, partial state. Keep the old ID.
		if b, err := os.ReadFile(filepath.Join(cfg.Dir, rebuildMarker)); err == nil {
			id, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
	}
	if err := durable.WriteFile(vfs.Default, filepath.Join(cfg.Dir, rebuildMarker), []byte(strconv.FormatUint(id, 10)+"\n")); err != nil {
		return fmt.Errorf("state failed verification (%v), and marking it for a rebuild failed: %w", cause, err)
	}
	aside := filepath.Join(cfg.Dir, fmt.Sprintf("corrupt-%d", time.Now().Unix()))
	if err := os.MkdirAll(aside, 0o755); err != nil {
		return err
	}
	for _, d := range []string{raftDir, shardsDir, filepath.Join(cfg.Dir, "meta")} {
		if err := os.Rename(d, filepath.Join(aside, filepath.Base(d))); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("move corrupted state aside: %w", err)
		}
	}
	logger.Error("this node's state failed verification: it was moved aside and the node rebuilds itself from the cluster as a new member",
		"cause", cause, "moved_to", aside, "old_node", id)
	return nil
}

// rebuildingFrom reports whether a rebuild is under way, and the ID the node had.
func rebuildingFrom(dir string) (old uint64, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, rebuildMarker))
	if err != nil {
		return 0, false
	}
	old, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return old, true
}

// hostedShardIDs lists the shards with a directory under dir/shards.
func hostedShardIDs(dir string) []uint64 {
	entries, err := os.ReadDir(filepath.Join(dir, "shards"))
	if err != nil {
		return nil
	}
	var out []uint64
	for _, e := range entries {
		if id, err := strconv.ParseUint(e.Name(), 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// replaceRequest asks a group's leader to replace the replica a node holds.
type replaceRequest struct {
	Shard uint64 `json:"shard"` // cluster.MetaShard for the meta group
	Node  uint64 `json:"node"`
	// Old is the replica ID to remove (0: nothing to remove).
	Old uint64 `json:"old"`
}

// rebuild replaces every replica this node held, after its state was moved aside: it learns the
// topology from a peer and has each group's leader give it a new replica ID.
func (c *clusterNode) rebuild(peers []string) error {
	var t *cluster.Topology
	for attempt := 0; t == nil; attempt++ {
		for _, p := range peers {
			if t = c.topologyFrom(p); t != nil {
				break
			}
		}
		if t == nil {
			if attempt == 120 {
				return errors.New("rebuild: no peer answered with the topology")
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	c.publish(t)
	for _, n := range t.LiveNodes() {
		if n.ID != c.id {
			c.bus.SetPeer(n.ID, n.BusAddr)
		}
	}
	groups := []*cluster.Shard{}
	if t.IsMeta(c.id) {
		groups = append(groups, &t.Meta)
	}
	groups = append(groups, t.ShardsOf(c.id)...)
	for _, g := range groups {
		req := replaceRequest{Shard: g.ID, Node: c.id, Old: g.ReplicaOn(c.id)}
		for attempt := 0; ; attempt++ {
			id, err := c.requestReplace(req, peers)
			if err == nil {
				c.logger.Info("rebuild: replica replaced", "shard", g.ID, "old_replica", req.Old, "new_replica", id)
				break
			}
			if attempt == 120 {
				return fmt.Errorf("rebuild: replacing the replica of shard %d: %w", g.ID, err)
			}
			c.logger.Warn("rebuild: replacing a replica failed; retrying", "shard", g.ID, "err", err)
			time.Sleep(500 * time.Millisecond)
		}
	}
	// The topology now names the new replicas.
	for attempt := 0; ; attempt++ {
		for _, p := range peers {
			if nt := c.topologyFrom(p); nt != nil {
				c.publish(nt)
			}
		}
		done := true
		nt := c.topology().t
		for _, g := range groups {
			if ng := nt.Group(g.ID); ng == nil || ng.ReplicaOn(c.id) == g.ReplicaOn(c.id) {
				done = false
			}
		}
		if done {
			return nil
		}
		if attempt == 120 {
			return errors.New("rebuild: the topology never named the new replicas")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// topologyFrom asks the node at a client address for the topology.
func (c *clusterNode) topologyFrom(addr string) *cluster.Topology {
	bus, err := cluster.BusAddr(addr)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := c.bus.Call(ctx, bus, reqTopology, make([]byte, 8))
	if err != nil || len(b) == 0 {
		return nil
	}
	t, err := cluster.DecodeTopology(b)
	if err != nil {
		return nil
	}
	return t
}

// requestReplace asks a group's leader, through any peer, to replace this node's replica.
func (c *clusterNode) requestReplace(req replaceRequest, peers []string) (uint64, error) {
	body, _ := json.Marshal(req)
	var last error
	for _, p := range peers {
		bus, err := cluster.BusAddr(p)
		if err != nil {
			return 0, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b, err := c.bus.Call(ctx, bus, reqReplace, body)
		cancel()
		if err != nil {
			last = err
			continue
		}
		var m replica.Member
		if err := json.Unmarshal(b, &m); err != nil {
			return 0, err
		}
		return m.ID, nil
	}
	return 0, last
}

// serveReplace replaces a node's replica in a group this node leads, or passes the request on
// to the node that does.
func (c *clusterNode) serveReplace(body []byte, reply func([]byte, error)) {
	var req replaceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		reply(nil, errors.New("bad replace request"))
		return
	}
	r := c.metaRaft()
	if req.Shard != cluster.MetaShard {
		r = nil
		if h := c.s.hostedShard(req.Shard); h != nil {
			r = h.raft
		}
	}
	if r == nil || !r.IsLeader() {
		lead := uint64(0)
		if r != nil {
			lead = r.LeaderNode()
			if lead == req.Node {
				// The leader this replica follows is the node asking, which has lost its state:
				// the group must elect another before anyone can replace that node's replica.
				r.LeaderLost(req.Node)
				reply(nil, replica.ErrNoLeader)
				return
			}
		} else if req.Shard == cluster.MetaShard {
			lead = c.metaLeader()
		} else if n, ok := c.leaderNode(req.Shard); ok {
			lead = n
		}
		if lead == 0 || lead == c.id {
			reply(nil, replica.ErrNoLeader)
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			reply(c.bus.CallPeer(ctx, lead, reqReplace, body))
		}()
		return
	}
	go func() {
		m, err := c.replace(r, req)
		if err != nil {
			reply(nil, err)
			return
		}
		b, _ := json.Marshal(m)
		reply(b, nil)
	}()
}

// replace removes the old replica from the group (if still there) and adds the node back as
// a learner under a new replica ID, then has the meta group record it.
func (c *clusterNode) replace(r *replica.Raft, req replaceRequest) (replica.Member, error) {
	n := c.topology().t.Nodes[req.Node]
	if n == nil {
		return replica.Member{}, fmt.Errorf("no node %d", req.Node)
	}
	if old, ok := r.Members().Get(req.Old); req.Old != 0 && ok && !old.Removed {
		if _, err := changeMembers(func(done func(replica.Member, error)) { r.Remove(req.Old, done) }); err != nil {
			return replica.Member{}, fmt.Errorf("remove replica %d: %w", req.Old, err)
		}
	}
	m, err := changeMembers(func(done func(replica.Member, error)) {
		r.AddLearner(replica.Member{Node: req.Node, Addr: n.Addr, BusAddr: n.BusAddr}, done)
	})
	if err != nil {
		return replica.Member{}, fmt.Errorf("add the node back as a learner: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "set-replica", Shard: req.Shard, Node: req.Node, Replica: m.ID}); err != nil {
		return replica.Member{}, fmt.Errorf("record the new replica: %w", err)
	}
	return m, nil
}
