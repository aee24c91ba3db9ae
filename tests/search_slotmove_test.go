package tests

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// TestSearchSlotMove queries an index over the whole cluster while the slot holding most of its
// documents moves to another shard (slowly, so many queries overlap the move): a result never
// lists a key twice nor counts more documents than it lists, and once the slot has moved every
// document is found exactly once. While a batch of keys is in flight between the shards a query
// may miss them (see the README).
func TestSearchSlotMove(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-slot-migrate-rate", "2000")
	// The move is slow on purpose, longer than servertest.Ctx's minute on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cc := c.Client()
	const moving, others = 3000, 300
	var all []string
	pipe := cc.Pipeline()
	for i := 0; i < moving; i++ {
		k := fmt.Sprintf("{mv}doc:%05d", i)
		pipe.HSet(ctx, k, "n", i)
		all = append(all, k)
	}
	for i := 0; i < others; i++ {
		k := fmt.Sprintf("doc:%05d", i)
		pipe.HSet(ctx, k, "n", i)
		all = append(all, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	node := c.Nodes[0].Client()
	if err := node.Do(ctx, "FT.CREATE", "mv", "ON", "HASH", "PREFIX", "2", "{mv}doc:", "doc:", "SCHEMA", "n", "NUMERIC").Err(); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, node, "mv")
	query := func() []string {
		t.Helper()
		v, err := node.Do(ctx, "FT.SEARCH", "mv", "*", "NOCONTENT", "LIMIT", 0, 100000).Slice()
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, k := range v[1:] {
			keys = append(keys, k.(string))
		}
		slices.Sort(keys)
		if d := slices.Compact(slices.Clone(keys)); len(d) != len(keys) {
			t.Fatalf("a result lists %d keys, %d of them distinct", len(keys), len(d))
		}
		if int(v[0].(int64)) != len(keys) {
			t.Fatalf("a result counts %d documents and lists %d", v[0], len(keys))
		}
		return keys
	}
	if got := query(); !slices.Equal(got, all) {
		t.Fatalf("before the move: %d documents found, %d hashes", len(got), len(all))
	}

	sl := slot.KeySlot([]byte("{mv}"))
	_, fromAddr, to, _ := slotShards(t, cc, sl, 3)
	src := nodeAt(t, c, fromAddr).Client()
	if err := src.Do(ctx, "CLUSTER", "MIGRATE-SLOTS", sl, sl, to).Err(); err != nil {
		t.Fatal(err)
	}
	base := (int(toID(t, to)) - 1) * slot.Count / 3
	queries, short := 0, 0
	deadline := time.Now().Add(180 * time.Second)
	for !slotMovedTo(src, sl, base) {
		if time.Now().After(deadline) {
			t.Fatal("the slot did not move in 180s")
		}
		if len(query()) < len(all) {
			short++
		}
		queries++
	}
	t.Logf("%d queries during the move, %d of them missed keys in flight", queries, short)
	for _, n := range c.Nodes {
		waitCluster(t, "every node to see the slot moved", 10*time.Second, func() bool { return slotMovedTo(n.Client(), sl, base) })
	}
	if got := query(); !slices.Equal(got, all) {
		t.Fatalf("after the move: %d documents found, %d hashes", len(got), len(all))
	}
}
