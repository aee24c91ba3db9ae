package tests

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

var (
	clusterSeed = flag.Uint64("cluster-seed", 0, "seed for randomized cluster tests (0: random)")
	clusterSoak = flag.Duration("cluster-soak", 0, "run the linearizability check for this long instead of a few seconds")
)

func clusterTestSeed(t *testing.T) uint64 {
	s := *clusterSeed
	if s == 0 {
		s = rand.Uint64()
	}
	t.Logf("seed %d (replay with -cluster-seed %d)", s, s)
	return s
}

func addrsOf(c *servertest.Cluster) []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Addr)
	}
	return out
}

// writeLoad writes unique keys from several writers until stop, recording every
// acknowledged key and the time of each acknowledgement.
type writeLoad struct {
	mu    sync.Mutex
	acked map[string]string
	times []time.Time
	keys  []string // the key of each acknowledgement in times
	wg    sync.WaitGroup
	stop  chan struct{}
}

func startWriteLoad(addrs []string, writers int) *writeLoad {
	w := &writeLoad{acked: map[string]string{}, stop: make(chan struct{})}
	for i := 0; i < writers; i++ {
		w.wg.Add(1)
		go func(i int) {
			defer w.wg.Done()
			d := newClusterDriver(addrs, i)
			defer d.close()
			for j := 0; ; j++ {
				select {
				case <-w.stop:
					return
				default:
				}
				key, val := fmt.Sprintf("w%d-%d", i, j), strconv.Itoa(j)
				reply, err := d.do(time.Now().Add(10*time.Second), "SET", key, val)
				if err == nil && reply == "+OK" {
					w.mu.Lock()
					w.acked[key] = val
					w.times = append(w.times, time.Now())
					w.keys = append(w.keys, key)
					w.mu.Unlock()
				}
			}
		}(i)
	}
	return w
}

func (w *writeLoad) halt() {
	close(w.stop)
	w.wg.Wait()
}

// firstAckAfter is the first acknowledgement after t.
func (w *writeLoad) firstAckAfter(t time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, at := range w.times {
		if at.After(t) {
			return at, true
		}
	}
	return time.Time{}, false
}

// firstAckInSlots is the first acknowledgement after t of a key whose slot is in [lo, hi].
func (w *writeLoad) firstAckInSlots(t time.Time, lo, hi int) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, at := range w.times {
		if sl := slot.KeySlot([]byte(w.keys[i])); at.After(t) && sl >= lo && sl <= hi {
			return at, true
		}
	}
	return time.Time{}, false
}

func (w *writeLoad) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// checkAcked verifies every acknowledged write through a strong read on node.
func checkAcked(t *testing.T, node *servertest.Server, acked map[string]string, level string) {
	t.Helper()
	ctx := servertest.Ctx(t)
	rdb := node.Client(func(o *redis.Options) { o.PoolSize = 1 })
	if err := rdb.Do(ctx, "CONSISTENCY", level).Err(); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(acked))
	for k := range acked {
		keys = append(keys, k)
	}
	for i := 0; i < len(keys); i += 500 {
		batch := keys[i:min(i+500, len(keys))]
		// A strong read during an election answers CLUSTERDOWN or TRYAGAIN, as Redis Cluster
		// does while it has no master; a client retries, and so does this check, for a while.
		// The keys may be in several slots: one GET each, pipelined.
		get := func() ([]*redis.StringCmd, error) {
			pipe := rdb.Pipeline()
			cmds := make([]*redis.StringCmd, len(batch))
			for j, k := range batch {
				cmds[j] = pipe.Get(ctx, k)
			}
			_, err := pipe.Exec(ctx)
			if err == redis.Nil {
				err = nil
			}
			return cmds, err
		}
		cmds, err := get()
		for deadline := time.Now().Add(15 * time.Second); err != nil && isElectionError(err) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			cmds, err = get()
		}
		if err != nil {
			t.Fatal(err)
		}
		for j, cmd := range cmds {
			if v, _ := cmd.Result(); v != acked[batch[j]] {
				t.Fatalf("acknowledged write %s=%s reads back as %v on %s", batch[j], acked[batch[j]], v, node.Addr)
			}
		}
	}
}

func isElectionError(err error) bool {
	return strings.HasPrefix(err.Error(), "CLUSTERDOWN") || strings.HasPrefix(err.Error(), "TRYAGAIN")
}

// Kill -9 a node under write load: every shard it led has a new leader taking writes within
// a bound (the target is 2 s), the node restarts and catches up, and no acknowledged write is
// lost.
func TestClusterFailover(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	victim := c.LeaderOf("foo")
	ctx := servertest.Ctx(t)
	slots, err := victim.Client().ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	var led []redis.ClusterSlot
	for _, r := range slots {
		if r.Nodes[0].Addr == victim.Addr {
			led = append(led, r)
		}
	}
	if len(led) == 0 {
		t.Fatal("the victim leads no shard")
	}
	load := startWriteLoad(addrsOf(c), 16)
	waitCluster(t, "writes to flow", 10*time.Second, func() bool { return load.count() > 500 })
	killed := time.Now()
	victim.Kill()
	var worst time.Duration
	for _, r := range led {
		waitCluster(t, fmt.Sprintf("writes to slots %d-%d to resume", r.Start, r.End), 20*time.Second, func() bool {
			_, ok := load.firstAckInSlots(killed.Add(10*time.Millisecond), r.Start, r.End)
			return ok
		})
		at, _ := load.firstAckInSlots(killed.Add(10*time.Millisecond), r.Start, r.End)
		worst = max(worst, at.Sub(killed))
	}
	t.Logf("node killed; the %d shards it led all took writes again within %v (cluster-node-timeout 750ms)", len(led), worst)
	if worst > 5*time.Second {
		t.Fatalf("a shard took writes again only %v after its leader was killed, want under 5s (the target is 2s)", worst)
	}
	before := load.count()
	waitCluster(t, "more writes after the failover", 10*time.Second, func() bool { return load.count() > before+500 })
	// go-redis's ClusterClient, seeded with every address including the dead node's, finds the
	// new leaders.
	waitCluster(t, "a ClusterClient write after the failover", 20*time.Second, func() bool {
		return c.Client().Set(ctx, "after-failover", "1", 0).Err() == nil
	})
	victim.Restart()
	load.halt()
	acked := load.acked
	t.Logf("%d writes acknowledged", len(acked))
	checkAckedCluster(t, c, acked)
	// The restarted node catches up: reading with a session token from after the last write, at
	// session level, it holds every acknowledged write of every shard it has a replica of.
	cc := c.Client()
	if err := cc.Set(ctx, "marker", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitCluster(t, "the restarted node to catch up", 30*time.Second, func() bool {
		v, err := victim.Dial().Do("CONSISTENCY", "eventual", "GET", "marker"), error(nil)
		return err == nil && v == "$1\r\n1\r\n"
	})
	c.WaitReady()
	checkAcked(t, victim, acked, "strong")
}

// checkAckedCluster verifies every acknowledged write through a cluster client at strong
// consistency, on whatever node leads each key's shard.
func checkAckedCluster(t *testing.T, c *servertest.Cluster, acked map[string]string) {
	t.Helper()
	ctx := servertest.Ctx(t)
	cc := c.Client()
	for k, want := range acked {
		v, err := cc.Get(ctx, k).Result()
		for deadline := time.Now().Add(15 * time.Second); err != nil && isElectionError(err) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			v, err = cc.Get(ctx, k).Result()
		}
		if err != nil || v != want {
			t.Fatalf("acknowledged write %s=%s reads back as %q, %v", k, want, v, err)
		}
	}
}

// A node joins under load and receives its share of replicas and preferred leaders (and a meta
// member); CLUSTER FORGET drains it (its replicas move back) and it leaves; a node joining afterwards never gets
// a forgotten node's ID. Throughout, clients see only redirections and retryable errors, no
// acknowledged write is lost, and the history of a few keys is linearizable.
func TestClusterJoinRebalanceAndDrain(t *testing.T) {
	c := servertest.StartCluster(t, 3) // 12 shards of 3 replicas: 36 replicas
	load := startWriteLoad(addrsOf(c), 3)
	lc := startLinearClients(t, addrsOf(c), clusterTestSeed(t), 3)
	myid := func(s *servertest.Server) string {
		return strings.TrimSpace(strings.Split(s.Dial().Do("CLUSTER", "MYID"), "\r\n")[1])
	}
	hosted := func(s *servertest.Server) string { return s.Info("replication", "raft_shards_hosted") }
	n4 := c.Join()
	if got := myid(n4); got != fmt.Sprintf("%040x", 4) {
		t.Fatalf("the joining node's ID = %s, want 4", got)
	}
	start := time.Now()
	waitCluster(t, "the new node to receive its share of replicas (9 of 36)", 120*time.Second, func() bool {
		for _, n := range c.Nodes {
			if hosted(n) != "9" || n.ClusterInfo("cluster_moves_in_progress") != "0" {
				return false
			}
		}
		return true
	})
	t.Logf("rebalanced onto the new node in %v", time.Since(start))
	waitCluster(t, "the new node to lead its share of shards", 60*time.Second, func() bool {
		led, _ := strconv.Atoi(n4.Info("replication", "raft_shards_led"))
		return led >= 2
	})
	// The meta group grew onto the new node; forgetting it shrinks the group back
	// (TestClusterFounderDrains drains a founder).
	if got := c.Nodes[0].Dial().Do("CLUSTER", "FORGET", myid(n4)); got != "+OK\r\n" {
		t.Fatalf("CLUSTER FORGET of the new node = %q", got)
	}
	start = time.Now()
	waitCluster(t, "the forgotten node to be drained and removed", 120*time.Second, func() bool {
		for _, n := range c.Nodes[:3] {
			if n.ClusterInfo("cluster_known_nodes") != "3" || hosted(n) != "12" {
				return false
			}
		}
		return true
	})
	t.Logf("drained in %v", time.Since(start))
	waitCluster(t, "the drained node to drop its replicas", 30*time.Second, func() bool { return hosted(n4) == "0" })
	lc.stopAndCheck()
	load.halt()
	n4.Stop()
	c.Nodes = c.Nodes[:3]
	t.Logf("%d acknowledged writes", load.count())
	checkAckedCluster(t, c, load.acked)
	n5 := c.Join()
	if got := myid(n5); got != fmt.Sprintf("%040x", 5) {
		t.Fatalf("a node joining after a removal got ID %s, want 5 (IDs are never reused)", got)
	}
}

// A node that dies for good has its replicas rebuilt on the others once it has been silent for
// cluster-dead-after, and leaves the cluster; no acknowledged write is lost.
func TestClusterDeadNodeReplaced(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "6", "--cluster-dead-after", "3") // 18 replicas
	hosted := func(s *servertest.Server) int {
		n, _ := strconv.Atoi(s.Info("replication", "raft_shards_hosted"))
		return n
	}
	n4 := c.Join()
	waitCluster(t, "the new node to receive its share of replicas", 120*time.Second, func() bool {
		return hosted(n4) >= 4 && c.Nodes[0].ClusterInfo("cluster_moves_in_progress") == "0"
	})
	load := startWriteLoad(addrsOf(c), 3)
	time.Sleep(500 * time.Millisecond)
	n4.Kill()
	start := time.Now()
	waitCluster(t, "the dead node's replicas to be rebuilt on the others, and the node removed", 120*time.Second, func() bool {
		for _, n := range c.Nodes[:3] {
			if hosted(n) != 6 || n.ClusterInfo("cluster_known_nodes") != "3" || n.ClusterInfo("cluster_moves_in_progress") != "0" {
				return false
			}
		}
		return true
	})
	t.Logf("replication factor restored and the node removed %v after it died", time.Since(start))
	load.halt()
	c.Nodes = c.Nodes[:3]
	t.Logf("%d acknowledged writes", load.count())
	checkAckedCluster(t, c, load.acked)
}

// A node cut off from the majority refuses writes and strong reads, and keeps serving
// eventual reads.
func TestClusterMinorityRefusesWrites(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	leader := c.LeaderOf("k")
	ctx := servertest.Ctx(t)
	if err := leader.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := leader.Dial().Do("WAIT", "2", "5000"); got != ":2\r\n" {
		t.Fatalf("WAIT = %q", got)
	}
	for _, f := range c.Followers(leader) {
		f.Kill()
	}
	conn := leader.Dial()
	waitCluster(t, "the lone node to step down", 10*time.Second, func() bool {
		return strings.HasPrefix(conn.Do("SET", "k", "w"), "-CLUSTERDOWN")
	})
	if got := conn.Do("GET", "k"); !strings.HasPrefix(got, "-CLUSTERDOWN") {
		t.Fatalf("strong GET on a minority = %q, want -CLUSTERDOWN", got)
	}
	if got := conn.Do("CONSISTENCY", "eventual", "GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("eventual GET on a minority = %q, want v", got)
	}
	if got := conn.Do("CLUSTER", "INFO"); !strings.Contains(got, "cluster_state:fail") {
		t.Fatalf("CLUSTER INFO on a minority: %q", got)
	}
}

// kvInput and kvOutput are the operations of the linearizability check.
type kvInput struct {
	op    string // get, set, incr
	key   string
	value int64
}

type kvOutput struct {
	value   int64 // get: -1 for no value
	unknown bool  // the outcome is not known: any result is allowed
}

var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return int64(-1) },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(int64), input.(kvInput), output.(kvOutput)
		switch in.op {
		case "get":
			return out.value == s, s
		case "set":
			return true, in.value
		default: // incr
			next := max(s, 0) + 1
			return out.unknown || out.value == next, next
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		if out.unknown {
			return fmt.Sprintf("%s %s %d -> ?", in.op, in.key, in.value)
		}
		return fmt.Sprintf("%s %s %d -> %d", in.op, in.key, in.value, out.value)
	},
}

// Concurrent clients doing SET, GET and INCR at strong consistency while the leader is killed
// and restarted: the history must be linearizable.
func TestClusterLinearizable(t *testing.T) {
	rng := rand.New(rand.NewPCG(clusterTestSeed(t), 0))
	c := servertest.StartCluster(t, 3)
	run := 6 * time.Second
	if *clusterSoak > 0 {
		run = *clusterSoak
	}
	end := time.Now().Add(run)
	lc := startLinearClients(t, addrsOf(c), rng.Uint64(), 6)
	// Faults: kill the leader of a key's shard, restart it, repeatedly.
	for time.Now().Add(2 * time.Second).Before(end) {
		time.Sleep(time.Duration(500+rng.IntN(1000)) * time.Millisecond)
		l := c.LeaderOf(fmt.Sprintf("k%d", rng.IntN(3)))
		l.Kill()
		time.Sleep(time.Duration(300+rng.IntN(1000)) * time.Millisecond)
		l.Restart()
	}
	lc.stopAndCheck()
}

// linearClients run GET, SET and INCR over three keys from several clients until stopped,
// recording a history for porcupine. A write that fails without a definite reply may have been
// applied at any time after it was sent: its outcome is unknown, and it is never retried.
type linearClients struct {
	t    *testing.T
	mu   sync.Mutex
	hist []porcupine.Operation
	wg   sync.WaitGroup
	stop chan struct{}
}

func startLinearClients(t *testing.T, addrs []string, seed uint64, clients int) *linearClients {
	lc := &linearClients{t: t, stop: make(chan struct{})}
	rng := rand.New(rand.NewPCG(seed, 0))
	start := time.Now()
	for i := 0; i < clients; i++ {
		lc.wg.Add(1)
		clientSeed := rng.Uint64()
		go func(id int) {
			defer lc.wg.Done()
			r := rand.New(rand.NewPCG(clientSeed, 1))
			d := newClusterDriver(addrs, id)
			defer d.close()
			for {
				select {
				case <-lc.stop:
					return
				default:
				}
				in := kvInput{key: fmt.Sprintf("k%d", r.IntN(3))}
				var args []string
				switch p := r.IntN(10); {
				case p < 4:
					in.op, args = "get", []string{"GET", in.key}
				case p < 7:
					in.op, in.value = "set", r.Int64N(1000)
					args = []string{"SET", in.key, strconv.FormatInt(in.value, 10)}
				default:
					in.op, args = "incr", []string{"INCR", in.key}
				}
				call := time.Since(start).Nanoseconds()
				reply, err := d.do(time.Now().Add(15*time.Second), args...)
				ret := time.Since(start).Nanoseconds()
				op := porcupine.Operation{ClientId: id, Input: in, Call: call, Return: ret}
				switch {
				case err != nil && in.op == "get":
					continue // a failed read changed nothing
				case err != nil:
					// May have been applied, at any time from now on.
					op.Output, op.Return = kvOutput{unknown: true}, int64(1<<62)
				case in.op == "get" && reply == "$-1":
					op.Output = kvOutput{value: -1}
				case in.op == "get":
					v, perr := strconv.ParseInt(strings.TrimPrefix(reply, "$"), 10, 64)
					if perr != nil {
						t.Errorf("GET reply %q", reply)
						return
					}
					op.Output = kvOutput{value: v}
				case in.op == "set":
					if reply != "+OK" {
						t.Errorf("SET reply %q", reply)
						return
					}
					op.Output = kvOutput{}
				default:
					v, perr := strconv.ParseInt(strings.TrimPrefix(reply, ":"), 10, 64)
					if perr != nil {
						t.Errorf("INCR reply %q", reply)
						return
					}
					op.Output = kvOutput{value: v}
				}
				lc.mu.Lock()
				lc.hist = append(lc.hist, op)
				lc.mu.Unlock()
			}
		}(i)
	}
	return lc
}

// stopAndCheck stops the clients and checks their history.
func (lc *linearClients) stopAndCheck() {
	t := lc.t
	t.Helper()
	close(lc.stop)
	lc.wg.Wait()
	t.Logf("%d operations", len(lc.hist))
	res, info := porcupine.CheckOperationsVerbose(kvModel, lc.hist, 2*time.Minute)
	switch res {
	case porcupine.Illegal:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-linearizability-%d.html", time.Now().UnixNano()))
		_ = porcupine.VisualizePath(kvModel, info, path)
		t.Fatalf("history is not linearizable; visualization in %s", path)
	case porcupine.Unknown:
		t.Logf("linearizability check timed out (inconclusive)")
	}
}

// A follower that was down while the log moved past its compaction point is sent a snapshot:
// its engine is replaced, and what the server keeps in memory about the data (record cache,
// key filter, key counts) must follow — no stale value, no resurrected or missing key.
func TestClusterSnapshotInstall(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-snapshot-entries", "50", "--cluster-shards", "1")
	leader := c.Leader()
	ctx := servertest.Ctx(t)
	lc := leader.Client()
	for i := 0; i < 20; i++ {
		if err := lc.Set(ctx, fmt.Sprintf("k%d", i), "old", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	lagger := c.Followers(leader)[0]
	fc := lagger.Client(func(o *redis.Options) { o.PoolSize = 1 })
	if err := fc.Do(ctx, "CONSISTENCY", "session").Err(); err != nil {
		t.Fatal(err)
	}
	tok, _ := lc.Do(ctx, "SESSION", "TOKEN").Text()
	fc.Do(ctx, "SESSION", "RESUME", tok)
	for i := 0; i < 20; i++ { // warm the follower's record cache and key filter
		if v, err := fc.Get(ctx, fmt.Sprintf("k%d", i)).Result(); err != nil || v != "old" {
			t.Fatalf("follower GET k%d = %q, %v", i, v, err)
		}
	}
	lagger.Kill()
	for i := 0; i < 10; i++ {
		lc.Set(ctx, fmt.Sprintf("k%d", i), "new", 0)
	}
	for i := 10; i < 20; i++ {
		lc.Del(ctx, fmt.Sprintf("k%d", i))
	}
	for i := 0; i < 300; i++ { // far past the compaction point
		lc.Set(ctx, fmt.Sprintf("fresh%d", i), i, 0)
	}
	lagger.Restart()
	waitCluster(t, "the follower to install a snapshot", 30*time.Second, func() bool {
		return strings.Contains(lagger.Log(), "installed snapshot")
	})
	// The marker goes through whichever node leads now (a loaded machine may have held an
	// election), and the token comes from the connection that wrote it.
	for attempt := 0; ; attempt++ {
		mc := c.Leader().Client(func(o *redis.Options) { o.PoolSize = 1 })
		err := mc.Set(ctx, "marker", "1", 0).Err()
		if err == nil {
			tok, err = mc.Do(ctx, "SESSION", "TOKEN").Text()
		}
		mc.Close()
		if err == nil {
			break
		}
		if attempt == 50 {
			t.Fatalf("SET marker: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rc := lagger.Client(func(o *redis.Options) { o.PoolSize = 1 })
	rc.Do(ctx, "SESSION", "RESUME", tok)
	rc.Do(ctx, "CONSISTENCY", "session")
	if v, err := rc.Get(ctx, "marker").Result(); err != nil || v != "1" {
		t.Fatalf("GET marker on the restored follower = %q, %v", v, err)
	}
	for i := 0; i < 20; i++ {
		v, err := rc.Get(ctx, fmt.Sprintf("k%d", i)).Result()
		if i < 10 && (err != nil || v != "new") {
			t.Fatalf("k%d on the restored follower = %q, %v; want new", i, v, err)
		}
		if i >= 10 && err != redis.Nil {
			t.Fatalf("deleted k%d on the restored follower = %q, %v; want no value", i, v, err)
		}
	}
	for _, i := range []int{0, 1, 100, 299} { // brought by the snapshot, or by the log after it
		k := fmt.Sprintf("fresh%d", i)
		if v, err := rc.Get(ctx, k).Result(); err != nil || v != strconv.Itoa(i) {
			t.Fatalf("%s on the restored follower = %q, %v", k, v, err)
		}
	}
	// Its key counts follow the snapshot too.
	if got := lagger.Info("replication", "raft_shard_1"); !strings.Contains(got, ",keys=311") {
		t.Fatalf("the restored follower's shard: %q, want keys=311", got)
	}
}

// Gossip tells every node who is alive: a killed node shows as failed in CLUSTER NODES and
// drops out of the gossip's count, and comes back when it restarts.
func TestClusterGossip(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	n0 := c.Nodes[0]
	waitCluster(t, "gossip to count three nodes", 10*time.Second, func() bool { return n0.ClusterInfo("cluster_gossip_alive") == "3" })
	victim := c.Nodes[2]
	victim.Kill()
	name := fmt.Sprintf("%040x", 0)
	for _, line := range strings.Split(n0.Dial().Do("CLUSTER", "NODES"), "\n") {
		if strings.Contains(line, victim.Addr) {
			name = strings.Fields(line)[0]
		}
	}
	waitCluster(t, "the killed node to show as failed", 15*time.Second, func() bool {
		nodes := n0.Dial().Do("CLUSTER", "NODES")
		for _, line := range strings.Split(nodes, "\n") {
			if strings.HasPrefix(line, name) {
				return strings.Contains(line, "fail") && strings.Contains(line, "disconnected")
			}
		}
		return false
	})
	waitCluster(t, "gossip to count two nodes", 15*time.Second, func() bool { return n0.ClusterInfo("cluster_gossip_alive") == "2" })
	victim.Restart()
	waitCluster(t, "gossip to count three nodes again", 20*time.Second, func() bool { return n0.ClusterInfo("cluster_gossip_alive") == "3" })
}
