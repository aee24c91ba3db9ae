package tests

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestSearchReplicasAgree checks the index on every replica of a 3-node cluster, through
// queries at eventual level, which each node answers from its own replicas. While clients
// change indexed hashes, every result a node returns must carry field values that match the
// query (the index and the data it returns are read from one view of the replica); once the
// writes stop, each node's index must converge to the hashes written, and each node's own
// copy of every hash to the acknowledged value.
func TestSearchReplicasAgree(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3")
	ctx := servertest.Ctx(t)
	seed := *scanSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed)", seed)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.Nodes[0].Addr}, Protocol: 2,
		DialTimeout: 2 * time.Second, ReadTimeout: 20 * time.Second, MaxRedirects: 16})
	t.Cleanup(func() { cc.Close() })
	var nodes []*redis.Client
	for _, n := range c.Nodes {
		nodes = append(nodes, n.Client())
	}
	if err := nodes[0].Do(ctx, "FT.CREATE", "rep", "ON", "HASH", "PREFIX", "1", "r:", "SCHEMA",
		"n", "NUMERIC", "t", "TAG").Err(); err != nil {
		t.Fatal(err)
	}

	// FT.CREATE answers once every shard's leader has the index; a follower may learn of it a
	// moment later, and until then its eventual-level queries answer that the index is not on
	// every shard. Wait for every node's replicas to have it.
	for i, node := range nodes {
		deadline := time.Now().Add(20 * time.Second)
		for node.Do(ctx, "CONSISTENCY", "eventual", "FT.SEARCH", "rep", "*", "LIMIT", 0, 0).Err() != nil {
			if time.Now().After(deadline) {
				t.Fatalf("node %d: no index at eventual level 20s after FT.CREATE", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	var mu sync.Mutex
	model := map[string]map[string]string{}
	var wg sync.WaitGroup
	wctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }() // a failed check stops the writers first
	for id := 0; id < 2; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(id)))
			for i := 0; i < 600 && wctx.Err() == nil; i++ {
				// Each writer owns its keys, so the model's order is the writes' order.
				k := fmt.Sprintf("r:%d:%d", id, rng.IntN(150))
				var err error
				var next map[string]string
				if rng.IntN(5) == 0 {
					err = cc.Del(wctx, k).Err()
				} else {
					next = map[string]string{"n": strconv.Itoa(rng.IntN(50)), "t": crashTags[rng.IntN(len(crashTags))]}
					err = cc.HSet(wctx, k, next).Err()
				}
				if err != nil {
					if wctx.Err() == nil {
						t.Errorf("write %s: %v", k, err)
					}
					return
				}
				mu.Lock()
				if next == nil {
					delete(model, k)
				} else {
					model[k] = next
				}
				mu.Unlock()
			}
		}(id)
	}

	// eventual runs FT.SEARCH on one node at eventual level: the keys found and their fields.
	eventual := func(node *redis.Client, query string) (map[string]map[string]string, error) {
		v, err := node.Do(ctx, "CONSISTENCY", "eventual", "FT.SEARCH", "rep", query, "LIMIT", 0, 100000, "RETURN", 2, "n", "t").Slice()
		if err != nil {
			return nil, err
		}
		out := map[string]map[string]string{}
		for i := 1; i+1 < len(v); i += 2 {
			f := map[string]string{}
			kv := v[i+1].([]any)
			for j := 0; j+1 < len(kv); j += 2 {
				f[kv[j].(string)] = kv[j+1].(string)
			}
			out[v[i].(string)] = f
		}
		if int(v[0].(int64)) != len(out) {
			return nil, fmt.Errorf("total %v, %d results", v[0], len(out))
		}
		return out, nil
	}
	// During the writes: whatever a replica returns matches the query it answered.
	queries := 0
	written := make(chan struct{})
	go func() { wg.Wait(); close(written) }()
	for done := false; !done; {
		select {
		case <-written:
			done = true
		default:
		}
		for i, node := range nodes {
			tag := crashTags[queries%len(crashTags)]
			lo := queries % 40
			res, err := eventual(node, fmt.Sprintf("@t:{%s} @n:[%d %d]", tag, lo, lo+10))
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
			for k, f := range res {
				n, _ := strconv.Atoi(f["n"])
				if f["t"] != tag || n < lo || n > lo+10 {
					t.Fatalf("node %d: @t:{%s} @n:[%d %d] found %s, whose fields are %v", i, tag, lo, lo+10, k, f)
				}
			}
			queries++
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d queries at eventual level during the writes; %d hashes", queries, len(model))

	// After the writes: every replica's index and data converge to what was written.
	for i, node := range nodes {
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := eventual(node, "*")
			if err == nil && equalDocs(res, model) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d: the index at eventual level holds %d documents (%v), the model %d hashes", i, len(res), err, len(model))
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, tag := range crashTags {
			res, err := eventual(node, "@t:{"+tag+"}")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]map[string]string{}
			for k, f := range model {
				if f["t"] == tag {
					want[k] = f
				}
			}
			if !equalDocs(res, want) {
				t.Fatalf("node %d: @t:{%s} found %d keys, the model has %d", i, tag, len(res), len(want))
			}
		}
		keys := slices.Sorted(maps.Keys(model))
		for _, k := range keys {
			h, err := node.Do(ctx, "CONSISTENCY", "eventual", "HGETALL", k).Result()
			if err != nil {
				t.Fatalf("node %d: HGETALL %s at eventual level: %v", i, k, err)
			}
			got := map[string]string{}
			switch h := h.(type) {
			case []any:
				for j := 0; j+1 < len(h); j += 2 {
					got[h[j].(string)] = h[j+1].(string)
				}
			case map[any]any:
				for f, v := range h {
					got[f.(string)] = v.(string)
				}
			}
			if !maps.Equal(got, model[k]) {
				t.Fatalf("node %d: its replica holds %s = %v, written %v", i, k, got, model[k])
			}
		}
	}
}

func equalDocs(a, b map[string]map[string]string) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}
