package server

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/slot"
)

func init() {
	registerLocal("cluster", cmdCluster)
	registerLocal("readonly", cmdReadOnly)
	registerLocal("readwrite", cmdReadWrite)
	registerLocal("role", cmdRole)
	registerLocal("wait", cmdWait)
	registerLocal("consistency", cmdConsistency)
	registerLocal("session", cmdSession)
}

const errNoCluster = "ERR This instance has cluster support disabled"

// topoNode is one node as the cluster replies describe it.
type topoNode struct {
	id      uint64
	host    string
	port    int
	busPort int
	leader  bool
	self    bool
	voter   bool
	applied uint64
	online  bool
}

// topology lists the members, the leader first, then by ID.
func (c *clusterNode) topology() ([]topoNode, replica.Status) {
	st := c.raft.Status()
	var out []topoNode
	for _, p := range st.Peers {
		n := topoNode{id: p.ID, leader: p.ID == st.Lead, self: p.ID == c.id, voter: p.Voter, applied: p.Applied, online: true}
		n.host, n.port, _ = cluster.SplitHostPort(p.Addr)
		if _, bp, err := cluster.SplitHostPort(p.BusAddr); err == nil {
			n.busPort = bp
		}
		if st.Role == replica.RoleLeader && !n.self {
			n.online = p.Active
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b topoNode) int {
		if a.leader != b.leader {
			if a.leader {
				return -1
			}
			return 1
		}
		return int(a.id) - int(b.id)
	})
	return out, st
}

func cmdCluster(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	c := s.cluster
	if c == nil {
		w.Error(errNoCluster)
		return
	}
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "info":
		w.Verbatim(clusterInfo(c))
	case "myid":
		w.BulkString(cluster.Name(c.id))
	case "myshardid":
		w.BulkString(cluster.Name(mainShard))
	case "keyslot":
		w.Int(int64(slot.KeySlot(args[2])))
	case "slots":
		clusterSlots(c, w)
	case "shards":
		clusterShards(c, w)
	case "nodes", "replicas", "slaves":
		nodes, st := c.topology()
		if sub != "nodes" {
			if args[2] == nil || cluster.Name(st.Lead) != string(args[2]) {
				w.Error("ERR Unknown node " + string(args[2]))
				return
			}
			var lines []string
			for _, n := range nodes {
				if !n.leader {
					lines = append(lines, nodeLine(n, st, c))
				}
			}
			w.Array(len(lines))
			for _, l := range lines {
				w.BulkString(l)
			}
			return
		}
		var b strings.Builder
		for _, n := range nodes {
			b.WriteString(nodeLine(n, st, c))
			b.WriteString("\n")
		}
		w.Verbatim(b.String())
	case "forget":
		name := string(args[2])
		id, ok := cluster.ParseName(name)
		if _, known := c.raft.Members().Get(id); !ok || !known {
			w.Error("ERR Unknown node " + name)
			return
		}
		if id == c.id {
			w.Error("ERR I tried hard but I can't forget myself...")
			return
		}
		s.parkLocal(cl, func() []byte {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var rw resp.Writer
			rw.Proto = cl.proto
			if err := c.removeNode(ctx, id); err != nil {
				rw.Error("ERR " + err.Error())
			} else {
				rw.OK()
			}
			return rw.Buf
		})
	case "help":
		lines := []string{
			"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"INFO", "    Return information about the cluster.",
			"MYID", "    Return the node id.",
			"MYSHARDID", "    Return the node's shard id.",
			"NODES", "    Return cluster configuration seen by node.",
			"SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
			"SLOTS", "    Return information about slots range mappings.",
			"REPLICAS <node-id>", "    Return <node-id> replicas.",
			"KEYSLOT <key>", "    Return the hash slot for <key>.",
			"FORGET <node-id>", "    Remove a node from the cluster (through Raft; its ID is never reused).",
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.Status(l)
		}
	default:
		w.Error("ERR CLUSTER " + strings.ToUpper(sub) + " is not supported by cairn: Raft manages slots, failover and membership (join with cluster-join, remove with CLUSTER FORGET)")
	}
}

func clusterInfo(c *clusterNode) string {
	nodes, st := c.topology()
	ok := st.Lead != 0
	var b strings.Builder
	state, slotsOK, slotsFail := "ok", slot.Count, 0
	if !ok {
		state, slotsOK, slotsFail = "fail", 0, slot.Count
	}
	kv(&b, "cluster_state", state)
	kv(&b, "cluster_slots_assigned", slot.Count)
	kv(&b, "cluster_slots_ok", slotsOK)
	kv(&b, "cluster_slots_pfail", 0)
	kv(&b, "cluster_slots_fail", slotsFail)
	kv(&b, "cluster_known_nodes", len(nodes))
	kv(&b, "cluster_size", 1)
	kv(&b, "cluster_current_epoch", st.Term)
	kv(&b, "cluster_my_epoch", st.Term)
	kv(&b, "cluster_stats_messages_sent", 0)
	kv(&b, "cluster_stats_messages_received", 0)
	kv(&b, "total_cluster_links_buffer_limit_exceeded", 0)
	leader := "-"
	if ok {
		leader = cluster.Name(st.Lead)
	}
	kv(&b, "raft_leader", leader)
	kv(&b, "raft_role", st.Role)
	kv(&b, "raft_term", st.Term)
	kv(&b, "raft_commit_index", st.Commit)
	kv(&b, "raft_applied_index", st.Applied)
	return b.String()
}

// writeNode writes a node as CLUSTER SLOTS lists it: ip, port, id, and (Redis 7) metadata.
func writeSlotNode(w *resp.Writer, n topoNode) {
	w.Array(4)
	w.BulkString(n.host)
	w.Int(int64(n.port))
	w.BulkString(cluster.Name(n.id))
	w.Map(0)
}

func clusterSlots(c *clusterNode, w *resp.Writer) {
	nodes, st := c.topology()
	if st.Lead == 0 || len(nodes) == 0 || !nodes[0].leader {
		w.Array(0)
		return
	}
	w.Array(1)
	w.Array(2 + len(nodes))
	w.Int(0)
	w.Int(slot.Count - 1)
	for _, n := range nodes {
		writeSlotNode(w, n)
	}
}

func clusterShards(c *clusterNode, w *resp.Writer) {
	nodes, st := c.topology()
	w.Array(1)
	w.Map(2)
	w.BulkString("slots")
	if st.Lead != 0 {
		w.Array(2)
		w.Int(0)
		w.Int(slot.Count - 1)
	} else {
		w.Array(0)
	}
	w.BulkString("nodes")
	w.Array(len(nodes))
	for _, n := range nodes {
		w.Map(7)
		w.BulkString("id")
		w.BulkString(cluster.Name(n.id))
		w.BulkString("port")
		w.Int(int64(n.port))
		w.BulkString("ip")
		w.BulkString(n.host)
		w.BulkString("endpoint")
		w.BulkString(n.host)
		w.BulkString("role")
		if n.leader {
			w.BulkString("master")
		} else {
			w.BulkString("replica")
		}
		w.BulkString("replication-offset")
		w.Int(int64(n.applied))
		w.BulkString("health")
		if n.online {
			w.BulkString("online")
		} else {
			w.BulkString("failed")
		}
	}
}

func nodeLine(n topoNode, st replica.Status, c *clusterNode) string {
	var flags []string
	if n.self {
		flags = append(flags, "myself")
	}
	master := "-"
	if n.leader {
		flags = append(flags, "master")
	} else {
		flags = append(flags, "slave")
		if st.Lead != 0 {
			master = cluster.Name(st.Lead)
		}
	}
	if !n.voter {
		flags = append(flags, "nofailover")
	}
	if !n.online {
		flags = append(flags, "fail")
	}
	link := "connected"
	if !n.online {
		link = "disconnected"
	}
	line := fmt.Sprintf("%s %s@%d %s %s 0 %d %d %s", cluster.Name(n.id), net.JoinHostPort(n.host, strconv.Itoa(n.port)), n.busPort,
		strings.Join(flags, ","), master, time.Now().UnixMilli(), st.Term, link)
	if n.leader {
		line += " 0-16383"
	}
	return line
}

// parkLocal runs slow work for a server command off the event loop; its reply is delivered
// in order when it is done.
func (s *Server) parkLocal(cl *Client, work func() []byte) {
	cl.mu.Lock()
	cl.inflight++
	cl.mu.Unlock()
	cl.cs.parked = true
	go func() { cl.finish(work()) }()
}

func cmdReadOnly(s *Server, cl *Client, args [][]byte) {
	if s.cluster == nil {
		cl.loop.w.Error(errNoCluster)
		return
	}
	cl.cs.readonly = true
	cl.loop.w.OK()
}

func cmdReadWrite(s *Server, cl *Client, args [][]byte) {
	if s.cluster == nil {
		cl.loop.w.Error(errNoCluster)
		return
	}
	cl.cs.readonly = false
	cl.loop.w.OK()
}

func cmdRole(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	c := s.cluster
	if c == nil {
		w.Array(3)
		w.BulkString("master")
		w.Int(int64(s.sh.Log().Applied()))
		w.Array(0)
		return
	}
	nodes, st := c.topology()
	if st.Role == replica.RoleLeader {
		w.Array(3)
		w.BulkString("master")
		w.Int(int64(st.Applied))
		w.Array(len(nodes) - 1)
		for _, n := range nodes[1:] {
			w.Array(3)
			w.BulkString(n.host)
			w.BulkString(strconv.Itoa(n.port))
			w.BulkString(strconv.FormatUint(n.applied, 10))
		}
		return
	}
	host, port, state := "", 0, "connect"
	if len(nodes) > 0 && nodes[0].leader {
		host, port, state = nodes[0].host, nodes[0].port, "connected"
	}
	w.Array(5)
	w.BulkString("slave")
	w.BulkString(host)
	w.Int(int64(port))
	w.BulkString(state)
	w.Int(int64(st.Applied))
}

// cmdWait answers how many replicas have applied the connection's last write, waiting up to
// the timeout (0: for ever) for numreplicas of them.
func cmdWait(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	n, ok1 := command.ParseInt(args[1])
	ms, ok2 := command.ParseInt(args[2])
	if !ok1 || !ok2 {
		w.Error(command.ErrNotInt)
		return
	}
	if ms < 0 {
		w.Error("ERR timeout is negative")
		return
	}
	var deadline time.Time
	if ms > 0 {
		deadline = time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	reply := func(count int) []byte {
		rw := resp.Writer{Proto: cl.proto}
		rw.Int(int64(count))
		return rw.Buf
	}
	c := s.cluster
	if c == nil {
		// No replicas: nothing will ever acknowledge. Redis blocks until the timeout.
		if n <= 0 {
			w.Int(0)
			return
		}
		s.parkLocal(cl, func() []byte {
			if deadline.IsZero() {
				<-s.shutdown
			} else {
				select {
				case <-time.After(time.Until(deadline)):
				case <-s.shutdown:
				}
			}
			return reply(0)
		})
		return
	}
	cl.mu.Lock()
	cl.inflight++
	cl.mu.Unlock()
	cl.cs.parked = true
	c.raft.WaitReplicas(cl.cs.lastWrite.Load(), int(max(n, 0)), deadline, func(count int) { cl.finish(reply(count)) })
}

func cmdConsistency(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) == 1 {
		w.BulkString(levelNames[cl.cs.level])
		return
	}
	lv, ok := parseLevel(args[1])
	if !ok {
		w.Error("ERR invalid consistency level '" + truncate(string(args[1]), 64) + "': use strong, session or eventual")
		return
	}
	cl.cs.level = lv
	w.OK()
}

// Session tokens name the log position a session has seen, per shard: "shard:index[,...]".
func cmdSession(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch {
	case command.EqualFold(args[1], "token") && len(args) == 2:
		pos := cl.cs.position.Load()
		if s.cluster == nil {
			pos = max(pos, s.sh.Log().Applied())
		}
		w.BulkString(strconv.Itoa(mainShard) + ":" + strconv.FormatUint(pos, 10))
	case command.EqualFold(args[1], "resume") && len(args) == 3:
		pos, ok := parseSessionToken(string(args[2]))
		if !ok {
			w.Error("ERR invalid session token")
			return
		}
		raise(&cl.cs.position, pos)
		w.OK()
	case command.EqualFold(args[1], "token"), command.EqualFold(args[1], "resume"):
		w.Error(command.ErrWrongArgs("session|" + strings.ToLower(string(args[1]))))
	default:
		w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try SESSION TOKEN or SESSION RESUME <token>.")
	}
}

func parseSessionToken(tok string) (uint64, bool) {
	var pos uint64
	for _, part := range strings.Split(tok, ",") {
		shard, idx, ok := strings.Cut(part, ":")
		if !ok || shard != strconv.Itoa(mainShard) {
			return 0, false
		}
		v, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			return 0, false
		}
		pos = max(pos, v)
	}
	return pos, true
}

// mode is the server mode INFO and HELLO report.
func (s *Server) mode() string {
	if s.cluster != nil {
		return "cluster"
	}
	return "standalone"
}

// role is this node's replication role as Redis names it.
func (s *Server) role() string {
	if s.cluster != nil && !s.cluster.raft.IsLeader() {
		return "replica"
	}
	return "master"
}

func infoCluster(s *Server, cl *Client, b *strings.Builder) {
	if s.cluster == nil {
		kv(b, "cluster_enabled", 0)
		return
	}
	kv(b, "cluster_enabled", 1)
}

func infoClusterReplication(c *clusterNode, b *strings.Builder) {
	nodes, st := c.topology()
	if st.Role == replica.RoleLeader {
		kv(b, "role", "master")
		kv(b, "connected_slaves", len(nodes)-1)
		for i, n := range nodes[1:] {
			state := "online"
			if !n.online {
				state = "wait_bgsave"
			}
			kv(b, "slave"+strconv.Itoa(i), fmt.Sprintf("ip=%s,port=%d,state=%s,offset=%d,lag=0", n.host, n.port, state, n.applied))
		}
	} else {
		kv(b, "role", "slave")
		host, port, link := "", 0, "down"
		if len(nodes) > 0 && nodes[0].leader {
			host, port, link = nodes[0].host, nodes[0].port, "up"
		}
		kv(b, "master_host", host)
		kv(b, "master_port", port)
		kv(b, "master_link_status", link)
		kv(b, "master_last_io_seconds_ago", 0)
		kv(b, "master_sync_in_progress", 0)
		kv(b, "slave_read_repl_offset", st.Applied)
		kv(b, "slave_repl_offset", st.Applied)
		kv(b, "slave_priority", 100)
		kv(b, "slave_read_only", 1)
		kv(b, "replica_announced", 1)
		kv(b, "connected_slaves", 0)
	}
	kv(b, "master_failover_state", "no-failover")
	kv(b, "master_replid", cluster.Name(st.Lead))
	kv(b, "master_repl_offset", st.Applied)
	kv(b, "raft_node_id", c.id)
	kv(b, "raft_role", st.Role)
	kv(b, "raft_term", st.Term)
	kv(b, "raft_leader_id", st.Lead)
	kv(b, "raft_commit_index", st.Commit)
	kv(b, "raft_applied_index", st.Applied)
}
