package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/resp"
)

// Operator commands (cairn-specific CLUSTER subcommands, used by "cairn cluster status",
// "rebalance" and "remove-node"):
//
//   - CLUSTER STATUS answers a JSON document: the topology as this node knows it (nodes with
//     their liveness and draining state, shards with their slots, replicas, leader and move
//     under way), and the figures of the shards this node hosts — keys, bytes on disk, the
//     commands routed to them per second, and for a move this node leads, how far its learner
//     has caught up. Only a shard's hosts know its figures, so a full picture asks every node
//     (the CLI does) and sums a shard's ops/s over its hosts (a follower serves reads too).
//   - CLUSTER REBALANCE, on the meta group's leader, runs a placement round now instead of at
//     the next tick, and answers the operations it proposed.

// shardLoad counts the commands routed to a hosted shard on this node and keeps their recent
// rate, sampled by the cron with the node's own rates.
type shardLoad struct {
	ops  atomic.Int64
	mu   sync.Mutex
	smp  opsSampler
	rate float64
}

func (l *shardLoad) sample(now time.Time) {
	l.mu.Lock()
	l.smp.sample(now, l.ops.Load())
	l.rate = l.smp.rate()
	l.mu.Unlock()
}

func (l *shardLoad) perSec() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

// sampleShardRates samples every hosted shard's command counter (from sampleRates).
func (s *Server) sampleShardRates(now time.Time) {
	for _, h := range s.allHosted() {
		h.load.sample(now)
	}
}

// ClusterStatus is CLUSTER STATUS's reply.
type ClusterStatus struct {
	Node            uint64          `json:"node"` // the node answering
	TopologyVersion uint64          `json:"topology_version"`
	ClusterVersion  uint32          `json:"cluster_version"` // the cluster's active version
	CodeVersion     uint32          `json:"code_version"`    // what this node's binary implements
	MetaRole        string          `json:"meta_role"`       // this node's role in the meta group ("-": none)
	Rebalance       bool            `json:"rebalance"`       // cluster-rebalance on this node
	Nodes           []StatusNode    `json:"nodes"`
	Shards          []StatusShard   `json:"shards"`
	Hosted          []StatusReplica `json:"hosted"` // the replicas this node holds, with their figures
	// SlotMoves are the slots migrating between shards; KeysMoved is known on the node that
	// leads the source shard (the CLI takes the largest figure any node reports).
	SlotMoves []StatusSlotMove `json:"slot_moves,omitempty"`
	// MetaMove is the meta group's move under way, if any: From 0 adds a member, To 0 removes
	// one (cluster/metamove.go).
	MetaMove *cluster.Move `json:"meta_move,omitempty"`
}

// StatusSlotMove is a slot migrating between shards in CLUSTER STATUS.
type StatusSlotMove struct {
	Slot      int    `json:"slot"`
	From      uint64 `json:"from"`
	To        uint64 `json:"to"`
	Cancel    bool   `json:"cancel,omitempty"` // cancelled: it stops, or completes if it started
	KeysMoved int64  `json:"keys_moved"`       // keys moved so far, as this node knows
	Batches   int64  `json:"batches"`          // batches moved so far, as this node knows
}

// StatusNode is a node in CLUSTER STATUS.
type StatusNode struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	Addr     string `json:"addr"`
	Alive    bool   `json:"alive"`
	Draining bool   `json:"draining"`
	Meta     bool   `json:"meta"`     // holds a replica of the meta group
	Replicas int    `json:"replicas"` // shard replicas it holds
	Leads    int    `json:"leads"`    // shards it leads, as this node knows
	Version  uint32 `json:"version"`  // the cluster version its binary implements (0: unknown)
}

// StatusShard is a shard in CLUSTER STATUS.
type StatusShard struct {
	ID     uint64              `json:"id"`
	Name   string              `json:"name"`
	Slots  []cluster.SlotRange `json:"slots"`
	Nodes  []uint64            `json:"nodes"`  // holding its replicas
	Leader uint64              `json:"leader"` // 0: none known
	Move   *StatusMove         `json:"move,omitempty"`
}

// StatusMove is a replica move under way.
type StatusMove struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Phase: "adding" (the target is not in the group yet), "catching-up" (a learner being
	// sent the state), "removing-source" (the target votes; the source leaves next).
	Phase string `json:"phase"`
	// On the shard's leader only: the learner's replicated log index against the commit index.
	// Match stays 0 while the snapshot streams, then jumps to the snapshot's index.
	Match  uint64 `json:"match,omitempty"`
	Commit uint64 `json:"commit,omitempty"`
}

// StatusReplica is a replica this node holds, with its figures.
type StatusReplica struct {
	Shard uint64 `json:"shard"`
	Role  string `json:"role"`
	Keys  int64  `json:"keys"`
	Bytes uint64 `json:"bytes"` // disk space of its engine
	// DataBytes is the size splits go by (cluster-shard-max-bytes): the engine's sstables over
	// the records and its WAL, without obsolete files still held (split.go).
	DataBytes uint64  `json:"data_bytes"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// On the shard's leader: the slot where the shard's load (SplitAtOps) and its bytes
	// (SplitAtBytes, weighed only over cluster-shard-max-bytes) are half on each side; 0 not
	// known, -1 in one slot (slotload.go).
	SplitAtOps   int         `json:"split_at_ops,omitempty"`
	SplitAtBytes int         `json:"split_at_bytes,omitempty"`
	Applied      uint64      `json:"applied"`
	Move         *StatusMove `json:"move,omitempty"` // on the leader of a shard that moves
}

// clusterStatus gathers CLUSTER STATUS's reply. It reads the engines, so it runs off the
// event loop.
func (c *clusterNode) clusterStatus() ClusterStatus {
	views, t := c.shardViews()
	st := ClusterStatus{Node: c.id, TopologyVersion: t.Version, MetaRole: "-", Rebalance: c.s.cfg.clusterRebalance.Load(),
		ClusterVersion: t.Active(), CodeVersion: c.s.codeVersion(), SlotMoves: c.slotMoveStatus(t), MetaMove: t.Meta.Move}
	if r := c.metaRaft(); r != nil {
		st.MetaRole = r.Status().Role.String()
	}
	leads := map[uint64]int{}
	for _, v := range views {
		leads[v.leader]++
		sh := StatusShard{ID: v.info.ID, Name: cluster.Name(v.info.ID), Slots: v.info.Ranges, Nodes: v.info.NodeIDs(), Leader: v.leader}
		if m := v.info.Move; m != nil {
			sh.Move = &StatusMove{From: m.From, To: m.To, Phase: "adding"}
			if m.Replica != 0 {
				sh.Move.Phase = "catching-up"
				if h := c.s.hostedShard(v.info.ID); h != nil && h.raft != nil && isVoter(h.raft, m.Replica) {
					sh.Move.Phase = "removing-source"
				}
			}
		}
		st.Shards = append(st.Shards, sh)
	}
	for _, n := range t.LiveNodes() {
		st.Nodes = append(st.Nodes, StatusNode{ID: n.ID, Name: cluster.Name(n.ID), Addr: n.Addr, Alive: c.alive(n.ID),
			Draining: n.Draining, Meta: t.IsMeta(n.ID), Replicas: len(t.ShardsOf(n.ID)), Leads: leads[n.ID], Version: c.nodeVersion(n.ID)})
	}
	for _, h := range c.s.allHosted() {
		if h.sh == nil {
			continue
		}
		keys, _ := h.sh.KeyCounts()
		var total int64
		for _, k := range keys {
			total += k
		}
		r := StatusReplica{Shard: h.id(), Role: "single", Keys: total, Bytes: h.sh.Metrics().DiskBytes, DataBytes: dataBytes(h),
			OpsPerSec: h.load.perSec(), Applied: h.sh.Applied()}
		r.SplitAtOps, r.SplitAtBytes = h.slotLoad.splitPoints()
		if h.raft != nil {
			rs := h.raft.Status()
			r.Role = rs.Role.String()
			if info := t.Shard(h.id()); info != nil && info.Move != nil && rs.Role.String() == "leader" {
				m := info.Move
				r.Move = &StatusMove{From: m.From, To: m.To, Phase: "adding", Commit: rs.Commit}
				for _, p := range rs.Peers {
					if m.Replica != 0 && p.ID == m.Replica {
						r.Move.Match = p.Match
						r.Move.Phase = "catching-up"
						if p.Voter {
							r.Move.Phase = "removing-source"
						}
					}
				}
			}
		}
		st.Hosted = append(st.Hosted, r)
	}
	return st
}

// errRebalanceOff and errNotMetaLeader are why a rebalance request runs no round.
var (
	errRebalanceOff  = errors.New("placement is disabled on this node (cluster-rebalance no)")
	errNotMetaLeader = errors.New("this node does not lead the meta group")
)

// rebalanceResult is a placement round's outcome: the operations proposed (and accepted).
type rebalanceResult struct {
	ops []cluster.MetaOp
	err error
}

// rebalanceNow asks the placement loop for a round at once and waits for its outcome.
func (c *clusterNode) rebalanceNow(timeout time.Duration) ([]cluster.MetaOp, error) {
	reply := make(chan rebalanceResult, 1)
	select {
	case c.rebalanceReq <- reply:
	case <-c.stop:
		return nil, errors.New("the node is stopping")
	case <-time.After(timeout):
		return nil, errors.New("the placement loop is busy; try again")
	}
	select {
	case r := <-reply:
		return r.ops, r.err
	case <-time.After(timeout):
		return nil, errors.New("the placement round did not finish in time")
	}
}

// describeOp says in words what a placement operation does.
func describeOp(op cluster.MetaOp) string {
	switch op.Op {
	case "move-start":
		return fmt.Sprintf("move a replica of shard %d from node %d to node %d", op.Shard, op.Node, op.To)
	case "set-preferred":
		return fmt.Sprintf("make node %d the preferred leader of shard %d", op.Node, op.Shard)
	case "drain":
		return fmt.Sprintf("drain node %d", op.Node)
	case "remove-node":
		return fmt.Sprintf("remove node %d (drained)", op.Node)
	case "shard-split":
		return fmt.Sprintf("split shard %d", op.Shard)
	case "shard-merge":
		return fmt.Sprintf("merge shard %d into shard %d", op.Shard, op.To)
	case "shard-retire":
		return fmt.Sprintf("retire shard %d (merged away)", op.Shard)
	}
	b, _ := json.Marshal(op)
	return string(b)
}

// clusterOpsCommand runs the operator subcommands; it reports false for another subcommand.
func clusterOpsCommand(s *Server, cl *Client, sub string, args [][]byte) bool {
	c := s.cluster
	switch sub {
	case "status":
		if len(args) != 2 {
			cl.loop.w.Error("ERR wrong number of arguments for 'cluster|status' command")
			return true
		}
		s.parkLocal(cl, func() []byte {
			b, _ := json.Marshal(c.clusterStatus())
			rw := resp.Writer{Proto: cl.proto}
			rw.BulkString(string(b))
			return rw.Buf
		})
	case "rebalance":
		if len(args) != 2 {
			cl.loop.w.Error("ERR wrong number of arguments for 'cluster|rebalance' command")
			return true
		}
		s.parkLocal(cl, func() []byte {
			rw := resp.Writer{Proto: cl.proto}
			ops, err := c.rebalanceNow(20 * time.Second)
			if err != nil {
				rw.Error("ERR " + err.Error())
				return rw.Buf
			}
			rw.Array(len(ops))
			for _, op := range ops {
				rw.BulkString(describeOp(op))
			}
			return rw.Buf
		})
	default:
		return false
	}
	return true
}

// Cluster metrics for autoscalers (an HPA through a Prometheus adapter): the cluster's size
// and the placement work under way as this node sees them, and per hosted shard the commands
// routed to it per second and its keys.
var (
	descClusterNodes    = prometheus.NewDesc("cairn_cluster_nodes", "Nodes in the cluster (not removed), as this node's topology says.", nil, nil)
	descClusterDraining = prometheus.NewDesc("cairn_cluster_nodes_draining", "Nodes being drained before they leave.", nil, nil)
	descClusterMoves    = prometheus.NewDesc("cairn_cluster_moves_in_progress", "Replica moves under way in the cluster.", nil, nil)
	descClusterShards   = prometheus.NewDesc("cairn_cluster_shards", "Shards in the cluster.", nil, nil)
	descNodeReplicas    = prometheus.NewDesc("cairn_node_replicas", "Shard replicas this node holds.", nil, nil)
	descShardOps        = prometheus.NewDesc("cairn_shard_ops_per_second", "Commands routed to a shard on this node per second, recently (sum over the shard's hosts for its total).", shardLabel, nil)
	descShardKeys       = prometheus.NewDesc("cairn_shard_keys", "Keys in this node's replica of a shard.", shardLabel, nil)
)

// clusterCollector is the cluster's placement figures as a prometheus.Collector.
type clusterCollector struct{ s *Server }

func (m clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descClusterNodes, descClusterDraining, descClusterMoves, descClusterShards,
		descNodeReplicas, descShardOps, descShardKeys} {
		ch <- d
	}
}

func (m clusterCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	c := m.s.cluster
	if c == nil {
		return
	}
	t := c.topology().t
	draining, moves := 0, 0
	nodes := t.LiveNodes()
	for _, n := range nodes {
		if n.Draining {
			draining++
		}
	}
	for _, sh := range t.Shards {
		if sh.Move != nil {
			moves++
		}
	}
	gauge(descClusterNodes, float64(len(nodes)))
	gauge(descClusterDraining, float64(draining))
	gauge(descClusterMoves, float64(moves))
	gauge(descClusterShards, float64(len(t.Shards)))
	hs := m.s.allHosted()
	gauge(descNodeReplicas, float64(len(hs)))
	for _, h := range hs {
		if h.sh == nil {
			continue
		}
		id := strconv.FormatUint(h.id(), 10)
		gauge(descShardOps, h.load.perSec(), id)
		keys, _ := h.sh.KeyCounts()
		var total int64
		for _, k := range keys {
			total += k
		}
		gauge(descShardKeys, float64(total), id)
	}
}
