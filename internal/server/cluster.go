package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/transport"
)

// The shard every node holds in this version: the whole keyspace.
const mainShard = 1

// Bus request kinds.
const (
	reqJoin    = 1 // body: JSON joinRequest; reply: JSON replica.Member
	reqForward = 2 // body: encoded operations; reply: applied index and results
	reqRemove  = 3 // body: node ID (8 bytes)
)

// clusterNode is a server's part in a cluster: its Raft scheduler, its replica of the shard and
// its end of the bus.
type clusterNode struct {
	s       *Server
	logger  *slog.Logger
	host    *replica.Host
	raft    *replica.Raft
	bus     *transport.Bus
	id      uint64
	addr    string // client address as the cluster knows this node
	busAddr string // bus address as the cluster knows this node
	// busListen is where the bus listens: busAddr unless cluster-announce-bus-port says the
	// others reach it elsewhere.
	busListen string

	// ready is set once host and raft are in place; the bus delivers nothing before.
	ready atomic.Bool

	stop chan struct{}
	wg   sync.WaitGroup
}

type joinRequest struct {
	Addr    string `json:"addr"`
	BusAddr string `json:"bus"`
}

// joinReply admits a node: its member entry, and every member so it can reach them before it
// has any state of its own.
type joinReply struct {
	Member  replica.Member   `json:"member"`
	Members []replica.Member `json:"members"`
}

// openCluster starts this node's cluster machinery over the engine, whose last applied index is
// applied. The node's ID comes from its data directory, or from the initial address list, or
// from the node it joins through.
func (s *Server) openCluster(applied uint64) (*clusterNode, error) {
	cfg := s.cfg
	c := &clusterNode{s: s, logger: s.logger, stop: make(chan struct{})}
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
	c.bus, err = transport.Listen(transport.Options{Listen: net.JoinHostPort(bind, strconv.Itoa(busPort)), Handler: c, Logger: s.logger})
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
	})
	if err != nil {
		c.bus.Close()
		return nil, err
	}
	fail := func(err error) (*clusterNode, error) {
		c.host.Close()
		c.bus.Close()
		return nil, err
	}
	c.id = c.host.NodeID()
	var bootstrap []replica.Member
	for _, n := range initial {
		m := replica.Member{ID: n.ID, Addr: n.Addr}
		if m.BusAddr, err = cluster.BusAddr(n.Addr); err != nil {
			return fail(err)
		}
		if n.Addr == c.addr {
			m.BusAddr = c.busAddr
			if c.id == 0 {
				c.id = n.ID
			}
		}
		bootstrap = append(bootstrap, m)
	}
	old, rebuilding := rebuildingFrom(cfg.Dir)
	if c.host.NodeID() == 0 {
		if applied > 0 {
			return fail(errors.New("the data directory holds data written outside a cluster; start a cluster node on an empty directory"))
		}
		switch {
		case rebuilding:
			if old == 0 {
				old = c.id // the log was too damaged to say; the initial list does
			}
			if c.id, err = c.rejoin(old, initial); err != nil {
				return fail(err)
			}
		case cfg.ClusterJoin != "":
			bootstrap = nil
			if c.id, err = c.join(cfg.ClusterJoin); err != nil {
				return fail(err)
			}
		case c.id == 0 && cfg.ClusterInitial != "":
			return fail(fmt.Errorf("this node (%s) is not in cluster-initial %q; set cluster-announce-ip or join with cluster-join", c.addr, cfg.ClusterInitial))
		case c.id == 0:
			return fail(errors.New("cluster mode needs cluster-initial (a new cluster) or cluster-join (a node to join through)"))
		}
		if err := c.host.SetNodeID(c.id); err != nil {
			return fail(err)
		}
	}
	if rebuilding {
		_ = os.Remove(filepath.Join(cfg.Dir, rebuildMarker))
	}
	// Only an initial member bootstraps the group, under its initial ID: a node that joined (or
	// rebuilt itself under a new ID) gets its state from the leader.
	if cfg.ClusterJoin != "" || rebuilding || !slices.ContainsFunc(bootstrap, func(m replica.Member) bool { return m.ID == c.id }) {
		bootstrap = nil
	}
	c.bus.SetID(c.id)
	if c.raft, err = c.host.AddShard(mainShard, s.sh, replica.ShardOptions{Applied: applied, Bootstrap: bootstrap, ReplicaID: c.id}); err != nil {
		return fail(err)
	}
	s.sh.SetLog(c.raft)
	c.ready.Store(true)
	s.logger.Info("cluster node starting", "node", c.id, "addr", c.addr, "bus", c.busAddr, "election_timeout", timeout)
	return c, nil
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
// cluster elects a leader, and returns the ID it was given.
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
			if err := json.Unmarshal(reply, &jr); err != nil || jr.Member.ID == 0 {
				return 0, fmt.Errorf("cluster-join: bad reply %q", reply)
			}
			for _, m := range jr.Members {
				if m.ID != jr.Member.ID && !m.Removed {
					c.bus.SetPeer(m.ID, m.BusAddr)
				}
			}
			c.logger.Info("joined the cluster as a learner", "node", jr.Member.ID, "through", target)
			return jr.Member.ID, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("cluster-join %s: %w", target, err)
		}
		c.logger.Warn("joining the cluster; retrying", "through", target, "err", err)
		time.Sleep(500 * time.Millisecond)
	}
}

// start runs the Raft scheduler and the watcher of leadership.
func (c *clusterNode) start() {
	c.host.Start()
	c.wg.Add(1)
	go c.watchLeadership()
}

func (c *clusterNode) close() error {
	close(c.stop)
	c.wg.Wait()
	err := c.host.Close()
	if cerr := c.bus.Close(); err == nil {
		err = cerr
	}
	return err
}

// watchLeadership clears blocked-client waiters when this node becomes leader: blocking
// commands run on the leader, so waiters left in the replicated state belong to connections of
// a former leader, which are gone.
func (c *clusterNode) watchLeadership() {
	defer c.wg.Done()
	t := time.NewTicker(c.host.ElectionTimeout() / 5)
	defer t.Stop()
	was := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		now := c.raft.IsLeader()
		if now && !was {
			c.logger.Info("this node is now the leader", "node", c.id, "term", c.raft.Term())
			if err := c.s.sh.ClearWaiters(c.s.now(), c.stop); err != nil {
				c.logger.Warn("clearing waiters of a former leader failed", "err", err)
				continue // try again at the next tick
			}
		}
		was = now
	}
}

// leaderAddr returns the client address of the current leader.
func (c *clusterNode) leaderAddr() (string, bool) {
	lead := c.raft.Leader()
	if lead == 0 {
		return "", false
	}
	m, ok := c.raft.Members().Get(lead)
	return m.Addr, ok && m.Addr != ""
}

// Deliver implements transport.Handler.
func (c *clusterNode) Deliver(from uint64, payload []byte) error {
	if !c.ready.Load() {
		return nil // Raft retransmits
	}
	return c.host.Deliver(from, payload)
}

// SnapshotInbox implements transport.Handler.
func (c *clusterNode) SnapshotInbox() string {
	return filepath.Join(c.s.cfg.Dir, "raft", "snap-in")
}

// ReceiveSnapshot implements transport.Handler.
func (c *clusterNode) ReceiveSnapshot(from uint64, header []byte, dir string) error {
	if !c.ready.Load() {
		return errors.New("node starting")
	}
	return c.host.ReceiveSnapshot(from, header, dir)
}

// Request implements transport.Handler.
func (c *clusterNode) Request(from uint64, kind byte, body []byte, reply func([]byte, error)) {
	if !c.ready.Load() {
		reply(nil, errors.New("node starting"))
		return
	}
	switch kind {
	case reqJoin:
		var req joinRequest
		if err := json.Unmarshal(body, &req); err != nil || req.Addr == "" || req.BusAddr == "" {
			reply(nil, errors.New("bad join request"))
			return
		}
		if !c.raft.IsLeader() {
			go c.relay(kind, body, reply)
			return
		}
		c.raft.AddLearner(replica.Member{Addr: req.Addr, BusAddr: req.BusAddr}, func(m replica.Member, err error) {
			if err != nil {
				reply(nil, err)
				return
			}
			b, _ := json.Marshal(joinReply{Member: m, Members: c.raft.Members().List})
			reply(b, nil)
		})
	case reqRemove:
		if len(body) != 8 {
			reply(nil, errors.New("bad remove request"))
			return
		}
		if !c.raft.IsLeader() {
			go c.relay(kind, body, reply)
			return
		}
		c.raft.Remove(binary.BigEndian.Uint64(body), func(_ replica.Member, err error) { reply(nil, err) })
	case reqForward:
		c.serveForward(body, reply)
	default:
		reply(nil, fmt.Errorf("unknown request kind %d", kind))
	}
}

// relay passes a membership request on to the leader.
func (c *clusterNode) relay(kind byte, body []byte, reply func([]byte, error)) {
	lead := c.raft.Leader()
	if lead == 0 || lead == c.id {
		reply(nil, replica.ErrNoLeader)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply(c.bus.CallPeer(ctx, lead, kind, body))
}

// Forwarding (cluster-proxy): a follower sends the encoded operations of a connection's writes
// to the leader, which proposes them in order and answers with their replies.
//
//	request: n(uvarint) { len(uvarint) op }*
//	reply:   applied(8) n(uvarint) { len(uvarint) result }*

// forward submits a batch of writes through the leader. It runs on its own goroutine.
func (c *clusterNode) forward(cl *Client, batch []Proposal) {
	fail := func(err error) {
		for _, p := range batch {
			p.Done(nil, err)
		}
	}
	lead := c.raft.Leader()
	if lead == 0 || lead == c.id {
		fail(replica.ErrNotLeader)
		return
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(batch)))
	for _, p := range batch {
		// A forwarded command never blocks: the reply travels back as the answer to this
		// request, not through the leader's blocked clients.
		command.ClearOpClient(p.Data)
		body = binary.AppendUvarint(body, uint64(len(p.Data)))
		body = append(body, p.Data...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := c.bus.CallPeer(ctx, lead, reqForward, body)
	if err != nil {
		var re *transport.RemoteError
		if errors.As(err, &re) && re.Msg == replica.ErrNotLeader.Error() {
			fail(replica.ErrNotLeader)
			return
		}
		fail(replica.ErrUnknown)
		return
	}
	if len(reply) < 8 {
		fail(replica.ErrUnknown)
		return
	}
	applied := binary.BigEndian.Uint64(reply)
	cl.noteWrite(applied)
	results, err := splitFrames(reply[8:])
	if err != nil || len(results) != len(batch) {
		fail(replica.ErrUnknown)
		return
	}
	for i, p := range batch {
		p.Done(results[i], nil)
	}
}

func (c *clusterNode) serveForward(body []byte, reply func([]byte, error)) {
	ops, err := splitFrames(body)
	if err != nil {
		reply(nil, err)
		return
	}
	if !c.raft.IsLeader() {
		reply(nil, replica.ErrNotLeader)
		return
	}
	var mu sync.Mutex
	results := make([][]byte, len(ops))
	left := len(ops)
	props := make([]replica.Proposal, len(ops))
	for i, op := range ops {
		props[i] = replica.Proposal{Data: op, Done: func(res []byte, err error) {
			if err != nil {
				res = errorReply(err)
			}
			mu.Lock()
			results[i] = res
			left--
			last := left == 0
			mu.Unlock()
			if last {
				out := binary.BigEndian.AppendUint64(nil, c.raft.Applied())
				out = binary.AppendUvarint(out, uint64(len(results)))
				for _, r := range results {
					out = binary.AppendUvarint(out, uint64(len(r)))
					out = append(out, r...)
				}
				reply(out, nil)
			}
		}}
	}
	if err := c.raft.Propose(props...); err != nil {
		reply(nil, err)
	}
}

func splitFrames(b []byte) ([][]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("bad frames")
	}
	b = b[k:]
	out := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errors.New("bad frames")
		}
		out = append(out, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	return out, nil
}

// removeNode takes a node out of the cluster through the leader.
func (c *clusterNode) removeNode(ctx context.Context, id uint64) error {
	if c.raft.IsLeader() {
		done := make(chan error, 1)
		c.raft.Remove(id, func(_ replica.Member, err error) { done <- err })
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	lead := c.raft.Leader()
	if lead == 0 {
		return replica.ErrNoLeader
	}
	_, err := c.bus.CallPeer(ctx, lead, reqRemove, binary.BigEndian.AppendUint64(nil, id))
	return err
}
