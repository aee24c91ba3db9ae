package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// waitCluster polls cond until it holds or the deadline passes.
func waitCluster(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A cluster of three nodes founds twelve shards (four per node) of three replicas: every node
// serves every slot, leaders are spread evenly, and the cluster replies describe that layout as
// Redis Cluster clients expect.
func TestClusterForms(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	ctx := servertest.Ctx(t)
	ids := map[string]bool{}
	for _, n := range c.Nodes {
		conn := n.Dial()
		info := conn.Do("CLUSTER", "INFO")
		for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:3", "cluster_shards:12", "cluster_shards_hosted:12", "cluster_slots_ok:16384"} {
			if !strings.Contains(info, want) {
				t.Fatalf("CLUSTER INFO on %s lacks %s: %q", n.Addr, want, info)
			}
		}
		id := conn.Do("CLUSTER", "MYID")
		if len(id) != len("$40\r\n")+40+2 {
			t.Fatalf("CLUSTER MYID = %q, want a 40-character name", id)
		}
		ids[id] = true
		if got := conn.Do("HELLO", "3"); !strings.Contains(got, "cluster") {
			t.Fatalf("HELLO 3 mode is not cluster: %q", got)
		}
	}
	if len(ids) != 3 {
		t.Fatalf("CLUSTER MYID gave %d distinct names for 3 nodes", len(ids))
	}
	rdb := c.Nodes[0].Client()
	// Leaders settle on the preferred ones: four shards per node.
	var slots []redis.ClusterSlot
	waitCluster(t, "leaders to spread evenly", 20*time.Second, func() bool {
		var err error
		if slots, err = rdb.ClusterSlots(ctx).Result(); err != nil || len(slots) != 12 {
			return false
		}
		led := map[string]int{}
		for _, s := range slots {
			led[s.Nodes[0].Addr]++
		}
		return len(led) == 3 && led[c.Nodes[0].Addr] == 4 && led[c.Nodes[1].Addr] == 4 && led[c.Nodes[2].Addr] == 4
	})
	covered := 0
	for _, s := range slots {
		covered += s.End - s.Start + 1
		if len(s.Nodes) != 3 {
			t.Fatalf("slots %d-%d have %d nodes, want 3 (a master and two replicas)", s.Start, s.End, len(s.Nodes))
		}
	}
	if covered != 16384 {
		t.Fatalf("CLUSTER SLOTS covers %d slots", covered)
	}
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil || len(shards) != 12 || len(shards[0].Nodes) != 3 || shards[0].Nodes[0].Role != "master" {
		t.Fatalf("CLUSTER SHARDS = %+v, %v", shards, err)
	}
	nodes, err := rdb.ClusterNodes(ctx).Result()
	if err != nil || strings.Count(nodes, "\n") != 3 || strings.Count(nodes, "master") != 3 || !strings.Contains(nodes, "myself,master") {
		t.Fatalf("CLUSTER NODES = %q, %v", nodes, err)
	}
	if got := c.Nodes[0].Dial().Do("CLUSTER", "KEYSLOT", "foo{bar}"); got != ":5061\r\n" {
		t.Fatalf("CLUSTER KEYSLOT foo{bar} = %q, want :5061", got)
	}
	for _, n := range c.Nodes {
		role, err := n.Client().Do(ctx, "ROLE").Slice()
		if err != nil || role[0] != "master" || len(role[2].([]any)) != 2 {
			t.Fatalf("ROLE on %s = %v, %v; want master with two replicas", n.Addr, role, err)
		}
		if got := n.Info("replication", "connected_slaves"); got != "2" {
			t.Fatalf("connected_slaves on %s = %q, want 2", n.Addr, got)
		}
		if got := n.Info("cluster", "cluster_enabled"); got != "1" {
			t.Fatalf("cluster_enabled = %q, want 1", got)
		}
	}
}

// Keys go to the shard owning their slot: a node that does not lead it redirects with -MOVED,
// commands and transactions over several slots get -CROSSSLOT, hash tags keep keys together,
// and keyless commands act on the keys of the shards a node leads.
func TestClusterRouting(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	ctx := servertest.Ctx(t)
	leader := c.LeaderOf("foo")
	var other *servertest.Server
	for _, n := range c.Nodes {
		if n != leader {
			other = n
			break
		}
	}
	conn := other.Dial()
	if got, want := conn.Do("SET", "foo", "1"), "-MOVED 12182 "+leader.Addr+"\r\n"; got != want {
		t.Fatalf("SET foo on a node not leading its shard = %q, want %q", got, want)
	}
	conn.Do("MULTI")
	if got := conn.Do("SET", "foo", "2"); got != "+QUEUED\r\n" {
		t.Fatalf("SET in MULTI = %q", got)
	}
	if got := conn.Do("EXEC"); got != "-MOVED 12182 "+leader.Addr+"\r\n" {
		t.Fatalf("EXEC for another node's shard = %q, want MOVED", got)
	}
	lc := leader.Dial()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"MSET", "a", "1", "b", "2"}, "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{[]string{"SELECT", "1"}, "-ERR SELECT is not allowed in cluster mode\r\n"},
		{[]string{"SELECT", "0"}, "+OK\r\n"},
		{[]string{"SWAPDB", "0", "1"}, "-ERR SWAPDB is not allowed in cluster mode\r\n"},
	} {
		if got := lc.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// Keys with one hash tag share a slot, and so a shard: multi-key commands and transactions
	// over them work.
	tagged := c.LeaderOf("{user:1}").Dial()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"MSET", "{user:1}a", "1", "{user:1}b", "2"}, "+OK\r\n"},
		{[]string{"MGET", "{user:1}a", "{user:1}b"}, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{[]string{"RENAME", "{user:1}a", "{user:1}c"}, "+OK\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"INCR", "{user:1}b"}, "+QUEUED\r\n"},
		{[]string{"GET", "{user:1}c"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*2\r\n:3\r\n$1\r\n1\r\n"},
		// A transaction over two slots is refused at EXEC and discarded.
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"INCR", "{user:1}b"}, "+QUEUED\r\n"},
		{[]string{"INCR", "{user:2}b"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{[]string{"GET", "{user:1}b"}, "$1\r\n3\r\n"},
		// WATCH over two slots is refused; a watched key of another slot than the
		// transaction's makes EXEC refuse.
		{[]string{"WATCH", "{user:1}b", "{user:2}b"}, "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{[]string{"WATCH", "{user:1}b"}, "+OK\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"GET", "{user:2}b"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
	} {
		if got := tagged.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// A pipeline over keys of several shards keeps its replies in request order.
	cc := c.Client()
	pipe := cc.Pipeline()
	for i := 0; i < 200; i++ {
		pipe.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Node 0's share, pipelined raw: INCRs of keys of its several shards.
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	leads := func(k string) bool {
		sl := slot.KeySlot([]byte(k))
		for _, r := range slots {
			if sl >= r.Start && sl <= r.End {
				return r.Nodes[0].Addr == c.Nodes[0].Addr
			}
		}
		return false
	}
	var req strings.Builder
	var mine []int
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("k%d", i)
		if leads(k) {
			fmt.Fprintf(&req, "*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n", len(k), k)
			mine = append(mine, i)
		}
	}
	if len(mine) < 30 {
		t.Fatalf("node 0 leads the shards of only %d of 200 keys", len(mine))
	}
	raw := c.Nodes[0].Dial()
	raw.Send(req.String())
	for _, i := range mine {
		if got := raw.ReadReply(); got != fmt.Sprintf(":%d\r\n", i+1) {
			t.Fatalf("pipelined INCR k%d = %q, want :%d", i, got, i+1)
		}
	}
	// DBSIZE on a node counts the keys of the shards it leads, as a Redis Cluster master's
	// counts its slots': over the nodes they add up.
	total := int64(0)
	for _, node := range c.Nodes {
		v, err := node.Client().DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		total += v
	}
	if total != 200+2 {
		t.Fatalf("DBSIZE summed over the nodes = %d, want 202", total)
	}
	var keys []string
	var keysMu sync.Mutex // ForEachMaster calls the function for every master at once
	err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		var cursor uint64
		for {
			ks, next, err := m.Scan(ctx, cursor, "k1*", 7).Result()
			if err != nil {
				return err
			}
			keysMu.Lock()
			keys = append(keys, ks...)
			keysMu.Unlock()
			if next == 0 {
				return nil
			}
			cursor = next
		}
	})
	if err != nil || len(keys) != 111 {
		t.Fatalf("SCAN k1* over the masters found %d keys, %v; want 111", len(keys), err)
	}
}

// With cluster-proxy a node serves clients that are not cluster-aware: it forwards what it
// cannot serve to the leader of the key's shard.
func TestClusterProxy(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-proxy", "yes")
	leader := c.LeaderOf("foo")
	var other *servertest.Server
	for _, n := range c.Nodes {
		if n != leader {
			other = n
			break
		}
	}
	conn := other.Dial()
	if got := conn.Do("SET", "foo", "proxied"); got != "+OK\r\n" {
		t.Fatalf("SET through a proxying node = %q", got)
	}
	if got := conn.Do("INCR", "counter"); got != ":1\r\n" {
		t.Fatalf("INCR through a proxying node = %q", got)
	}
	conn.Send("*3\r\n$3\r\nSET\r\n$1\r\np\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\np\r\n*2\r\n$3\r\nGET\r\n$1\r\np\r\n")
	for _, want := range []string{"+OK\r\n", ":2\r\n", "$1\r\n2\r\n"} {
		if got := conn.ReadReply(); got != want {
			t.Fatalf("pipelined through the proxy: %q, want %q", got, want)
		}
	}
	conn.Do("MULTI")
	conn.Do("INCR", "{foo}counter")
	conn.Do("GET", "foo")
	if got := conn.Do("EXEC"); got != "*2\r\n:1\r\n$7\r\nproxied\r\n" {
		t.Fatalf("EXEC through a proxying node = %q", got)
	}
	// Reads at strong on a node holding a replica see the proxied writes (its read index
	// covers them), and so does the leader.
	if got := conn.Do("GET", "foo"); got != "$7\r\nproxied\r\n" {
		t.Fatalf("GET on the proxying node after a proxied SET = %q", got)
	}
	if got := leader.Dial().Do("GET", "foo"); got != "$7\r\nproxied\r\n" {
		t.Fatalf("GET on the leader after a proxied SET = %q", got)
	}
}

func TestClusterConsistencyCommands(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	leader := c.LeaderOf("k")
	f := c.Followers(leader)
	conn := f[0].Dial()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CONSISTENCY"}, "$6\r\nstrong\r\n"},
		{[]string{"CONSISTENCY", "bogus"}, "-ERR invalid consistency level 'bogus': use strong, session or eventual\r\n"},
		{[]string{"CONSISTENCY", "SESSION"}, "+OK\r\n"},
		{[]string{"CONSISTENCY"}, "$7\r\nsession\r\n"},
		{[]string{"CONSISTENCY", "eventual", "GET", "nokey"}, "$-1\r\n"},
		{[]string{"CONSISTENCY", "strong", "EXISTS", "nokey"}, ":0\r\n"},
		{[]string{"CONSISTENCY", "eventual", "SET", "k", "v"}, "-MOVED 7629 " + leader.Addr + "\r\n"},
		{[]string{"SESSION"}, "-ERR wrong number of arguments for 'session' command\r\n"},
		{[]string{"SESSION", "RESUME", "garbage"}, "-ERR invalid session token\r\n"},
		{[]string{"SESSION", "RESUME", "1:5"}, "+OK\r\n"},
		{[]string{"SESSION", "BOGUS"}, "-ERR unknown subcommand 'BOGUS'. Try SESSION TOKEN or SESSION RESUME <token>.\r\n"},
		{[]string{"READONLY"}, "+OK\r\n"},
		{[]string{"READWRITE"}, "+OK\r\n"},
		{[]string{"WAIT", "1"}, "-ERR wrong number of arguments for 'wait' command\r\n"},
		{[]string{"WAIT", "x", "0"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"WAIT", "1", "-1"}, "-ERR timeout is negative\r\n"},
		{[]string{"CLUSTER", "FORGET", "nosuchnode"}, "-ERR Unknown node nosuchnode\r\n"},
		{[]string{"CLUSTER", "ADDSLOTS", "1"}, "-ERR cairn moves slots itself: use CLUSTER MIGRATE-SLOTS <start-slot> <end-slot> <target-shard-id> (shard IDs as CLUSTER SHARDS lists them); CLUSTER SETSLOT, ADDSLOTS, DELSLOTS and MIGRATE are not supported\r\n"},
		{[]string{"CLUSTER", "MEET", "127.0.0.1", "1"}, "-ERR CLUSTER MEET is not supported by cairn: the meta group manages slots, shards and membership (join with cluster-join, remove with CLUSTER FORGET)\r\n"},
		{[]string{"CLUSTER", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try CLUSTER HELP.\r\n"},
	} {
		if got := conn.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// A session token lists the session's position in every shard it touched.
	if got := conn.Do("SESSION", "TOKEN"); !strings.Contains(got, "1:5") {
		t.Fatalf("SESSION TOKEN after SESSION RESUME 1:5 = %q", got)
	}
	fresh := f[0].Dial()
	fresh.Do("SESSION", "RESUME", "3:7,11:2")
	if got := fresh.Do("SESSION", "TOKEN"); got != "$8\r\n3:7,11:2\r\n" {
		t.Fatalf("SESSION TOKEN after SESSION RESUME 3:7,11:2 = %q", got)
	}
	// WAIT counts the replicas that applied the connection's last write.
	lc := c.LeaderOf("w").Dial()
	lc.Do("SET", "w", "1")
	if got := lc.Do("WAIT", "2", "5000"); got != ":2\r\n" {
		t.Fatalf("WAIT 2 5000 after a write = %q, want :2", got)
	}
	if got := lc.Do("WAIT", "5", "100"); got != ":2\r\n" {
		t.Fatalf("WAIT 5 100 = %q, want :2 after the timeout", got)
	}
}

func TestClusterSingleNodeCommands(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "INFO"}, "-ERR This instance has cluster support disabled\r\n"},
		{[]string{"READONLY"}, "-ERR This instance has cluster support disabled\r\n"},
		{[]string{"CONSISTENCY", "eventual"}, "+OK\r\n"},
		{[]string{"CONSISTENCY", "session", "SET", "a", "1"}, "+OK\r\n"},
		{[]string{"CONSISTENCY", "eventual", "GET", "a"}, "$1\r\n1\r\n"},
		{[]string{"WAIT", "0", "0"}, ":0\r\n"},
		{[]string{"WAIT", "1", "50"}, ":0\r\n"},
	} {
		if got := conn.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// A session's reads on followers see its own writes and never go back in time, whichever node
// serves them, carried between connections by SESSION TOKEN / SESSION RESUME.
func TestClusterSessionReads(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	leader := c.LeaderOf("seq")
	followers := c.Followers(leader)
	ctx := servertest.Ctx(t)
	writer := leader.Client(func(o *redis.Options) { o.PoolSize = 1 })
	// incr writes through the shard's leader, following it if leadership moves (a loaded
	// machine may hold an election): TRYAGAIN and CLUSTERDOWN were not applied and are retried,
	// MOVED takes the session (its token) to the new leader.
	incr := func() int64 {
		for attempt := 0; ; attempt++ {
			n, err := writer.Incr(ctx, "seq").Result()
			if err == nil {
				return n
			}
			msg := err.Error()
			switch {
			case attempt < 100 && (strings.HasPrefix(msg, "TRYAGAIN") || strings.HasPrefix(msg, "CLUSTERDOWN")):
				time.Sleep(100 * time.Millisecond)
			case attempt < 100 && strings.HasPrefix(msg, "MOVED"):
				tok, err := writer.Do(ctx, "SESSION", "TOKEN").Text()
				if err != nil {
					t.Fatal(err)
				}
				w := redis.NewClient(&redis.Options{Addr: strings.Fields(msg)[2], PoolSize: 1, Protocol: 2})
				t.Cleanup(func() { w.Close() })
				writer = w
				if err := writer.Do(ctx, "SESSION", "RESUME", tok).Err(); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatal(err)
			}
		}
	}
	var readers []*redis.Client
	for _, f := range followers {
		r := f.Client(func(o *redis.Options) { o.PoolSize = 1 })
		if err := r.Do(ctx, "CONSISTENCY", "session").Err(); err != nil {
			t.Fatal(err)
		}
		readers = append(readers, r)
	}
	last := int64(0)
	for i := 0; i < 200; i++ {
		n := incr()
		tok, err := writer.Do(ctx, "SESSION", "TOKEN").Text()
		if err != nil {
			t.Fatal(err)
		}
		r := readers[i%len(readers)]
		if err := r.Do(ctx, "SESSION", "RESUME", tok).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := r.Get(ctx, "seq").Int64()
		if err != nil {
			t.Fatal(err)
		}
		if got < n {
			t.Fatalf("session read on a follower after writing %d saw %d: not read-your-writes", n, got)
		}
		if got < last {
			t.Fatalf("session read went back in time: %d after %d", got, last)
		}
		last = got
		// The token travels back, so the next read elsewhere is at least as new.
		tok, err = r.Do(ctx, "SESSION", "TOKEN").Text()
		if err != nil {
			t.Fatal(err)
		}
		if err := readers[(i+1)%len(readers)].Do(ctx, "SESSION", "RESUME", tok).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Eventual reads are served by followers at once.
	for _, f := range followers {
		if got := f.Dial().Do("CONSISTENCY", "eventual", "EXISTS", "seq"); got != ":1\r\n" && got != ":0\r\n" {
			t.Fatalf("eventual EXISTS on a follower = %q", got)
		}
	}
	_ = strconv.Itoa
}

// go-redis's ClusterClient works against the cluster end to end, including pipelines and
// transactions on one slot.
func TestClusterGoRedisClusterClient(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	ctx := servertest.Ctx(t)
	cc := c.Client()
	if err := cc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	pipe := cc.Pipeline()
	for i := 0; i < 50; i++ {
		pipe.Set(ctx, fmt.Sprintf("p%d", i), i, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	tx := cc.TxPipeline()
	tx.Incr(ctx, "{t}a")
	tx.Incr(ctx, "{t}a")
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := cc.Get(ctx, "{t}a").Int(); err != nil || got != 2 {
		t.Fatalf("GET {t}a = %d, %v; want 2", got, err)
	}
	ro := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.Nodes[0].Addr}, ReadOnly: true})
	defer ro.Close()
	waitCluster(t, "a read-only client to see p49", 10*time.Second, func() bool {
		v, err := ro.Get(ctx, "p49").Int()
		return err == nil && v == 49
	})
	_ = context.Background
}

// "cairn cluster start" runs a local cluster in the foreground and stops it on Ctrl-C.
func TestClusterStartCommand(t *testing.T) {
	port := servertest.ClusterPorts(t, 3)
	dir := t.TempDir()
	cmd := exec.Command(servertest.Binary(t), "cluster", "start", "--nodes", "3", "--shards", "6", "--base-port", strconv.Itoa(port), "--dir", dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() {
			// What each node knew, and its log.
			for i := 0; i < 3; i++ {
				addr := "127.0.0.1:" + strconv.Itoa(port+i)
				c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
				info, _ := c.Info(context.Background(), "replication").Result()
				slots, _ := c.Do(context.Background(), "CLUSTER", "SLOTS").Slice()
				c.Close()
				t.Logf("node %s:\n%s\nCLUSTER SLOTS %v", addr, info, slots)
				log, _ := os.ReadFile(filepath.Join(dir, "node-"+strconv.Itoa(port+i)+".log"))
				t.Logf("log of node %s:\n%s", addr, log)
			}
		}
		_ = cmd.Process.Kill()
	})
	ctx := servertest.Ctx(t)
	// go-redis reloads its slot map on a MOVED, or every ClusterStateReloadInterval (a minute by
	// default), but not when a master stops answering: a client of any Redis Cluster that must
	// ride out a crashed master sets it.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:" + strconv.Itoa(port)}, MaxRedirects: 16,
		ClusterStateReloadInterval: time.Second})
	defer cc.Close()
	waitCluster(t, "the started cluster to take a write", 30*time.Second, func() bool {
		return cc.Set(ctx, "hello", "world", 0).Err() == nil
	})
	if got, err := cc.Get(ctx, "hello").Result(); err != nil || got != "world" {
		t.Fatalf("GET hello = %q, %v", got, err)
	}
	one := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	info, err := one.ClusterInfo(ctx).Result()
	one.Close()
	if got := firstLine(t, info, "cluster_shards:"); err != nil || got != "cluster_shards:6" {
		t.Fatalf("CLUSTER INFO: %q, %v; want cluster_shards:6", got, err)
	}
	// A node that exits leaves the others running: the cluster fails over and takes writes.
	stopped := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port+1), MaxRetries: -1})
	_ = stopped.Shutdown(ctx).Err()
	stopped.Close()
	var lastErr error
	waitCluster(t, "writes after a node exited", 30*time.Second, func() bool {
		for i := 0; i < 20; i++ {
			if lastErr = cc.Set(ctx, fmt.Sprintf("after%d", i), "1", 0).Err(); lastErr != nil {
				t.Logf("SET after%d: %v", i, lastErr)
				return false
			}
		}
		return true
	})
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("cairn cluster start exited with %v:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("cairn cluster start did not stop on Ctrl-C:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "stopping the cluster") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// With cluster-proxy, the commands a Redis user expects to span the keyspace work on any node
// for keys of any shards: MGET, MSET, DEL, EXISTS, TOUCH, UNLINK are split by shard and merged;
// DBSIZE, KEYS, SCAN, RANDOMKEY and FLUSHALL cover every shard of the cluster. Atomic
// multi-key commands still need one slot.
func TestClusterProxyFansOut(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-proxy", "yes")
	conn := c.Nodes[1].Dial()
	var mset []string
	var mget []string
	want := "*20\r\n"
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("key:%d", i)
		mset = append(mset, k, fmt.Sprintf("v%d", i))
		mget = append(mget, k)
		want += fmt.Sprintf("$%d\r\nv%d\r\n", len(fmt.Sprint(i))+1, i)
	}
	if got := conn.Do(append([]string{"MSET"}, mset...)...); got != "+OK\r\n" {
		t.Fatalf("MSET over many shards = %q", got)
	}
	if got := conn.Do(append([]string{"MGET"}, mget...)...); got != want {
		t.Fatalf("MGET over many shards = %q, want %q", got, want)
	}
	if got := conn.Do("MGET", "key:3", "nokey", "key:1"); got != "*3\r\n$2\r\nv3\r\n$-1\r\n$2\r\nv1\r\n" {
		t.Fatalf("MGET with a missing key = %q", got)
	}
	if got := conn.Do(append([]string{"EXISTS"}, mget...)...); got != ":20\r\n" {
		t.Fatalf("EXISTS over many shards = %q", got)
	}
	if got := conn.Do("DBSIZE"); got != ":20\r\n" {
		t.Fatalf("DBSIZE through the proxy = %q, want the whole cluster's 20", got)
	}
	keys := conn.Do("KEYS", "key:1*")
	if !strings.HasPrefix(keys, "*11\r\n") {
		t.Fatalf("KEYS key:1* through the proxy = %q, want 11 keys", keys)
	}
	// SCAN walks every shard: each key once.
	seen := map[string]bool{}
	rdb := c.Nodes[1].Client()
	ctx := servertest.Ctx(t)
	var cursor uint64
	for {
		ks, next, err := rdb.Scan(ctx, cursor, "key:*", 3).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if seen[k] {
				t.Fatalf("SCAN returned %s twice", k)
			}
			seen[k] = true
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(seen) != 20 {
		t.Fatalf("SCAN through the proxy found %d keys, want 20", len(seen))
	}
	if got := conn.Do("RANDOMKEY"); !strings.HasPrefix(got, "$5\r\nkey:") && !strings.HasPrefix(got, "$6\r\nkey:") {
		t.Fatalf("RANDOMKEY = %q", got)
	}
	if got := conn.Do("RENAME", "key:1", "key:2"); !strings.HasPrefix(got, "-CROSSSLOT") {
		t.Fatalf("RENAME across slots through the proxy = %q, want CROSSSLOT", got)
	}
	if got := conn.Do(append([]string{"DEL"}, mget[:10]...)...); got != ":10\r\n" {
		t.Fatalf("DEL over many shards = %q", got)
	}
	// TRYAGAIN says the write was not applied (a leader changed under it): a cluster client
	// retries it, as this does.
	got := conn.Do("FLUSHALL")
	for i := 0; i < 20 && strings.HasPrefix(got, "-TRYAGAIN"); i++ {
		time.Sleep(100 * time.Millisecond)
		got = conn.Do("FLUSHALL")
	}
	if got != "+OK\r\n" {
		t.Fatalf("FLUSHALL through the proxy = %q", got)
	}
	if got := conn.Do("DBSIZE"); got != ":0\r\n" {
		t.Fatalf("DBSIZE after FLUSHALL = %q", got)
	}
}

// firstLine returns the line of s starting with prefix ("" if none).
func firstLine(t *testing.T, s, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
