// Command chaos runs a local cairn cluster as real processes and hurts it while clients use it:
// kill -9 and restarts, SIGSTOP pauses, and network partitions (symmetric, one-way, isolating
// the leader) made by a fault-injecting TCP proxy in front of every node's cluster bus. Then it
// heals everything and checks what the clients saw: linearizability of writes and strong reads
// (porcupine), session guarantees, no acknowledged write lost, and every replica holding the
// same data.
//
//	go run ./tests/chaos                    # 3 nodes, 45 s of faults, a few minutes in all
//	go run ./tests/chaos -duration 30m      # a long run
//	go run ./tests/chaos -seed 42 -keep     # the same fault schedule; keep data and logs
//
// It exits 1 if a check failed, keeping the nodes' logs. The schedule of faults follows the
// seed; the processes' timing does not, so a run is not replayed exactly (the deterministic
// simulation, tests/sim, is for that).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/tests/check"
)

func main() {
	redis.SetLogger(quiet{}) // dial failures are expected: nodes are killed on purpose
	os.Exit(run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

type options struct {
	duration time.Duration
	nodes    int
	clients  int
	seed     uint64
	keep     bool
	bin      string
	timeout  int
}

func run() int {
	var o options
	flag.DurationVar(&o.duration, "duration", 45*time.Second, "how long faults are injected")
	flag.IntVar(&o.nodes, "nodes", 3, "cluster size")
	flag.IntVar(&o.clients, "clients", 9, "concurrent clients (a third each at strong, session and eventual)")
	flag.Uint64Var(&o.seed, "seed", 0, "seed of the fault schedule and workload (0: random)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directories and logs")
	flag.StringVar(&o.bin, "bin", "", "cairn binary (default: build ./cmd/cairn)")
	flag.IntVar(&o.timeout, "node-timeout", 500, "cluster-node-timeout of the nodes, in ms")
	flag.Parse()
	if o.seed == 0 {
		o.seed = rand.Uint64() % 1_000_000
	}
	dir, err := os.MkdirTemp("", "cairn-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	failed, err := chaos(o, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		failed = true
	}
	if failed || o.keep {
		fmt.Printf("data and logs kept in %s\n", dir)
	} else {
		os.RemoveAll(dir)
	}
	if failed {
		return 1
	}
	return 0
}

func chaos(o options, dir string) (bool, error) {
	fmt.Printf("chaos: %d nodes, %d clients, %v of faults, seed %d\n", o.nodes, o.clients, o.duration, o.seed)
	if o.bin == "" {
		o.bin = filepath.Join(dir, "cairn")
		if err := build(o.bin); err != nil {
			return true, err
		}
	}
	extra := []string{"--cluster-node-timeout", fmt.Sprint(o.timeout), "--cluster-proxy", "yes", "--cluster-snapshot-entries", "2000", "--loglevel", "notice"}
	c, err := newCluster(o.bin, dir, o.nodes, extra)
	if err != nil {
		return true, err
	}
	defer c.stop()
	for _, nd := range c.nodes {
		if err := c.start(nd); err != nil {
			return true, err
		}
	}
	ctx := context.Background()
	if err := c.waitReady(ctx, 30*time.Second); err != nil {
		return true, err
	}
	rng := rand.New(rand.NewPCG(o.seed, 1))
	h := &history{}
	start := time.Now()
	shared := map[int]bool{}
	var groups []int
	for g := range 6 {
		shared[g] = true
		groups = append(groups, g)
	}
	var clients []*client
	for i := range o.clients {
		level := []string{"strong", "session", "eventual"}[i%3]
		clients = append(clients, &client{id: i, level: level, c: c, h: h, rng: rand.New(rand.NewPCG(o.seed, uint64(i)+100)),
			start: start, groups: groups, own: 100 + i})
	}
	cctx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.run(cctx)
		}()
	}

	n := &nemesis{c: c, rng: rng}
	n.run(ctx, o.duration)
	fmt.Println("healing: links restored, paused nodes resumed, killed nodes restarted")
	n.healAll()
	if err := c.waitReady(ctx, 30*time.Second); err != nil {
		stopClients()
		wg.Wait()
		return true, err
	}
	time.Sleep(3 * time.Second) // clients carry on against the healed cluster a little
	stopClients()
	wg.Wait()

	v := &verdict{}
	for _, nd := range c.nodes {
		if nd.crashed() {
			v.fail("node %d exited on its own (see node%d.log)", nd.id, nd.id)
		}
	}
	final := finalReads(ctx, c, clients, groups, h, start, v)
	ops := h.ops
	checkLinearizable(ops, shared, v)
	checkSessions(ops, clients, final, v)
	checkConvergence(ctx, c, v)
	report(o, n, ops, v, time.Since(start))
	return len(v.violations) > 0, nil
}

// build compiles the cairn binary from the module this program is in.
func build(out string) error {
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	cmd := exec.Command("go", "build", "-o", out, "./cmd/cairn")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build cairn: %w", err)
	}
	return nil
}

// finalReads reads every key at strong once the cluster has healed, into the history (the last
// word for the linearizability check) and into the map the session check reads.
func finalReads(ctx context.Context, c *cluster, clients []*client, groups []int, h *history, start time.Time, v *verdict) map[string]check.Output {
	final := map[string]check.Output{}
	all := append([]int(nil), groups...)
	for _, cl := range clients {
		if cl.level == "session" {
			all = append(all, cl.own)
		}
	}
	id := len(clients)
	for _, g := range all {
		for slot := range check.KeysPerGroup {
			key := check.Key(g, slot)
			deadline := time.Now().Add(30 * time.Second)
			for {
				nd := c.nodes[0]
				if l := c.leader(ctx); l != nil {
					nd = l
				}
				rc := redis.NewClient(&redis.Options{Addr: nd.addr, MaxRetries: -1, PoolSize: 1, Protocol: 2, ReadTimeout: 10 * time.Second})
				call := int64(time.Since(start))
				val, err := rc.Do(ctx, "GET", key).Result()
				ret := int64(time.Since(start))
				rc.Close()
				out, st, why := classify(false, val, err)
				if st == ok {
					h.add(&record{client: id, level: "strong", node: nd.id, in: check.Input{Kind: check.Get, Group: g, Slot: slot}, out: out, call: call, ret: ret})
					final[key] = out
					break
				}
				if time.Now().After(deadline) {
					v.fail("final read of %s never succeeded: %s", key, why)
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	return final
}

func report(o options, n *nemesis, ops []*record, v *verdict, took time.Duration) {
	var writes, acked, unk, ref, reads, failedReads int
	byLevel := map[string]int{}
	for _, r := range ops {
		if r.in.Kind.IsWrite() {
			writes++
			switch r.st {
			case ok:
				acked++
			case unknown:
				unk++
			default:
				ref++
			}
			continue
		}
		reads++
		if r.st != ok {
			failedReads++
		} else {
			byLevel[r.level]++
		}
	}
	fmt.Printf("faults: %s\n", n.summary())
	fmt.Printf("ops:    writes=%d (acked %d, unknown %d, refused %d) reads=%d (strong %d, session %d, eventual %d, failed %d)\n",
		writes, acked, unk, ref, reads, byLevel["strong"], byLevel["session"], byLevel["eventual"], failedReads)
	for _, c := range v.checks {
		fmt.Printf("check:  %s\n", c)
	}
	for _, x := range v.violations {
		fmt.Printf("VIOLATION: %s\n", x)
	}
	result := "PASS"
	if len(v.violations) > 0 {
		result = "FAIL"
	}
	fmt.Printf("result: %s (seed %d, %.0fs)\n", result, o.seed, took.Seconds())
}
