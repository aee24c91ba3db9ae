package servertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/slot"
	"github.com/redis/go-redis/v9"
)

// Cluster is a cluster of cairn processes on loopback.
type Cluster struct {
	t     testing.TB
	Nodes []*Server
	// Initial is the cluster-initial list the nodes were started with.
	Initial string
	args    []string
}

// ClusterPort returns a port that is free, and whose bus port (port + 10000) is free too.
func ClusterPort(t testing.TB) int {
	t.Helper()
	return ClusterPorts(t, 1)
}

// handedOut holds every port ClusterPorts has returned in this process: a port is never given
// twice, even before its node listens on it or while it is down between a kill and a restart.
var (
	portsMu   sync.Mutex
	handedOut = map[int]bool{}
)

// ClusterPorts returns the first of n consecutive ports that are free with their bus ports.
// Client ports lie in 15000-20000 and bus ports in 25000-30000: below the kernel's ephemeral
// range (32768 and up), so no outgoing connection can take a node's port while it is down
// between a kill and a restart, and apart from the ranges tests/chaos uses.
func ClusterPorts(t testing.TB, n int) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	free := func(p int) bool {
		if handedOut[p] {
			return false // given to a node that may not be listening yet, or is down for a restart
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
next:
	for i := 0; i < 1000; i++ {
		base := 15000 + rand.IntN(5000-n)
		for p := base; p < base+n; p++ {
			if !free(p) || !free(p+10000) {
				continue next
			}
		}
		for p := base; p < base+n; p++ {
			handedOut[p], handedOut[p+10000] = true, true
		}
		return base
	}
	t.Fatal("no free cluster ports")
	return 0
}

// StartCluster starts n nodes forming a new cluster, with extra options for every node, and
// stops them when the test ends.
func StartCluster(t testing.TB, n int, args ...string) *Cluster {
	t.Helper()
	c := &Cluster{t: t, args: args}
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range c.Nodes {
				t.Logf("log of node %d (%s):\n%s", i, n.Addr, n.Log())
			}
		}
	})
	ports := make([]int, n)
	addrs := make([]string, n)
	for i := range ports {
		ports[i] = ClusterPort(t)
		addrs[i] = "127.0.0.1:" + strconv.Itoa(ports[i])
	}
	c.Initial = strings.Join(addrs, ",")
	for i := range ports {
		nodeArgs := append([]string{"--cluster-enabled", "yes", "--cluster-initial", c.Initial}, args...)
		c.Nodes = append(c.Nodes, StartIn(t, t.TempDir(), ports[i], nodeArgs...))
	}
	c.WaitReady()
	c.WaitStable()
	return c
}

// WaitStable waits until every running node names the same masters in CLUSTER SLOTS, twice in
// a row a little apart: the leaders have settled (a new cluster hands leaderships to the
// preferred leaders).
func (c *Cluster) WaitStable() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	prev := ""
	for time.Now().Before(deadline) {
		view := ""
		agree := true
		for _, n := range c.Nodes {
			if n.Exited() {
				continue
			}
			v := n.slotMasters()
			if v == "" || (view != "" && v != view) {
				agree = false
				break
			}
			view = v
		}
		if agree && view == prev {
			return
		}
		prev = ""
		if agree {
			prev = view
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("the cluster's leaders did not settle within 30s:\n%s", c)
}

// slotMasters describes a node's CLUSTER SLOTS as "start-end:master ..." ("" if it does not
// answer).
func (s *Server) slotMasters() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
	defer c.Close()
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil || len(slots) == 0 {
		return ""
	}
	var b strings.Builder
	for _, r := range slots {
		fmt.Fprintf(&b, "%d-%d:%s ", r.Start, r.End, r.Nodes[0].Addr)
	}
	return b.String()
}

// WaitReady waits until every running node reports every slot served (cluster_state:ok).
func (c *Cluster) WaitReady() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for _, n := range c.Nodes {
			if !n.Exited() && n.ClusterInfo("cluster_state") != "ok" {
				ok = false
				break
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the cluster did not serve every slot within 30s:\n%s", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ClusterInfo returns a field of CLUSTER INFO from a node ("" if it does not answer).
func (s *Server) ClusterInfo(field string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
	defer c.Close()
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// LeaderOf waits until every running node names the same running node as the leader of the
// shard owning key's slot (CLUSTER SLOTS), and returns it.
func (c *Cluster) LeaderOf(key string) *Server {
	c.t.Helper()
	sl := slot.KeySlot([]byte(key))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		addr := ""
		agree := true
		for _, n := range c.Nodes {
			if n.Exited() {
				continue
			}
			a := n.slotMaster(sl)
			if a == "" || (addr != "" && a != addr) {
				agree = false
				break
			}
			addr = a
		}
		if agree {
			for _, n := range c.Nodes {
				if n.Addr == addr && !n.Exited() {
					return n
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no leader of slot %d agreed on within 30s:\n%s", sl, c)
	return nil
}

// slotMaster is the address a node's CLUSTER SLOTS gives as the master of a slot.
func (s *Server) slotMaster(sl int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
	defer c.Close()
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return ""
	}
	for _, r := range slots {
		if sl >= r.Start && sl <= r.End && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr
		}
	}
	return ""
}

// Join starts a node that joins the cluster through one of its running nodes.
func (c *Cluster) Join(args ...string) *Server {
	c.t.Helper()
	var through *Server
	for _, n := range c.Nodes {
		if !n.Exited() {
			through = n
			break
		}
	}
	nodeArgs := append([]string{"--cluster-enabled", "yes", "--cluster-join", through.Addr}, c.args...)
	s := StartIn(c.t, c.t.TempDir(), ClusterPort(c.t), append(nodeArgs, args...)...)
	c.Nodes = append(c.Nodes, s)
	deadline := time.Now().Add(30 * time.Second)
	for s.ClusterInfo("cluster_state") != "ok" {
		if time.Now().After(deadline) {
			c.t.Fatalf("the joining node %s never saw the cluster serve every slot", s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Role returns what ROLE's first element says for a node ("" if it does not answer).
func (s *Server) Role() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
	defer c.Close()
	v, err := c.Do(ctx, "ROLE").Slice()
	if err != nil || len(v) == 0 {
		return ""
	}
	role, _ := v[0].(string)
	return role
}

// Info returns a field of INFO from a node ("" if it does not answer).
func (s *Server) Info(section, field string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
	defer c.Close()
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// Leader is the leader of the shard owning slot 0 — the only shard of a cluster started with
// --cluster-shards 1 — once every running node agrees.
func (c *Cluster) Leader() *Server {
	c.t.Helper()
	return c.LeaderOf("{06S}") // a key of slot 0
}

// Followers returns the running nodes other than leader.
func (c *Cluster) Followers(leader *Server) []*Server {
	var out []*Server
	for _, n := range c.Nodes {
		if n != leader && !n.Exited() {
			out = append(out, n)
		}
	}
	return out
}

// Client returns a go-redis ClusterClient over the running nodes, closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	var addrs []string
	for _, n := range c.Nodes {
		if !n.Exited() {
			addrs = append(addrs, n.Addr)
		}
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second, MaxRedirects: 16})
	c.t.Cleanup(func() { cc.Close() })
	return cc
}

// String describes the cluster for failure messages.
func (c *Cluster) String() string {
	var b strings.Builder
	for i, n := range c.Nodes {
		fmt.Fprintf(&b, "node %d %s exited=%v", i, n.Addr, n.Exited())
		if !n.Exited() {
			// What the node knows: its cluster state, and its view of each shard it holds.
			fmt.Fprintf(&b, " cluster_state=%s", n.ClusterInfo("cluster_state"))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			cl := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
			info, err := cl.Info(ctx, "replication").Result()
			cl.Close()
			cancel()
			if err == nil {
				for _, line := range strings.Split(info, "\r\n") {
					if strings.HasPrefix(line, "raft_") {
						fmt.Fprintf(&b, "\n    %s", line)
					}
				}
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
