package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/transport"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// clusterNode is a server's part in a cluster: its Raft host (every group it holds a replica
// of: the meta group if it is a meta member, and its data shards), its end of the bus, and its
// view of the topology the meta group records.
type clusterNode struct {
	s       *Server
	logger  *slog.Logger
	host    *replica.Host
	bus     *transport.Bus
	id      uint64
	addr    string // client address as the cluster knows this node
	busAddr string // bus address as the cluster knows this node
	// busListen is where the bus listens: busAddr unless cluster-announce-bus-port says the
	// others reach it elsewhere.
	busListen string

	// gossip spreads liveness and load (cluster.Gossip); nil until the node has its ID.
	gossip atomic.Pointer[cluster.Gossip]

	meta *cluster.Meta
	// metaRaftP is this node's replica of the meta group; nil on a node that does not hold it
	// (metamove.go opens and drops it as the node joins and leaves the group).
	metaRaftP atomic.Pointer[replica.Raft]
	// founding is the layout this node computed from cluster-initial, to found the cluster
	// with (the meta leader proposes it) and to check the cluster's against; nil if it joined.
	founding *cluster.Topology
	// view is the newest topology this node knows, with its slot table; savedVersion the
	// version last saved to disk (refreshTopology's goroutine).
	view         atomic.Pointer[topoView]
	savedVersion uint64
	// confirmed is the topology version a meta member last said was its newest, at
	// confirmedAt (unix nanoseconds); doubtAt when a request last raised the doubt that the
	// view is stale; refreshNow asks refreshTopology to fetch at once
	// (stale.go).
	confirmed   atomic.Uint64
	confirmedAt atomic.Int64
	doubtAt     atomic.Int64
	refreshNow  chan struct{}

	// ready is set once the host and the shards are in place; the bus delivers nothing before.
	ready atomic.Bool
	// moving holds the shards whose replica move this node is carrying out (placement.go).
	moving sync.Map
	// slotMoving holds the shards whose slot migrations this node is carrying out (slotmove.go).
	slotMoving sync.Map
	// slotProgress counts, per slot this node moves out, the keys and batches moved so far
	// (*slotProgress, slotcancel.go).
	slotProgress sync.Map
	// rebalanceReq asks the placement loop for a round now (CLUSTER REBALANCE, clusterops.go).
	rebalanceReq chan chan rebalanceResult
	// settled holds, on the meta leader's placement goroutine, until when each shard stays out
	// of automatic splits and merges; slotCounts, on the topology goroutine, each hosted
	// shard's slots as last seen (split.go).
	settled    map[uint64]time.Time
	hotSince   map[uint64]time.Time // since when a shard's load is over cluster-shard-max-ops
	slotCounts map[uint64]int
	// users records the cluster's ACL users this node adopted (clusteracl.go).
	users clusterUsers

	stop chan struct{}
	// ctx is cancelled when the node stops: the background loops' requests (meta proposals,
	// calls to peers) end then instead of waiting out their timeouts, so a node that lost its
	// quorum still stops at once.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// topoView is a topology with its slot table, published whole.
type topoView struct {
	t     *cluster.Topology
	slots *cluster.SlotTable
}

type joinRequest struct {
	Addr    string `json:"addr"`
	BusAddr string `json:"bus"`
}

// joinReply admits a node: its ID and the topology.
type joinReply struct {
	Node     cluster.Node `json:"node"`
	Topology []byte       `json:"topology"`
}

// openCluster starts this node's cluster machinery: its identity, the bus, the Raft host, the
// meta group (if it holds it) and a replica of every shard the topology places on it.
func (s *Server) openCluster() (*clusterNode, error) {
	cfg := s.cfg
	c := &clusterNode{s: s, logger: s.logger, stop: make(chan struct{}), rebalanceReq: make(chan chan rebalanceResult), refreshNow: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	var initial []cluster.InitialNode
	if cfg.ClusterInitial != "" {
		var err error
		if initial, err = cluster.ParseInitial(cfg.ClusterInitial); err != nil {
			return nil, fmt.Errorf("cluster-initial: %w", err)
		}
	}
	if err := c.resolveSelf(initial); err != nil {
		return nil, err
	}
	bind := "127.0.0.1"
	if len(cfg.Bind) > 0 {
		bind = cfg.Bind[0]
	}
	_, busPort, err := cluster.SplitHostPort(c.busListen)
	if err != nil {
		return nil, err
	}
	sec, err := s.busSecurity()
	if err != nil {
		return nil, err
	}
	c.bus, err = transport.Listen(transport.Options{Listen: net.JoinHostPort(bind, strconv.Itoa(busPort)), Handler: c, Logger: s.logger, Security: sec,
		SnapshotRate: s.cfg.clusterRebalanceRate.Load})
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(cfg.ClusterNodeTimeout) * time.Millisecond
	c.host, err = replica.OpenHost(replica.HostConfig{
		Dir:             filepath.Join(cfg.Dir, "raft"),
		Network:         c.bus,
		Logger:          s.logger,
		TickInterval:    timeout / 10,
		ElectionTicks:   10,
		HeartbeatTicks:  1,
		SnapshotEntries: uint64(cfg.ClusterSnapshotEntries),
		KeepEntries:     uint64(max(cfg.ClusterSnapshotEntries/10, 5)),
		OnFatal: func(err error) {
			s.fail("replication failed", err)
		},
		Heard: c.bus.Heard,
	})
	if err != nil {
		c.bus.Close()
		return nil, err
	}
	fail := func(err error) (*clusterNode, error) {
		if g := c.gossip.Load(); g != nil {
			_ = g.Close()
		}
		c.closeShards()
		c.host.Close()
		c.bus.Close()
		return nil, err
	}
	c.meta, err = cluster.OpenMeta(filepath.Join(cfg.Dir, "meta"), nil, c.topologyChanged)
	if err != nil {
		return fail(err)
	}
	c.meta.SetCodeVersion(s.codeVersion())
	if len(initial) > 0 {
		shards := cfg.ClusterShards
		if shards == 0 {
			shards = 4 * len(initial)
		}
		if c.founding, err = cluster.Bootstrap(initial, cluster.BusAddr, shards, cfg.ClusterReplicas); err != nil {
			return fail(err)
		}
		// A new cluster runs at its founders' version (the meta leader's layout wins; a
		// founder with an older binary then stops).
		c.founding.ClusterVersion = s.codeVersion()
	}
	old, rebuilding := rebuildingFrom(cfg.Dir)
	if rebuilding {
		// The node's state was moved aside: it keeps its node ID and gets new replicas.
		if old == 0 {
			for _, n := range initial {
				if n.Addr == c.addr {
					old = n.ID
				}
			}
		}
		if old == 0 {
			return fail(errors.New("rebuild: this node's ID is unknown (the marker lost it): start it on an empty directory with cluster-join"))
		}
		if err := c.host.SetNodeID(old); err != nil {
			return fail(err)
		}
		c.bus.SetID(old)
		c.id = old
		c.founding = nil // replicas are rebuilt from the others, never bootstrapped
		var peers []string
		if cfg.ClusterJoin != "" {
			peers = append(peers, cfg.ClusterJoin)
		}
		for _, n := range initial {
			if n.Addr != c.addr {
				peers = append(peers, n.Addr)
			}
		}
		if len(peers) == 0 {
			return fail(errors.New("rebuilding a corrupted node needs a peer to rebuild from: set cluster-join"))
		}
		if err := c.rebuild(peers); err != nil {
			return fail(err)
		}
	}
	c.id = c.host.NodeID()
	if c.id == 0 {
		if c.id, err = c.newIdentity(initial); err != nil {
			return fail(err)
		}
		if err := c.host.SetNodeID(c.id); err != nil {
			return fail(err)
		}
	}
	c.bus.SetID(c.id)
	g, err := cluster.StartGossip(cluster.GossipConfig{Node: c.id, BindAddr: net.JoinHostPort(bind, strconv.Itoa(busPort)),
		AdvertiseAddr: c.busAddr, Streams: c.bus, Local: c.load, SecretKey: s.gossipKey()})
	if err != nil {
		return fail(err)
	}
	c.gossip.Store(g)
	// Until the meta group says otherwise, the layout is what this node knows: its own
	// record of the meta state, or the founding layout.
	if t := c.meta.Topology(); t != nil {
		c.publish(t)
	} else if t := c.cachedTopology(); t != nil {
		c.publish(t)
	} else if c.founding != nil {
		c.publish(c.founding)
	}
	v := c.view.Load()
	if v == nil {
		return fail(errors.New("cluster mode needs cluster-initial (a new cluster) or cluster-join (a node to join through)"))
	}
	if err := cluster.TooOld(s.codeVersion(), v.t.Active()); err != nil {
		return fail(err) // it could not apply the cluster's log (version.go)
	}
	for _, n := range v.t.LiveNodes() {
		if n.ID != c.id {
			c.bus.SetPeer(n.ID, n.BusAddr)
		}
	}
	if v.t.IsMeta(c.id) {
		if err := c.hostMeta(); err != nil {
			return fail(fmt.Errorf("meta group: %w", err))
		}
	}
	for _, sh := range v.t.ShardsOf(c.id) {
		if err := c.hostShard(sh); err != nil {
			return fail(fmt.Errorf("shard %d: %w", sh.ID, err))
		}
	}
	if rebuilding {
		_ = os.Remove(filepath.Join(cfg.Dir, rebuildMarker))
	}
	c.ready.Store(true)
	s.logger.Info("cluster node starting", "node", c.id, "addr", c.addr, "bus", c.busAddr, "election_timeout", timeout,
		"shards", len(v.t.ShardsOf(c.id)), "meta", c.metaRaft() != nil)
	return c, nil
}

// newIdentity gives a node without an ID one: its place in the founding list, or one the
// cluster hands out when it joins through cluster-join.
func (c *clusterNode) newIdentity(initial []cluster.InitialNode) (uint64, error) {
	cfg := c.s.cfg
	if cfg.ClusterJoin != "" {
		return c.join(cfg.ClusterJoin)
	}
	for _, n := range initial {
		if n.Addr == c.addr {
			return n.ID, nil
		}
	}
	if cfg.ClusterInitial != "" {
		return 0, fmt.Errorf("this node (%s) is not in cluster-initial %q; set cluster-announce-ip or join with cluster-join", c.addr, cfg.ClusterInitial)
	}
	return 0, errors.New("cluster mode needs cluster-initial (a new cluster) or cluster-join (a node to join through)")
}

// hostMeta adds this node's replica of the meta group to the Raft host. A founding replica
// with no state bootstraps the group.
func (c *clusterNode) hostMeta() error {
	v := c.topology()
	info := &v.t.Meta
	var boot []replica.Member
	// Only a founding replica bootstraps the group, and only while the node knows no layout
	// but the founding one: a founder that left the meta group and is given a replica again
	// has another replica ID and is sent the state (metamove.go).
	if f := c.founding; f != nil && f.Meta.ReplicaOn(c.id) != 0 && f.Meta.ReplicaOn(c.id) == info.ReplicaOn(c.id) && v.t.Version <= f.Version {
		for _, r := range c.founding.Meta.Replicas {
			n := c.founding.Nodes[r.Node]
			boot = append(boot, replica.Member{ID: r.ID, Node: r.Node, Addr: n.Addr, BusAddr: n.BusAddr})
		}
	}
	r, err := c.host.AddShard(cluster.MetaShard, c.meta, replica.ShardOptions{Applied: c.meta.Applied(), Bootstrap: boot,
		ReplicaID: info.ReplicaOn(c.id), Campaign: len(info.Replicas) > 0 && info.Replicas[0].Node == c.id})
	if err != nil {
		return err
	}
	c.metaRaftP.Store(r)
	return nil
}

// hostShard opens this node's replica of a shard and adds it to the Raft host. A founding
// replica with no state bootstraps its group with the shard's replicas; any other starts empty
// and is sent the state by the leader.
func (c *clusterNode) hostShard(info *cluster.Shard) error {
	s := c.s
	sh, err := s.openShard(info.ID, len(c.view.Load().t.ShardsOf(c.id)))
	if err != nil {
		return err
	}
	var boot []replica.Member
	// Only a founding replica bootstraps its group: one moved here later, even of a shard this
	// node founded and gave away, has another replica ID and is sent the state.
	var f *cluster.Shard
	if c.founding != nil {
		f = c.founding.Shard(info.ID)
	}
	if f != nil && f.ReplicaOn(c.id) != 0 && f.ReplicaOn(c.id) == info.ReplicaOn(c.id) {
		for _, r := range f.Replicas {
			n := c.founding.Nodes[r.Node]
			boot = append(boot, replica.Member{ID: r.ID, Node: r.Node, Addr: n.Addr, BusAddr: n.BusAddr})
		}
	} else if boot = c.initialMembers(info); boot != nil {
		c.logger.Info("starting a new shard's group", "shard", info.ID, "replica", info.ReplicaOn(c.id))
	}
	r, err := c.host.AddShard(info.ID, sh, replica.ShardOptions{Applied: sh.Applied(), Bootstrap: boot, ReplicaID: info.ReplicaOn(c.id),
		Campaign: len(info.Replicas) > 0 && info.Replicas[0].Node == c.id})
	if err != nil {
		sh.Close()
		return err
	}
	sh.SetLog(r)
	s.addHosted(newHosted(sh, r))
	return nil
}

// closeShards closes the data shards (after the host has stopped their groups).
func (c *clusterNode) closeShards() {
	for _, h := range c.s.allHosted() {
		_ = h.sh.Close()
	}
}

// resolveSelf works out the address the cluster knows this node by: the entry of the initial
// list with this node's port (and announce IP, if set), else the announce IP or bind address.
func (c *clusterNode) resolveSelf(initial []cluster.InitialNode) error {
	cfg := c.s.cfg
	host := cfg.ClusterAnnounceIP
	if host == "" && len(cfg.Bind) > 0 && cfg.Bind[0] != "0.0.0.0" && cfg.Bind[0] != "::" && cfg.Bind[0] != "*" {
		host = cfg.Bind[0]
	}
	if host == "" {
		host = "127.0.0.1"
	}
	c.addr = net.JoinHostPort(host, strconv.Itoa(cfg.Port))
	var matches []string
	for _, n := range initial {
		h, p, _ := cluster.SplitHostPort(n.Addr)
		if p == cfg.Port && (cfg.ClusterAnnounceIP == "" || h == cfg.ClusterAnnounceIP) {
			matches = append(matches, n.Addr)
		}
	}
	if len(matches) == 1 {
		c.addr = matches[0]
	} else if len(matches) > 1 {
		return fmt.Errorf("several cluster-initial entries have port %d; set cluster-announce-ip", cfg.Port)
	}
	h, _, _ := cluster.SplitHostPort(c.addr)
	var err error
	if cfg.ClusterPort != 0 {
		c.busAddr = net.JoinHostPort(h, strconv.Itoa(cfg.ClusterPort))
	} else if c.busAddr, err = cluster.BusAddr(c.addr); err != nil {
		return err
	}
	c.busListen = c.busAddr
	if cfg.ClusterAnnounceBusPort != 0 {
		// The others reach this node's bus at another port (NAT, a proxy in between).
		c.busAddr = net.JoinHostPort(h, strconv.Itoa(cfg.ClusterAnnounceBusPort))
	}
	return nil
}

// join asks the node at target (a client address) to admit this one, retrying while the
// cluster elects a meta leader, and returns the ID it was given.
func (c *clusterNode) join(target string) (uint64, error) {
	busAddr, err := cluster.BusAddr(target)
	if err != nil {
		return 0, fmt.Errorf("cluster-join: %w", err)
	}
	body, _ := json.Marshal(joinRequest{Addr: c.addr, BusAddr: c.busAddr})
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		reply, err := c.bus.Call(ctx, busAddr, reqJoin, body)
		cancel()
		if err == nil {
			var jr joinReply
			if err := json.Unmarshal(reply, &jr); err != nil || jr.Node.ID == 0 {
				return 0, fmt.Errorf("cluster-join: bad reply %q", reply)
			}
			t, err := cluster.DecodeTopology(jr.Topology)
			if err != nil {
				return 0, fmt.Errorf("cluster-join: bad topology: %w", err)
			}
			c.publish(t)
			c.logger.Info("joined the cluster", "node", jr.Node.ID, "through", target)
			return jr.Node.ID, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("cluster-join %s: %w", target, err)
		}
		c.logger.Warn("joining the cluster; retrying", "through", target, "err", err)
		time.Sleep(500 * time.Millisecond)
	}
}

// start runs the Raft scheduler and the node's background work.
func (c *clusterNode) start() {
	c.host.Start()
	c.wg.Add(5)
	go c.watchLeadership()
	go c.refreshTopology()
	go c.gossipLoop()
	go c.placementLoop()
	go c.weighLoop()
}

func (c *clusterNode) close() error {
	close(c.stop)
	c.cancel()
	c.wg.Wait()
	if g := c.gossip.Load(); g != nil {
		_ = g.Close()
	}
	err := c.host.Close()
	c.closeShards()
	if cerr := c.bus.Close(); err == nil {
		err = cerr
	}
	return err
}

// topology is the newest layout this node knows.
func (c *clusterNode) topology() *topoView { return c.view.Load() }

// publish makes t the node's view if it is newer than the one it has, and remembers it.
func (c *clusterNode) publish(t *cluster.Topology) {
	nv := &topoView{t: t, slots: t.Slots()}
	for {
		old := c.view.Load()
		if old != nil && old.t.Version >= t.Version {
			return
		}
		if c.view.CompareAndSwap(old, nv) {
			break
		}
	}
	if c.bus != nil {
		for _, n := range t.LiveNodes() {
			if n.ID != c.id {
				c.bus.SetPeer(n.ID, n.BusAddr)
			}
		}
	}
	c.adoptUsers()
}

// topologyChanged is the meta state machine's report of a new topology.
func (c *clusterNode) topologyChanged(t *cluster.Topology) {
	if c.founding != nil && !cluster.SameFounding(c.founding.Config, t.Config) {
		c.s.fail("this node's cluster flags disagree with the cluster's", fmt.Errorf("the cluster was founded with %d shards of %d replicas over %v; this node was started with %d shards of %d replicas over %v",
			t.Config.Shards, t.Config.Replicas, t.Config.Initial, c.founding.Config.Shards, c.founding.Config.Replicas, c.founding.Config.Initial))
		return
	}
	if !c.checkVersion(t) {
		return
	}
	c.publish(t)
}

const topologyCache = "topology.json"

// saveTopology keeps the newest topology on disk, so a node that does not hold the meta group
// knows the layout when it restarts. It runs once a second (refreshTopology), and writes only
// a newer version than it wrote last: a burst of changes (every shard reporting its leader
// after a restart) costs one write.
func (c *clusterNode) saveTopology() {
	t := c.topology().t
	if t.Version <= c.savedVersion {
		return
	}
	path := filepath.Join(c.s.cfg.Dir, topologyCache)
	if err := durable.Replace(vfs.Default, path, t.Encode()); err != nil {
		c.logger.Warn("saving the topology failed", "err", err)
		return
	}
	c.savedVersion = t.Version
}

func (c *clusterNode) cachedTopology() *cluster.Topology {
	b, err := os.ReadFile(filepath.Join(c.s.cfg.Dir, topologyCache))
	if err != nil {
		return nil
	}
	t, err := cluster.DecodeTopology(b)
	if err != nil {
		return nil
	}
	return t
}

// leaderAddr returns the client address of the node leading a shard: the shard's own group if
// this node holds a replica (the freshest), else the last leader the meta group recorded.
func (c *clusterNode) leaderAddr(id uint64) (string, bool) {
	v := c.topology()
	node := uint64(0)
	if h := c.s.hostedShard(id); h != nil {
		node = h.raft.LeaderNode()
		if node == 0 {
			return "", false // an election is under way: the group itself says so
		}
	}
	if node == 0 {
		if sh := v.t.Shard(id); sh != nil {
			node = sh.Leader
			if node == 0 && len(sh.Replicas) > 0 {
				node = sh.Replicas[0].Node
			}
		}
	}
	n := v.t.Nodes[node]
	if n == nil || n.Removed {
		return "", false
	}
	return n.Addr, true
}
