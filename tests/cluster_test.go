package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
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

func TestClusterForms(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	leader := c.Leader()
	ctx := servertest.Ctx(t)
	ids := map[string]bool{}
	for _, n := range c.Nodes {
		conn := n.Dial()
		info := conn.Do("CLUSTER", "INFO")
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
			t.Fatalf("CLUSTER INFO on %s = %q", n.Addr, info)
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
	rdb := leader.Client()
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(slots) != 1 || slots[0].Start != 0 || slots[0].End != 16383 || len(slots[0].Nodes) != 3 || slots[0].Nodes[0].Addr != leader.Addr {
		t.Fatalf("CLUSTER SLOTS = %+v, want 0-16383 led by %s with 3 nodes", slots, leader.Addr)
	}
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil || len(shards) != 1 || len(shards[0].Nodes) != 3 {
		t.Fatalf("CLUSTER SHARDS = %+v, %v", shards, err)
	}
	nodes, err := rdb.ClusterNodes(ctx).Result()
	if err != nil || strings.Count(nodes, "\n") != 3 || !strings.Contains(nodes, "myself,master") || strings.Count(nodes, "slave") != 2 {
		t.Fatalf("CLUSTER NODES = %q, %v", nodes, err)
	}
	if got := leader.Dial().Do("CLUSTER", "KEYSLOT", "foo{bar}"); got != ":5061\r\n" {
		t.Fatalf("CLUSTER KEYSLOT foo{bar} = %q, want :5061", got)
	}
	role, err := rdb.Do(ctx, "ROLE").Slice()
	if err != nil || role[0] != "master" || len(role[2].([]any)) != 2 {
		t.Fatalf("ROLE on the leader = %v, %v", role, err)
	}
	for _, f := range c.Followers(leader) {
		role, err := f.Client().Do(ctx, "ROLE").Slice()
		if err != nil || role[0] != "slave" || role[3] != "connected" {
			t.Fatalf("ROLE on a follower = %v, %v", role, err)
		}
		if got := f.Info("replication", "role"); got != "slave" {
			t.Fatalf("INFO replication role on a follower = %q", got)
		}
	}
	if got := leader.Info("replication", "connected_slaves"); got != "2" {
		t.Fatalf("connected_slaves on the leader = %q, want 2", got)
	}
	if got := leader.Info("cluster", "cluster_enabled"); got != "1" {
		t.Fatalf("cluster_enabled = %q, want 1", got)
	}
}

func TestClusterWriteThroughFollower(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	leader := c.Leader()
	follower := c.Followers(leader)[0]
	conn := follower.Dial()
	got := conn.Do("SET", "foo", "1")
	if want := "-MOVED 12182 " + leader.Addr + "\r\n"; got != want {
		t.Fatalf("SET on a follower = %q, want %q", got, want)
	}
	if got := conn.Do("FLUSHALL"); !strings.HasPrefix(got, "-READONLY") {
		t.Fatalf("FLUSHALL on a follower = %q, want -READONLY", got)
	}
	// A transaction is redirected at EXEC.
	conn.Do("MULTI")
	conn.Do("SET", "foo", "2")
	if got := conn.Do("EXEC"); got != "-MOVED 12182 "+leader.Addr+"\r\n" {
		t.Fatalf("EXEC on a follower = %q, want MOVED", got)
	}
	// A cluster-aware client follows the redirection.
	ctx := servertest.Ctx(t)
	cc := c.Client()
	for i := 0; i < 20; i++ {
		if err := cc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		if got, err := cc.Get(ctx, fmt.Sprintf("k%d", i)).Int(); err != nil || got != i {
			t.Fatalf("GET k%d = %d, %v", i, got, err)
		}
	}
	if n, err := cc.Incr(ctx, "counter").Result(); err != nil || n != 1 {
		t.Fatalf("INCR through ClusterClient = %d, %v", n, err)
	}
	// With cluster-proxy the follower forwards writes to the leader.
	if got := conn.Do("CONFIG", "SET", "cluster-proxy", "yes"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET cluster-proxy = %q", got)
	}
	if got := conn.Do("SET", "foo", "proxied"); got != "+OK\r\n" {
		t.Fatalf("SET through a proxying follower = %q", got)
	}
	if got := conn.Do("INCR", "counter"); got != ":2\r\n" {
		t.Fatalf("INCR through a proxying follower = %q", got)
	}
	conn.Send("*3\r\n$3\r\nSET\r\n$1\r\np\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\np\r\n*2\r\n$3\r\nGET\r\n$1\r\np\r\n")
	for _, want := range []string{"+OK\r\n", ":2\r\n", "$1\r\n2\r\n"} {
		if got := conn.ReadReply(); got != want {
			t.Fatalf("pipelined through the proxy: %q, want %q", got, want)
		}
	}
	conn.Do("MULTI")
	conn.Do("INCR", "counter")
	conn.Do("GET", "foo")
	if got := conn.Do("EXEC"); got != "*2\r\n:3\r\n$7\r\nproxied\r\n" {
		t.Fatalf("EXEC through a proxying follower = %q", got)
	}
	// Reads at strong on the follower see the proxied writes (its read index covers them).
	if got := conn.Do("GET", "foo"); got != "$7\r\nproxied\r\n" {
		t.Fatalf("GET on the follower after a proxied SET = %q", got)
	}
	if got := leader.Dial().Do("GET", "foo"); got != "$7\r\nproxied\r\n" {
		t.Fatalf("GET on the leader after a proxied SET = %q", got)
	}
}

func TestClusterConsistencyCommands(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	leader := c.Leader()
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
		{[]string{"SESSION", "TOKEN"}, "$3\r\n1:5\r\n"},
		{[]string{"SESSION", "BOGUS"}, "-ERR unknown subcommand 'BOGUS'. Try SESSION TOKEN or SESSION RESUME <token>.\r\n"},
		{[]string{"READONLY"}, "+OK\r\n"},
		{[]string{"READWRITE"}, "+OK\r\n"},
		{[]string{"WAIT", "1"}, "-ERR wrong number of arguments for 'wait' command\r\n"},
		{[]string{"WAIT", "x", "0"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"WAIT", "1", "-1"}, "-ERR timeout is negative\r\n"},
		{[]string{"CLUSTER", "FORGET", "nosuchnode"}, "-ERR Unknown node nosuchnode\r\n"},
		{[]string{"CLUSTER", "ADDSLOTS", "1"}, "-ERR CLUSTER ADDSLOTS is not supported by cairn: Raft manages slots, failover and membership (join with cluster-join, remove with CLUSTER FORGET)\r\n"},
		{[]string{"CLUSTER", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try CLUSTER HELP.\r\n"},
	} {
		if got := conn.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// WAIT counts the replicas that applied the connection's last write.
	lc := leader.Dial()
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
	leader := c.Leader()
	followers := c.Followers(leader)
	ctx := servertest.Ctx(t)
	writer := leader.Client()
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
		n, err := writer.Incr(ctx, "seq").Result()
		if err != nil {
			t.Fatal(err)
		}
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
	c.Leader()
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
	cmd := exec.Command(servertest.Binary(t), "cluster", "start", "--nodes", "3", "--base-port", strconv.Itoa(port), "--dir", dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	ctx := servertest.Ctx(t)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:" + strconv.Itoa(port)}, MaxRedirects: 16})
	defer cc.Close()
	waitCluster(t, "the started cluster to take a write", 30*time.Second, func() bool {
		return cc.Set(ctx, "hello", "world", 0).Err() == nil
	})
	if got, err := cc.Get(ctx, "hello").Result(); err != nil || got != "world" {
		t.Fatalf("GET hello = %q, %v", got, err)
	}
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
