package tests

import (
	"context"
	"fmt"
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

// keyInSlot is a key that hashes to slot s.
func keyInSlot(prefix string, s int) string {
	for i := 0; ; i++ {
		if k := fmt.Sprintf("%s:%d", prefix, i); slot.KeySlot([]byte(k)) == s {
			return k
		}
	}
}

// leaderOps is each shard's command rate as its leader reports it in CLUSTER STATUS.
func leaderOps(t *testing.T, c *servertest.Cluster) map[uint64]float64 {
	t.Helper()
	out := map[uint64]float64{}
	for _, nd := range c.Nodes {
		for _, h := range splitStatus(t, nd).Hosted {
			if h.Role == "leader" {
				out[h.Shard] = h.OpsPerSec
			}
		}
	}
	return out
}

// With cluster-shard-max-ops set, a shard whose load stays above it splits where its load is:
// four hot slots near the bottom of shard 2's range, not its middle, so the split point falls
// between the second and third of them and each shard keeps two. Cluster-aware clients write
// the hot keys and read and write keys of every slot throughout; no request fails and no
// acknowledged write is lost.
func TestClusterShardLoadSplit(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	// Shard 1 owns 0-5460, shard 2 5461-10921, shard 3 10922-16383.
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3")
	ctx := context.Background() // the test runs longer than servertest.Ctx allows
	l := startSplitLoad(t, c, 3000, 2, seed)

	hot := []int{5600, 5700, 5800, 5900}
	const perKey = 3
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		hotOps   atomic.Int64
		failed   atomic.Value
		lastMu   sync.Mutex
		lastHot  = map[string]string{}
		hotKeys  []string
		cc       = c.Client()
		redirect = func(err error) bool {
			s := err.Error()
			return strings.HasPrefix(s, "TRYAGAIN") || strings.HasPrefix(s, "MOVED ") || strings.HasPrefix(s, "ASK ")
		}
	)
	for _, s := range hot {
		for w := range perKey {
			hotKeys = append(hotKeys, keyInSlot(fmt.Sprintf("hot%d-%d", s, w), s))
		}
	}
	for _, k := range hotKeys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; !stop.Load(); seq++ {
				v := strconv.Itoa(seq)
				err := cc.Set(ctx, k, v, 0).Err()
				hotOps.Add(1)
				switch {
				case err == nil:
					lastMu.Lock()
					lastHot[k] = v
					lastMu.Unlock()
				case redirect(err):
					// Not run; the value stays as it was.
				default:
					// Unknown outcome: find out what the key holds.
					got, gerr := cc.Get(ctx, k).Result()
					if gerr == nil && got == v {
						lastMu.Lock()
						lastHot[k] = v
						lastMu.Unlock()
					}
					failed.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	stopHot := func() { stop.Store(true); wg.Wait() }
	t.Cleanup(stopHot)

	// The hot keys' shard carries most of the load; the bound goes between it and the rest.
	var ops map[uint64]float64
	waitCluster(t, "the shards' leaders to report their load", 30*time.Second, func() bool {
		ops = leaderOps(t, c)
		return len(ops) == 3 && ops[2] > 0
	})
	time.Sleep(2 * time.Second) // a full rate window of the hot load
	ops = leaderOps(t, c)
	t.Logf("ops/s by shard before the split: %v", ops)
	if others := max(ops[1], ops[3]); ops[2] < 3*others {
		t.Fatalf("shard 2 (%.0f ops/s) does not carry three times the load of the others (%.0f)", ops[2], others)
	}
	bound := int(ops[2] / 2)
	for _, nd := range c.Nodes {
		if err := nd.Client().ConfigSet(ctx, "cluster-shard-max-ops", strconv.Itoa(bound)).Err(); err != nil {
			t.Fatal(err)
		}
		if got := nd.Client().ConfigGet(ctx, "cluster-shard-max-ops").Val()["cluster-shard-max-ops"]; got != strconv.Itoa(bound) {
			t.Fatalf("CONFIG GET cluster-shard-max-ops = %q, want %d", got, bound)
		}
	}
	began := time.Now()
	var at int
	// The split moves ~5,100 slots, each two to four Raft rounds on both shards: 1-2 minutes on
	// an idle machine with -race, over 3 on a loaded one.
	waitCluster(t, "the load split", 6*time.Minute, func() bool {
		st := splitStatus(t, c.Nodes[0])
		rs := shardRanges(st)
		if len(rs) != 4 || len(rs[4]) != 1 || len(rs[2]) != 1 || c.Nodes[0].ClusterInfo("cluster_slots_migrating") != "0" {
			return false
		}
		at = rs[4][0].Start
		return rs[2][0] == (cluster.SlotRange{Start: 5461, End: at - 1}) && rs[4][0].End == 10921
	})
	t.Logf("shard 2 split at slot %d (its middle is 8191) after %v over %d ops/s", at, time.Since(began).Round(time.Millisecond), bound)
	if at <= hot[1] || at > hot[2] {
		t.Fatalf("shard 2 split at slot %d: want between its hot slots %d and %d, where the load is half on each side", at, hot[1], hot[2])
	}
	stopHot()
	l.check()
	t.Logf("%d writes of hot keys", hotOps.Load())
	if err := failed.Load(); err != nil {
		t.Fatalf("a hot key's write failed: %v", err)
	}
	for _, k := range hotKeys {
		want, ok := lastHot[k]
		if !ok {
			t.Fatalf("no write of %s acknowledged", k)
		}
		if got, err := cc.Get(ctx, k).Result(); err != nil || got != want {
			t.Fatalf("afterwards GET %s = %q, %v; want %q", k, got, err, want)
		}
	}
}
