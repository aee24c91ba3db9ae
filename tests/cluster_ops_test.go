package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// cairnCLI runs the cairn binary with args and returns its combined output and whether it
// exited 0.
func cairnCLI(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command(servertest.Binary(t), args...).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running cairn %v: %v", args, err)
		}
	}
	return string(out), err == nil
}

// The operator commands against one cluster: rebalance refused while placement is off, then a
// joined node receiving its share through rebalance, status naming every node and shard with
// their figures, and remove-node --wait draining the joined node out of the cluster.
func TestClusterOperatorCommands(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "6", "--cluster-rebalance", "no") // 18 replicas
	port := strconv.Itoa(c.Nodes[0].Port)
	cc := c.Client()
	ctx := context.Background()
	const keys = 300
	for i := range keys {
		if err := cc.Set(ctx, fmt.Sprintf("ops:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n4 := c.Join("--cluster-rebalance", "no")

	t.Run("rebalance refused while off", func(t *testing.T) {
		out, ok := cairnCLI(t, "cluster", "rebalance", "--port", port)
		if ok || !strings.Contains(out, "cluster-rebalance no") {
			t.Fatalf("cluster rebalance with placement off: ok=%v, output:\n%s", ok, out)
		}
	})

	t.Run("rebalance", func(t *testing.T) {
		for _, n := range c.Nodes {
			if got := n.Dial().Do("CONFIG", "SET", "cluster-rebalance", "yes"); got != "+OK\r\n" {
				t.Fatalf("CONFIG SET cluster-rebalance yes = %q", got)
			}
		}
		// Rounds until one finds nothing to do and no move under way: the new node has its share.
		deadline := time.Now().Add(120 * time.Second)
		started := 0
		for {
			out, ok := cairnCLI(t, "cluster", "rebalance", "--wait", "--timeout", "120s", "--port", port)
			if !ok {
				t.Fatalf("cluster rebalance failed:\n%s", out)
			}
			if strings.Contains(out, "started") {
				started++
			}
			if strings.Contains(out, "nothing new to do") && strings.Contains(out, "\n0 moves in progress\n") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("placement did not settle; last output:\n%s", out)
			}
		}
		if h, _ := strconv.Atoi(n4.Info("replication", "raft_shards_hosted")); h < 4 {
			t.Fatalf("the joined node hosts %d replicas after rebalancing, want its share (4 or 5 of 18)", h)
		}
		t.Logf("%d rebalance calls started operations", started)
	})

	t.Run("status", func(t *testing.T) {
		// Reads of one key throughout, so its shard shows ops/s (a rate over the last 1.6 s).
		stop, stopped := make(chan struct{}), make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					stopped <- nil
					return
				default:
				}
				if err := cc.Get(ctx, "ops:7").Err(); err != nil {
					stopped <- err
					return
				}
			}
		}()
		time.Sleep(2 * time.Second) // load for the rate's window, not waiting for a condition
		out, ok := cairnCLI(t, "cluster", "status", "--port", port)
		close(stop)
		if err := <-stopped; err != nil {
			t.Fatalf("reads during status: %v", err)
		}
		if !ok {
			t.Fatalf("cluster status failed:\n%s", out)
		}
		for _, n := range c.Nodes {
			if !strings.Contains(out, n.Addr) {
				t.Errorf("status does not name node %s:\n%s", n.Addr, out)
			}
		}
		var view struct {
			Nodes []struct {
				ID        uint64 `json:"id"`
				Addr      string `json:"addr"`
				Alive     bool   `json:"alive"`
				Reachable bool   `json:"reachable"`
				Replicas  int    `json:"replicas"`
			} `json:"nodes"`
			Shards []struct {
				ID    uint64 `json:"id"`
				Slots []struct {
					Start int `json:"start"`
					End   int `json:"end"`
				} `json:"slots"`
				Leader    uint64  `json:"leader"`
				Keys      int64   `json:"keys"`
				Bytes     uint64  `json:"bytes"`
				OpsPerSec float64 `json:"ops_per_sec"`
			} `json:"shards"`
		}
		js, ok := cairnCLI(t, "cluster", "status", "--json", "--port", port)
		if !ok {
			t.Fatalf("cluster status --json failed:\n%s", js)
		}
		if err := json.Unmarshal([]byte(js), &view); err != nil {
			t.Fatalf("status --json: %v\n%s", err, js)
		}
		if len(view.Nodes) != 4 || len(view.Shards) != 6 {
			t.Fatalf("status shows %d nodes and %d shards, want 4 and 6:\n%s", len(view.Nodes), len(view.Shards), js)
		}
		replicas := 0
		for _, n := range view.Nodes {
			replicas += n.Replicas
			if !n.Alive || !n.Reachable {
				t.Errorf("node %d (%s) shown down or unreachable", n.ID, n.Addr)
			}
		}
		if replicas != 18 {
			t.Errorf("status counts %d replicas over the nodes, want 18", replicas)
		}
		var total int64
		var busy bool
		slots := 0
		for _, sh := range view.Shards {
			if sh.Leader == 0 {
				t.Errorf("shard %d shown without a leader", sh.ID)
			}
			ranges := []string{}
			for _, r := range sh.Slots {
				slots += r.End - r.Start + 1
				ranges = append(ranges, fmt.Sprintf("%d-%d", r.Start, r.End))
			}
			// The table has a row per shard with its slot ranges.
			if !strings.Contains(out, "\n"+strconv.FormatUint(sh.ID, 10)+" ") || !strings.Contains(out, strings.Join(ranges, ",")) {
				t.Errorf("the status table has no row for shard %d (%s):\n%s", sh.ID, strings.Join(ranges, ","), out)
			}
			total += sh.Keys
			busy = busy || sh.OpsPerSec > 0
		}
		if slots != 16384 {
			t.Errorf("status shards cover %d slots, want 16384", slots)
		}
		if total != keys {
			t.Errorf("status counts %d keys over the shards, want %d", total, keys)
		}
		if !busy {
			t.Errorf("no shard shows ops/s after 2 s of reads:\n%s", out)
		}
	})

	t.Run("remove-node", func(t *testing.T) {
		// (A meta member can leave too now: TestClusterFounderDrains.)
		out, ok := cairnCLI(t, "cluster", "remove-node", "--self", "--wait", "--timeout", "120s", "--port", strconv.Itoa(n4.Port))
		if !ok || !strings.Contains(out, "node 4 removed") {
			t.Fatalf("remove-node --self --wait: ok=%v, output:\n%s", ok, out)
		}
		waitCluster(t, "every node to know of the removal", 10*time.Second, func() bool {
			for _, n := range c.Nodes[:3] {
				if n.ClusterInfo("cluster_known_nodes") != "3" {
					return false
				}
			}
			return true
		})
		waitCluster(t, "the removed node to drop its replicas", 30*time.Second, func() bool {
			return n4.Exited() || n4.Info("replication", "raft_shards_hosted") == "0"
		})
		for i := range keys {
			if v, err := cc.Get(ctx, fmt.Sprintf("ops:%d", i)).Result(); err != nil || v != strconv.Itoa(i) {
				t.Fatalf("ops:%d = %q, %v after the drain", i, v, err)
			}
		}
		n4.Stop()
		c.Nodes = c.Nodes[:3]
	})
}
