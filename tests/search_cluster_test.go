package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// TestSearchCluster runs FT.* on a cluster of several shards against a single node loaded with
// the same hashes: every query whose result does not depend on scores must answer exactly as
// the single node does, sent to any node, in RESP2 and RESP3.
func TestSearchCluster(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "4")
	single := servertest.Start(t)
	ctx := servertest.Ctx(t)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 14))

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.Nodes[0].Addr}, Protocol: 2,
		DialTimeout: 2 * time.Second, ReadTimeout: 20 * time.Second, MaxRedirects: 16})
	t.Cleanup(func() { cc.Close() })
	sc := single.Client()
	// One plain connection per node, as a client that is not cluster-aware has: FT.* names no
	// key, so any node answers it.
	var nodes, nodes3 []*redis.Client
	for _, n := range c.Nodes {
		nodes = append(nodes, n.Client())
		nodes3 = append(nodes3, n.Client(servertest.RESP3))
	}
	sc3 := single.Client(servertest.RESP3)

	cats := []string{"books", "games", "tools", "food", "music"}
	words := []string{"red", "blue", "green", "fast", "slow", "small", "large"}
	slots := map[int]bool{}
	put := func(i int) {
		t.Helper()
		k := fmt.Sprintf("item:%d", i)
		slots[slot.KeySlot([]byte(k))] = true
		vals := []any{"name", words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))],
			"price", strconv.Itoa(rng.IntN(100)), "cat", cats[rng.IntN(len(cats))]}
		if rng.IntN(10) == 0 {
			vals = vals[:4] // no tag: a document some queries do not match
		}
		if err := cc.HSet(ctx, k, vals...).Err(); err != nil {
			t.Fatal(err)
		}
		if err := sc.HSet(ctx, k, vals...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Hashes before the index (built in the background) and after it (indexed as written).
	for i := 0; i < 150; i++ {
		put(i)
	}
	create := []any{"FT.CREATE", "items", "ON", "HASH", "PREFIX", "1", "item:", "SCHEMA",
		"name", "TEXT", "price", "NUMERIC", "SORTABLE", "cat", "TAG", "SORTABLE"}
	if err := nodes[1].Do(ctx, create...).Err(); err != nil {
		t.Fatalf("FT.CREATE on a cluster: %v", err)
	}
	if err := sc.Do(ctx, create...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := nodes[2].Do(ctx, create...).Err(); err == nil || err.Error() != "Index already exists" {
		t.Fatalf("FT.CREATE of an existing index: %v", err)
	}
	for i := 150; i < 300; i++ {
		put(i)
	}
	if len(slots) < 100 {
		t.Fatalf("the keys fall in only %d slots", len(slots))
	}
	waitIndexed(t, nodes[0], "items")

	queries := [][]any{
		{"FT.SEARCH", "items", "*", "LIMIT", "0", "0"},
		{"FT.SEARCH", "items", "@cat:{books}", "SORTBY", "price", "ASC", "LIMIT", "0", "1000", "NOCONTENT"},
		{"FT.SEARCH", "items", "@cat:{books|games}", "SORTBY", "price", "DESC", "LIMIT", "5", "10"},
		{"FT.SEARCH", "items", "@price:[20 (60]", "SORTBY", "price", "LIMIT", "0", "7", "RETURN", "1", "cat"},
		{"FT.SEARCH", "items", "-@cat:{food}", "SORTBY", "cat", "ASC", "LIMIT", "13", "20", "RETURN", "2", "cat", "price"},
		{"FT.SEARCH", "items", "@price:[-inf 50]", "SORTBY", "price", "ASC", "LIMIT", "1000", "10"},
		{"FT.SEARCH", "items", "@cat:{tools}", "SORTBY", "price", "INKEYS", "4", "item:1", "item:2", "item:200", "item:299"},
		{"FT.SEARCH", "items", "red | blue", "SORTBY", "price", "DESC", "LIMIT", "0", "25", "RETURN", "1", "name"},
		{"FT.SEARCH", "items", "@cat:{$c}", "PARAMS", "2", "c", "music", "SORTBY", "price", "DIALECT", "2"},
		// Scores: text terms weighed by the document frequencies of the whole cluster.
		{"FT.SEARCH", "items", "red", "WITHSCORES", "LIMIT", "0", "1000", "NOCONTENT"},
		{"FT.SEARCH", "items", "(fast | slow) -small", "WITHSCORES", "LIMIT", "3", "9", "RETURN", "1", "name"},
		{"FT.SEARCH", "items", "@name:large @cat:{tools|food}", "WITHSCORES", "SORTBY", "price", "DESC"},
		{"FT.SEARCH", "items", "gre*", "WITHSCORES", "LIMIT", "0", "50"},
		{"FT.SEARCH", "items", "@nosuch:{x}"},
		{"FT.SEARCH", "nosuch", "*"},
		{"FT.SEARCH", "items", "*", "LIMIT", "x", "1"},
		{"FT.AGGREGATE", "items", "*", "GROUPBY", "1", "@cat", "REDUCE", "COUNT", "0", "AS", "n", "SORTBY", "2", "@cat", "ASC"},
		{"FT.AGGREGATE", "items", "@price:[10 90]", "GROUPBY", "1", "@cat",
			"REDUCE", "AVG", "1", "@price", "AS", "avg", "REDUCE", "COUNT_DISTINCT", "1", "@name", "AS", "names",
			"REDUCE", "MIN", "1", "@price", "AS", "lo", "REDUCE", "SUM", "1", "@price", "AS", "sum",
			"SORTBY", "2", "@avg", "DESC", "LIMIT", "0", "3"},
		{"FT.AGGREGATE", "items", "@cat:{games}", "LOAD", "2", "@price", "@name", "APPLY", "@price*2", "AS", "double",
			"SORTBY", "4", "@double", "DESC", "@name", "ASC", "LIMIT", "2", "5"},
		{"FT.AGGREGATE", "items", "*", "GROUPBY", "0", "REDUCE", "COUNT", "0", "AS", "all"},
		// Groups in the order of their first documents, as a single node makes them.
		{"FT.AGGREGATE", "items", "@price:[0 30]", "LOAD", "1", "@cat", "GROUPBY", "2", "@cat", "@price",
			"REDUCE", "MAX", "1", "@price", "AS", "hi", "APPLY", "@hi+1", "AS", "next", "FILTER", "@next>5", "LIMIT", "0", "40"},
		// TOLIST keeps documents' order: the pipeline runs over every shard's documents.
		{"FT.AGGREGATE", "items", "@cat:{food}", "GROUPBY", "1", "@price", "REDUCE", "TOLIST", "1", "@name", "AS", "names",
			"SORTBY", "2", "@price", "ASC"},
		{"FT.TAGVALS", "items", "cat"},
		{"FT._LIST"},
		{"FT.EXPLAIN", "items", "@cat:{books} @price:[1 2]"},
	}
	check := func(node int, q []any) {
		t.Helper()
		for _, proto := range []int{2, 3} {
			on, ref := nodes[node], sc
			if proto == 3 {
				on, ref = nodes3[node], sc3
			}
			want, werr := ref.Do(ctx, q...).Result()
			got, gerr := on.Do(ctx, q...).Result()
			if fmt.Sprint(werr) != fmt.Sprint(gerr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("RESP%d %v on node %d:\n got  %v, %v\n want %v, %v", proto, q, node, got, gerr, want, werr)
			}
		}
	}
	for i, q := range queries {
		check(i%len(nodes), q)
	}

	// FT.INFO sums the shards' documents.
	info, err := nodes[2].Do(ctx, "FT.INFO", "items").Slice()
	if err != nil {
		t.Fatal(err)
	}
	total, err := sc.Do(ctx, "FT.SEARCH", "items", "*", "LIMIT", "0", "0").Slice()
	if err != nil {
		t.Fatal(err)
	}
	if got := ftInfoField(info, "num_docs"); fmt.Sprint(got) != fmt.Sprint(total[0]) || fmt.Sprint(total[0]) != "300" {
		t.Fatalf("FT.INFO num_docs = %v, want %v (300 documents)", got, total[0])
	}

	// A hash written through its shard's leader is found at once by a query sent to any node.
	for i := 0; i < 12; i++ {
		k := fmt.Sprintf("item:new%d", i)
		tag := fmt.Sprintf("fresh%d", i)
		if err := cc.HSet(ctx, k, "name", "new", "price", "5", "cat", tag).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := nodes[i%len(nodes)].Do(ctx, "FT.SEARCH", "items", "@cat:{"+tag+"}", "NOCONTENT").Slice()
		if err != nil || len(got) != 2 || got[1] != k {
			t.Fatalf("query on node %d right after HSET %s: %v, %v", i%len(nodes), k, got, err)
		}
		// The same at eventual level on a node's own replicas need not see it; it must not fail.
		if err := nodes[i%len(nodes)].Do(ctx, "CONSISTENCY", "eventual", "FT.SEARCH", "items", "*", "LIMIT", "0", "0").Err(); err != nil {
			t.Fatalf("FT.SEARCH at eventual level: %v", err)
		}
	}

	// Aliases and FT.ALTER reach every shard.
	for _, q := range [][]any{{"FT.ALIASADD", "stock", "items"}, {"FT.ALTER", "items", "SCHEMA", "ADD", "colour", "TAG"}} {
		if err := nodes[0].Do(ctx, q...).Err(); err != nil {
			t.Fatalf("%v: %v", q, err)
		}
		if err := sc.Do(ctx, q...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := nodes[1].Do(ctx, "FT.ALIASADD", "stock", "items").Err(); err == nil || err.Error() != "Alias already exists" {
		t.Fatalf("FT.ALIASADD twice: %v", err)
	}
	if err := cc.HSet(ctx, "item:coloured", "name", "paint", "price", "1", "colour", "teal").Err(); err != nil {
		t.Fatal(err)
	}
	if err := sc.HSet(ctx, "item:coloured", "name", "paint", "price", "1", "colour", "teal").Err(); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, nodes[0], "items")
	check(2, []any{"FT.SEARCH", "stock", "@colour:{teal}", "RETURN", "1", "colour"})

	// FT.DROPINDEX leaves no shard with the index.
	if err := nodes[2].Do(ctx, "FT.DROPINDEX", "items").Err(); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		if l, err := n.Do(ctx, "FT._LIST").Slice(); err != nil || len(l) != 0 {
			t.Fatalf("FT._LIST on node %d after FT.DROPINDEX: %v, %v", i, l, err)
		}
		if err := n.Do(ctx, "FT.SEARCH", "items", "*").Err(); err == nil || !strings.Contains(err.Error(), "no such index") {
			t.Fatalf("FT.SEARCH on node %d after FT.DROPINDEX: %v", i, err)
		}
	}
	if err := nodes[0].Do(ctx, "FT.DROPINDEX", "items").Err(); err == nil || err.Error() != "Unknown Index name" {
		t.Fatalf("FT.DROPINDEX of a dropped index: %v", err)
	}
	for _, k := range []string{"item:1", "item:299", "item:coloured"} {
		if n, err := cc.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Fatalf("FT.DROPINDEX without DD deleted %s: %d, %v", k, n, err)
		}
	}
}

// waitIndexed polls FT.INFO until the index's background build is done on every shard.
func waitIndexed(t *testing.T, c *redis.Client, name string) {
	t.Helper()
	ctx := servertest.Ctx(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.Do(ctx, "FT.INFO", name).Slice()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ftInfoField(info, "indexing")) == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %s still building after 30s: %v", name, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// infoField is a field of a RESP2 FT.INFO reply.
func ftInfoField(info []any, name string) any {
	for i := 0; i+1 < len(info); i += 2 {
		if info[i] == name {
			return info[i+1]
		}
	}
	return nil
}

// TestSearchRedisOMCluster runs the redis-om for Node script of TestSearchRedisOM against one
// node of a cluster with several shards, through the proxy (redis-om's client is not
// cluster-aware): its entities spread over the shards, and its searches fan out to them.
func TestSearchRedisOMCluster(t *testing.T) {
	node := lookTool(t, "node")
	dir := npmInstall(t, "redis-om", "redis-om")
	c := servertest.StartCluster(t, 3, "--cluster-shards", "4", "--cluster-proxy", "yes")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "search.mjs", c.Nodes[1].Addr)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "redis-om ok") {
		t.Fatalf("redis-om against a cluster: %v\n%s", err, out)
	}
}

// TestSearchClusterLeaderDown creates an index right after a node that leads shards is killed:
// FT.CREATE follows each of those shards to its new leader, and answers only once every shard
// has the index; queries then count every hash, and the node, restarted, answers them too.
func TestSearchClusterLeaderDown(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3")
	ctx := servertest.Ctx(t)
	cc := c.Client()
	for i := 0; i < 90; i++ {
		if err := cc.HSet(ctx, fmt.Sprintf("doc:%d", i), "n", strconv.Itoa(i), "t", []string{"a", "b", "c"}[i%3]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	victim := c.LeaderOf("doc:0")
	var other *servertest.Server
	for _, n := range c.Nodes {
		if n != victim {
			other = n
			break
		}
	}
	victim.Kill()
	oc := other.Client()
	start := time.Now()
	if err := oc.Do(ctx, "FT.CREATE", "docs", "PREFIX", "1", "doc:", "SCHEMA", "n", "NUMERIC", "SORTABLE", "t", "TAG").Err(); err != nil {
		t.Fatalf("FT.CREATE with a leader down: %v", err)
	}
	t.Logf("FT.CREATE answered %v after a leader was killed", time.Since(start))
	waitIndexed(t, oc, "docs")
	got, err := oc.Do(ctx, "FT.SEARCH", "docs", "@t:{b}", "SORTBY", "n", "DESC", "LIMIT", "0", "3", "NOCONTENT").Slice()
	if err != nil || fmt.Sprint(got) != "[30 doc:88 doc:85 doc:82]" {
		t.Fatalf("FT.SEARCH with a node down: %v, %v", got, err)
	}
	victim.Restart()
	vc := victim.Client()
	waitCluster(t, "the restarted node to answer FT.SEARCH", 30*time.Second, func() bool {
		got, err := vc.Do(ctx, "FT.SEARCH", "docs", "*", "LIMIT", "0", "0").Slice()
		return err == nil && fmt.Sprint(got) == "[90]"
	})
}
