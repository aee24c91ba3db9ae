package tests

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// The clients Redis Cluster users run work unchanged against a cairn cluster of three nodes and
// twelve shards: redis-cli -c and --cluster check, redis-benchmark --cluster, go-redis's
// ClusterClient, and (tests/testdata/node-clients) ioredis and node-redis, pub/sub included.
func TestClusterClients(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	addrs := addrsOf(c)
	t.Run("redis-cli", func(t *testing.T) {
		cli := lookTool(t, "redis-cli")
		host, port, _ := strings.Cut(addrs[0], ":")
		for _, k := range []string{"a", "b", "c", "foo", "{user}1"} {
			out, err := exec.Command(cli, "-c", "-h", host, "-p", port, "SET", k, "v-"+k).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "OK" {
				t.Fatalf("redis-cli -c SET %s: %s, %v", k, out, err)
			}
			out, err = exec.Command(cli, "-c", "-h", host, "-p", port, "GET", k).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "v-"+k {
				t.Fatalf("redis-cli -c GET %s: %s, %v", k, out, err)
			}
		}
		out, err := exec.Command(cli, "--cluster", "check", addrs[0]).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "[OK] All nodes agree about slots configuration.") || !strings.Contains(string(out), "[OK] All 16384 slots covered.") {
			t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
		}
	})
	t.Run("redis-benchmark", func(t *testing.T) {
		bench := lookTool(t, "redis-benchmark")
		host, port, _ := strings.Cut(addrs[0], ":")
		// redis-benchmark reads the masters once and cannot follow a leader to a node it did
		// not list as one: start once leaders sit where placement put them (four per node),
		// not while a failover of a slow start is being handed back.
		waitCluster(t, "every node to lead its four shards", 30*time.Second, func() bool {
			for _, n := range c.Nodes {
				if n.Info("replication", "raft_shards_led") != "4" {
					return false
				}
			}
			return true
		})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bench, "--cluster", "-h", host, "-p", port, "-t", "set,get", "-n", "5000", "-c", "10", "-q").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SET:") || !strings.Contains(string(out), "GET:") || strings.Contains(string(out), "Error") {
			t.Fatalf("redis-benchmark --cluster: %v\n%s", err, out)
		}
	})
	t.Run("go-redis", func(t *testing.T) {
		ctx := servertest.Ctx(t)
		cc := c.Client()
		sub := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs[1:]})
		defer sub.Close()
		ps := sub.Subscribe(ctx, "news")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		sps := sub.SSubscribe(ctx, "shard-news")
		defer sps.Close()
		if _, err := sps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if err := cc.Publish(ctx, "news", "hello").Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-ps.Channel():
			if m.Channel != "news" || m.Payload != "hello" {
				t.Fatalf("message = %+v", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no pub/sub message across nodes")
		}
		if err := cc.SPublish(ctx, "shard-news", "sharded").Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-sps.Channel():
			if m.Payload != "sharded" {
				t.Fatalf("sharded message = %+v", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no sharded pub/sub message")
		}
	})
	t.Run("node", func(t *testing.T) {
		node := lookTool(t, "node")
		dir := npmInstall(t, "node-clients", "ioredis")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, append([]string{"cluster.mjs"}, addrs...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "all ok") {
			t.Fatalf("ioredis and node-redis against the cluster: %v\n%s", err, out)
		}
		t.Logf("%s", out)
	})
}

// lookTool finds a program the test drives, skipping the test where the machine lacks it
// (.ci/run installs them).
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	return p
}
