package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/server"
	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// splitStatus is CLUSTER STATUS from one node.
func splitStatus(t testing.TB, s *servertest.Server) server.ClusterStatus {
	t.Helper()
	b, err := s.Client().Do(context.Background(), "CLUSTER", "STATUS").Text()
	if err != nil {
		t.Fatal(err)
	}
	var st server.ClusterStatus
	if err := json.Unmarshal([]byte(b), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// shardRanges maps each shard to its slot ranges, as a node's CLUSTER STATUS says.
func shardRanges(st server.ClusterStatus) map[uint64][]cluster.SlotRange {
	out := map[uint64][]cluster.SlotRange{}
	for _, sh := range st.Shards {
		out[sh.ID] = sh.Slots
	}
	return out
}

// settledOn reports whether a node's view has the shards want (shard → ranges), with no slot
// migrating and every shard led.
func settledOn(s *servertest.Server, want map[uint64][]cluster.SlotRange) bool {
	b, err := s.Client().Do(context.Background(), "CLUSTER", "STATUS").Text()
	if err != nil {
		return false
	}
	var st server.ClusterStatus
	if json.Unmarshal([]byte(b), &st) != nil {
		return false
	}
	for _, sh := range st.Shards {
		if sh.Leader == 0 {
			return false
		}
	}
	return reflect.DeepEqual(shardRanges(st), want) && s.ClusterInfo("cluster_slots_migrating") == "0"
}

// sr is one slot range.
func sr(start, end int) []cluster.SlotRange { return []cluster.SlotRange{{Start: start, End: end}} }

// splitLoad is cluster-aware clients (go-redis) reading and writing keys of every slot without
// pause: worker w owns the keys i with i%workers == w, and checks that each read returns the
// last value it wrote there. A request may fail only with TRYAGAIN, MOVED or ASK once the
// client gave up following them (a key in flight for longer than it retries, or nodes whose
// topologies disagree for a moment), none of which runs the command.
type splitLoad struct {
	t        *testing.T
	cc       *redis.ClusterClient
	n        int
	stop     atomic.Bool
	wg       sync.WaitGroup
	ops      atomic.Int64
	fails    atomic.Int64
	tryAgain atomic.Int64
	firstErr atomic.Value
	last     []map[string]string
}

func splitKey(i int) string { return fmt.Sprintf("split:%06d", i) }

// fillKeys sets keys to value ("" : "initial:<i>" for the i-th) from 16 goroutines. Not through a
// ClusterClient pipeline: go-redis v9.23's pipelines over several nodes race (the race
// detector sees commands' errors written from two goroutines).
func fillKeys(t testing.TB, cc *redis.ClusterClient, keys []string, value string) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(keys); i += 16 {
				v := value
				if v == "" {
					v = "initial:" + strconv.Itoa(i)
				}
				if err := cc.Set(context.Background(), keys[i], v, 0).Err(); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
}

// startSplitLoad writes n keys, then starts the workers.
func startSplitLoad(t *testing.T, c *servertest.Cluster, n, workers int, seed uint64) *splitLoad {
	t.Helper()
	ctx := context.Background() // the test runs longer than servertest.Ctx allows
	l := &splitLoad{t: t, cc: c.Client(), n: n, last: make([]map[string]string, workers)}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = splitKey(i)
	}
	fillKeys(t, l.cc, keys, "")
	for w := 0; w < workers; w++ {
		l.last[w] = map[string]string{}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for seq := 0; !l.stop.Load(); seq++ {
				i := rng.IntN(n/workers)*workers + w
				k := splitKey(i)
				want, known := l.last[w][k]
				if !known {
					want = "initial:" + strconv.Itoa(i)
				}
				var err error
				if rng.IntN(2) == 0 {
					v := fmt.Sprintf("w%d:%d", w, seq)
					if err = l.cc.Set(ctx, k, v, 0).Err(); err == nil {
						l.last[w][k] = v
					} else {
						// Unknown outcome: the write may have happened. Find out, so that
						// later reads know what to expect.
						got, gerr := l.cc.Get(ctx, k).Result()
						if gerr == nil && (got == v || got == want) {
							l.last[w][k] = got
						}
					}
				} else {
					var got string
					got, err = l.cc.Get(ctx, k).Result()
					if errors.Is(err, redis.Nil) {
						err = fmt.Errorf("GET %s = nil, want %q", k, want)
					} else if err == nil && got != want {
						err = fmt.Errorf("GET %s = %q, want %q", k, got, want)
					}
				}
				l.ops.Add(1)
				if err != nil && (strings.HasPrefix(err.Error(), "TRYAGAIN") || strings.HasPrefix(err.Error(), "MOVED ") || strings.HasPrefix(err.Error(), "ASK ")) {
					// The client followed redirections, or retried a key in flight between
					// shards, as long as it would (16 times); these are the replies a slot in
					// motion may give, answered without running the command.
					l.tryAgain.Add(1)
					continue
				}
				if err != nil {
					l.fails.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	t.Cleanup(l.finish)
	return l
}

func (l *splitLoad) finish() { l.stop.Store(true); l.wg.Wait() }

// check stops the workers and checks that no request failed and every key holds its last
// acknowledged value.
func (l *splitLoad) check() {
	t := l.t
	t.Helper()
	l.finish()
	t.Logf("%d requests, %d failed, %d answered TRYAGAIN, MOVED or ASK after the client's retries", l.ops.Load(), l.fails.Load(), l.tryAgain.Load())
	if f := l.fails.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed; the first: %v", f, l.ops.Load(), l.firstErr.Load())
	}
	ctx := context.Background()
	for i := 0; i < l.n; i++ {
		k := splitKey(i)
		want, ok := l.last[i%len(l.last)][k]
		if !ok {
			want = "initial:" + strconv.Itoa(i)
		}
		if got, err := l.cc.Get(ctx, k).Result(); err != nil || got != want {
			t.Fatalf("afterwards GET %s = %q, %v; want %q", k, got, err, want)
		}
	}
}

// A shard splits on CLUSTER SPLIT-SHARD while cluster-aware clients read and write keys of
// every slot: a new shard (replicas on three nodes) takes the upper half of its slots, no
// request fails, no acknowledged write is lost, and every node's CLUSTER STATUS, SHARDS and
// SLOTS show the new layout.
func TestClusterShardSplit(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3")
	const n = 10000
	l := startSplitLoad(t, c, n, 8, seed)
	time.Sleep(300 * time.Millisecond) // some traffic before the split
	rdb := c.Nodes[0].Client()
	ctx := context.Background() // the test runs longer than servertest.Ctx allows
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"CLUSTER", "SPLIT-SHARD", "nope"}, "ERR Invalid shard id nope"},
		{[]any{"CLUSTER", "SPLIT-SHARD", "9"}, "ERR no shard 9"},
		{[]any{"CLUSTER", "SPLIT-SHARD", "1", "6000"}, "ERR shard 1 cannot split at slot 6000: it must own that slot and one below it"},
		{[]any{"CLUSTER", "MERGE-SHARDS", "1", "3"}, "ERR shards 1 and 3 own no adjacent slot ranges"},
	} {
		if err := rdb.Do(ctx, tc.args...).Err(); err == nil || err.Error() != tc.want {
			t.Fatalf("%v = %v, want %q", tc.args, err, tc.want)
		}
	}
	began := time.Now()
	name, err := rdb.Do(ctx, "CLUSTER", "SPLIT-SHARD", cluster.Name(1)).Text()
	if err != nil {
		t.Fatal(err)
	}
	if name != cluster.Name(4) {
		t.Fatalf("CLUSTER SPLIT-SHARD = %q, want shard 4 (%s)", name, cluster.Name(4))
	}
	if err := rdb.Do(ctx, "CLUSTER", "SPLIT-SHARD", "1").Err(); err == nil || !strings.Contains(err.Error(), "has slots migrating") {
		t.Fatalf("a second split while the first runs: %v", err)
	}
	want := map[uint64][]cluster.SlotRange{1: sr(0, 2729), 2: sr(5461, 10921), 3: sr(10922, 16383), 4: sr(2730, 5460)}
	waitCluster(t, "the split", 3*time.Minute, func() bool { return settledOn(c.Nodes[0], want) })
	t.Logf("split shard 1 (%d keys of %d) in %v", n/3, n, time.Since(began).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // and some traffic after
	l.check()
	for _, nd := range c.Nodes {
		waitCluster(t, "every node to see the split", 10*time.Second, func() bool { return settledOn(nd, want) })
		shards, err := nd.Client().ClusterShards(ctx).Result()
		if err != nil || len(shards) != 4 {
			t.Fatalf("CLUSTER SHARDS on %s: %d shards, %v", nd.Addr, len(shards), err)
		}
		slots, err := nd.Client().ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		covered := 0
		for _, s := range slots {
			covered += s.End - s.Start + 1
			if s.Start == 2730 && s.End != 5460 {
				t.Fatalf("CLUSTER SLOTS on %s: range %d-%d, want 2730-5460", nd.Addr, s.Start, s.End)
			}
		}
		if covered != slot.Count {
			t.Fatalf("CLUSTER SLOTS on %s covers %d slots", nd.Addr, covered)
		}
	}
	// Every node holds a replica of the new shard, with its share of the keys.
	for _, nd := range c.Nodes {
		st := splitStatus(t, nd)
		found := false
		for _, h := range st.Hosted {
			if h.Shard == 4 {
				found = true
				if h.Keys < n/10 {
					t.Errorf("node %s's replica of shard 4 holds %d keys", nd.Addr, h.Keys)
				}
			}
		}
		if !found {
			t.Errorf("node %s hosts no replica of shard 4", nd.Addr)
		}
	}
}

// Shard 3 merges into shard 2 on CLUSTER MERGE-SHARDS under load: its slots move, it retires,
// and every node drops its replica and deletes its data.
func TestClusterShardMerge(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3")
	const n = 10000
	l := startSplitLoad(t, c, n, 8, seed)
	time.Sleep(300 * time.Millisecond)
	rdb := c.Nodes[1].Client()
	ctx := context.Background() // the test runs longer than servertest.Ctx allows
	began := time.Now()
	if err := rdb.Do(ctx, "CLUSTER", "MERGE-SHARDS", "3", cluster.Name(2)).Err(); err != nil {
		t.Fatal(err)
	}
	want := map[uint64][]cluster.SlotRange{1: sr(0, 5460), 2: sr(5461, 16383)}
	waitCluster(t, "the merge", 3*time.Minute, func() bool { return settledOn(c.Nodes[1], want) })
	t.Logf("merged shard 3 (%d keys of %d) into shard 2 in %v", n/3, n, time.Since(began).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	l.check()
	for _, nd := range c.Nodes {
		waitCluster(t, "every node to see the merge", 10*time.Second, func() bool { return settledOn(nd, want) })
		waitCluster(t, "the retired shard's data to be deleted", 10*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(nd.Dir, "shards", "3"))
			return os.IsNotExist(err)
		})
		for _, h := range splitStatus(t, nd).Hosted {
			if h.Shard == 3 {
				t.Errorf("node %s still hosts shard 3", nd.Addr)
			}
		}
	}
}

// With a small cluster-shard-max-bytes, the meta group's leader splits the shard that grew past
// it by itself (its leader reports its size through gossip), once, under load, and where its
// bytes are half on each side: they are in its lowest quarter of slots, so it splits there, not
// in the middle of its slots.
func TestClusterShardAutoSplit(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	// Eight shards of 2048 slots: shard 1 owns 0-2047.
	c := servertest.StartCluster(t, 3, "--cluster-shards", "8")
	ctx := context.Background() // the test runs longer than servertest.Ctx allows
	// Fill shard 1's slots 0-511 only, with 1 KB random values: their bytes stay bytes once
	// compressed into sstables, which the leader weighs. (Not in a pipeline: go-redis's
	// ClusterClient pipelines race, see startSplitLoad.)
	cc := c.Client()
	var keys []string
	for i := 0; len(keys) < 8000; i++ {
		if k := fmt.Sprintf("big:%d", i); slot.KeySlot([]byte(k)) < 512 {
			keys = append(keys, k)
		}
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			value := make([]byte, 1024)
			for i := g; i < len(keys); i += 16 {
				for j := range value {
					value[j] = byte(rng.Uint32())
				}
				if err := cc.Set(ctx, keys[i], value, 0).Err(); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
	l := startSplitLoad(t, c, 4000, 4, seed)
	// Sizes as the leaders report them: shard 1 grew, the others did not.
	sizes := map[uint64]uint64{}
	waitCluster(t, "the shards' sizes", 20*time.Second, func() bool {
		for _, nd := range c.Nodes {
			for _, h := range splitStatus(t, nd).Hosted {
				if h.Role == "leader" {
					sizes[h.Shard] = h.DataBytes
				}
			}
		}
		return len(sizes) == 8
	})
	t.Logf("shard sizes: %v", sizes)
	limit := sizes[1] * 3 / 4
	for id, b := range sizes {
		if id != 1 && b >= limit/2 {
			t.Fatalf("shard %d (%d bytes) is not much smaller than shard 1 (%d bytes)", id, b, sizes[1])
		}
	}
	before := shardRanges(splitStatus(t, c.Nodes[0]))
	for _, nd := range c.Nodes {
		if err := nd.Client().ConfigSet(ctx, "cluster-shard-max-bytes", strconv.FormatUint(limit, 10)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	at := 0
	waitCluster(t, "the automatic split", 3*time.Minute, func() bool {
		rs := shardRanges(splitStatus(t, c.Nodes[2]))
		if len(rs[9]) != 1 || rs[9][0].End != 2047 {
			return false
		}
		at = rs[9][0].Start
		want := shardRanges(splitStatus(t, c.Nodes[0]))
		for id, r := range before {
			want[id] = r
		}
		want[1], want[9] = sr(0, at-1), sr(at, 2047)
		return settledOn(c.Nodes[2], want)
	})
	t.Logf("split at slot %d in %v", at, time.Since(began).Round(time.Millisecond))
	// Half the bytes are below slot 256 (give or take the engine's estimate and the keys'
	// spread over slots), the middle of the shard's slots is 1024.
	if at < 128 || at > 384 {
		t.Fatalf("shard 1 split at slot %d, not where its bytes are half on each side (about 256)", at)
	}
	l.check()
	// Shard 1's replicas compact away the records that left, so it does not split again.
	time.Sleep(20 * time.Second)
	for _, nd := range c.Nodes {
		if st := splitStatus(t, nd); len(st.Shards) != 9 {
			t.Fatalf("node %s shows %d shards after the split settled, want 9: %+v", nd.Addr, len(st.Shards), shardRanges(st))
		}
	}
}

// BenchmarkClusterShardSplit splits a shard holding 50,000 keys (32-byte values) of a
// three-node cluster, at the default cluster-slot-migrate-rate, and reports the time until
// every slot is handed over (run with -benchtime=1x: each iteration splits the shard left).
func BenchmarkClusterShardSplit(b *testing.B) {
	c := servertest.StartCluster(b, 3, "--cluster-shards", "3")
	ctx := context.Background()
	cc := c.Client()
	var keys []string
	for i := 0; len(keys) < 50000; i++ {
		if k := fmt.Sprintf("bench:%d", i); slot.KeySlot([]byte(k)) <= 5460 {
			keys = append(keys, k)
		}
	}
	fillKeys(b, cc, keys, strings.Repeat("v", 32))
	rdb := c.Nodes[0].Client()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		name, err := rdb.Do(ctx, "CLUSTER", "SPLIT-SHARD", "1").Text()
		if err != nil {
			b.Fatal(err)
		}
		id, _ := cluster.ParseName(name)
		deadline := time.Now().Add(10 * time.Minute)
		for {
			st := splitStatus(b, c.Nodes[0])
			if len(shardRanges(st)[id]) > 0 && c.Nodes[0].ClusterInfo("cluster_slots_migrating") == "0" {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("the split did not finish within 10 minutes")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/split")
}
