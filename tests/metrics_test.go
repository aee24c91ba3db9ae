package tests

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

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
