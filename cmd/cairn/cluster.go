package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clusterUsage lists the cluster subcommands.
const clusterUsage = `  cairn cluster start [--nodes 3] [--shards 4*nodes] [--replicas 3] [--base-port 7001] [--dir ./cluster-data] [-- server options...]
      starts a local cluster in the foreground; Ctrl-C stops it.
  cairn cluster status [--json] [--host H --port P]
      nodes, shards, leaders, keys, bytes and ops/s per shard, moves in progress.
  cairn cluster add-node --join HOST:PORT [--dry-run] -- [server options...]
      checks the cluster, then runs this process as a new node of it (cluster-join).
  cairn cluster remove-node (ID | --self) [--wait] [--timeout 10m] [--host H --port P]
      drains a node (its replicas and leaderships move away), then it leaves.
  cairn cluster rebalance [--wait] [--host H --port P]
      has the meta group's leader run a placement round now and reports the moves.
  cairn cluster split SHARD [SLOT] [--host H --port P]
      splits a shard: a new shard takes its slots from SLOT on (default: the upper half).
  cairn cluster merge FROM INTO [--host H --port P]
      moves every slot of shard FROM to the adjacent shard INTO, then retires FROM.
  cairn cluster ready [--host H --port P]
      exits 0 if the node answers and every slot has a leader (a readiness probe).
  Connection options: --host --port --user --password ($REDISCLI_AUTH) --tls --cacert --cert --key --timeout`

// runCluster implements "cairn cluster": start runs a local cluster of cairn processes for
// trying cluster mode on one machine (in the foreground; Ctrl-C stops the nodes); the others
// are operator commands (clusterops.go).
func runCluster(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "status":
			return runStatus(args[1:], stdout, stderr)
		case "add-node":
			return runAddNode(args[1:], stdout, stderr)
		case "remove-node":
			return runRemoveNode(args[1:], stdout, stderr)
		case "rebalance":
			return runRebalance(args[1:], stdout, stderr)
		case "ready":
			return runReady(args[1:], stdout, stderr)
		case "split", "merge":
			return runSplit(args[0], args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "start" {
		return fmt.Errorf("usage: cairn cluster start|status|add-node|remove-node|rebalance|split|merge|ready ...\n" + clusterUsage)
	}
	fs := flag.NewFlagSet("cluster start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "number of nodes")
	shards := fs.Int("shards", 0, "number of shards the slots are split into (0: four per node)")
	replicas := fs.Int("replicas", 3, "replicas of each shard (at most the number of nodes)")
	basePort := fs.Int("base-port", 7001, "client port of the first node; the others follow")
	dir := fs.String("dir", "./cluster-data", "directory holding one data directory per node")
	host := fs.String("host", "127.0.0.1", "address the nodes bind and announce")
	rest := args[1:]
	var extra []string
	for i, a := range rest {
		if a == "--" {
			rest, extra = rest[:i], rest[i+1:]
			break
		}
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 99 || *basePort < 1 || *basePort+*nodes-1+10000 > 65535 {
		return fmt.Errorf("need 1-99 nodes and ports whose bus ports (port + 10000) stay under 65536")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	addrs := make([]string, *nodes)
	for i := range addrs {
		addrs[i] = net.JoinHostPort(*host, strconv.Itoa(*basePort+i))
	}
	initial := strings.Join(addrs, ",")
	var procs []*exec.Cmd
	stop := func() { // after a failed start
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.Wait()
		}
	}
	for i, addr := range addrs {
		port := strconv.Itoa(*basePort + i)
		nodeDir := filepath.Join(*dir, "node-"+port)
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			stop()
			return err
		}
		logFile := filepath.Join(*dir, "node-"+port+".log")
		cmdArgs := append([]string{"server", "--port", port, "--bind", *host, "--dir", nodeDir,
			"--cluster-enabled", "yes", "--cluster-initial", initial, "--logfile", logFile,
			"--cluster-shards", strconv.Itoa(*shards), "--cluster-replicas", strconv.Itoa(*replicas)}, extra...)
		cmd := exec.Command(exe, cmdArgs...)
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Start(); err != nil {
			stop()
			return fmt.Errorf("start node %s: %w", addr, err)
		}
		procs = append(procs, cmd)
		fmt.Fprintf(stdout, "node %d: %s (data %s, log %s)\n", i+1, addr, nodeDir, logFile)
	}
	fmt.Fprintf(stdout, "\ncluster of %d nodes starting; try:\n  redis-cli -c -p %d set hello world\n  redis-cli -p %d cluster nodes\nA node that exits (kill one to try a failover) leaves the others running. Ctrl-C stops every node.\n",
		*nodes, *basePort, *basePort)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	exited := make(chan int, len(procs))
	for i, p := range procs {
		go func(i int, p *exec.Cmd) {
			for p.ProcessState == nil {
				if _, err := p.Process.Wait(); err != nil {
					break
				}
			}
			exited <- i
		}(i, p)
	}
	running := len(procs)
wait:
	for running > 0 {
		select {
		case <-sig:
			fmt.Fprintln(stdout, "stopping the cluster")
			break wait
		case i := <-exited:
			// The others go on: a cluster survives a node, and this lets one try a failover.
			running--
			fmt.Fprintf(stderr, "node %s exited (see its log); %d still running\n", addrs[i], running)
		}
	}
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.After(15 * time.Second)
	for ; running > 0; running-- {
		select {
		case <-exited:
		case <-deadline:
			return fmt.Errorf("nodes did not stop within 15s")
		}
	}
	return nil
}
