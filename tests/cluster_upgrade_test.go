package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/server"
	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/slot"
)

// clusterStatus reads a node's CLUSTER STATUS.
func clusterStatus(t *testing.T, n *servertest.Server) *server.ClusterStatus {
	t.Helper()
	reply := n.Dial().Do("CLUSTER", "STATUS")
	// $len\r\n{json}\r\n
	_, body, ok := strings.Cut(reply, "\r\n")
	if !ok || !strings.HasPrefix(reply, "$") {
		t.Fatalf("CLUSTER STATUS = %q", reply)
	}
	var st server.ClusterStatus
	if err := json.Unmarshal([]byte(strings.TrimSuffix(body, "\r\n")), &st); err != nil {
		t.Fatalf("CLUSTER STATUS: %v in %q", err, body)
	}
	return &st
}

// nodeVersions maps node IDs to the versions a node's CLUSTER STATUS shows for them.
func nodeVersions(t *testing.T, n *servertest.Server) map[uint64]uint32 {
	out := map[uint64]uint32{}
	for _, sn := range clusterStatus(t, n).Nodes {
		out[sn.ID] = sn.Version
	}
	return out
}

// withoutArg returns args without the flag name and its value.
func withoutArg(args []string, name string) []string {
	out := slices.Clone(args)
	if i := slices.Index(out, name); i >= 0 {
		out = slices.Delete(out, i, i+2)
	}
	return out
}

// A rolling upgrade: three nodes founded by "version 1" binaries (debug-code-version 1 plays
// them) run at cluster version 1, where CLUSTER MIGRATE-SLOTS-CANCEL (version 2) is refused with
// the version error and what version 1 had (ACL SETUSER) works. Restarted one at a time as
// version 2, under continuous writes, they serve throughout; the cluster version stays at 1
// while any node runs version 1, even once the others advertise 2, and advances to 2 when the
// last is upgraded; then the refused command works. A node started again with the old binary
// refuses to start. Every acknowledged write is still there at the end.
func TestClusterRollingUpgrade(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--debug-code-version", "1")
	ctx := servertest.Ctx(t)
	cc := c.Client()
	for _, n := range c.Nodes {
		if v, nv := n.ClusterInfo("cluster_version"), n.ClusterInfo("cluster_node_version"); v != "1" || nv != "1" {
			t.Fatalf("%s: cluster_version %q, cluster_node_version %q; want 1 and 1", n.Addr, v, nv)
		}
	}
	refused := func(what string) {
		t.Helper()
		want := "-ERR cluster version 1 does not support CLUSTER MIGRATE-SLOTS-CANCEL yet: upgrade every node first\r\n"
		if got := c.Nodes[2].Dial().Do("CLUSTER", "MIGRATE-SLOTS-CANCEL", "0", "0"); got != want {
			t.Fatalf("%s: CLUSTER MIGRATE-SLOTS-CANCEL = %q, want %q", what, got, want)
		}
	}
	refused("at version 1")
	// What version-1 binaries had works at version 1.
	if got := c.Nodes[2].Dial().Do("ACL", "SETUSER", "bob", "on", "nopass", "+get"); got != "+OK\r\n" {
		t.Fatalf("ACL SETUSER at version 1 = %q", got)
	}
	ids := make([]uint64, len(c.Nodes)) // node IDs follow the sorted addresses, not c.Nodes
	for i, n := range c.Nodes {
		ids[i] = clusterStatus(t, n).Node
	}

	// Writers: each key has one writer, which records what was acknowledged.
	var (
		mu     sync.Mutex
		acked  = map[string]string{}
		failed atomic.Int64
		wrote  atomic.Int64
	)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; wctx.Err() == nil; i++ {
				k, v := fmt.Sprintf("w%d:k%d", w, i%300), strconv.Itoa(i)
				if err := cc.Set(wctx, k, v, 0).Err(); err != nil {
					if wctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				wrote.Add(1)
				mu.Lock()
				acked[k] = v
				mu.Unlock()
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()
	progress := func(what string) {
		t.Helper()
		from := wrote.Load()
		waitCluster(t, "writes to go on "+what, 20*time.Second, func() bool { return wrote.Load() >= from+50 })
	}
	progress("before the upgrade")

	upgrade := func(i int) {
		t.Helper()
		n := c.Nodes[i]
		n.Args = withoutArg(n.Args, "--debug-code-version")
		n.Restart()
		progress(fmt.Sprintf("after node %d's upgrade", i+1))
	}
	for i := 0; i < 2; i++ {
		upgrade(i)
		// Every node learns, through gossip, that the upgraded ones run the newest version.
		var seen []map[uint64]uint32
		defer func() {
			if t.Failed() {
				t.Logf("node versions as each node sees them: %v", seen)
			}
		}()
		waitCluster(t, "the upgraded nodes' versions to spread", 30*time.Second, func() bool {
			seen = nil
			for _, n := range c.Nodes {
				seen = append(seen, nodeVersions(t, n))
			}
			for _, vs := range seen {
				for j := 0; j < 3; j++ {
					want := uint32(1)
					if j <= i {
						want = command.ClusterVersion
					}
					if vs[ids[j]] != want {
						return false
					}
				}
			}
			return true
		})
		// The meta leader plans every second: three rounds see the mixed versions, and the
		// cluster version holds.
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			for _, n := range c.Nodes {
				if v := n.ClusterInfo("cluster_version"); v != "1" {
					t.Fatalf("with node 3 still at version 1, %s says cluster_version %q", n.Addr, v)
				}
			}
		}
		refused(fmt.Sprintf("with %d of 3 nodes upgraded", i+1))
	}
	upgrade(2)
	newest := strconv.Itoa(command.ClusterVersion)
	waitCluster(t, "the cluster version to advance to the binary's", 30*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n.ClusterInfo("cluster_version") != newest {
				return false
			}
		}
		return true
	})
	if st := clusterStatus(t, c.Nodes[0]); st.ClusterVersion != command.ClusterVersion || st.CodeVersion != command.ClusterVersion {
		t.Fatalf("CLUSTER STATUS: cluster_version %d, code_version %d", st.ClusterVersion, st.CodeVersion)
	}
	if got := c.Nodes[2].Dial().Do("CLUSTER", "MIGRATE-SLOTS-CANCEL", "0", "0"); got != "-ERR no slot in 0-0 is migrating\r\n" {
		t.Fatalf("CLUSTER MIGRATE-SLOTS-CANCEL at version 2 = %q", got)
	}
	progress("after the cluster version advanced")
	stop()
	wg.Wait()
	t.Logf("%d writes acknowledged, %d failed (a restarted node's connections drop)", wrote.Load(), failed.Load())

	// A node started again with the old binary refuses to start: it could not apply the log.
	old := c.Nodes[1]
	old.Stop()
	args := append([]string{"server", "--port", strconv.Itoa(old.Port), "--bind", "127.0.0.1", "--dir", old.Dir}, old.Args...)
	args = append(args, "--debug-code-version", "1")
	cmdCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cmdCtx, servertest.Binary(t), args...).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(out), "implements cluster version 1 and the cluster runs version "+newest) {
		t.Fatalf("an old binary on an upgraded node: err %v, output:\n%s", err, out)
	}
	old.Restart()
	c.WaitReady()

	for k, v := range acked {
		got, err := cc.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Fatalf("after the upgrade GET %s = %q, %v; want the acknowledged %q", k, got, err, v)
		}
	}
}

// Cancelling a slot migration: of a run of slots migrating, the one under way (its keys are on
// both shards) completes, and those not started stay with the source; CLUSTER STATUS shows the
// moves with their progress and the cancellation meanwhile. No key is lost either way.
func TestClusterSlotMoveCancel(t *testing.T) {
	c := servertest.StartCluster(t, 3, "--cluster-shards", "3", "--cluster-slot-migrate-rate", "1000")
	ctx := servertest.Ctx(t)
	cc := c.Client()
	const n = 200
	key := func(i int) string { return fmt.Sprintf("{mv}k%03d", i) }
	sl := slot.KeySlot([]byte(key(0)))
	// Keys in the next two slots too, which will not have started when the cancel comes.
	tagOf := func(s int) string {
		for i := 0; ; i++ {
			if tag := "t" + strconv.Itoa(i); slot.KeySlot([]byte(tag)) == s {
				return tag
			}
		}
	}
	next := []string{tagOf(sl + 1), tagOf(sl + 2)}
	want := map[string]string{}
	for i := 0; i < n; i++ {
		want[key(i)] = "v" + strconv.Itoa(i)
	}
	for j, tag := range next {
		for i := 0; i < 20; i++ {
			want[fmt.Sprintf("{%s}k%d", tag, i)] = fmt.Sprintf("n%d-%d", j, i)
		}
	}
	for k, v := range want {
		if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	from, fromAddr, to, _ := slotShards(t, cc, sl, 3)
	if sl+2 >= (int(toID(t, from)))*slot.Count/3 {
		t.Skipf("slot %d is at the end of its shard's range", sl)
	}
	src := nodeAt(t, c, fromAddr)
	conn := src.Dial()
	if got := conn.Do("CLUSTER", "MIGRATE-SLOTS-CANCEL", "1", "2"); got != "-ERR no slot in 1-2 is migrating\r\n" {
		t.Fatalf("cancelling what does not migrate = %q", got)
	}
	if got := conn.Do("CLUSTER", "MIGRATE-SLOTS", strconv.Itoa(sl), strconv.Itoa(sl+2), to); got != "+OK\r\n" {
		t.Fatalf("CLUSTER MIGRATE-SLOTS = %q", got)
	}
	// Wait for the first slot to be under way: CLUSTER STATUS on the source's leader counts
	// the keys moved.
	var moving server.StatusSlotMove
	waitCluster(t, "the first slot's first batches", 30*time.Second, func() bool {
		for _, m := range clusterStatus(t, src).SlotMoves {
			if m.Slot == sl && m.KeysMoved > 0 {
				moving = m
				return true
			}
		}
		return false
	})
	if moving.To != toID(t, to) || moving.From != toID(t, from) || moving.Batches == 0 {
		t.Fatalf("CLUSTER STATUS shows the move as %+v", moving)
	}
	if got := conn.Do("CLUSTER", "MIGRATE-SLOTS-CANCEL", strconv.Itoa(sl), strconv.Itoa(sl+2)); got != "+OK\r\n" {
		t.Fatalf("CLUSTER MIGRATE-SLOTS-CANCEL = %q", got)
	}
	if got := conn.Do("CLUSTER", "MIGRATE-SLOTS", strconv.Itoa(sl+1), strconv.Itoa(sl+1), to); !strings.Contains(got, "is being cancelled") {
		t.Fatalf("migrating a slot being cancelled = %q", got)
	}
	sawCancel := false
	for _, m := range clusterStatus(t, src).SlotMoves {
		sawCancel = sawCancel || m.Cancel
	}
	if !sawCancel && src.ClusterInfo("cluster_slots_migrating") != "0" {
		t.Fatal("CLUSTER STATUS does not show the cancellation")
	}
	waitCluster(t, "every migration to end", 120*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n.ClusterInfo("cluster_slots_migrating") != "0" {
				return false
			}
		}
		return true
	})
	// The started slot went to the target; the others stayed.
	toBase := (int(toID(t, to)) - 1) * slot.Count / 3
	fromBase := (int(toID(t, from)) - 1) * slot.Count / 3
	cl := c.Nodes[0].Client()
	waitCluster(t, "the slots' owners to settle", 30*time.Second, func() bool {
		return slotMovedTo(cl, sl, toBase) && slotMovedTo(cl, sl+1, fromBase) && slotMovedTo(cl, sl+2, fromBase)
	})
	for k, v := range want {
		got, err := cc.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Fatalf("after the cancel GET %s = %q, %v; want %q", k, got, err, v)
		}
	}
	// The source forgets the cancelled slots' state: their keys are served as any others.
	for _, tag := range next {
		k := "{" + tag + "}k0"
		if err := cc.Set(ctx, k, "again", 0).Err(); err != nil {
			t.Fatalf("SET %s after the cancel: %v", k, err)
		}
	}
}
