// Command clusterbench measures write throughput and latency of a cairn cluster and of an etcd
// cluster the same way: N clients, each with one request in flight, writing random keys for a
// fixed time. It is a separate module so etcd's client stays out of cairn's dependencies.
//
//	clusterbench -target cairn -addr 127.0.0.1:7001 -clients 50 -duration 20s
//	clusterbench -target etcd  -addr 127.0.0.1:2379 -clients 50 -duration 20s
//
// With -scenario elastic it measures adding a node to a three-node cairn cluster holding -data
// bytes, and rebuilding a killed node's replicas, under client load (elastic.go):
//
//	clusterbench -scenario elastic -cairn ./cairn -data 1073741824 -value 1024 -clients 16
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	target := flag.String("target", "cairn", "cairn or etcd")
	addr := flag.String("addr", "127.0.0.1:7001", "address of the leader (cairn) or endpoints (etcd, comma-separated)")
	clients := flag.Int("clients", 50, "concurrent clients, one request in flight each")
	duration := flag.Duration("duration", 20*time.Second, "how long to write")
	valueSize := flag.Int("value", 100, "value size in bytes")
	keys := flag.Int("keys", 100000, "key space")
	conns := flag.Int("conns", 0, "etcd: gRPC connections shared by the clients (0: one per 25 clients)")
	scenario := flag.String("scenario", "", "elastic: start a cairn cluster, add a node, kill one (elastic.go)")
	var ec elasticConfig
	flag.StringVar(&ec.bin, "cairn", "cairn", "elastic: the cairn binary")
	flag.StringVar(&ec.dir, "dir", "", "elastic: the nodes' data directory (default: a new temporary one, removed after)")
	flag.IntVar(&ec.basePort, "port", 17201, "elastic: the first node's port (nodes use four from it, and each port+10000)")
	flag.Int64Var(&ec.data, "data", 1<<30, "elastic: bytes of values to write before the nodes change")
	flag.IntVar(&ec.replicas, "replicas", 3, "elastic: cluster-replicas")
	flag.DurationVar(&ec.baseline, "baseline", 20*time.Second, "elastic: how long to measure before and after the join")
	flag.IntVar(&ec.deadAfter, "dead-after", 10, "elastic: cluster-dead-after, in seconds")
	flag.DurationVar(&ec.moveTimeout, "move-timeout", 10*time.Minute, "elastic: how long to wait for placement to settle after the join")
	flag.DurationVar(&ec.restoreTimeout, "restore-timeout", 10*time.Minute, "elastic: how long to wait for the dead node's replicas to be rebuilt")
	flag.Parse()
	if *scenario == "elastic" {
		ec.value, ec.clients = *valueSize, *clients
		if ec.dir == "" {
			d, err := os.MkdirTemp("", "clusterbench")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			defer os.RemoveAll(d)
			ec.dir = d
		}
		if err := runElastic(ec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(ec.dir)
			os.Exit(1)
		}
		return
	}

	value := strings.Repeat("x", *valueSize)
	var put func(i int) (func(key string) error, func())
	switch *target {
	case "cairn":
		put = func(int) (func(string) error, func()) { return cairnPut(*addr, value) }
	case "etcd":
		n := *conns
		if n <= 0 {
			n = max(1, *clients/25)
		}
		cs := make([]*clientv3.Client, n)
		for i := range cs {
			c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*addr, ","), DialTimeout: 5 * time.Second})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			defer c.Close()
			cs[i] = c
		}
		put = func(i int) (func(string) error, func()) {
			c := cs[i%len(cs)]
			return func(key string) error {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, err := c.Put(ctx, key, value)
				return err
			}, func() {}
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown target", *target)
		os.Exit(2)
	}

	var (
		mu     sync.Mutex
		lat    []time.Duration
		errs   int
		wg     sync.WaitGroup
		start  = time.Now()
		finish = start.Add(*duration)
	)
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			do, closeFn := put(i)
			defer closeFn()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			var mine []time.Duration
			bad := 0
			for time.Now().Before(finish) {
				key := fmt.Sprintf("key:%d", rng.IntN(*keys))
				t := time.Now()
				if err := do(key); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("%s clients=%d writes=%d errors=%d elapsed=%.1fs throughput=%.0f/s p50=%.2fms p99=%.2fms\n",
		*target, *clients, len(lat), errs, elapsed.Seconds(), float64(len(lat))/elapsed.Seconds(),
		float64(pct(0.50).Microseconds())/1000, float64(pct(0.99).Microseconds())/1000)
}

// cairnPut returns a SET over one raw RESP connection.
func cairnPut(addr, value string) (func(string) error, func()) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return func(string) error { return err }, func() {}
	}
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	return func(key string) error {
		fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, len(value), value)
		if err := w.Flush(); err != nil {
			return err
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line != "+OK\r\n" {
			return fmt.Errorf("reply %q", line)
		}
		return nil
	}, func() { c.Close() }
}
