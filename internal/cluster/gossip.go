package cluster

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Gossip spreads who is alive and how loaded, with hashicorp/memberlist (SWIM): each node
// probes a few others and piggybacks what it learns, so the cost per node stays flat however
// large the cluster. It never decides ownership — the meta group does — it informs: CLUSTER
// NODES shows the nodes it finds failed, and placement will weigh the load it carries.
//
// It shares the bus's port: memberlist's packets go over UDP on that port number, its streams
// (state exchange on join and anti-entropy) over TCP connections the bus hands over.
type Gossip struct {
	ml    *memberlist.Memberlist
	tr    *gossipTransport
	local func() NodeLoad

	mu    sync.Mutex
	nodes map[uint64]GossipNode
}

// NodeLoad is what a node gossips about itself.
type NodeLoad struct {
	Node   uint64 `json:"node"`
	Shards int    `json:"shards"` // replicas held
	Led    int    `json:"led"`    // shards led
	Keys   int64  `json:"keys"`   // keys in the shards led
	Ops    int64  `json:"ops"`    // commands per second, recently
	// Sizes are the figures of the shards this node leads, the biggest first (split.go); cut
	// short, smallest first, where they would not fit in gossip's node metadata.
	Sizes []ShardLoad `json:"sz,omitempty"`
	// Version is the cluster version the node's binary implements (0: a binary that does not
	// say, i.e. version 1); the meta leader advances the cluster's when every node has it.
	Version uint32 `json:"version,omitempty"`
	// DiskFull: the node refuses writes for its disk, so it should lead no shard.
	DiskFull bool `json:"disk_full,omitempty"`
}

// GossipNode is a node as gossip knows it.
type GossipNode struct {
	NodeLoad
	Addr  string // bus address
	Alive bool
	Seen  time.Time // when its state last changed
}

// Streamer dials and accepts the raw TCP streams gossip needs (the bus does).
type Streamer interface {
	DialStream(addr string, timeout time.Duration) (net.Conn, error)
}

// GossipConfig is how a node joins the gossip.
type GossipConfig struct {
	Node uint64
	// BindAddr is the bus's listen address; AdvertiseAddr the one others reach it at.
	BindAddr, AdvertiseAddr string
	Streams                 Streamer
	// Local reports this node's load, gossiped with its state.
	Local func() NodeLoad
	// ProbeInterval paces failure detection (default 500ms).
	ProbeInterval time.Duration
	Logger        io.Writer
	// SecretKey, when set (16, 24 or 32 bytes), encrypts and authenticates gossip's packets:
	// a node without it can neither read nor forge them (cluster-secret).
	SecretKey []byte
}

// StartGossip starts a node's gossip; Join connects it to others.
func StartGossip(cfg GossipConfig) (*Gossip, error) {
	tr, err := newGossipTransport(cfg.BindAddr, cfg.Streams)
	if err != nil {
		return nil, err
	}
	g := &Gossip{tr: tr, local: cfg.Local, nodes: map[uint64]GossipNode{}}
	mc := memberlist.DefaultLANConfig()
	mc.Name = strconv.FormatUint(cfg.Node, 10)
	mc.Transport = tr
	host, port, err := SplitHostPort(cfg.AdvertiseAddr)
	if err != nil {
		tr.Shutdown()
		return nil, err
	}
	mc.AdvertiseAddr, mc.AdvertisePort = host, port
	mc.ProbeInterval = cfg.ProbeInterval
	if mc.ProbeInterval <= 0 {
		mc.ProbeInterval = 500 * time.Millisecond
	}
	mc.ProbeTimeout = mc.ProbeInterval / 2
	mc.GossipInterval = 100 * time.Millisecond
	mc.SuspicionMult = 3
	mc.PushPullInterval = 15 * time.Second
	mc.Delegate = g
	mc.Events = g
	mc.SecretKey = cfg.SecretKey
	if cfg.Logger == nil {
		cfg.Logger = io.Discard
	}
	mc.Logger = log.New(cfg.Logger, "", 0)
	if g.ml, err = memberlist.Create(mc); err != nil {
		tr.Shutdown()
		return nil, fmt.Errorf("gossip: %w", err)
	}
	return g, nil
}

// Join contacts nodes at bus addresses; it succeeds if any answered.
func (g *Gossip) Join(addrs []string) error {
	_, err := g.ml.Join(addrs)
	return err
}

// Stream hands gossip a stream the bus accepted.
func (g *Gossip) Stream(c net.Conn) { g.tr.accept(c) }

// Close leaves the gossip.
func (g *Gossip) Close() error {
	_ = g.ml.Leave(time.Second)
	return g.ml.Shutdown()
}

// Nodes lists the nodes gossip knows, by ID.
func (g *Gossip) Nodes() map[uint64]GossipNode {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[uint64]GossipNode, len(g.nodes))
	for id, n := range g.nodes {
		out[id] = n
	}
	return out
}

// Alive reports whether gossip holds node to be alive (false for a node it does not know).
func (g *Gossip) Alive(node uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nodes[node].Alive
}

// Refresh has this node's load gossiped anew.
func (g *Gossip) Refresh() { _ = g.ml.UpdateNode(time.Second) }

func (g *Gossip) note(n *memberlist.Node, alive bool) {
	id, err := strconv.ParseUint(n.Name, 10, 64)
	if err != nil {
		return
	}
	var load NodeLoad
	_ = json.Unmarshal(n.Meta, &load)
	load.Node = id
	g.mu.Lock()
	g.nodes[id] = GossipNode{NodeLoad: load, Addr: n.Address(), Alive: alive, Seen: time.Now()}
	g.mu.Unlock()
}

// NotifyJoin implements memberlist.EventDelegate.
func (g *Gossip) NotifyJoin(n *memberlist.Node) { g.note(n, true) }

// NotifyLeave implements memberlist.EventDelegate: the node left or was found dead.
func (g *Gossip) NotifyLeave(n *memberlist.Node) { g.note(n, false) }

// NotifyUpdate implements memberlist.EventDelegate.
func (g *Gossip) NotifyUpdate(n *memberlist.Node) { g.note(n, true) }

// NodeMeta implements memberlist.Delegate: this node's load.
func (g *Gossip) NodeMeta(limit int) []byte {
	if g.local == nil {
		return nil
	}
	l := g.local()
	slices.SortStableFunc(l.Sizes, func(a, b ShardLoad) int { return cmp.Compare(b.Bytes, a.Bytes) })
	for {
		b, _ := json.Marshal(l)
		if len(b) <= limit {
			return b
		}
		if len(l.Sizes) == 0 {
			return nil
		}
		l.Sizes = l.Sizes[:len(l.Sizes)-1]
	}
}

// NotifyMsg implements memberlist.Delegate (no user messages).
func (g *Gossip) NotifyMsg([]byte) {}

// GetBroadcasts implements memberlist.Delegate (no user broadcasts).
func (g *Gossip) GetBroadcasts(int, int) [][]byte { return nil }

// LocalState implements memberlist.Delegate (no state beyond the node's meta).
func (g *Gossip) LocalState(bool) []byte { return nil }

// MergeRemoteState implements memberlist.Delegate.
func (g *Gossip) MergeRemoteState([]byte, bool) {}

// gossipTransport is memberlist's transport over the bus's port: UDP packets on the port
// number, TCP streams through the bus.
type gossipTransport struct {
	udp     *net.UDPConn
	streams Streamer
	packets chan *memberlist.Packet
	accepts chan net.Conn
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func newGossipTransport(bind string, streams Streamer) (*gossipTransport, error) {
	ua, err := net.ResolveUDPAddr("udp", bind)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	t := &gossipTransport{udp: udp, streams: streams, packets: make(chan *memberlist.Packet, 256),
		accepts: make(chan net.Conn, 16), done: make(chan struct{})}
	t.wg.Add(1)
	go t.readPackets()
	return t, nil
}

func (t *gossipTransport) readPackets() {
	defer t.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := t.udp.ReadFrom(buf)
		if err != nil {
			select {
			case <-t.done:
				return
			default:
				continue
			}
		}
		p := &memberlist.Packet{Buf: append([]byte(nil), buf[:n]...), From: from, Timestamp: time.Now()}
		select {
		case t.packets <- p:
		case <-t.done:
			return
		}
	}
}

func (t *gossipTransport) accept(c net.Conn) {
	select {
	case t.accepts <- c:
	case <-t.done:
		c.Close()
	}
}

// FinalAdvertiseAddr implements memberlist.Transport.
func (t *gossipTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	addr := net.ParseIP(ip)
	if addr == nil {
		ips, err := net.LookupIP(ip)
		if err != nil || len(ips) == 0 {
			return nil, 0, fmt.Errorf("gossip: bad advertise address %q", ip)
		}
		addr = ips[0]
	}
	return addr, port, nil
}

// WriteTo implements memberlist.Transport.
func (t *gossipTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = t.udp.WriteTo(b, ua)
	return time.Now(), err
}

// PacketCh implements memberlist.Transport.
func (t *gossipTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// DialTimeout implements memberlist.Transport.
func (t *gossipTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.streams.DialStream(addr, timeout)
}

// StreamCh implements memberlist.Transport.
func (t *gossipTransport) StreamCh() <-chan net.Conn { return t.accepts }

// Shutdown implements memberlist.Transport.
func (t *gossipTransport) Shutdown() error {
	t.once.Do(func() {
		close(t.done)
		t.udp.Close()
	})
	t.wg.Wait()
	return nil
}
