package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// While the disk counts as full (less free than min-free-disk), writes are refused at once with
// a MISCONF error and reads are served; INFO and one log line per change say so; writes resume
// by themselves when space returns.
func TestDiskFullRefusesWrites(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "always")
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rc.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.ConfigSet(ctx, "min-free-disk", "1000000gb").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disk_full:1", func() bool { return infoInt(t, rc, "persistence", "disk_full") == 1 })
	err := rc.Set(ctx, "b", "2", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF Errors writing to disk: ") {
		t.Fatalf("SET on a full disk: %v, want MISCONF", err)
	}
	if v, err := rc.Get(ctx, "a").Result(); err != nil || v != "1" {
		t.Fatalf("GET on a full disk: %q, %v", v, err)
	}
	c := srv.Dial()
	c.Do("MULTI")
	if got := c.Do("INCR", "a"); !strings.HasPrefix(got, "-MISCONF") {
		t.Errorf("INCR queued on a full disk = %q", got)
	}
	if got := c.Do("EXEC"); !strings.HasPrefix(got, "-EXECABORT") {
		t.Errorf("EXEC = %q, want EXECABORT", got)
	}
	info, _ := rc.Info(ctx, "persistence").Result()
	if !strings.Contains(info, "aof_last_write_status:err") {
		t.Errorf("INFO persistence on a full disk:\n%s", info)
	}
	for range 3 {
		_ = rc.Set(ctx, "b", "2", 0).Err()
	}
	if err := rc.ConfigSet(ctx, "min-free-disk", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disk_full:0", func() bool { return infoInt(t, rc, "persistence", "disk_full") == 0 })
	if err := rc.Set(ctx, "b", "2", 0).Err(); err != nil {
		t.Fatalf("SET once space returned: %v", err)
	}
	log := srv.Log()
	if n := strings.Count(log, "the disk is full"); n != 1 {
		t.Errorf("%d log lines for the disk filling, want 1:\n%s", n, log)
	}
	if n := strings.Count(log, "disk space is back"); n != 1 {
		t.Errorf("%d log lines for space returning, want 1:\n%s", n, log)
	}
}

// On a cluster node whose disk fills, leadership of its shards moves to other nodes, which go
// on taking writes; the others do not hand it back while the disk is full (its state is
// gossiped), and once space returns the leader balancing gives the node its shards again.
func TestClusterDiskFullMovesLeadership(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	victim, other := c.Nodes[0], c.Nodes[1]
	ctx := servertest.Ctx(t)
	// led counts the slot ranges whose master node n's CLUSTER SLOTS names as addr (-1: no
	// answer).
	led := func(n *servertest.Server, addr string) int {
		slots, err := n.Client().ClusterSlots(ctx).Result()
		if err != nil {
			return -1
		}
		k := 0
		for _, r := range slots {
			if len(r.Nodes) > 0 && r.Nodes[0].Addr == addr {
				k++
			}
		}
		return k
	}
	waitCluster(t, "the victim to lead a shard", 30*time.Second, func() bool { return led(other, victim.Addr) > 0 })
	if err := victim.Client().ConfigSet(ctx, "min-free-disk", "1000000gb").Err(); err != nil {
		t.Fatal(err)
	}
	waitCluster(t, "leadership to leave the full node", 30*time.Second, func() bool {
		return led(victim, victim.Addr) == 0 && led(other, victim.Addr) == 0
	})
	cc := c.Client()
	for i := range 200 {
		if err := cc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d with one node's disk full: %v", i, err)
		}
	}
	// The balancing that hands a shard to its preferred leader runs every few election
	// timeouts; the shards must stay away meanwhile.
	time.Sleep(3 * time.Second)
	if n := led(other, victim.Addr); n != 0 {
		t.Fatalf("the full node leads %d slot ranges again", n)
	}
	if got := victim.Dial().Do("SET", "{k1}x", "1"); !strings.HasPrefix(got, "-MOVED") {
		t.Errorf("SET on the full node of a key it no longer leads = %q, want -MOVED", got)
	}
	if err := victim.Client().ConfigSet(ctx, "min-free-disk", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitCluster(t, "the node to lead shards again once space returned", 60*time.Second, func() bool { return led(other, victim.Addr) > 0 })
	for i := range 200 {
		if v, err := cc.Get(ctx, fmt.Sprintf("k%d", i)).Int(); err != nil || v != i {
			t.Fatalf("GET k%d = %d, %v", i, v, err)
		}
	}
}
