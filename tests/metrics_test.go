package tests

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// metricValue returns the value of the sample whose line starts with series.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no sample %s in /metrics", series)
	return 0
}

func TestMetricsEndpoint(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(servertest.FreePort(t))
	srv := servertest.Start(t, "--metrics-addr", addr)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	for i := 0; i < 10; i++ {
		if err := rdb.Set(ctx, "k"+strconv.Itoa(i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_ = rdb.Get(ctx, "k1").Err()
	_ = rdb.Get(ctx, "missing").Err()
	_ = rdb.Do(ctx, "INCR", "k1").Err() // fails: not an integer

	text := scrape(t, addr)
	for _, name := range []string{
		"cairn_commands_total", "cairn_command_failed_total", "cairn_command_rejected_total",
		"cairn_command_duration_seconds_bucket", "cairn_command_duration_seconds_sum", "cairn_command_duration_seconds_count",
		"cairn_connected_clients", "cairn_connections_received_total", "cairn_rejected_connections_total",
		"cairn_error_replies_total", "cairn_keyspace_hits_total", "cairn_keyspace_misses_total", "cairn_expired_keys_total",
		"cairn_engine_disk_bytes", "cairn_engine_compactions_total", "cairn_engine_flushes_total",
		"cairn_engine_block_cache_hits_total", "cairn_engine_block_cache_misses_total", "cairn_engine_block_cache_bytes",
		"cairn_engine_memtable_bytes", "cairn_engine_wal_bytes",
		"go_memstats_heap_inuse_bytes", "process_resident_memory_bytes",
	} {
		if !strings.Contains(text, "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if v := metricValue(t, text, `cairn_commands_total{cmd="set"}`); v != 10 {
		t.Errorf("SET calls = %v, want 10", v)
	}
	if v := metricValue(t, text, `cairn_command_failed_total{cmd="incr"}`); v != 1 {
		t.Errorf("INCR failures = %v, want 1", v)
	}
	if v := metricValue(t, text, `cairn_command_duration_seconds_count{cmd="set"}`); v != 10 {
		t.Errorf("SET duration count = %v, want 10", v)
	}
	if v := metricValue(t, text, "cairn_keyspace_misses_total"); v < 1 {
		t.Errorf("keyspace misses = %v", v)
	}
}

// In a cluster a node reports its replicas' Raft state, per shard.
func TestMetricsRaft(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(servertest.FreePort(t))
	c := servertest.StartCluster(t, 1, "--cluster-shards", "2", "--metrics-addr", addr)
	if err := c.Nodes[0].Client().Set(servertest.Ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	text := scrape(t, addr)
	for _, name := range []string{"cairn_raft_term", "cairn_raft_is_leader", "cairn_raft_leader_node", "cairn_raft_commit_index",
		"cairn_raft_applied_index", "cairn_raft_apply_lag"} {
		if n := strings.Count(text, "\n"+name+"{shard="); n < 2 {
			t.Errorf("/metrics has %d samples of %s, want one per shard", n, name)
		}
	}
}

// metricSum adds up every sample of a metric, whatever its labels; ok is false if it has none.
func metricSum(text, name string) (sum float64, ok bool) {
	for _, line := range strings.Split(text, "\n") {
		rest, found := strings.CutPrefix(line, name)
		if !found || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum, ok = sum+v, true
		}
	}
	return sum, ok
}

// The expiry sweeper, slow subscribers and the connection rate limit have series that move.
func TestMetricsSweepsSubscribersRate(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(servertest.FreePort(t))
	srv := servertest.Start(t, "--metrics-addr", addr, "--client-output-buffer-limit", "pubsub 256kb 0 0")
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	before := scrape(t, addr)
	for _, name := range []string{"cairn_expiry_sweeps_total", "cairn_expiry_swept_keys_total", "cairn_expiry_swept_fields_total",
		"cairn_slow_subscribers_total", "cairn_output_limit_disconnections_total", "cairn_rate_limited_connections_total"} {
		if v, ok := metricSum(before, name); !ok || v != 0 {
			t.Errorf("%s before anything happened = %v (present %v), want 0", name, v, ok)
		}
	}

	// Keys that expire are removed by the sweeper, which counts them.
	const keys = 100
	for i := 0; i < keys; i++ {
		if err := rdb.Set(ctx, "e"+strconv.Itoa(i), "v", time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the sweeper to remove the expired keys", func() bool {
		v, _ := metricSum(scrape(t, addr), "cairn_expiry_swept_keys_total")
		return v == keys
	})
	if v, _ := metricSum(scrape(t, addr), "cairn_expiry_sweeps_total"); v < 1 {
		t.Errorf("cairn_expiry_sweeps_total = %v after a sweep", v)
	}

	// A subscriber that does not read is cut off at its output limit, and counted.
	raw, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte("SUBSCRIBE slow\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription", func() bool { return rdb.PubSubNumSub(ctx, "slow").Val()["slow"] == 1 })
	payload := strings.Repeat("x", 4096)
	for i := 0; i < 4096; i++ {
		n, err := rdb.Publish(ctx, "slow", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	text := scrape(t, addr)
	if v := metricValue(t, text, "cairn_slow_subscribers_total"); v != 1 {
		t.Errorf("cairn_slow_subscribers_total = %v, want 1", v)
	}
	if v := metricValue(t, text, "cairn_output_limit_disconnections_total"); v != 1 {
		t.Errorf("cairn_output_limit_disconnections_total = %v, want 1", v)
	}

	// Connections over max-new-connections-per-second are refused, and counted.
	if err := rdb.ConfigSet(ctx, "max-new-connections-per-second", "1").Err(); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Write([]byte("PING\r\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.HasPrefix(line, "-ERR max number of new connections") {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no connection was refused at a limit of 1 a second")
	}
	if v := metricValue(t, scrape(t, addr), "cairn_rate_limited_connections_total"); v != float64(refused) {
		t.Errorf("cairn_rate_limited_connections_total = %v, want %d", v, refused)
	}
}

// A cluster node reports the meta group's Raft state (on meta members), dropped proposals per
// group, its topology version, the snapshot bytes it sent or received, and on a follower its
// replication lag. Two founding nodes hold both shards (one follows each); a third joins, and
// placement moves a replica to it by snapshot.
func TestMetricsCluster(t *testing.T) {
	const n = 3
	ports := []int{servertest.ClusterPort(t), servertest.ClusterPort(t), servertest.ClusterPort(t)}
	metrics := make([]string, n)
	for i := range metrics {
		metrics[i] = "127.0.0.1:" + strconv.Itoa(servertest.FreePort(t))
	}
	initial := "127.0.0.1:" + strconv.Itoa(ports[0]) + ",127.0.0.1:" + strconv.Itoa(ports[1])
	var nodes []*servertest.Server
	for i := 0; i < 2; i++ {
		nodes = append(nodes, servertest.StartIn(t, t.TempDir(), ports[i], "--cluster-enabled", "yes", "--cluster-initial", initial,
			"--cluster-shards", "2", "--cluster-replicas", "2", "--metrics-addr", metrics[i],
			// The meta group stays on the two founders, so the node that joins is one outside it.
			"--cluster-meta-size", "2"))
	}
	waitReady := func(s *servertest.Server) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for s.ClusterInfo("cluster_state") != "ok" {
			if time.Now().After(deadline) {
				t.Fatalf("%s never served every slot:\n%s", s.Addr, s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, s := range nodes {
		waitReady(s)
	}
	for i := 0; i < 2; i++ {
		text := scrape(t, metrics[i])
		for _, name := range []string{"cairn_raft_term", "cairn_raft_leader_node", "cairn_raft_applied_index", "cairn_raft_commit_index",
			"cairn_raft_is_leader", "cairn_raft_proposals_dropped_total"} {
			if !strings.Contains(text, "\n"+name+`{shard="meta"}`) {
				t.Errorf("node %d: no %s for the meta group", i, name)
			}
			if n := strings.Count(text, "\n"+name+`{shard="`) - 1; n != 2 {
				t.Errorf("node %d: %d data shards have %s, want 2", i, n, name)
			}
		}
		if v := metricValue(t, text, `cairn_raft_applied_index{shard="meta"}`); v < 1 {
			t.Errorf("node %d: the meta group's applied index is %v", i, v)
		}
		if v := metricValue(t, text, "cairn_topology_version"); v < 1 {
			t.Errorf("node %d: cairn_topology_version = %v", i, v)
		}
	}
	// Each node follows one of the two shards (leaders are balanced): it reports its lag there.
	waitFor(t, "both nodes to report replication lag as followers", func() bool {
		for i := 0; i < 2; i++ {
			text := scrape(t, metrics[i])
			if !strings.Contains(text, "\ncairn_replication_lag_entries{") || !strings.Contains(text, "\ncairn_replication_last_contact_seconds{") {
				return false
			}
		}
		return true
	})

	joined := servertest.StartIn(t, t.TempDir(), ports[2], "--cluster-enabled", "yes", "--cluster-join", nodes[0].Addr,
		"--cluster-shards", "2", "--cluster-replicas", "2", "--metrics-addr", metrics[2])
	waitReady(joined)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var sent float64
		for i := 0; i < 2; i++ {
			sent += metricValue(t, scrape(t, metrics[i]), "cairn_snapshot_sent_bytes_total")
		}
		received := metricValue(t, scrape(t, metrics[2]), "cairn_snapshot_received_bytes_total")
		if sent > 0 && received > 0 {
			t.Logf("snapshot bytes: %v sent, %v received", sent, received)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot was sent to the joining node within 60s: %v bytes sent, %v received", sent, received)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(scrape(t, metrics[2]), `{shard="meta"}`) {
		t.Error("a node outside the meta group reports the meta group's Raft state")
	}
}
