package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/cairn-db/cairn/internal/slot"
)

// Topology is the cluster's layout as the meta group records it: the nodes, the shards, which
// slots each shard owns and which nodes hold its replicas, and who led each shard last. It is
// the only authority on ownership; gossip only says who is alive.
//
// A Topology is immutable once published: changes make a copy (Clone) and bump Version.
type Topology struct {
	// Version counts changes; a node that holds a higher one has the newer layout.
	Version uint64 `json:"version"`
	// Config is what the cluster was founded with, so a node started with other flags is
	// refused instead of building a different layout.
	Config BootstrapConfig  `json:"config"`
	Nodes  map[uint64]*Node `json:"nodes"`
	Shards []*Shard         `json:"shards"` // by ID
	// Meta is the meta group: its replicas (its ID is MetaShard, it owns no slots).
	Meta Shard `json:"meta"`
	// NextNode is the next node ID to give out; IDs are never reused.
	NextNode uint64 `json:"next_node"`
	// NextShard is the next shard ID to give out (0: none given out since the founding; see
	// nextShardID). Shard IDs are never reused either (split.go).
	NextShard uint64 `json:"next_shard,omitempty"`
	// ClusterVersion is the version of apply's behaviour every node supports.
	ClusterVersion uint32 `json:"cluster_version"`
	// Migrations are the slots moving between shards, by slot (slotmove.go).
	Migrations []SlotMigration `json:"migrations,omitempty"`
	// Users are the cluster's ACL users, name → definition as ACL LIST writes it (acl.Define),
	// applied on every node. UsersVersion counts their changes; 0 means no ACL command has
	// defined them yet, and every node keeps the users of its own configuration. The default
	// user is cluster-wide only once an ACL command set it (ACL SETUSER default, ACL LOAD);
	// until then each node keeps its own (requirepass).
	Users        map[string]string `json:"users,omitempty"`
	UsersVersion uint64            `json:"users_version,omitempty"`
}

// BootstrapConfig is how a cluster was founded.
type BootstrapConfig struct {
	Initial  []string `json:"initial"` // client addresses, sorted (node i+1 is Initial[i])
	Shards   int      `json:"shards"`
	Replicas int      `json:"replicas"`
}

// Node is a member of the cluster.
type Node struct {
	ID      uint64 `json:"id"`
	Addr    string `json:"addr"` // client address host:port
	BusAddr string `json:"bus"`
	Removed bool   `json:"removed,omitempty"`
	// Draining marks a node being emptied: placement moves its replicas away, then removes it.
	// Set by CLUSTER FORGET (and cairn cluster remove-node), and for a node dead for longer
	// than cluster-dead-after.
	Draining bool `json:"draining,omitempty"`
}

// Shard is a Raft group holding the data of some slots.
type Shard struct {
	ID       uint64      `json:"id"`
	Ranges   []SlotRange `json:"slots"`
	Replicas []Replica   `json:"replicas"`
	// Leader is the node that last reported leading the shard, at LeaderTerm. A hint for
	// redirecting clients: the shard's own Raft group is the truth.
	Leader     uint64 `json:"leader,omitempty"`
	LeaderTerm uint64 `json:"term,omitempty"`
	// Move is the replica move under way, if any (at most one per shard).
	Move *Move `json:"move,omitempty"`
	// Initial are the replicas a shard created after the founding (split.go) started with:
	// each bootstraps the group. Empty for a founding shard (the founding layout says).
	Initial []Replica `json:"initial,omitempty"`
	// Retiring marks a shard merging into another: once it owns no slot it is retired.
	Retiring bool `json:"retiring,omitempty"`
}

// Move is a replica of a shard moving from one node to another. The shard's leader carries it
// out in its own group: it adds the target as a learner (Replica, recorded with move-added, is
// then also in the shard's Replicas), the learner catches up by snapshot and is promoted, and
// the source is removed (move-done). The shard keeps a quorum of voters throughout: it has one
// replica more, never one less, while the move runs.
type Move struct {
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	Replica uint64 `json:"replica,omitempty"` // the learner's replica ID once added
}

// Replica is one member of a shard's group.
type Replica struct {
	Node uint64 `json:"node"`
	ID   uint64 `json:"id"` // the replica ID in the group
}

// SlotRange is the slots from Start to End, both included.
type SlotRange struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// MetaShard is the shard ID of the meta group in a node's Raft host. Data shards are numbered
// from 1.
const MetaShard = 0

// maxMeta is how many nodes hold the meta group at most.
const maxMeta = 5

// Bootstrap computes the topology a cluster is founded with: nodes numbered 1..n in sorted
// address order, the slots split evenly over the shards, each shard's replicas on distinct
// nodes so that replicas per node, and first replicas (the preferred leaders) per node, differ
// by at most one, and the meta group on the first (up to five) nodes. Every founding node computes the same layout from
// the same arguments.
func Bootstrap(initial []InitialNode, busAddr func(string) (string, error), shards, replicas int) (*Topology, error) {
	n := len(initial)
	if n == 0 {
		return nil, fmt.Errorf("no founding nodes")
	}
	if shards < 1 || shards > slot.Count {
		return nil, fmt.Errorf("cluster-shards must be 1..%d, got %d", slot.Count, shards)
	}
	if replicas < 1 {
		return nil, fmt.Errorf("cluster-replicas must be at least 1, got %d", replicas)
	}
	replicas = min(replicas, n)
	// A new cluster runs at this binary's version (version.go).
	t := &Topology{Version: 1, Nodes: map[uint64]*Node{}, NextNode: uint64(n + 1), ClusterVersion: CodeVersion}
	t.Config = BootstrapConfig{Shards: shards, Replicas: replicas}
	for _, in := range initial {
		bus, err := busAddr(in.Addr)
		if err != nil {
			return nil, err
		}
		t.Nodes[in.ID] = &Node{ID: in.ID, Addr: in.Addr, BusAddr: bus}
		t.Config.Initial = append(t.Config.Initial, in.Addr)
		if len(t.Meta.Replicas) < maxMeta {
			// The meta group's replica IDs start as the node IDs.
			t.Meta.Replicas = append(t.Meta.Replicas, Replica{Node: in.ID, ID: in.ID})
		}
	}
	// Greedy placement, deterministic: each shard's first replica (its preferred leader) on the
	// node with the fewest so far, its others on the nodes holding the fewest replicas; ties go
	// round-robin from the shard's own position, so equal nodes take turns.
	leads := make([]int, n)
	held := make([]int, n)
	for i := 0; i < shards; i++ {
		start := i * slot.Count / shards
		end := (i+1)*slot.Count/shards - 1
		sh := &Shard{ID: uint64(i + 1), Ranges: []SlotRange{{start, end}}}
		pick := func(score func(j int) int, taken map[int]bool) int {
			best := -1
			for k := 0; k < n; k++ {
				j := (i + k) % n
				if !taken[j] && (best < 0 || score(j) < score(best)) {
					best = j
				}
			}
			return best
		}
		taken := map[int]bool{}
		first := pick(func(j int) int { return leads[j]*(shards*replicas+1) + held[j] }, taken)
		leads[first]++
		taken[first] = true
		chosen := []int{first}
		for len(chosen) < replicas {
			j := pick(func(j int) int { return held[j] }, taken)
			taken[j] = true
			chosen = append(chosen, j)
		}
		for k, j := range chosen {
			held[j]++
			sh.Replicas = append(sh.Replicas, Replica{Node: initial[j].ID, ID: uint64(k + 1)})
		}
		t.Shards = append(t.Shards, sh)
	}
	return t, nil
}

// SameFounding reports whether two topologies were founded alike (the check a node makes of
// its own flags against the cluster's).
func SameFounding(a, b BootstrapConfig) bool {
	return a.Shards == b.Shards && a.Replicas == b.Replicas && slices.Equal(a.Initial, b.Initial)
}

// Clone returns a deep copy.
func (t *Topology) Clone() *Topology {
	c := *t
	c.Config.Initial = slices.Clone(t.Config.Initial)
	c.Users = maps.Clone(t.Users)
	c.Nodes = make(map[uint64]*Node, len(t.Nodes))
	for id, n := range t.Nodes {
		nn := *n
		c.Nodes[id] = &nn
	}
	c.Meta = t.Meta.clone()
	c.Migrations = slices.Clone(t.Migrations)
	c.Shards = make([]*Shard, len(t.Shards))
	for i, sh := range t.Shards {
		s := sh.clone()
		c.Shards[i] = &s
	}
	return &c
}

func (sh *Shard) clone() Shard {
	c := *sh
	if sh.Move != nil {
		m := *sh.Move
		c.Move = &m
	}
	c.Ranges = slices.Clone(sh.Ranges)
	c.Replicas = slices.Clone(sh.Replicas)
	c.Initial = slices.Clone(sh.Initial)
	return c
}

// Encode returns the topology as JSON.
func (t *Topology) Encode() []byte {
	b, _ := json.Marshal(t)
	return b
}

// DecodeTopology reads a topology written by Encode.
func DecodeTopology(b []byte) (*Topology, error) {
	var t Topology
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if t.Nodes == nil {
		t.Nodes = map[uint64]*Node{}
	}
	return &t, nil
}

// Shard returns the shard with id, or nil.
func (t *Topology) Shard(id uint64) *Shard {
	i := sort.Search(len(t.Shards), func(i int) bool { return t.Shards[i].ID >= id })
	if i < len(t.Shards) && t.Shards[i].ID == id {
		return t.Shards[i]
	}
	return nil
}

// ShardsOf lists the shards with a replica on node, by ID.
func (t *Topology) ShardsOf(node uint64) []*Shard {
	var out []*Shard
	for _, sh := range t.Shards {
		if sh.ReplicaOn(node) != 0 {
			out = append(out, sh)
		}
	}
	return out
}

// ReplicaOn is the replica ID of the shard's replica on node, 0 if it has none there.
func (sh *Shard) ReplicaOn(node uint64) uint64 {
	for _, r := range sh.Replicas {
		if r.Node == node {
			return r.ID
		}
	}
	return 0
}

// Nodes lists the nodes holding the shard's replicas.
func (sh *Shard) NodeIDs() []uint64 {
	out := make([]uint64, len(sh.Replicas))
	for i, r := range sh.Replicas {
		out[i] = r.Node
	}
	return out
}

// IsMeta reports whether node holds the meta group.
func (t *Topology) IsMeta(node uint64) bool { return t.Meta.ReplicaOn(node) != 0 }

// MetaNodes lists the nodes holding the meta group.
func (t *Topology) MetaNodes() []uint64 { return t.Meta.NodeIDs() }

// Group returns the shard with id, the meta group included (MetaShard), or nil.
func (t *Topology) Group(id uint64) *Shard {
	if id == MetaShard {
		return &t.Meta
	}
	return t.Shard(id)
}

// LiveNodes lists the nodes not removed, by ID.
func (t *Topology) LiveNodes() []*Node {
	var out []*Node
	for _, n := range t.Nodes {
		if !n.Removed {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SlotTable maps every slot to the shard that owns it.
type SlotTable [slot.Count]uint32

// Slots builds the topology's slot table (0: a slot no shard owns).
func (t *Topology) Slots() *SlotTable {
	var st SlotTable
	for _, sh := range t.Shards {
		for _, r := range sh.Ranges {
			for s := r.Start; s <= r.End; s++ {
				st[s] = uint32(sh.ID)
			}
		}
	}
	return &st
}
