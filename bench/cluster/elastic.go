package main

// The elastic scenario (-scenario elastic): how long a cairn cluster takes to take in a new node
// and to rebuild a dead one's replicas, with how much data, and what clients see meanwhile.
//
//  1. Three nodes found a cluster (cluster-replicas -replicas, default shards: four per node);
//     -data bytes of -value-byte values are written through a cluster-aware client.
//  2. -clients cluster-aware clients (go-redis ClusterClient, one request in flight each) read
//     and write those keys half and half for the rest of the run; -baseline seconds of it are
//     the "before" figures.
//  3. A fourth node joins. "add" is the time until placement is done: every shard led, no
//     replica moving, replicas and leaders per node within one of each other.
//  4. One of the founding nodes is killed (SIGKILL) and not restarted. "restore" is the time
//     until every shard has its replicas again, all on live nodes (cluster-dead-after is
//     -dead-after seconds, included).
//
// For each phase: the clients' requests per second, p50 and p99 latency, and errors (anything
// but a reply; redirections are followed by the client).

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

type elasticConfig struct {
	bin       string
	dir       string
	basePort  int
	data      int64
	value     int
	replicas  int
	clients   int
	baseline  time.Duration
	deadAfter int
	// moveTimeout and restoreTimeout bound the waits for placement to settle after the join,
	// and for the dead node's replicas to be rebuilt.
	moveTimeout, restoreTimeout time.Duration
}

// phaseStats are the latencies of one phase's requests.
type phaseStats struct {
	name  string
	start time.Time
	end   time.Time
	mu    sync.Mutex
	lat   []time.Duration
	errs  atomic.Int64
}

func (p *phaseStats) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.Sort(p.lat)
	pct := func(q float64) float64 {
		if len(p.lat) == 0 {
			return 0
		}
		return float64(p.lat[min(len(p.lat)-1, int(float64(len(p.lat))*q))].Microseconds()) / 1000
	}
	d := p.end.Sub(p.start).Seconds()
	return fmt.Sprintf("%-8s %7.1fs %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d",
		p.name, d, float64(len(p.lat))/d, pct(0.5), pct(0.99), p.errs.Load())
}

// elasticStatus is the part of CLUSTER STATUS the scenario reads.
type elasticStatus struct {
	Nodes []struct {
		ID       uint64 `json:"id"`
		Addr     string `json:"addr"`
		Alive    bool   `json:"alive"`
		Replicas int    `json:"replicas"`
		Leads    int    `json:"leads"`
	} `json:"nodes"`
	Shards []struct {
		ID     uint64                  `json:"id"`
		Nodes  []uint64                `json:"nodes"`
		Leader uint64                  `json:"leader"`
		Move   *struct{ Phase string } `json:"move"`
	} `json:"shards"`
	SlotMoves []struct{} `json:"slot_moves"`
}

type elasticNode struct {
	port int
	cmd  *exec.Cmd
}

func runElastic(cfg elasticConfig) error {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return err
	}
	var nodes []*elasticNode
	defer func() {
		for _, n := range nodes {
			if n.cmd.ProcessState == nil {
				_ = n.cmd.Process.Kill()
				_ = n.cmd.Wait()
			}
		}
	}()
	start := func(i int, clusterArgs ...string) (*elasticNode, error) {
		port := cfg.basePort + i
		args := append([]string{"server", "--port", strconv.Itoa(port), "--dir", filepath.Join(cfg.dir, strconv.Itoa(port)),
			"--cluster-enabled", "yes", "--cluster-replicas", strconv.Itoa(cfg.replicas),
			"--cluster-dead-after", strconv.Itoa(cfg.deadAfter), "--logfile", filepath.Join(cfg.dir, strconv.Itoa(port)+".log")}, clusterArgs...)
		cmd := exec.Command(cfg.bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // none outlives the bench
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		n := &elasticNode{port: port, cmd: cmd}
		nodes = append(nodes, n)
		return n, nil
	}
	addr := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	initial := strings.Join([]string{addr(cfg.basePort), addr(cfg.basePort + 1), addr(cfg.basePort + 2)}, ",")
	for i := range 3 {
		if _, err := start(i, "--cluster-initial", initial); err != nil {
			return err
		}
	}
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: addr(cfg.basePort)})
	defer admin.Close()
	status := func() (*elasticStatus, error) {
		b, err := admin.Do(ctx, "CLUSTER", "STATUS").Text()
		if err != nil {
			return nil, err
		}
		var st elasticStatus
		return &st, json.Unmarshal([]byte(b), &st)
	}
	if err := waitFor(2*time.Minute, func() bool {
		st, err := status()
		return err == nil && placed(st, 3, cfg.replicas, "")
	}); err != nil {
		return fmt.Errorf("the cluster did not form: %w", err)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr(cfg.basePort), addr(cfg.basePort + 1)},
		PoolSize: cfg.clients + 8, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	defer cc.Close()

	keys := int(cfg.data / int64(cfg.value))
	began := time.Now()
	if err := fill(ctx, cc, keys, cfg.value); err != nil {
		return err
	}
	fmt.Printf("filled %d keys of %d bytes (%.2f GB) in %.1fs\n", keys, cfg.value, float64(cfg.data)/1e9, time.Since(began).Seconds())
	fmt.Printf("disk used by the nodes: %s\n", du(cfg.dir))

	// The clients run through every phase; each request counts in the phase it began in.
	var cur atomic.Pointer[phaseStats]
	var stop atomic.Bool
	phase := func(name string) *phaseStats {
		p := &phaseStats{name: name, start: time.Now()}
		if old := cur.Swap(p); old != nil {
			old.end = p.start
		}
		return p
	}
	var done []*phaseStats
	// The compactions that follow the fill weigh on the first requests: let them pass. (The
	// first phase is set before the clients start: they count into it at once.)
	done = append(done, phase("warmup"))
	var wg sync.WaitGroup
	for i := range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			value := make([]byte, cfg.value)
			for !stop.Load() {
				p := cur.Load()
				k := "k:" + strconv.Itoa(rng.IntN(keys))
				t := time.Now()
				var err error
				if rng.IntN(2) == 0 {
					randomize(rng, value)
					err = cc.Set(ctx, k, value, 0).Err()
				} else {
					err = cc.Get(ctx, k).Err()
				}
				if err != nil && !errors.Is(err, redis.Nil) {
					p.errs.Add(1)
					continue
				}
				d := time.Since(t)
				p.mu.Lock()
				p.lat = append(p.lat, d)
				p.mu.Unlock()
			}
		}()
	}
	time.Sleep(2 * cfg.baseline)
	done = append(done, phase("before"))
	time.Sleep(cfg.baseline)

	// A node joins.
	add := phase("add")
	done = append(done, add)
	fmt.Println(done[1])
	if _, err := start(3, "--cluster-join", addr(cfg.basePort)); err != nil {
		return err
	}
	var share time.Duration
	addErr := waitFor(cfg.moveTimeout, func() bool {
		st, err := status()
		if err != nil {
			return false
		}
		if share == 0 && hasShare(st, addr(cfg.basePort+3)) {
			share = time.Since(add.start)
			fmt.Printf("the new node holds its share of replicas after %.1fs\n", share.Seconds())
		}
		return placed(st, 4, cfg.replicas, "")
	})
	done = append(done, phase("after"))
	fmt.Println(add)
	if addErr != nil {
		fmt.Printf("placement did not settle after the join: %v\n", addErr)
		printUnsettled(status, cfg.replicas)
		stop.Store(true)
		wg.Wait()
		return nil
	}
	time.Sleep(cfg.baseline)

	// A founding node dies for good.
	done = append(done, phase("restore"))
	victim := nodes[1]
	_ = victim.cmd.Process.Signal(syscall.SIGKILL)
	_ = victim.cmd.Wait()
	restoreErr := waitFor(cfg.restoreTimeout, func() bool {
		st, err := status()
		return err == nil && placed(st, 3, cfg.replicas, addr(victim.port))
	})
	last := phase("end")
	stop.Store(true)
	wg.Wait()
	last.end = time.Now()
	for _, p := range done[2:] {
		fmt.Println(p)
	}
	if restoreErr != nil {
		fmt.Printf("the dead node's replicas were not all rebuilt: %v\n", restoreErr)
		printUnsettled(status, cfg.replicas)
	}
	fmt.Printf("disk used by the nodes: %s\n", du(cfg.dir))
	return nil
}

// placed reports whether placement is done for live nodes: every shard led and holding
// replicas replicas (fewer if there are fewer nodes), all on live nodes, none moving, no slot
// migrating, and replicas and leaders per node within one of each other. The node at dead
// ("": none) must be known dead.
func placed(st *elasticStatus, live, replicas int, dead string) bool {
	alive := map[uint64]bool{}
	for _, n := range st.Nodes {
		if n.Alive {
			alive[n.ID] = true
		}
		if n.Addr == dead && n.Alive {
			return false
		}
	}
	if len(alive) != live || len(st.SlotMoves) > 0 {
		return false
	}
	want := min(replicas, live)
	held, leads := map[uint64]int{}, map[uint64]int{}
	for _, sh := range st.Shards {
		if sh.Move != nil || sh.Leader == 0 || len(sh.Nodes) != want {
			return false
		}
		for _, n := range sh.Nodes {
			if !alive[n] {
				return false
			}
			held[n]++
		}
		leads[sh.Leader]++
	}
	spread := func(m map[uint64]int) int {
		lo, hi := -1, 0
		for id := range alive {
			v := m[id]
			if lo < 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		}
		return hi - lo
	}
	return spread(held) <= 1 && spread(leads) <= 1
}

// randomize fills b with random bytes: values that compress no more on disk than on the wire.
func randomize(rng *rand.Rand, b []byte) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
}

// fill writes keys k:0.. with random values of size bytes from 64 goroutines (no pipelines:
// go-redis's cluster pipelines over several nodes race).
func fill(ctx context.Context, cc *redis.ClusterClient, keys, size int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			value := make([]byte, size)
			for {
				i := next.Add(1) - 1
				if i >= int64(keys) || failed.Load() != nil {
					return
				}
				randomize(rng, value)
				var err error
				for try := 0; try < 50; try++ { // a leader may hand over meanwhile (CLUSTERDOWN, TRYAGAIN)
					if err = cc.Set(ctx, "k:"+strconv.FormatInt(i, 10), value, 0).Err(); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return fmt.Errorf("filling: %w", err)
	}
	return nil
}

func waitFor(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

func du(dir string) string {
	out, err := exec.Command("du", "-sh", dir).Output()
	if err != nil {
		return err.Error()
	}
	return strings.Fields(string(out))[0]
}

// hasShare reports whether the node at addr holds at least its share of the replicas (their
// number over the live nodes, rounded down) and none moves onto it.
func hasShare(st *elasticStatus, addr string) bool {
	var id uint64
	live, total := 0, 0
	for _, n := range st.Nodes {
		if n.Addr == addr {
			id = n.ID
		}
		if n.Alive {
			live++
		}
	}
	held := 0
	for _, sh := range st.Shards {
		if sh.Move != nil && slices.Contains(sh.Nodes, id) {
			return false
		}
		total += len(sh.Nodes)
		if slices.Contains(sh.Nodes, id) {
			held++
		}
	}
	return id != 0 && live > 0 && held >= total/live
}

// printUnsettled lists the shards short of replicas, without a leader or moving.
func printUnsettled(status func() (*elasticStatus, error), replicas int) {
	st, err := status()
	if err != nil {
		fmt.Println("  CLUSTER STATUS:", err)
		return
	}
	for _, sh := range st.Shards {
		if sh.Move != nil || sh.Leader == 0 || len(sh.Nodes) != replicas {
			fmt.Printf("  shard %d: nodes %v, leader %d, moving %v\n", sh.ID, sh.Nodes, sh.Leader, sh.Move != nil)
		}
	}
}
