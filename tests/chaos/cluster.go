package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// node is one cairn server process.
type node struct {
	id        uint64 // Raft ID: the position of addr in the sorted cluster-initial list
	addr      string // client address
	busListen int    // the port its bus listens on (cluster-port)
	busProxy  int    // the port the others reach it at: its proxy (client port + 10000)
	dir       string
	args      []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	paused bool
}

// cluster is the processes, their proxies and the links between them.
type cluster struct {
	bin     string
	nodes   []*node
	links   *links
	proxies []*proxy
	logDir  string
}

// freePorts finds n client ports whose bus ports (port + 10000) are free too, and n more for
// the buses to listen on. The ports the processes bind (client and bus) lie below the kernel's
// ephemeral range (32768 and up), so no outgoing connection of another program can take one
// while its node is down between a kill and a restart; the proxies, which hold theirs for the
// whole run, take the ports above.
func freePorts(n int) (client, bus []int, err error) {
	taken := map[int]bool{}
	free := func(p int) bool {
		if taken[p] {
			return false
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	for p := 20000 + os.Getpid()%5000; len(client) < n && p < 55000; p++ {
		if free(p) && free(p+10000) {
			client = append(client, p)
			taken[p], taken[p+10000] = true, true
		}
	}
	for p := 10000 + os.Getpid()%5000; len(bus) < n && p < 20000; p++ {
		if free(p) {
			bus = append(bus, p)
			taken[p] = true
		}
	}
	if len(client) < n || len(bus) < n {
		return nil, nil, fmt.Errorf("not enough free ports")
	}
	return client, bus, nil
}

func newCluster(bin, dir string, n int, extra []string) (*cluster, error) {
	ports, busPorts, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, links: &links{cut: map[[2]uint64]int{}}, logDir: dir}
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(p))
	}
	sorted := append([]string(nil), addrs...)
	sort.Strings(sorted)
	initial := strings.Join(addrs, ",")
	for i, p := range ports {
		nd := &node{addr: addrs[i], busListen: busPorts[i], busProxy: p + 10000, dir: filepath.Join(dir, fmt.Sprintf("node%d", i+1))}
		nd.id = uint64(sort.SearchStrings(sorted, nd.addr) + 1)
		nd.args = append([]string{"server",
			"--port", strconv.Itoa(p),
			"--dir", nd.dir,
			"--cluster-enabled", "yes",
			"--cluster-initial", initial,
			"--cluster-port", strconv.Itoa(nd.busListen),
			"--cluster-announce-bus-port", strconv.Itoa(nd.busProxy),
		}, extra...)
		c.nodes = append(c.nodes, nd)
	}
	for _, nd := range c.nodes {
		px, err := newProxy("127.0.0.1:"+strconv.Itoa(nd.busProxy), "127.0.0.1:"+strconv.Itoa(nd.busListen), nd.id, c.links)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.proxies = append(c.proxies, px)
	}
	c.links.proxies = c.proxies
	return c, nil
}

func (c *cluster) byID(id uint64) *node {
	for _, nd := range c.nodes {
		if nd.id == id {
			return nd
		}
	}
	return nil
}

// start starts a node's process (again, after a kill, on the same directory).
func (c *cluster) start(nd *node) error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(c.logDir, fmt.Sprintf("node%d.log", nd.id)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bin, nd.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	nd.cmd, nd.paused = cmd, false
	nd.exited = make(chan struct{})
	exited := nd.exited
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	return nil
}

// kill stops a node with SIGKILL.
func (c *cluster) kill(nd *node) {
	nd.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.cmd = nil
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// pause stops a node's process with SIGSTOP (a long GC pause, a VM stall); resume continues it.
func (c *cluster) pause(nd *node) bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil || nd.paused {
		return false
	}
	nd.paused = nd.cmd.Process.Signal(syscall.SIGSTOP) == nil
	return nd.paused
}

func (c *cluster) resume(nd *node) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil && nd.paused {
		_ = nd.cmd.Process.Signal(syscall.SIGCONT)
	}
	nd.paused = false
}

func (nd *node) running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.cmd != nil && !nd.paused
}

// crashed reports a process that exited without being killed.
func (nd *node) crashed() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return false
	}
	select {
	case <-nd.exited:
		return true
	default:
		return false
	}
}

func (c *cluster) stop() {
	for _, nd := range c.nodes {
		c.resume(nd)
		c.kill(nd)
	}
	for _, p := range c.proxies {
		p.close()
	}
}

// clusterInfo reads a node's CLUSTER INFO fields.
func clusterInfo(ctx context.Context, addr string) (map[string]string, error) {
	cl := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second, PoolSize: 1})
	defer cl.Close()
	s, err := cl.Do(ctx, "CLUSTER", "INFO").Text()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// leader finds the running node that leads the most shards (nil if none leads any).
func (c *cluster) leader(ctx context.Context) *node {
	var best *node
	most := 0
	for _, nd := range c.nodes {
		if !nd.running() {
			continue
		}
		shards, err := shardStates(ctx, nd.addr)
		if err != nil {
			continue
		}
		n := 0
		for _, st := range shards {
			if st["role"] == "leader" {
				n++
			}
		}
		if n > most {
			best, most = nd, n
		}
	}
	return best
}

// waitReady waits until every running node reports a leader.
func (c *cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		for _, nd := range c.nodes {
			info, err := clusterInfo(ctx, nd.addr)
			if err != nil || info["cluster_state"] != "ok" {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not ready after %v%s", timeout, c.describe(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// describe says, for each node, what CLUSTER INFO answers (or why not) and the end of its log:
// what a failed readiness wait needs to be diagnosed.
func (c *cluster) describe(ctx context.Context) string {
	var b strings.Builder
	for _, nd := range c.nodes {
		state := "running"
		switch {
		case nd.crashed():
			state = "exited on its own"
		case !nd.running():
			state = "down or paused"
		}
		info, err := clusterInfo(ctx, nd.addr)
		fmt.Fprintf(&b, "\nnode %d (%s, %s): cluster_state=%q meta=%q err=%v", nd.id, nd.addr, state, info["cluster_state"], info["cluster_meta_role"], err)
		if data, err := os.ReadFile(filepath.Join(c.logDir, fmt.Sprintf("node%d.log", nd.id))); err == nil {
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			if len(lines) > 15 {
				lines = lines[len(lines)-15:]
			}
			b.WriteString("\n    " + strings.Join(lines, "\n    "))
		}
	}
	return b.String()
}
