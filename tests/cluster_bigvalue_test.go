package tests

import (
	"strconv"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// Big values stored in chunks in a cluster: written through Raft, read from the leader, and
// moved with their slot to another shard (the slot batch carries the value inline, the target
// chunks it again), where GET, GETRANGE and APPEND see the same bytes.
func TestClusterBigValueSlotMove(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3")
	ctx := servertest.Ctx(t)
	cc := c.Client()
	const size = 3<<20 + 17
	val := make([]byte, size)
	for i := range val {
		val[i] = byte('a' + i%23 + i>>20)
	}
	want := map[string]string{"{mv}big": string(val), "{mv}small": "s"}
	for k, v := range want {
		if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cc.Append(ctx, "{mv}big", "+tail").Err(); err != nil {
		t.Fatal(err)
	}
	want["{mv}big"] += "+tail"
	checkAll := func(what string) {
		t.Helper()
		for k, v := range want {
			got, err := cc.Get(ctx, k).Result()
			if err != nil || got != v {
				t.Fatalf("%s: GET %s: %d bytes (err %v), want %d", what, k, len(got), err, len(v))
			}
		}
		if got, err := cc.GetRange(ctx, "{mv}big", 1<<20-2, 1<<20+2).Result(); err != nil || got != want["{mv}big"][1<<20-2:1<<20+3] {
			t.Fatalf("%s: GETRANGE across a chunk boundary = %q, %v", what, got, err)
		}
	}
	checkAll("before the move")
	if over := storedOver(t, cc.MemoryUsage(ctx, "{mv}big").Val(), len(want["{mv}big"])); over < 150 {
		t.Fatalf("MEMORY USAGE is %d bytes over the value: not stored in chunks", over)
	}
	sl := slot.KeySlot([]byte("{mv}big"))
	_, fromAddr, to, _ := slotShards(t, cc, sl, 3)
	conn := nodeAt(t, c, fromAddr).Dial()
	if got := conn.Do("CLUSTER", "MIGRATE-SLOTS", strconv.Itoa(sl), strconv.Itoa(sl), to); got != "+OK\r\n" {
		t.Fatalf("CLUSTER MIGRATE-SLOTS = %q", got)
	}
	toBase := (int(toID(t, to)) - 1) * slot.Count / 3
	cl := c.Nodes[0].Client()
	waitCluster(t, "the slot to move", 60*time.Second, func() bool { return slotMovedTo(cl, sl, toBase) })
	cc.ReloadState(ctx)
	checkAll("after the move")
	if err := cc.Append(ctx, "{mv}big", "!").Err(); err != nil {
		t.Fatal(err)
	}
	want["{mv}big"] += "!"
	checkAll("after APPEND on the target")
	if n, err := cc.Del(ctx, "{mv}big").Result(); err != nil || n != 1 {
		t.Fatalf("DEL = %d, %v", n, err)
	}
}

// storedOver is how much MEMORY USAGE reports beyond the value: a chunked string adds its
// version, its length and each chunk's key (keyspace/chunks.go), 200 bytes and more for a few
// MB; an inline one only its metadata record's header and key.
func storedOver(t *testing.T, usage int64, n int) int64 {
	t.Helper()
	if usage < int64(n) {
		t.Fatalf("MEMORY USAGE %d, less than the value's %d bytes", usage, n)
	}
	return usage - int64(n)
}

// Chunks are an apply behaviour of cluster version 4: a cluster running version 3 (its nodes'
// binaries not all upgraded) stores big strings inline, as a version-3 binary would, and
// serves them the same.
func TestClusterBigValueVersionGate(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "1", "--debug-code-version", "3")
	ctx := servertest.Ctx(t)
	cc := c.Client()
	val := string(make([]byte, 2<<20))
	if err := cc.Set(ctx, "big", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := cc.Get(ctx, "big").Result(); err != nil || got != val {
		t.Fatalf("GET big: %d bytes, %v", len(got), err)
	}
	if over := storedOver(t, cc.MemoryUsage(ctx, "big").Val(), len(val)); over >= 100 {
		t.Fatalf("at cluster version 3, MEMORY USAGE is %d bytes over the value: stored in chunks", over)
	}
}
