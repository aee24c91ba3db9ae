package server

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/slot"
)

// Where a shard's load and bytes are, for its split point (cluster/splitpoint.go).
//
// Every command routed to a hosted shard adds one to its slot's counter: an atomic add beside
// the shard's own counter, no lock on the hot path. Every weighInterval the weighing goroutine,
// for each shard this node leads, turns the counters' growth into per-slot rates that decay
// over slotRateTau, and the rates into the slot where the load is half on each side (OpsAt). For
// a shard over cluster-shard-max-bytes it also weighs the slots' bytes, at most every
// bytesWeighEvery: the engine's estimate of its sstables' bytes over each slot's key ranges (one
// per record kind and database), bisected, so a few hundred estimates a shard, not one per slot.
// Gossip carries the two slots (ShardLoad.BytesAt, OpsAt), not the weights.

const (
	weighInterval   = 2 * time.Second
	slotRateTau     = 10 * time.Second
	bytesWeighEvery = 10 * time.Second
)

// slotLoad is a hosted shard's per-slot command counters and what the weighing makes of them.
type slotLoad struct {
	ops [slot.Count]atomic.Uint32 // commands routed, per slot (wrapping: the growth is what counts)

	// The weighing goroutine's own.
	last     []uint32
	rate     []float64
	cum      []float64
	at       time.Time
	bytesAt  time.Time
	weighing bool // this node led the shard at the last weighing

	// The split points, for gossip and CLUSTER STATUS: 0 unknown, else cluster.SplitAt's answer.
	opsSplit   atomic.Int64
	bytesSplit atomic.Int64
}

// count notes a command routed to slot s.
func (l *slotLoad) count(s int) {
	if l != nil && s >= 0 && s < slot.Count {
		l.ops[s].Add(1)
	}
}

// splitPoints returns the shard's split points by load and by bytes, as last weighed.
func (l *slotLoad) splitPoints() (opsAt, bytesAt int) {
	if l == nil {
		return 0, 0
	}
	return int(l.opsSplit.Load()), int(l.bytesSplit.Load())
}

// weighLoop weighs the shards this node leads every weighInterval.
func (c *clusterNode) weighLoop() {
	defer c.wg.Done()
	tick := time.NewTicker(weighInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tick.C:
			c.weighShards(now)
		}
	}
}

func (c *clusterNode) weighShards(now time.Time) {
	t := c.topology().t
	maxBytes := uint64(c.s.cfg.clusterShardMaxBytes.Load())
	for _, h := range c.s.allHosted() {
		l := h.slotLoad
		info := t.Shard(h.id())
		if l == nil || h.sh == nil || info == nil {
			continue
		}
		if !h.leads() {
			// A follower's counts are its own reads: the leader weighs. Start afresh on taking over.
			if l.weighing {
				l.weighing = false
				l.opsSplit.Store(0)
				l.bytesSplit.Store(0)
				l.bytesAt = time.Time{}
			}
			continue
		}
		l.weighing = true
		l.weighOps(now, info.Ranges)
		if len(info.Ranges) == 0 {
			continue
		}
		if maxBytes == 0 || now.Sub(l.bytesAt) < bytesWeighEvery {
			continue
		}
		if dataBytes(h) <= maxBytes {
			l.bytesSplit.Store(0)
			continue
		}
		l.bytesAt = now
		at, err := weighBytes(h, info.Ranges)
		if err != nil {
			c.logger.Debug("weighing a shard's slots failed", "shard", h.id(), "err", err)
			continue
		}
		if at == 0 {
			at = info.SplitPoint() // nothing to go by: the middle of its slots
		}
		l.bytesSplit.Store(int64(at))
	}
}

// weighOps folds the counters' growth since the last weighing into the slots' rates and finds
// where the load is half on each side.
func (l *slotLoad) weighOps(now time.Time, ranges []cluster.SlotRange) {
	if l.last == nil {
		l.last, l.rate, l.cum = make([]uint32, slot.Count), make([]float64, slot.Count), make([]float64, slot.Count+1)
		for s := range l.last {
			l.last[s] = l.ops[s].Load()
		}
		l.at = now
		return
	}
	dt := now.Sub(l.at).Seconds()
	if dt <= 0 {
		return
	}
	l.at = now
	keep := math.Exp(-dt / slotRateTau.Seconds())
	for s := range l.last {
		cur := l.ops[s].Load()
		grew := cur - l.last[s]
		l.last[s] = cur
		l.rate[s] = l.rate[s]*keep + float64(grew)/dt*(1-keep)
	}
	// Prefix sums over the shard's slots, for BalancedSplit's before(s), which asks only for
	// owned slots and the end of the last range.
	var sum float64
	for _, r := range ranges {
		for s := r.Start; s <= r.End; s++ {
			l.cum[s] = sum
			sum += l.rate[s]
		}
		l.cum[r.End+1] = sum
	}
	before := func(s int) float64 { return l.cum[s] }
	if sum < 1 { // under a command a second: nothing to go by
		l.opsSplit.Store(0)
		return
	}
	l.opsSplit.Store(int64(cluster.SplitAt(ranges, before)))
}

// weighBytes finds the slot where a shard's bytes on disk are half on each side. The engine's
// estimate counts sstables only, so when they hold less than half of the shard's data (most of
// it still in memtables), the memtables are flushed first.
func weighBytes(h *hosted, ranges []cluster.SlotRange) (int, error) {
	v := h.sh.Acquire()
	defer v.Release()
	at, total, err := bisectBytes(v.Engine.DB(), ranges)
	if err == nil && total < float64(dataBytes(h))/2 {
		if err := v.Engine.Flush(); err != nil {
			return 0, err
		}
		at, _, err = bisectBytes(v.Engine.DB(), ranges)
	}
	return at, err
}

// bisectBytes is cluster.SplitAt over the engine's estimate of each slot's bytes, and the
// estimated total.
func bisectBytes(db *pebble.DB, ranges []cluster.SlotRange) (int, float64, error) {
	var spans [][2]byte // (kind, database) with records
	for d := 0; d < keyspace.NumDBs; d++ {
		for _, k := range keyspace.SlotKinds {
			n, err := db.EstimateDiskUsage(keyspace.SlotBound(k, byte(d), 0), keyspace.SlotBound(k, byte(d), slot.Count))
			if err != nil {
				return 0, 0, err
			}
			if n > 0 {
				spans = append(spans, [2]byte{k, byte(d)})
			}
		}
	}
	first := ranges[0].Start
	var failed error
	before := func(s int) float64 {
		var n uint64
		for _, sp := range spans {
			b, err := db.EstimateDiskUsage(keyspace.SlotBound(sp[0], sp[1], first), keyspace.SlotBound(sp[0], sp[1], s))
			if err != nil {
				failed = err
			}
			n += b
		}
		return float64(n)
	}
	total := before(ranges[len(ranges)-1].End + 1)
	at := cluster.SplitAt(ranges, before)
	return at, total, failed
}
