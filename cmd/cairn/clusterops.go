package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/server"
)

// The operator commands: cairn cluster status, add-node, remove-node, rebalance and ready.
// Each talks to a running node over the client protocol (CLUSTER STATUS, FORGET, REBALANCE,
// INFO), so they work wherever redis-cli would.

// connFlags are how the operator commands reach a node.
type connFlags struct {
	host, user, password string
	port                 int
	tls                  bool
	caCert, cert, key    string
	timeout              time.Duration
	tlsConf              *tls.Config
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.host, "host", "127.0.0.1", "host of the node to ask")
	fs.IntVar(&f.port, "port", 6379, "client port of the node to ask")
	fs.StringVar(&f.user, "user", "", "ACL user")
	fs.StringVar(&f.password, "password", "", "password (default: $REDISCLI_AUTH)")
	fs.BoolVar(&f.tls, "tls", false, "connect with TLS")
	fs.StringVar(&f.caCert, "cacert", "", "CA certificate file to verify the server with (TLS)")
	fs.StringVar(&f.cert, "cert", "", "client certificate file (TLS)")
	fs.StringVar(&f.key, "key", "", "client private key file (TLS)")
	fs.DurationVar(&f.timeout, "timeout", 0, "give up after this long (0: the command's default)")
}

// setup reads the TLS files and the password from the environment, once the flags are parsed.
func (f *connFlags) setup() error {
	if f.password == "" {
		f.password = os.Getenv("REDISCLI_AUTH")
	}
	if !f.tls {
		return nil
	}
	f.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no certificate", f.caCert)
		}
		f.tlsConf.RootCAs = pool
	}
	if f.cert != "" {
		c, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return err
		}
		f.tlsConf.Certificates = []tls.Certificate{c}
	}
	return nil
}

func (f *connFlags) seed() string { return f.hostPort(f.host, f.port) }

func (f *connFlags) hostPort(host string, port int) string {
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]") + ":" + strconv.Itoa(port)
}

// client connects to addr (host:port as the cluster names nodes).
func (f *connFlags) client(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, Username: f.user, Password: f.password, TLSConfig: f.tlsConf,
		DialTimeout: 3 * time.Second, ReadTimeout: 30 * time.Second, MaxRetries: -1, PoolSize: 1, Protocol: 2})
}

// fetchStatus asks the node at addr for CLUSTER STATUS.
func (f *connFlags) fetchStatus(ctx context.Context, addr string) (*server.ClusterStatus, error) {
	c := f.client(addr)
	defer c.Close()
	s, err := c.Do(ctx, "CLUSTER", "STATUS").Text()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	var st server.ClusterStatus
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil, fmt.Errorf("%s: CLUSTER STATUS: %w", addr, err)
	}
	return &st, nil
}

// quietRedis drops go-redis's own log lines: the commands report errors themselves.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func parseOpsFlags(name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*connFlags, *flag.FlagSet, error) {
	redis.SetLogger(quietRedis{})
	fs := flag.NewFlagSet("cluster "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := &connFlags{}
	cf.register(fs)
	if extra != nil {
		extra(fs)
	}
	// Flags may come after a positional argument (remove-node 4 --wait): parse around them.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	_ = fs.Parse(pos) // leaves fs.Args() the positional arguments
	return cf, fs, cf.setup()
}

func withTimeout(d, def time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = def
	}
	return context.WithTimeout(context.Background(), d)
}

// nodeID reads a node as the operator names it: its number or its 40-hex name.
func nodeID(s string) (uint64, error) {
	if id, ok := cluster.ParseName(s); ok {
		return id, nil
	}
	if id, err := strconv.ParseUint(s, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	return 0, fmt.Errorf("%q is not a node ID (a number, or the 40-hex name CLUSTER NODES shows)", s)
}

// clusterView is the whole cluster as "cairn cluster status" shows it: the topology as the
// asked node knows it, with the figures every reachable node reports for the shards it hosts.
type clusterView struct {
	Asked           string      `json:"asked"`
	TopologyVersion uint64      `json:"topology_version"`
	ClusterVersion  uint32      `json:"cluster_version"`
	MetaLeader      uint64      `json:"meta_leader,omitempty"` // 0: not found among the reachable nodes
	Rebalance       bool        `json:"rebalance"`
	Nodes           []viewNode  `json:"nodes"`
	Shards          []viewShard `json:"shards"`
	Moves           []viewMove  `json:"moves"`
	// SlotMoves are the slots migrating between shards, with the most keys any node reports
	// moved (the source shard's leader counts them).
	SlotMoves   []server.StatusSlotMove `json:"slot_moves,omitempty"`
	Unreachable []string                `json:"unreachable,omitempty"`
}

type viewNode struct {
	server.StatusNode
	Reachable bool    `json:"reachable"`
	Bytes     uint64  `json:"bytes"`       // disk space of the replicas it holds
	OpsPerSec float64 `json:"ops_per_sec"` // commands routed to its replicas
}

type viewShard struct {
	server.StatusShard
	Keys      int64   `json:"keys"`        // as its leader (else a host) counts them; -1: unknown
	Bytes     uint64  `json:"bytes"`       // its leader's (else a host's) engine disk space
	OpsPerSec float64 `json:"ops_per_sec"` // summed over its hosts
}

type viewMove struct {
	Shard uint64 `json:"shard"`
	server.StatusMove
}

// gatherView asks the seed node, then every other node of its topology, for CLUSTER STATUS.
func gatherView(ctx context.Context, cf *connFlags, seedAddr string) (*clusterView, error) {
	seed, err := cf.fetchStatus(ctx, seedAddr)
	if err != nil {
		return nil, err
	}
	v := &clusterView{Asked: seedAddr, TopologyVersion: seed.TopologyVersion, ClusterVersion: seed.ClusterVersion, Rebalance: seed.Rebalance}
	all := map[uint64]*server.ClusterStatus{seed.Node: seed}
	for _, n := range seed.Nodes {
		if n.ID == seed.Node {
			continue
		}
		st, err := cf.fetchStatus(ctx, n.Addr)
		if err != nil {
			v.Unreachable = append(v.Unreachable, err.Error())
			continue
		}
		all[n.ID] = st
	}
	type fig struct {
		keys  int64
		bytes uint64
		ops   float64
		found bool
		move  *server.StatusMove
	}
	figs := map[uint64]*fig{}
	for _, n := range seed.Nodes {
		vn := viewNode{StatusNode: n}
		if st := all[n.ID]; st != nil {
			vn.Reachable = true
			if st.CodeVersion != 0 {
				vn.Version = st.CodeVersion // its own word over the seed's gossip
			}
			if st.MetaRole == "leader" {
				v.MetaLeader = n.ID
			}
			for _, r := range st.Hosted {
				vn.Bytes += r.Bytes
				vn.OpsPerSec += r.OpsPerSec
				f := figs[r.Shard]
				if f == nil {
					f = &fig{}
					figs[r.Shard] = f
				}
				f.ops += r.OpsPerSec
				if r.Role == "leader" || !f.found {
					f.keys, f.bytes, f.found = r.Keys, r.Bytes, true
				}
				if r.Move != nil {
					f.move = r.Move
				}
			}
		}
		v.Nodes = append(v.Nodes, vn)
	}
	for _, m := range seed.SlotMoves {
		for _, st := range all {
			for _, o := range st.SlotMoves {
				if o.Slot == m.Slot && o.From == m.From && o.To == m.To && o.KeysMoved > m.KeysMoved {
					m.KeysMoved, m.Batches = o.KeysMoved, o.Batches
				}
			}
		}
		v.SlotMoves = append(v.SlotMoves, m)
	}
	for _, sh := range seed.Shards {
		vs := viewShard{StatusShard: sh, Keys: -1}
		if f := figs[sh.ID]; f != nil && f.found {
			vs.Keys, vs.Bytes, vs.OpsPerSec = f.keys, f.bytes, f.ops
			if f.move != nil && sh.Move != nil {
				vs.Move = f.move // the leader's account, with the learner's progress
			}
		}
		if vs.Move != nil {
			v.Moves = append(v.Moves, viewMove{Shard: sh.ID, StatusMove: *vs.Move})
		}
		v.Shards = append(v.Shards, vs)
	}
	return v, nil
}

func runStatus(args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	cf, _, err := parseOpsFlags("status", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of tables")
	})
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(cf.timeout, 30*time.Second)
	defer cancel()
	v, err := gatherView(ctx, cf, cf.seed())
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	printView(stdout, v)
	return nil
}

func printView(w io.Writer, v *clusterView) {
	draining := 0
	for _, n := range v.Nodes {
		if n.Draining {
			draining++
		}
	}
	meta := "unknown"
	if v.MetaLeader != 0 {
		meta = "node " + strconv.FormatUint(v.MetaLeader, 10)
	}
	rebalance := "on"
	if !v.Rebalance {
		rebalance = "off"
	}
	fmt.Fprintf(w, "cluster: %d nodes (%d draining), %d shards, %d moves in progress; topology version %d; cluster version %d; meta leader %s; rebalance %s (asked %s)\n\n",
		len(v.Nodes), draining, len(v.Shards), len(v.Moves), v.TopologyVersion, v.ClusterVersion, meta, rebalance, v.Asked)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tSTATE\tMETA\tVERSION\tREPLICAS\tLEADS\tBYTES\tOPS/S\tNAME")
	for _, n := range v.Nodes {
		state := "alive"
		if !n.Alive {
			state = "down"
		}
		if n.Draining {
			state += ",draining"
		}
		if !n.Reachable {
			state += ",unreachable"
		}
		version := "?"
		if n.Version != 0 {
			version = strconv.FormatUint(uint64(n.Version), 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", n.ID, n.Addr, state, yesNo(n.Meta), version, n.Replicas, n.Leads,
			figBytes(n.Bytes, n.Reachable), figOps(n.OpsPerSec, n.Reachable), n.Name)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tSLOTS\tLEADER\tREPLICAS ON\tKEYS\tBYTES\tOPS/S\tMOVE")
	for _, s := range v.Shards {
		var ranges []string
		for _, r := range s.Slots {
			if r.Start == r.End {
				ranges = append(ranges, strconv.Itoa(r.Start))
			} else {
				ranges = append(ranges, fmt.Sprintf("%d-%d", r.Start, r.End))
			}
		}
		leader := "none"
		if s.Leader != 0 {
			leader = strconv.FormatUint(s.Leader, 10)
		}
		var nodes []string
		for _, n := range s.Nodes {
			nodes = append(nodes, strconv.FormatUint(n, 10))
		}
		keys, known := "?", s.Keys >= 0
		if known {
			keys = strconv.FormatInt(s.Keys, 10)
		}
		move := "-"
		if s.Move != nil {
			move = fmt.Sprintf("%d->%d", s.Move.From, s.Move.To)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, strings.Join(ranges, ","), leader, strings.Join(nodes, ","),
			keys, figBytes(s.Bytes, known), figOps(s.OpsPerSec, known), move)
	}
	tw.Flush()
	if len(v.Moves) > 0 {
		fmt.Fprintln(w, "\nmoves in progress:")
		for _, m := range v.Moves {
			fmt.Fprintf(w, "  shard %d: node %d -> node %d, %s\n", m.Shard, m.From, m.To, moveProgress(m.StatusMove))
		}
	}
	if len(v.SlotMoves) > 0 {
		fmt.Fprintln(w, "\nslot moves in progress:")
		for _, m := range v.SlotMoves {
			state := ""
			if m.Cancel {
				state = " (cancelled: stops unless it has started, then completes)"
			}
			fmt.Fprintf(w, "  slot %d: shard %d -> shard %d, %d keys in %d batches moved%s\n", m.Slot, m.From, m.To, m.KeysMoved, m.Batches, state)
		}
	}
	for _, u := range v.Unreachable {
		fmt.Fprintf(w, "\nunreachable (its figures are missing): %s\n", u)
	}
}

// moveProgress says how far a move is.
func moveProgress(m server.StatusMove) string {
	switch m.Phase {
	case "adding":
		return "adding the target to the group"
	case "catching-up":
		if m.Commit == 0 {
			return "the target catches up"
		}
		if m.Match == 0 {
			return fmt.Sprintf("the target receives a snapshot (log at %d)", m.Commit)
		}
		return fmt.Sprintf("the target catches up: %d of %d log entries (%.0f%%)", m.Match, m.Commit, 100*float64(m.Match)/float64(max(m.Commit, 1)))
	case "removing-source":
		return "the target votes; removing the source"
	}
	return m.Phase
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func figBytes(b uint64, known bool) string {
	if !known {
		return "?"
	}
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

func figOps(ops float64, known bool) string {
	if !known {
		return "?"
	}
	return strconv.FormatFloat(ops, 'f', 1, 64)
}

// runRemoveNode drains a node: its replicas and leaderships move to the others, then it leaves
// the cluster (CLUSTER FORGET, sent to another node than the one leaving).
func runRemoveNode(args []string, stdout, stderr io.Writer) error {
	var self, wait, k8sOnly bool
	cf, fs, err := parseOpsFlags("remove-node", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&self, "self", false, "remove the node --host/--port reach (instead of naming one)")
		fs.BoolVar(&wait, "wait", false, "wait until the node is drained and removed, reporting progress")
		fs.BoolVar(&k8sOnly, "k8s-scale-down-only", false, "in a Kubernetes StatefulSet pod: do nothing unless the pod's ordinal is at or above the StatefulSet's replicas (a scale-down, not a restart)")
	})
	if err != nil {
		return err
	}
	if self == (fs.NArg() == 1) || fs.NArg() > 1 {
		return errors.New("usage: cairn cluster remove-node (ID | --self) [--wait] [--timeout 10m] [--host H --port P]")
	}
	if k8sOnly {
		leaving, why, err := k8sScaledDown()
		if err != nil {
			// Unsure: a drain on a mere restart would move every replica away and back, so
			// don't; if this is a scale-down after all, the cluster replaces the node once it
			// has been silent for cluster-dead-after.
			fmt.Fprintf(stdout, "not draining: cannot tell a scale-down from a restart: %v\n", err)
			return nil
		}
		fmt.Fprintln(stdout, why)
		if !leaving {
			return nil
		}
	}
	ctx, cancel := withTimeout(cf.timeout, 10*time.Minute)
	defer cancel()
	seed, err := cf.fetchStatus(ctx, cf.seed())
	if err != nil {
		return err
	}
	var target uint64
	if self {
		target = seed.Node
	} else if target, err = nodeID(fs.Arg(0)); err != nil {
		return err
	}
	i := slices.IndexFunc(seed.Nodes, func(n server.StatusNode) bool { return n.ID == target })
	if i < 0 {
		return fmt.Errorf("node %d is not in the cluster (already removed?)", target)
	}
	// A node cannot forget itself: ask another live node.
	via := cf.seed()
	if target == seed.Node {
		via = ""
		for _, n := range seed.Nodes {
			if n.ID != target && n.Alive && !n.Draining {
				via = n.Addr
				break
			}
		}
		if via == "" {
			return errors.New("no other live node to ask")
		}
	}
	c := cf.client(via)
	defer c.Close()
	if err := c.Do(ctx, "CLUSTER", "FORGET", cluster.Name(target)).Err(); err != nil {
		return fmt.Errorf("CLUSTER FORGET via %s: %w", via, err)
	}
	fmt.Fprintf(stdout, "node %d (%s) is draining: its replicas move to the other nodes, then it leaves\n", target, seed.Nodes[i].Addr)
	if !wait {
		return nil
	}
	start := time.Now()
	last := ""
	for {
		st, err := cf.fetchStatus(ctx, via)
		if err == nil {
			j := slices.IndexFunc(st.Nodes, func(n server.StatusNode) bool { return n.ID == target })
			if j < 0 {
				fmt.Fprintf(stdout, "node %d removed after %v\n", target, time.Since(start).Round(100*time.Millisecond))
				return nil
			}
			moves := 0
			for _, sh := range st.Shards {
				if sh.Move != nil && sh.Move.From == target {
					moves++
				}
			}
			line := fmt.Sprintf("node %d: %d replicas left, %d moving away, leads %d", target, st.Nodes[j].Replicas, moves, st.Nodes[j].Leads)
			if line != last {
				fmt.Fprintf(stdout, "%s (%v)\n", line, time.Since(start).Round(100*time.Millisecond))
				last = line
			}
		} else if ctx.Err() == nil {
			fmt.Fprintf(stderr, "status: %v (retrying)\n", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %d not drained yet when the wait ended: %w (it goes on draining)", target, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// runRebalance asks the meta group's leader for a placement round now, and reports what it
// started; with --wait, until no move is under way.
func runRebalance(args []string, stdout, stderr io.Writer) error {
	var wait bool
	cf, _, err := parseOpsFlags("rebalance", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&wait, "wait", false, "wait until no move is under way")
	})
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(cf.timeout, 10*time.Minute)
	defer cancel()
	seed, err := cf.fetchStatus(ctx, cf.seed())
	if err != nil {
		return err
	}
	// The meta group's leader plans; try the asked node first, then the meta group's members.
	cands := []string{cf.seed()}
	for _, n := range seed.Nodes {
		if n.Meta && n.ID != seed.Node {
			cands = append(cands, n.Addr)
		}
	}
	var ops []string
	var leader string
	var lastErr error
	for attempt := 0; leader == "" && attempt < 10; attempt++ {
		for _, addr := range cands {
			c := cf.client(addr)
			res, err := c.Do(ctx, "CLUSTER", "REBALANCE").StringSlice()
			c.Close()
			if err == nil {
				ops, leader = res, addr
				break
			}
			lastErr = err
			if !strings.Contains(err.Error(), "does not lead the meta group") && !strings.Contains(err.Error(), "connect") {
				return fmt.Errorf("%s: %w", addr, err)
			}
		}
		if leader == "" {
			time.Sleep(time.Second) // an election may be under way
		}
	}
	if leader == "" {
		return fmt.Errorf("no node leads the meta group: %w", lastErr)
	}
	if len(ops) == 0 {
		fmt.Fprintf(stdout, "placement round on %s: nothing new to do\n", leader)
	} else {
		fmt.Fprintf(stdout, "placement round on %s started %d operations:\n", leader, len(ops))
		for _, op := range ops {
			fmt.Fprintf(stdout, "  %s\n", op)
		}
	}
	start := time.Now()
	last := ""
	for {
		st, err := cf.fetchStatus(ctx, leader)
		if err != nil {
			return err
		}
		var moves []string
		for _, sh := range st.Shards {
			if sh.Move != nil {
				moves = append(moves, fmt.Sprintf("shard %d: %d->%d %s", sh.ID, sh.Move.From, sh.Move.To, sh.Move.Phase))
			}
		}
		line := fmt.Sprintf("%d moves in progress", len(moves))
		if len(moves) > 0 {
			line += ": " + strings.Join(moves, "; ")
		}
		if line != last {
			fmt.Fprintln(stdout, line)
			last = line
		}
		if !wait || len(moves) == 0 {
			if wait {
				fmt.Fprintf(stdout, "balanced after %v\n", time.Since(start).Round(100*time.Millisecond))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("moves still under way when the wait ended: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// runReady exits 0 if the node serves: it answers, is a member of the cluster, and every slot
// has a leader (cluster_state:ok). For readiness probes.
func runReady(args []string, stdout, stderr io.Writer) error {
	cf, _, err := parseOpsFlags("ready", args, stderr, nil)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(cf.timeout, 5*time.Second)
	defer cancel()
	c := cf.client(cf.seed())
	defer c.Close()
	info, err := c.Do(ctx, "CLUSTER", "INFO").Text()
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[k] = v
		}
	}
	if fields["cluster_state"] != "ok" {
		return fmt.Errorf("not ready: cluster_state:%s (slots ok %s of 16384)", fields["cluster_state"], fields["cluster_slots_ok"])
	}
	fmt.Fprintf(stdout, "ready: cluster_state:ok, %s shards, %s hosted here, %s led here\n",
		fields["cluster_shards"], fields["cluster_shards_hosted"], fields["cluster_shards_led"])
	return nil
}

// runAddNode starts this process as a new node of an existing cluster: it checks the node to
// join answers and is healthy, then runs the server with --cluster-enabled yes --cluster-join.
func runAddNode(args []string, stdout, stderr io.Writer) error {
	var join string
	var dryRun bool
	var serverArgs []string
	for i, a := range args {
		if a == "--" {
			args, serverArgs = args[:i], args[i+1:]
			break
		}
	}
	cf, fs, err := parseOpsFlags("add-node", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&join, "join", "", "client address (host:port) of any node of the cluster to join")
		fs.BoolVar(&dryRun, "dry-run", false, "check the cluster and print the server command, without starting it")
	})
	if err != nil {
		return err
	}
	if join == "" || fs.NArg() > 0 {
		return errors.New("usage: cairn cluster add-node --join HOST:PORT [--dry-run] [--password P] -- [server options: --port 7004 --dir ./node4 ...]")
	}
	for _, a := range serverArgs {
		switch strings.TrimPrefix(strings.SplitN(a, "=", 2)[0], "--") {
		case "cluster-initial", "cluster-join", "cluster-enabled":
			return fmt.Errorf("%s: add-node sets the cluster options itself", a)
		}
	}
	ctx, cancel := withTimeout(cf.timeout, 15*time.Second)
	defer cancel()
	st, err := cf.fetchStatus(ctx, join)
	if err != nil {
		return fmt.Errorf("the node to join does not answer CLUSTER STATUS: %w", err)
	}
	alive := 0
	for _, n := range st.Nodes {
		if n.Alive {
			alive++
		}
	}
	fmt.Fprintf(stdout, "joining a cluster of %d nodes (%d alive), %d shards, through %s\n", len(st.Nodes), alive, len(st.Shards), join)
	if !st.Rebalance {
		fmt.Fprintln(stdout, "note: cluster-rebalance is off on that node: the new node receives no replicas until it is on")
	}
	full := append([]string{"--cluster-enabled", "yes", "--cluster-join", join}, serverArgs...)
	fmt.Fprintf(stdout, "server options: %s\n", strings.Join(full, " "))
	if dryRun {
		return nil
	}
	return runServer(full)
}

// k8sScaledDown tells whether this StatefulSet pod is going away for good: its ordinal (the
// number at the end of its host name) is at or above the StatefulSet's replicas, read from
// the Kubernetes API with the pod's service account (which needs "get" on statefulsets).
func k8sScaledDown() (bool, string, error) {
	host := os.Getenv("POD_NAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	i := strings.LastIndexByte(host, '-')
	if i < 0 {
		return false, "", fmt.Errorf("host name %q is not a StatefulSet pod's (name-ordinal)", host)
	}
	set := host[:i]
	ordinal, err := strconv.Atoi(host[i+1:])
	if err != nil {
		return false, "", fmt.Errorf("host name %q is not a StatefulSet pod's (name-ordinal)", host)
	}
	replicas, err := k8sStatefulSetReplicas(set)
	if err != nil {
		return false, "", err
	}
	if ordinal >= replicas {
		return true, fmt.Sprintf("pod %s: ordinal %d, StatefulSet %s wants %d replicas: scale-down, draining", host, ordinal, set, replicas), nil
	}
	return false, fmt.Sprintf("pod %s: ordinal %d, StatefulSet %s wants %d replicas: a restart, not draining", host, ordinal, set, replicas), nil
}
