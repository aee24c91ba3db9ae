package cluster

import (
	"strconv"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/slot"
)

// Routing: where a request for a slot goes on a node. The server routes every request this
// way, and the deterministic simulation drives the same code with simulated nodes.

// Slot values besides 0..16383.
const (
	// NoSlot: the request names no key.
	NoSlot = -1
	// CrossSlot: its keys are in several slots.
	CrossSlot = -2
)

// ErrCrossSlot is Redis Cluster's reply to a request whose keys are in several slots.
const ErrCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot"

// KeysSlot is the slot of a command's keys: NoSlot if it has none, CrossSlot if they are in
// several. It allocates nothing for commands whose keys are one range of positions (GET, SET,
// MGET, MSET, ...); others are found as COMMAND GETKEYS finds them.
func KeysSlot(cmd *command.Command, args [][]byte) int {
	sl := NoSlot
	if cmd.Keys != nil || len(cmd.KeySpecs) > 1 || cmd.Flags&command.FlagMovableKeys != 0 {
		keys, _ := cmd.GetKeys(args)
		for _, k := range keys {
			sl = JoinSlot(sl, slot.KeySlot(args[k.Pos]))
		}
		return sl
	}
	if cmd.FirstKey <= 0 {
		return NoSlot
	}
	last := cmd.LastKey
	if last < 0 {
		last += len(args)
	}
	step := max(cmd.Step, 1)
	for i := cmd.FirstKey; i <= last && i < len(args); i += step {
		if sl = JoinSlot(sl, slot.KeySlot(args[i])); sl == CrossSlot {
			return sl
		}
	}
	return sl
}

// JoinSlot combines the slots of two groups of keys, as a transaction's commands are.
func JoinSlot(a, b int) int {
	switch {
	case a == NoSlot:
		return b
	case b == NoSlot:
		return a
	case a == b:
		return a
	}
	return CrossSlot
}

// Placement is what a node knows of where slots are served.
type Placement interface {
	// ShardOf is the shard owning a slot (0 if none does).
	ShardOf(slot int) uint64
	// Local reports whether this node holds a replica of the shard, and whether it leads it.
	Local(shard uint64) (hosted, leads bool)
	// LeaderAddr is the client address of the node leading the shard, if known.
	LeaderAddr(shard uint64) (string, bool)
}

// RouteKind is what becomes of a request.
type RouteKind int

// Route kinds.
const (
	// Here: this node serves it, on its replica of the shard.
	Here RouteKind = iota
	// Moved: the client must ask the shard's leader (-MOVED).
	Moved
	// Down: nobody serves the slot now (-CLUSTERDOWN).
	Down
)

// Route is where a request for a slot goes.
type Route struct {
	Kind  RouteKind
	Shard uint64
	Slot  int
	// Addr is the leader's address, for Moved.
	Addr string
	// Unowned: Down because no shard owns the slot (else because the shard has no leader).
	Unowned bool
}

// RouteSlot decides where a request for slot sl goes: a write to the shard's leader, a read to
// any node holding a replica (its consistency level then decides how fresh it must be).
func RouteSlot(p Placement, sl int, write bool) Route {
	id := p.ShardOf(sl)
	if id == 0 {
		return Route{Kind: Down, Slot: sl, Unowned: true}
	}
	hosted, leads := p.Local(id)
	if hosted && (leads || !write) {
		return Route{Kind: Here, Shard: id, Slot: sl}
	}
	addr, ok := p.LeaderAddr(id)
	if !ok {
		return Route{Kind: Down, Shard: id, Slot: sl}
	}
	return Route{Kind: Moved, Shard: id, Slot: sl, Addr: addr}
}

// Error is the error reply of a request that is not served here (without the leading '-').
func (r Route) Error() string {
	switch {
	case r.Kind == Moved:
		return "MOVED " + strconv.Itoa(r.Slot) + " " + r.Addr
	case r.Unowned:
		return "CLUSTERDOWN Hash slot not served"
	}
	return "CLUSTERDOWN The cluster is down"
}
