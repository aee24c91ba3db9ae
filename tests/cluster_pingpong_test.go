package tests

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// Slots hand over from shard to shard under many concurrent go-redis clients: none of them ever
// gives up on a redirection. Two of the five nodes are outside the meta group, so they learn
// of each hand-over up to half a second after the meta members; a target's node that has not
// learnt of it yet must not send clients back to the source, which would send them to the
// target again until go-redis stopped after 16 redirections (stale.go).
func TestClusterSlotHandOverNoRedirectLoop(t *testing.T) {
	seed := clusterTestSeed(t)
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-meta-size", "3")
	c.Join()
	c.Join()
	waitCluster(t, "the joined nodes to receive replicas", 120*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n.ClusterInfo("cluster_moves_in_progress") != "0" || n.Info("replication", "raft_shards_hosted") == "0" {
				return false
			}
		}
		return true
	})
	ctx := servertest.Ctx(t)
	const tags, keysPerTag, workers = 6, 20, 16
	key := func(tag, i int) string { return fmt.Sprintf("{hand%d}:%d", tag, i) }
	var stop atomic.Bool
	var ops, fails, loops atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := c.Client()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for !stop.Load() {
				k := key(rng.IntN(tags), rng.IntN(keysPerTag))
				var err error
				if rng.IntN(2) == 0 {
					err = cc.Set(ctx, k, strconv.Itoa(w), 0).Err()
				} else if err = cc.Get(ctx, k).Err(); err != nil && err.Error() == "redis: nil" {
					err = nil
				}
				ops.Add(1)
				if err != nil {
					fails.Add(1)
					if strings.HasPrefix(err.Error(), "MOVED") {
						loops.Add(1) // go-redis followed 16 redirections and gave up
					}
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	admin := c.Nodes[0].Client()
	for round := range 2 * tags {
		tag := round % tags
		sl := slot.KeySlot([]byte(key(tag, 0)))
		// Shard i+1 owns the i-th third of the slots at first; each round moves the slot on to
		// the next shard.
		from := sl*3/slot.Count + 1
		to := (from+round/tags)%3 + 1
		base := (to - 1) * slot.Count / 3
		if err := admin.Do(ctx, "CLUSTER", "MIGRATE-SLOTS", sl, sl, cluster.Name(uint64(to))).Err(); err != nil {
			t.Fatalf("round %d: CLUSTER MIGRATE-SLOTS %d to shard %d: %v", round, sl, to, err)
		}
		waitCluster(t, "the slot to move", 60*time.Second, func() bool { return slotMovedTo(admin, sl, base) })
		time.Sleep(200 * time.Millisecond) // clients follow the hand-over
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d requests, %d failed, %d gave up on redirections", ops.Load(), fails.Load(), loops.Load())
	if fails.Load() > 0 {
		t.Fatalf("%d of %d requests failed (%d gave up on redirections); the first: %v", fails.Load(), ops.Load(), loops.Load(), firstErr.Load())
	}
}
