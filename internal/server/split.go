package server

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
)

// Shard splits and merges (cluster/split.go has the meta group's part).
//
//   - A node whose topology names it as one of a new shard's Initial replicas bootstraps the
//     group with them (hostShard), empty; a node whose replica of a shard is gone from the
//     topology — the shard retired — drops it, as after a replica move (reconcileHosting).
//   - The meta group's leader, in its placement round, splits a shard whose leader reports
//     more than cluster-shard-max-bytes of data (dataBytes) where its bytes are half on each
//     side, or more than cluster-shard-max-ops commands a second for reshardSettle where its
//     load is (slotload.go weighs the slots); with cluster-shard-merge it merges two adjacent
//     shards together below a quarter of the bytes bound, both quiet and together below half
//     the ops bound; it retires a merged-away shard once it owns no slot. Sizes, command
//     rates and split points come from the shards' leaders through gossip (NodeLoad.Sizes).
//   - The slots move with the slot mover (slotmove.go), unchanged.
//   - A replica whose shard handed slots away compacts its engine once none is leaving any
//     more: the moved records were deleted, and until a compaction drops them the bytes on
//     disk, which splits go by, still count them (else a split shard would split again).

// mergeMaxOps is the command rate (per second, at the shard's leader) under which a shard
// counts as quiet enough to merge.
const mergeMaxOps = 100

// reshardSettle is how long after its last slot moved a shard is left out of automatic splits
// and merges: its leader's next size report must come from after the move (gossip refreshes
// every few seconds) and its compaction must have run.
const reshardSettle = 15 * time.Second

// initialMembers returns the members a shard created after the founding starts its group
// with, if this node's replica is one of them (else nil: it joins and is sent the state).
func (c *clusterNode) initialMembers(info *cluster.Shard) []replica.Member {
	id := info.ReplicaOn(c.id)
	if id == 0 || !slices.Contains(info.Initial, cluster.Replica{Node: c.id, ID: id}) {
		return nil
	}
	t := c.topology().t
	boot := make([]replica.Member, 0, len(info.Initial))
	for _, r := range info.Initial {
		n := t.Nodes[r.Node]
		if n == nil {
			return nil
		}
		boot = append(boot, replica.Member{ID: r.ID, Node: r.Node, Addr: n.Addr, BusAddr: n.BusAddr})
	}
	return boot
}

// shardSizes are the figures of the shards this node leads, for gossip.
func (c *clusterNode) shardSizes() []cluster.ShardLoad {
	var out []cluster.ShardLoad
	for _, h := range c.s.allHosted() {
		if h.sh == nil || !h.leads() {
			continue
		}
		opsAt, bytesAt := h.slotLoad.splitPoints()
		out = append(out, cluster.ShardLoad{Shard: h.id(), Bytes: dataBytes(h), Ops: math.Round(h.load.perSec()), OpsAt: opsAt, BytesAt: bytesAt})
	}
	return out
}

// dataBytes is a shard's size as splits go by it: its engine's sstables over the records' key
// range, and the WAL not yet flushed. Unlike the engine's whole disk usage it leaves out files
// that compactions made obsolete but a checkpoint or a reader still holds, so it drops once a
// shard's moved records are compacted away.
func dataBytes(h *hosted) uint64 {
	v := h.sh.Acquire()
	defer v.Release()
	n, err := v.Engine.DB().EstimateDiskUsage([]byte{0x01}, []byte{0xff})
	if err != nil {
		n = 0
	}
	return n + v.Engine.Metrics().WALBytes
}

// shardLoads gathers what the shards' leaders last reported through gossip; a shard's report
// from the node the topology names its leader wins over a stale one from a former leader.
func (c *clusterNode) shardLoads(t *cluster.Topology) map[uint64]cluster.ShardLoad {
	out := map[uint64]cluster.ShardLoad{}
	from := map[uint64]uint64{}
	add := func(node uint64, sizes []cluster.ShardLoad) {
		for _, l := range sizes {
			sh := t.Shard(l.Shard)
			if sh == nil {
				continue
			}
			if prev, ok := from[l.Shard]; ok && prev == sh.Leader {
				continue
			}
			out[l.Shard], from[l.Shard] = l, node
		}
	}
	if g := c.gossip.Load(); g != nil {
		for id, n := range g.Nodes() {
			if n.Alive && id != c.id {
				add(id, n.Sizes)
			}
		}
	}
	add(c.id, c.shardSizes())
	return out
}

// reshardRound, on the meta group's leader, proposes the splits, merges and retirements
// cluster.PlanReshard finds; it returns the operations the meta group accepted.
// With auto false (cluster-rebalance no) it only retires merged-away shards.
func (c *clusterNode) reshardRound(t *cluster.Topology, auto bool) ([]cluster.MetaOp, error) {
	now := time.Now()
	if c.settled == nil {
		c.settled, c.hotSince = map[uint64]time.Time{}, map[uint64]time.Time{}
	}
	for _, sh := range t.Shards {
		if t.Busy(sh) != "" {
			c.settled[sh.ID] = now.Add(reshardSettle)
		}
	}
	loads := c.shardLoads(t)
	for id := range loads {
		if now.Before(c.settled[id]) {
			delete(loads, id)
		}
	}
	maxOps := float64(c.s.cfg.clusterShardMaxOps.Load())
	cfg := cluster.ReshardConfig{MaxBytes: uint64(c.s.cfg.clusterShardMaxBytes.Load()), MaxOps: maxOps,
		Sustained: c.sustainedLoad(now, loads, maxOps), Merge: c.s.cfg.clusterShardMerge.Load(), MergeMaxOps: mergeMaxOps}
	if !auto {
		cfg = cluster.ReshardConfig{}
	}
	var done []cluster.MetaOp
	for _, op := range cluster.PlanReshard(t, loads, cfg) {
		l := loads[op.Shard]
		c.logger.Info("resharding", "op", op.Op, "shard", op.Shard, "into", op.To, "at_slot", op.Start, "bytes", l.Bytes, "ops_per_sec", l.Ops)
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		_, err := c.proposeMeta(ctx, op)
		cancel()
		if err != nil {
			c.logger.Warn("resharding operation failed", "op", op.Op, "shard", op.Shard, "err", err)
			return done, err
		}
		c.settled[op.Shard] = now.Add(reshardSettle)
		delete(c.hotSince, op.Shard)
		done = append(done, op)
	}
	return done, nil
}

// sustainedLoad tracks since when each shard's leader has reported more than maxOps commands a
// second, and returns those above it for reshardSettle: a burst does not split a shard. A shard
// whose load cannot be split (it is in one slot) is said so in the log, once per hot spell.
func (c *clusterNode) sustainedLoad(now time.Time, loads map[uint64]cluster.ShardLoad, maxOps float64) map[uint64]bool {
	out := map[uint64]bool{}
	for id := range c.hotSince {
		if l, ok := loads[id]; !ok || maxOps == 0 || l.Ops <= maxOps {
			delete(c.hotSince, id)
		}
	}
	if maxOps == 0 {
		return out
	}
	for id, l := range loads {
		if l.Ops <= maxOps {
			continue
		}
		since, ok := c.hotSince[id]
		if !ok {
			c.hotSince[id] = now
			continue
		}
		if now.Sub(since) < reshardSettle {
			continue
		}
		out[id] = true
		if l.OpsAt == cluster.NoSplit && now.Sub(since) < reshardSettle+2*time.Second {
			c.logger.Warn("a shard is over cluster-shard-max-ops but its load is in one slot: splitting it would not spread the load, so it does not split (reads at eventual or session consistency can go to its followers)",
				"shard", id, "ops_per_sec", l.Ops)
		}
	}
	return out
}

// compactShrunk has every hosted shard that handed slots away, and has none leaving now,
// compact its engine in the background (see the top of this file). slotCounts, kept by the
// caller's goroutine, holds each shard's slots as last seen with none leaving.
func (c *clusterNode) compactShrunk(t *cluster.Topology) {
	if c.slotCounts == nil {
		c.slotCounts = map[uint64]int{}
	}
	for _, h := range c.s.allHosted() {
		info := t.Shard(h.id())
		if info == nil || h.sh == nil || c.migratingFrom(h.id()) {
			continue
		}
		n := info.SlotCount()
		prev, seen := c.slotCounts[h.id()]
		c.slotCounts[h.id()] = n
		if !seen || n >= prev {
			continue
		}
		key := compactKey(h.id())
		if _, running := c.slotMoving.LoadOrStore(key, true); running {
			continue
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer c.slotMoving.Delete(key)
			start := time.Now()
			v := h.sh.Acquire()
			err := v.Engine.Compact(c.ctx, []byte{0x01}, []byte{0xff})
			v.Release()
			if err != nil {
				c.logger.Debug("compacting a shard after its slots left failed", "shard", h.id(), "err", err)
				return
			}
			c.logger.Info("compacted a shard after its slots left", "shard", h.id(), "slots", n, "took", time.Since(start).Round(time.Millisecond))
		}()
	}
	for id := range c.slotCounts {
		if t.Shard(id) == nil {
			delete(c.slotCounts, id)
		}
	}
}

// compactKey marks a shard's compaction in flight, in clusterNode.slotMoving.
type compactKey uint64

// parseShardArg reads a shard ID as CLUSTER SHARDS names it (40 hex digits) or its number.
func parseShardArg(b []byte) (uint64, bool) {
	if id, ok := cluster.ParseName(string(b)); ok {
		return id, true
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil && n != 0
}

// splitShardCmd is CLUSTER SPLIT-SHARD <shard-id> [<slot>]: a new shard takes the shard's
// slots from <slot> on (by default the upper half of them). It answers the new shard's ID once
// the meta group has recorded the split; the slots then move in the background.
func splitShardCmd(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) != 3 && len(args) != 4 {
		w.Error("ERR wrong number of arguments for 'cluster|split-shard' command")
		return
	}
	id, ok := parseShardArg(args[2])
	if !ok {
		w.Error("ERR Invalid shard id " + string(args[2]))
		return
	}
	at := int64(0)
	if len(args) == 4 {
		if at, ok = command.ParseInt(args[3]); !ok || at <= 0 || at >= 16384 {
			w.Error("ERR Invalid or out of range slot")
			return
		}
	}
	reshardCmd(s, cl, cluster.MetaOp{Op: "shard-split", Shard: id, Start: int(at)}, true)
}

// mergeShardsCmd is CLUSTER MERGE-SHARDS <from-shard-id> <into-shard-id>: the slots of the
// first move to the second (they must be adjacent), and the first is then retired.
func mergeShardsCmd(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) != 4 {
		w.Error("ERR wrong number of arguments for 'cluster|merge-shards' command")
		return
	}
	from, ok1 := parseShardArg(args[2])
	into, ok2 := parseShardArg(args[3])
	if !ok1 || !ok2 {
		w.Error("ERR Invalid shard id")
		return
	}
	reshardCmd(s, cl, cluster.MetaOp{Op: "shard-merge", Shard: from, To: into}, false)
}

func reshardCmd(s *Server, cl *Client, op cluster.MetaOp, answerShard bool) {
	c := s.cluster
	s.parkLocal(cl, func() []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rw := resp.Writer{Proto: cl.proto}
		res, err := c.proposeMeta(ctx, op)
		switch {
		case err != nil:
			rw.Error("ERR " + err.Error())
		case answerShard:
			rw.BulkString(cluster.Name(res.Shard))
		default:
			rw.OK()
		}
		return rw.Buf
	})
}
