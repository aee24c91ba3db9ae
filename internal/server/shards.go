package server

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/shard"
	"github.com/cairn-db/cairn/internal/slot"
)

// hosted is a shard this node holds a replica of: the shard, and its Raft replica in a cluster
// (nil on a single node, whose shard has a local log). A remote one stands for a shard this
// node does not hold, whose requests a proxying node forwards (cluster-proxy).
type hosted struct {
	shard  uint64
	sh     *shard.Shard
	raft   *replica.Raft
	remote bool
	// load counts the commands routed to the shard on this node (CLUSTER STATUS); slotLoad
	// counts them per slot, in a cluster (slotload.go).
	load     shardLoad
	slotLoad *slotLoad
}

func newHosted(sh *shard.Shard, r *replica.Raft) *hosted {
	h := &hosted{shard: sh.ID(), sh: sh, raft: r}
	if r != nil {
		h.slotLoad = &slotLoad{}
	}
	return h
}

// id is the shard's ID.
func (h *hosted) id() uint64 { return h.shard }

// leads reports whether this node may take the shard's writes: its replica leads the group,
// or it is the single node's only shard.
func (h *hosted) leads() bool { return !h.remote && (h.raft == nil || h.raft.IsLeader()) }

// remoteShard stands for a shard this node does not hold, for forwarding to it.
func (s *Server) remoteShard(id uint64) *hosted {
	if v, ok := s.remotes.Load(id); ok {
		return v.(*hosted)
	}
	v, _ := s.remotes.LoadOrStore(id, &hosted{shard: id, remote: true})
	return v.(*hosted)
}

// shardSet is the shards a node hosts, published whole and replaced on change.
type shardSet struct {
	byID map[uint64]*hosted
	list []*hosted // by ID
}

// hostedShard returns the hosted shard with id, or nil.
func (s *Server) hostedShard(id uint64) *hosted {
	if m := s.shards.Load(); m != nil {
		return m.byID[id]
	}
	return nil
}

// allHosted lists the hosted shards by ID. The slice is shared: do not modify it.
func (s *Server) allHosted() []*hosted {
	if m := s.shards.Load(); m != nil {
		return m.list
	}
	return nil
}

// addHosted adds a shard to the set.
func (s *Server) addHosted(h *hosted) {
	for {
		old := s.shards.Load()
		next := &shardSet{byID: map[uint64]*hosted{}}
		if old != nil {
			maps.Copy(next.byID, old.byID)
		}
		next.byID[h.id()] = h
		for _, id := range slices.Sorted(maps.Keys(next.byID)) {
			next.list = append(next.list, next.byID[id])
		}
		if s.shards.CompareAndSwap(old, next) {
			return
		}
	}
}

// removeHosted takes a shard out of the set.
func (s *Server) removeHosted(id uint64) {
	for {
		old := s.shards.Load()
		if old == nil || old.byID[id] == nil {
			return
		}
		next := &shardSet{byID: maps.Clone(old.byID)}
		delete(next.byID, id)
		for _, sid := range slices.Sorted(maps.Keys(next.byID)) {
			next.list = append(next.list, next.byID[sid])
		}
		if s.shards.CompareAndSwap(old, next) {
			return
		}
	}
}

// shardOfSlot is the shard that owns a slot: the single node's only shard, or the one the
// topology says (0 if none does).
func (s *Server) shardOfSlot(sl int) uint64 {
	if s.cluster == nil {
		return singleShard
	}
	return uint64(s.cluster.topology().slots[sl])
}

// singleShard is the ID of a single node's shard: it owns every slot.
const singleShard = 1

// keyShard is the hosted shard owning key's slot on a single node.
func (s *Server) keyShard(key []byte) uint64 { return s.shardOfSlot(slot.KeySlot(key)) }

// openShard opens the shard with id in the data directory. n is how many shards the node
// hosts: they share the record cache budget.
func (s *Server) openShard(id uint64, n int) (*shard.Shard, error) {
	policy := s.syncPolicy()
	if s.cfg.ClusterEnabled {
		// The Raft log is the durable record; a restart replays it from the engine's applied
		// index.
		policy = engine.SyncNo
	}
	sh, err := shard.Open(shard.Options{
		ID:              id,
		Dir:             filepath.Join(s.cfg.Dir, "shards", strconv.FormatUint(id, 10)),
		Logger:          s.logger,
		BlockCache:      s.blockCache,
		Compactions:     s.compactions,
		RecordCacheSize: s.cfg.RecordCacheSize / int64(max(n, 1)),
		Limits:          s.limits,
		SyncPolicy:      policy,
		OnFailure:       func(err error) { s.fail("the disk failed under the data engine", err) },
		OnNoSpace:       func() { s.disk.noSpace.Store(true) },
		ClusterVersion:  s.opVersion,
	})
	if err != nil {
		return nil, err
	}
	sh.OnApplied(func(eff *keyspace.Effects, served []command.Served) { s.onApplied(sh, eff, served) })
	return sh, nil
}
