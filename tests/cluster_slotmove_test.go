package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
	"github.com/cairn-db/cairn/tests/check"
)

// slotShards returns the shard owning slot sl and another shard (as CLUSTER SHARDS names
// them: a cluster of n shards founded with the slots split evenly in shard order) led by
// another node, with the addresses of their leaders. It waits for leaders to spread that way.
func slotShards(t testing.TB, rdb redis.UniversalClient, sl, shards int) (from, fromAddr, to, toAddr string) {
	t.Helper()
	fromID := 1
	for fromID < shards && sl >= fromID*slot.Count/shards {
		fromID++
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ranges, err := rdb.ClusterSlots(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		leaders := map[int]string{}
		for _, r := range ranges {
			for id := 1; id <= shards; id++ {
				if r.Start == (id-1)*slot.Count/shards {
					leaders[id] = r.Nodes[0].Addr
				}
			}
		}
		for toID := 1; toID <= shards; toID++ {
			if toID != fromID && leaders[toID] != "" && leaders[fromID] != "" && leaders[toID] != leaders[fromID] {
				return cluster.Name(uint64(fromID)), leaders[fromID], cluster.Name(uint64(toID)), leaders[toID]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot %d: no other shard led by another node than shard %d's in %+v", sl, fromID, ranges)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// slotMovedTo reports whether, on the node rdb talks to, slot sl has finished moving to the
// shard that owns slot base: no migration is left, and CLUSTER SLOTS gives both slots the same
// master. (Leaders may change while the slot moves, so the master's address is not fixed.)
func slotMovedTo(rdb *redis.Client, sl, base int) bool {
	ctx := context.Background()
	info, err := rdb.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_slots_migrating:0") {
		return false
	}
	ranges, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return false
	}
	var a, b string
	for _, r := range ranges {
		if sl >= r.Start && sl <= r.End {
			a = r.Nodes[0].Addr
		}
		if base >= r.Start && base <= r.End {
			b = r.Nodes[0].Addr
		}
	}
	return a != "" && a == b
}

func nodeAt(t testing.TB, c *servertest.Cluster, addr string) *servertest.Server {
	t.Helper()
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	t.Fatalf("no node at %s", addr)
	return nil
}

// A slot moves between shards with Redis Cluster's replies while it is in motion: the source
// serves the keys it still has, answers -ASK for those it has moved and for new keys, and
// -TRYAGAIN for a request over keys on both sides; the target serves the slot only after ASKING
// and redirects to the source otherwise; CLUSTER NODES shows the migration. The move is slowed
// down (cluster-slot-migrate-rate) so that it is caught in the middle.
func TestClusterSlotMoveReplies(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-slot-migrate-rate", "1000")
	ctx := servertest.Ctx(t)
	const n = 200
	key := func(i int) string { return fmt.Sprintf("{mv}k%03d", i) }
	sl := slot.KeySlot([]byte(key(0)))
	cc := c.Client()
	for i := 0; i < n; i++ {
		if err := cc.Set(ctx, key(i), "v"+strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	from, fromAddr, to, toAddr := slotShards(t, cc, sl, 3)
	src := nodeAt(t, c, fromAddr)
	conn := src.Dial()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "SETSLOT", strconv.Itoa(sl), "NODE", "x"}, "-ERR cairn moves slots itself"},
		{[]string{"CLUSTER", "MIGRATE-SLOTS", "10", "5", to}, "-ERR Invalid or out of range slot"},
		{[]string{"CLUSTER", "MIGRATE-SLOTS", strconv.Itoa(sl), strconv.Itoa(sl), from}, "-ERR slots " + strconv.Itoa(sl) + "-" + strconv.Itoa(sl) + " are owned by shard"},
		{[]string{"CLUSTER", "MIGRATE-SLOTS", "0", "16383", to}, "-ERR slots 0-16383 are not all owned by one shard"},
		{[]string{"CLUSTER", "MIGRATE-SLOTS", strconv.Itoa(sl), strconv.Itoa(sl), "nope"}, "-ERR Invalid shard id nope"},
	} {
		if got := conn.Do(tc.args...); !strings.HasPrefix(got, tc.want) {
			t.Fatalf("%v = %q, want %q...", tc.args, got, tc.want)
		}
	}
	// A client blocked on a key of the slot: the key will be created on the target.
	blocked := src.Dial()
	blocked.Send("*3\r\n$5\r\nBLPOP\r\n$8\r\n{mv}wait\r\n$1\r\n0\r\n")
	waitCluster(t, "the client to block", 10*time.Second, func() bool {
		return strings.Contains(conn.Do("INFO", "clients"), "blocked_clients:1")
	})
	if got := conn.Do("CLUSTER", "MIGRATE-SLOTS", strconv.Itoa(sl), strconv.Itoa(sl), to); got != "+OK\r\n" {
		t.Fatalf("CLUSTER MIGRATE-SLOTS = %q", got)
	}
	ask := fmt.Sprintf("-ASK %d %s\r\n", sl, toAddr)
	if got := blocked.ReadReply(); got != ask {
		t.Fatalf("the blocked BLPOP was answered %q, want %q", got, ask)
	}
	// Keys leave in key order: the first goes early, the last late.
	waitCluster(t, "the slot's first key to move", 20*time.Second, func() bool { return conn.Do("GET", key(0)) == ask })
	slotStr := strconv.Itoa(sl)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", key(n - 1)}, fmt.Sprintf("$4\r\nv%d\r\n", n-1)},
		{[]string{"SET", key(0), "x"}, ask},
		{[]string{"SET", "{mv}new", "x"}, ask},
		{[]string{"EXISTS", "{mv}new"}, ask},
		{[]string{"MGET", key(0), key(n - 1)}, "-TRYAGAIN Multiple keys request during rehashing of slot\r\n"},
		{[]string{"MGET", key(0), "{mv}new"}, ask},
		{[]string{"INCR", key(n - 1)}, "-ERR value is not an integer or out of range\r\n"},
	} {
		if got := conn.Do(tc.args...); got != tc.want {
			t.Fatalf("on the source, %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := conn.Do("CLUSTER", "NODES"); !strings.Contains(got, "["+slotStr+"->-") {
		t.Fatalf("CLUSTER NODES on the source shows no migrating slot %d: %q", sl, got)
	}
	if got := conn.Do("CLUSTER", "INFO"); !strings.Contains(got, "cluster_slots_migrating:1") {
		t.Fatalf("CLUSTER INFO lacks cluster_slots_migrating:1: %q", got)
	}
	tc := nodeAt(t, c, toAddr).Dial()
	moved := fmt.Sprintf("-MOVED %d %s\r\n", sl, src.Addr)
	// The target first checks with the meta group that the slot is not its own already
	// (-TRYAGAIN meanwhile; server/stale.go), then redirects to the source.
	got := tc.Do("GET", key(0))
	for deadline := time.Now().Add(5 * time.Second); strings.HasPrefix(got, "-TRYAGAIN") && time.Now().Before(deadline); got = tc.Do("GET", key(0)) {
		time.Sleep(10 * time.Millisecond)
	}
	if got != moved {
		t.Fatalf("GET on the target without ASKING = %q, want %q", got, moved)
	}
	if got := tc.Do("ASKING"); got != "+OK\r\n" {
		t.Fatalf("ASKING = %q", got)
	}
	if got := tc.Do("GET", key(0)); got != "$2\r\nv0\r\n" {
		t.Fatalf("GET after ASKING on the target = %q, want v0", got)
	}
	if got := tc.Do("GET", key(0)); got != moved {
		t.Fatalf("a second GET on the target (ASKING is for one command) = %q, want %q", got, moved)
	}
	for _, args := range [][]string{{"ASKING"}, {"SET", "{mv}new", "created"}, {"ASKING"}, {"MULTI"}, {"INCR", "{mv}ctr"}, {"GET", "{mv}new"}} {
		tc.Do(args...)
	}
	if got := tc.Do("EXEC"); got != "*2\r\n:1\r\n$7\r\ncreated\r\n" {
		t.Fatalf("ASKING MULTI ... EXEC on the target = %q", got)
	}
	if got := tc.Do("CLUSTER", "NODES"); !strings.Contains(got, "["+slotStr+"-<-") {
		t.Fatalf("CLUSTER NODES shows no importing slot %d: %q", sl, got)
	}
	// The end: the target owns the slot, and has every key.
	srcConn := src.Dial()
	// The source answers -ASK until the slot is the target's, then -MOVED to the target shard's
	// leader, which need not be toAddr any more: leadership may have changed during the move.
	movedPrefix := fmt.Sprintf("-MOVED %d ", sl)
	var owner string
	waitCluster(t, "the slot to move", 60*time.Second, func() bool {
		reply := srcConn.Do("SET", "{mv}probe", "x")
		owner = strings.TrimSuffix(strings.TrimPrefix(reply, movedPrefix), "\r\n")
		return strings.HasPrefix(reply, movedPrefix)
	})
	for i := 0; i < n; i++ {
		want := "v" + strconv.Itoa(i)
		if i == 0 {
			want = "v0"
		}
		if got, err := cc.Get(ctx, key(i)).Result(); err != nil || got != want {
			t.Fatalf("after the move GET %s = %q, %v; want %q", key(i), got, err, want)
		}
	}
	if got, err := cc.Get(ctx, "{mv}new").Result(); err != nil || got != "created" {
		t.Fatalf("after the move GET {mv}new = %q, %v", got, err)
	}
	// COUNTKEYSINSLOT counts the keys of the shard that owns the slot in the node's own
	// topology, which learns of the hand-over shortly after the source's (through the meta
	// group): until then it counts the source's replica.
	ownerConn := nodeAt(t, c, owner).Dial()
	waitCluster(t, "the target to count every key of the slot", 30*time.Second, func() bool {
		return ownerConn.Do("CLUSTER", "COUNTKEYSINSLOT", slotStr) == ":"+strconv.Itoa(n+2)+"\r\n"
	})
}

// A slot holding thousands of keys moves in several batches while a cluster-aware client
// (go-redis, which follows -MOVED and -ASK and retries -TRYAGAIN) reads and writes keys of that
// slot, old and new, without pause. No request fails, every read sees the last acknowledged
// write of its key (each key has one writer), and afterwards every key holds its last value on
// the new owner.
func TestClusterSlotMoveUnderLoad(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-slot-migrate-rate", "150000")
	ctx := servertest.Ctx(t)
	const n, workers = 5000, 8
	key := func(i int) string { return fmt.Sprintf("{load}key:%05d", i) }
	sl := slot.KeySlot([]byte(key(0)))
	cc := c.Client()
	for i := 0; i < n; i += 500 {
		var kv []any
		for j := i; j < i+500; j++ {
			kv = append(kv, key(j), "initial:"+strconv.Itoa(j))
		}
		if err := cc.MSet(ctx, kv...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_, fromAddr, to, _ := slotShards(t, cc, sl, 3)
	src := nodeAt(t, c, fromAddr)
	rdb := src.Client()

	var stop atomic.Bool
	var ops, fails atomic.Int64
	last := make([]map[string]string, workers) // per worker: its keys' last acknowledged values
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		last[w] = map[string]string{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			// Worker w owns the keys i with i%workers == w, and new keys of its own.
			for seq := 0; !stop.Load(); seq++ {
				var k string
				if rng.IntN(10) == 0 {
					k = fmt.Sprintf("{load}new:%d:%d", w, rng.IntN(200))
				} else {
					k = key(rng.IntN(n/workers)*workers + w)
				}
				want, known := last[w][k]
				if !known && strings.HasPrefix(k, "{load}key:") {
					i, _ := strconv.Atoi(k[len("{load}key:"):])
					want, known = "initial:"+strconv.Itoa(i), true
				}
				var err error
				if rng.IntN(2) == 0 {
					v := fmt.Sprintf("w%d:%d", w, seq)
					if err = cc.Set(ctx, k, v, 0).Err(); err == nil {
						last[w][k] = v
					}
				} else {
					var got string
					got, err = cc.Get(ctx, k).Result()
					if errors.Is(err, redis.Nil) {
						err = nil
						if known {
							err = fmt.Errorf("GET %s = nil, want %q", k, want)
						}
					} else if err == nil && got != want {
						err = fmt.Errorf("GET %s = %q, want %q", k, got, want)
					}
				}
				ops.Add(1)
				if err != nil {
					fails.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	time.Sleep(300 * time.Millisecond) // some traffic before the move
	began := time.Now()
	if err := rdb.Do(ctx, "CLUSTER", "MIGRATE-SLOTS", sl, sl, to).Err(); err != nil {
		t.Fatal(err)
	}
	base := (int(toID(t, to)) - 1) * slot.Count / 3
	waitCluster(t, "the slot to move", 90*time.Second, func() bool { return slotMovedTo(rdb, sl, base) })
	t.Logf("moved %d keys in %v", n, time.Since(began))
	time.Sleep(300 * time.Millisecond) // and some after
	stop.Store(true)
	wg.Wait()
	t.Logf("%d requests, %d failed", ops.Load(), fails.Load())
	if f := fails.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed during the move; the first: %v", f, ops.Load(), firstErr.Load())
	}
	for w := range last {
		for k, v := range last[w] {
			if got, err := cc.Get(ctx, k).Result(); err != nil || got != v {
				t.Fatalf("after the move GET %s = %q, %v; want %q", k, got, err, v)
			}
		}
	}
	for _, n := range c.Nodes {
		waitCluster(t, "every node to see the slot moved", 10*time.Second, func() bool { return slotMovedTo(n.Client(), sl, base) })
	}
}

// toID is the number of a shard named as CLUSTER SHARDS names it.
func toID(t testing.TB, name string) uint64 {
	t.Helper()
	id, ok := cluster.ParseName(name)
	if !ok {
		t.Fatalf("bad shard name %q", name)
	}
	return id
}

// BenchmarkClusterSlotMove moves a slot of 50,000 keys (32-byte values) between two shards of
// a three-node cluster, back and forth, at the default cluster-slot-migrate-rate; it reports
// keys and bytes moved per second.
func BenchmarkClusterSlotMove(b *testing.B) {
	c := servertest.StartCluster(b, 3, "--cluster-shards", "3")
	ctx := context.Background()
	const n = 50000
	key := func(i int) string { return fmt.Sprintf("{bench}key:%06d", i) }
	sl := slot.KeySlot([]byte(key(0)))
	rdb := c.Client()
	value := strings.Repeat("v", 32)
	for i := 0; i < n; i += 1000 {
		var kv []any
		for j := i; j < i+1000; j++ {
			kv = append(kv, key(j), value)
		}
		if err := rdb.MSet(ctx, kv...).Err(); err != nil {
			b.Fatal(err)
		}
	}
	from, fromAddr, to, toAddr := slotShards(b, rdb, sl, 3)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := rdb.Do(ctx, "CLUSTER", "MIGRATE-SLOTS", sl, sl, to).Err(); err != nil {
			b.Fatal(err)
		}
		// The source's leader answers a write -ASK while the slot moves, -MOVED after.
		src := nodeAt(b, c, fromAddr).Dial()
		deadline := time.Now().Add(5 * time.Minute)
		for !strings.HasPrefix(src.Do("SET", "{bench}probe", "x"), "-MOVED") {
			if time.Now().After(deadline) {
				b.Fatal("the slot did not move within 5 minutes")
			}
			time.Sleep(5 * time.Millisecond)
		}
		from, fromAddr, to, toAddr = to, toAddr, from, fromAddr
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(n*b.N)/el, "keys/s")
	b.ReportMetric(float64(n*b.N*(len(key(0))+len(value)))/el/1e6, "MB/s")
}

// The history of concurrent clients (go-redis ClusterClients) reading and writing keys of a
// slot while it moves — single-key commands, MSET and MULTI/EXEC over two keys — is
// linearizable (porcupine, tests/check's model), and no request fails.
func TestClusterSlotMoveLinearizable(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-slot-migrate-rate", "100000")
	ctx := servertest.Ctx(t)
	const group, fill, clients = 7, 2000, 6
	sl := slot.KeySlot([]byte(check.Key(group, 0)))
	cc := c.Client()
	// Keys that sort before and after the model's ("{g7}a" ...), so those move mid-way.
	for _, prefix := range []string{"0", "z"} {
		var kv []any
		for i := 0; i < fill; i++ {
			kv = append(kv, fmt.Sprintf("{g%d}%s:%05d", group, prefix, i), "filler")
		}
		if err := cc.MSet(ctx, kv...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_, fromAddr, to, _ := slotShards(t, cc, sl, 3)
	base := (int(toID(t, to)) - 1) * slot.Count / 3
	start := time.Now()
	clock := func() int64 { return int64(time.Since(start)) }
	var mu sync.Mutex
	var ops []check.Op
	var failures []string
	var stop atomic.Bool
	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(cl)))
			for seq := 0; !stop.Load(); seq++ {
				in := check.Input{Kind: check.Kind(rng.IntN(6)), Group: group, Slot: rng.IntN(check.KeysPerGroup), Slot2: rng.IntN(check.KeysPerGroup), Arg: fmt.Sprintf("%d.%d", cl, seq)}
				if (in.Kind == check.Txn || in.Kind == check.MSet) && in.Slot2 == in.Slot {
					in.Slot2 = (in.Slot + 1) % check.KeysPerGroup
				}
				call := clock()
				out, err := runModelOp(ctx, cc, in)
				op := check.Op{Client: cl, Input: in, Output: out, Call: call, Return: clock()}
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("%v: %v", in, err))
					op.Output = check.Output{Unknown: true}
				}
				if err == nil || in.Kind.IsWrite() {
					ops = append(ops, op)
				}
				mu.Unlock()
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	time.Sleep(200 * time.Millisecond)
	if err := nodeAt(t, c, fromAddr).Client().Do(ctx, "CLUSTER", "MIGRATE-SLOTS", sl, sl, to).Err(); err != nil {
		t.Fatal(err)
	}
	waitCluster(t, "the slot to move", 90*time.Second, func() bool { return slotMovedTo(nodeAt(t, c, fromAddr).Client(), sl, base) })
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d operations, %d failed", len(ops), len(failures))
	if len(failures) > 0 {
		t.Fatalf("%d requests failed during the move; the first: %s", len(failures), failures[0])
	}
	res, _, _ := check.Linearizable(ops, time.Minute)
	if res != porcupine.Ok {
		t.Fatalf("the history of %d operations is not linearizable (%v)", len(ops), res)
	}
}

// runModelOp runs one of the model's operations through a ClusterClient.
func runModelOp(ctx context.Context, cc *redis.ClusterClient, in check.Input) (check.Output, error) {
	cmds := in.Args()
	if in.Kind != check.Txn {
		v, err := cc.Do(ctx, toAnyArgs(cmds[0])...).Result()
		return modelOutput(v, err)
	}
	res, err := cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range cmds {
			p.Do(ctx, toAnyArgs(c)...)
		}
		return nil
	})
	var re redis.Error
	if err != nil && !errors.Is(err, redis.Nil) && !errors.As(err, &re) {
		return check.Output{}, err
	}
	out := check.Output{Multi: []check.Output{}}
	for _, r := range res {
		v, err := r.(*redis.Cmd).Result()
		o, err := modelOutput(v, err)
		if err != nil {
			return check.Output{}, err
		}
		out.Multi = append(out.Multi, o)
	}
	return out, nil
}

func toAnyArgs(args []string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

// modelOutput turns a go-redis reply into the model's; an error that is not a command's own
// reply (a cluster redirection the client gave up on, a broken connection) is returned.
func modelOutput(v any, err error) (check.Output, error) {
	if errors.Is(err, redis.Nil) {
		return check.Output{Nil: true}, nil
	}
	if err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "ERR ") || strings.HasPrefix(msg, "WRONGTYPE") {
			return check.Output{Err: msg}, nil
		}
		return check.Output{}, err
	}
	switch x := v.(type) {
	case string:
		return check.Output{Str: x}, nil
	case int64:
		return check.Output{Int: x, IsInt: true}, nil
	}
	return check.Output{}, fmt.Errorf("unexpected reply %T %v", v, v)
}

// With cluster-proxy, a client that knows nothing of slots reads and writes keys of a moving
// slot through any node and never sees -ASK or -TRYAGAIN... except -TRYAGAIN for the moment a
// key is in flight, which a plain client must retry like any TRYAGAIN.
func TestClusterSlotMoveProxy(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-proxy", "yes", "--cluster-slot-migrate-rate", "2000")
	ctx := servertest.Ctx(t)
	const n = 200
	key := func(i int) string { return fmt.Sprintf("{px}k%03d", i) }
	sl := slot.KeySlot([]byte(key(0)))
	cc := c.Client()
	want := map[string]string{}
	for i := 0; i < n; i++ {
		want[key(i)] = "v" + strconv.Itoa(i)
		if err := cc.Set(ctx, key(i), want[key(i)], 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_, fromAddr, to, _ := slotShards(t, cc, sl, 3)
	base := (int(toID(t, to)) - 1) * slot.Count / 3
	// One plain client per node: whether it leads the source, the target, or neither.
	var plains []*redis.Client
	for _, nd := range c.Nodes {
		plains = append(plains, nd.Client())
	}
	retry := func(f func() error) error {
		var err error
		for range 50 {
			if err = f(); err == nil || !strings.HasPrefix(err.Error(), "TRYAGAIN") {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
		return err
	}
	if err := nodeAt(t, c, fromAddr).Client().Do(ctx, "CLUSTER", "MIGRATE-SLOTS", sl, sl, to).Err(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ops := 0
	src := nodeAt(t, c, fromAddr).Client()
	for done := false; !done; done = ops%20 == 0 && ops > 50 && slotMovedTo(src, sl, base) {
		p := plains[ops%len(plains)]
		k := key(rng.IntN(n))
		if rng.IntN(4) == 0 {
			k = fmt.Sprintf("{px}new%d", rng.IntN(20))
		}
		if ops%2 == 0 {
			v := "w" + strconv.Itoa(ops)
			if err := retry(func() error { return p.Set(ctx, k, v, 0).Err() }); err != nil {
				t.Fatalf("SET %s through %s: %v", k, p.Options().Addr, err)
			}
			want[k] = v
		} else {
			var got string
			err := retry(func() error {
				var err error
				got, err = p.Get(ctx, k).Result()
				return err
			})
			if errors.Is(err, redis.Nil) {
				got, err = "", nil
			}
			if err != nil || got != want[k] {
				t.Fatalf("GET %s through %s = %q, %v; want %q", k, p.Options().Addr, got, err, want[k])
			}
		}
		ops++
		if ops > 100000 {
			t.Fatal("the slot never finished moving")
		}
	}
	t.Logf("%d requests through plain clients during the move", ops)
	for k, v := range want {
		if got, err := plains[0].Get(ctx, k).Result(); err != nil || got != v {
			t.Fatalf("after the move GET %s = %q, %v; want %q", k, got, err, v)
		}
	}
}
