package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
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

// The cluster as Redis Cluster clients see it.
//
// A Redis Cluster node is a master of some slots or a replica of one master. A cairn node
// leads some shards and holds replicas of others, so the replies map it this way: CLUSTER
// SLOTS and SHARDS are per shard — its slot ranges, its leader as the master, the nodes with
// its other replicas as replicas — which is exact; CLUSTER NODES has one line per node, a
// master listing the slots of the shards it leads (a node that leads none is a replica of a
// node leading one of its shards). Clients route by SLOTS (or NODES) to the leader, and
// cairn's -MOVED corrects them after a failover.

// shardView is a shard as the cluster replies describe it.
type shardView struct {
	info    *cluster.Shard
	leader  uint64 // node
	applied map[uint64]uint64
	online  map[uint64]bool
	term    uint64
}

// shardViews lists the shards with their leaders: a hosted shard's own group says, else the
// meta group's record.
func (c *clusterNode) shardViews() ([]shardView, *cluster.Topology) {
	t := c.topology().t
	out := make([]shardView, 0, len(t.Shards))
	for _, sh := range t.Shards {
		v := shardView{info: sh, leader: sh.Leader, term: sh.LeaderTerm}
		if h := c.s.hostedShard(sh.ID); h != nil {
			st := h.raft.Status()
			v.leader, v.term = 0, st.Term
			v.applied, v.online = map[uint64]uint64{}, map[uint64]bool{}
			for _, p := range st.Peers {
				v.applied[p.Node] = p.Applied
				v.online[p.Node] = c.alive(p.Node)
				if p.ID == st.Lead {
					v.leader = p.Node
				}
			}
		}
		out = append(out, v)
	}
	return out, t
}

// alive reports whether node is this one, or one the bus heard from within two election
// timeouts (nodes with groups in common exchange a heartbeat every tick), or one gossip holds
// alive (nodes with nothing in common).
func (c *clusterNode) alive(node uint64) bool {
	if node == c.id || time.Since(c.bus.Heard(node)) < 2*c.host.ElectionTimeout() {
		return true
	}
	g := c.gossip.Load()
	return g != nil && g.Alive(node)
}

func cmdCluster(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	c := s.cluster
	if c == nil {
		w.Error(errNoCluster)
		return
	}
	sub := strings.ToLower(string(args[1]))
	if clusterOpsCommand(s, cl, sub, args) {
		return
	}
	switch sub {
	case "info":
		w.Verbatim(clusterInfo(c))
	case "myid":
		w.BulkString(cluster.Name(c.id))
	case "myshardid":
		w.BulkString(cluster.Name(c.myShard()))
	case "keyslot":
		w.Int(int64(slot.KeySlot(args[2])))
	case "slots":
		clusterSlots(c, w)
	case "shards":
		clusterShards(c, w)
	case "nodes":
		views, t := c.shardViews()
		var b strings.Builder
		for _, n := range t.LiveNodes() {
			b.WriteString(nodeLine(c, n, views, t))
			b.WriteString("\n")
		}
		w.Verbatim(b.String())
	case "replicas", "slaves":
		id, ok := cluster.ParseName(string(args[2]))
		views, t := c.shardViews()
		if n := t.Nodes[id]; !ok || n == nil || n.Removed {
			w.Error("ERR Unknown node " + string(args[2]))
			return
		}
		// The nodes holding replicas of the shards the node leads.
		var lines []string
		seen := map[uint64]bool{id: true}
		for _, v := range views {
			if v.leader != id {
				continue
			}
			for _, r := range v.info.Replicas {
				if !seen[r.Node] {
					seen[r.Node] = true
					lines = append(lines, nodeLine(c, t.Nodes[r.Node], views, t))
				}
			}
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.BulkString(l)
		}
	case "countkeysinslot", "getkeysinslot":
		clusterSlotKeys(s, cl, sub, args)
	case "forget":
		name := string(args[2])
		id, ok := cluster.ParseName(name)
		if n := c.topology().t.Nodes[id]; !ok || n == nil || n.Removed {
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
			rw := resp.Writer{Proto: cl.proto}
			// A node holding nothing leaves at once; one holding replicas is drained first —
			// the meta group's leader moves its replicas away, then removes it.
			t := c.topology().t
			op := cluster.MetaOp{Op: "remove-node", Node: id}
			if t.IsMeta(id) && t.CheckOp("meta-move-start") != nil {
				rw.Error(fmt.Sprintf("ERR node %d holds a replica of the meta group and cannot leave before cluster version %d (upgrade every node first)", id, cluster.OpVersion("meta-move-start")))
				return rw.Buf
			}
			if len(t.ShardsOf(id)) > 0 || t.IsMeta(id) {
				op.Op = "drain"
			}
			if _, err := c.proposeMeta(ctx, op); err != nil {
				rw.Error("ERR " + err.Error())
			} else {
				rw.OK()
			}
			return rw.Buf
		})
	case "migrate-slots":
		migrateSlotsCmd(s, cl, args)
	case "split-shard":
		splitShardCmd(s, cl, args)
	case "merge-shards":
		mergeShardsCmd(s, cl, args)
	case "migrate-slots-cancel":
		migrateSlotsCancelCmd(s, cl, args)
	case "setslot", "addslots", "addslotsrange", "delslots", "delslotsrange":
		w.Error(errSetSlot)
	case "help":
		lines := []string{
			"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"INFO", "    Return information about the cluster.",
			"MYID", "    Return the node id.",
			"MYSHARDID", "    Return the id of a shard the node leads (or holds).",
			"NODES", "    Return cluster configuration seen by node.",
			"SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
			"SLOTS", "    Return information about slots range mappings.",
			"REPLICAS <node-id>", "    Return the nodes holding replicas of the shards <node-id> leads.",
			"KEYSLOT <key>", "    Return the hash slot for <key>.",
			"COUNTKEYSINSLOT <slot>", "    Return the number of keys in <slot>.",
			"GETKEYSINSLOT <slot> <count>", "    Return key names stored by current node in a slot.",
			"FORGET <node-id>", "    Remove a node from the cluster, after moving its replicas to the others (its ID is never reused).",
			"MIGRATE-SLOTS <start-slot> <end-slot> <shard-id>", "    Move the slots (owned by one shard) to another shard; clients see -ASK and -TRYAGAIN meanwhile.",
			"SPLIT-SHARD <shard-id> [<slot>]", "    Split a shard: a new shard takes its slots from <slot> on (default: the upper half); returns the new shard's id (cairn).",
			"MERGE-SHARDS <from-shard-id> <into-shard-id>", "    Move every slot of a shard to an adjacent one, then retire the emptied shard (cairn).",
			"MIGRATE-SLOTS-CANCEL <start-slot> <end-slot>", "    Cancel the migrations of the slots: those not started stay where they are, one under way completes (cairn).",
			"STATUS", "    Return the topology, moves under way and the figures of the shards this node hosts, as JSON (cairn).",
			"REBALANCE", "    On the meta group's leader: run a placement round now and return the operations it started (cairn).",
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.Status(l)
		}
	default:
		w.Error("ERR CLUSTER " + strings.ToUpper(sub) + " is not supported by cairn: the meta group manages slots, shards and membership (join with cluster-join, remove with CLUSTER FORGET)")
	}
}

// myShard is the shard CLUSTER MYSHARDID names: the first this node leads, else the first it
// holds.
func (c *clusterNode) myShard() uint64 {
	hs := c.s.allHosted()
	for _, h := range hs {
		if h.leads() {
			return h.id()
		}
	}
	if len(hs) > 0 {
		return hs[0].id()
	}
	return 0
}

func clusterInfo(c *clusterNode) string {
	views, t := c.shardViews()
	ok, led, masters := 0, 0, map[uint64]bool{}
	var epoch uint64
	for _, v := range views {
		n := 0
		for _, r := range v.info.Ranges {
			n += r.End - r.Start + 1
		}
		if v.leader != 0 {
			ok += n
			masters[v.leader] = true
		}
		if v.leader == c.id {
			led++
		}
		epoch = max(epoch, v.term)
	}
	state := "ok"
	if ok < slot.Count {
		state = "fail"
	}
	var b strings.Builder
	kv(&b, "cluster_state", state)
	kv(&b, "cluster_slots_assigned", slot.Count)
	kv(&b, "cluster_slots_ok", ok)
	kv(&b, "cluster_slots_pfail", 0)
	kv(&b, "cluster_slots_fail", slot.Count-ok)
	kv(&b, "cluster_known_nodes", len(t.LiveNodes()))
	kv(&b, "cluster_size", len(masters))
	kv(&b, "cluster_current_epoch", epoch)
	kv(&b, "cluster_my_epoch", epoch)
	kv(&b, "cluster_stats_messages_sent", 0)
	kv(&b, "cluster_stats_messages_received", 0)
	kv(&b, "total_cluster_links_buffer_limit_exceeded", 0)
	kv(&b, "cluster_shards", len(t.Shards))
	kv(&b, "cluster_shards_hosted", len(c.s.allHosted()))
	kv(&b, "cluster_shards_led", led)
	kv(&b, "cluster_topology_version", t.Version)
	// The cluster's version and this node's binary's (rolling upgrades; version.go).
	kv(&b, "cluster_version", t.Active())
	kv(&b, "cluster_node_version", c.s.codeVersion())
	moves, draining := 0, 0
	if t.Meta.Move != nil {
		moves++ // the meta group's (metamove.go)
	}
	for _, sh := range t.Shards {
		if sh.Move != nil {
			moves++
		}
	}
	for _, n := range t.LiveNodes() {
		if n.Draining {
			draining++
		}
	}
	kv(&b, "cluster_moves_in_progress", moves)
	kv(&b, "cluster_slots_migrating", len(t.Migrations))
	kv(&b, "cluster_nodes_draining", draining)
	if g := c.gossip.Load(); g != nil {
		alive := 0
		for _, n := range g.Nodes() {
			if n.Alive {
				alive++
			}
		}
		kv(&b, "cluster_gossip_alive", alive) // this node included
	}
	meta := "-"
	if r := c.metaRaft(); r != nil {
		meta = r.Status().Role.String()
	}
	kv(&b, "cluster_meta_role", meta)
	return b.String()
}

// writeSlotNode writes a node as CLUSTER SLOTS lists it: ip, port, id, and (Redis 7) metadata.
func writeSlotNode(w *resp.Writer, n *cluster.Node) {
	host, port, _ := cluster.SplitHostPort(n.Addr)
	w.Array(4)
	w.BulkString(host)
	w.Int(int64(port))
	w.BulkString(cluster.Name(n.ID))
	w.Map(0)
}

// replicaNodes lists the nodes of a shard's replicas, the leader first.
func replicaNodes(v shardView, t *cluster.Topology) []*cluster.Node {
	var out []*cluster.Node
	if n := t.Nodes[v.leader]; n != nil {
		out = append(out, n)
	}
	for _, r := range v.info.Replicas {
		if r.Node != v.leader {
			if n := t.Nodes[r.Node]; n != nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func clusterSlots(c *clusterNode, w *resp.Writer) {
	views, t := c.shardViews()
	type entry struct {
		r     cluster.SlotRange
		nodes []*cluster.Node
	}
	var entries []entry
	for _, v := range views {
		if v.leader == 0 {
			continue // no master to name: the slots are down
		}
		for _, r := range v.info.Ranges {
			entries = append(entries, entry{r, replicaNodes(v, t)})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.r.Start - b.r.Start })
	w.Array(len(entries))
	for _, e := range entries {
		w.Array(2 + len(e.nodes))
		w.Int(int64(e.r.Start))
		w.Int(int64(e.r.End))
		for _, n := range e.nodes {
			writeSlotNode(w, n)
		}
	}
}

func clusterShards(c *clusterNode, w *resp.Writer) {
	views, t := c.shardViews()
	w.Array(len(views))
	for _, v := range views {
		w.Map(3)
		w.BulkString("slots")
		w.Array(2 * len(v.info.Ranges))
		for _, r := range v.info.Ranges {
			w.Int(int64(r.Start))
			w.Int(int64(r.End))
		}
		w.BulkString("id")
		w.BulkString(cluster.Name(v.info.ID))
		nodes := replicaNodes(v, t)
		w.BulkString("nodes")
		w.Array(len(nodes))
		for _, n := range nodes {
			host, port, _ := cluster.SplitHostPort(n.Addr)
			w.Map(7)
			w.BulkString("id")
			w.BulkString(cluster.Name(n.ID))
			w.BulkString("port")
			w.Int(int64(port))
			w.BulkString("ip")
			w.BulkString(host)
			w.BulkString("endpoint")
			w.BulkString(host)
			w.BulkString("role")
			if n.ID == v.leader {
				w.BulkString("master")
			} else {
				w.BulkString("replica")
			}
			w.BulkString("replication-offset")
			w.Int(int64(v.applied[n.ID]))
			w.BulkString("health")
			if v.online == nil || v.online[n.ID] {
				w.BulkString("online")
			} else {
				w.BulkString("failed")
			}
		}
	}
}

// nodeLine is a node's line in CLUSTER NODES: a master with the slots of the shards it leads,
// or a replica of a node leading one of the shards it holds.
func nodeLine(c *clusterNode, n *cluster.Node, views []shardView, t *cluster.Topology) string {
	var flags []string
	if n.ID == c.id {
		flags = append(flags, "myself")
	}
	var ranges []cluster.SlotRange
	master := "-"
	online := true
	for _, v := range views {
		if v.leader == n.ID {
			ranges = append(ranges, v.info.Ranges...)
		}
		if v.online != nil && !v.online[n.ID] && v.info.ReplicaOn(n.ID) != 0 {
			online = false
		}
	}
	if len(ranges) > 0 || len(t.ShardsOf(n.ID)) == 0 {
		flags = append(flags, "master")
	} else {
		flags = append(flags, "slave")
		for _, v := range views {
			if v.info.ReplicaOn(n.ID) != 0 && v.leader != 0 {
				master = cluster.Name(v.leader)
				break
			}
		}
	}
	if !online {
		flags = append(flags, "fail")
	}
	link := "connected"
	if !online {
		link = "disconnected"
	}
	_, busPort, _ := cluster.SplitHostPort(n.BusAddr)
	var epoch uint64
	for _, v := range views {
		epoch = max(epoch, v.term)
	}
	line := fmt.Sprintf("%s %s@%d %s %s 0 %d %d %s", cluster.Name(n.ID), n.Addr, busPort,
		strings.Join(flags, ","), master, time.Now().UnixMilli(), epoch, link)
	slices.SortFunc(ranges, func(a, b cluster.SlotRange) int { return a.Start - b.Start })
	for _, r := range ranges {
		if r.Start == r.End {
			line += " " + strconv.Itoa(r.Start)
		} else {
			line += " " + strconv.Itoa(r.Start) + "-" + strconv.Itoa(r.End)
		}
	}
	return line + migrationEntries(n.ID, views, t)
}

// clusterSlotKeys answers COUNTKEYSINSLOT and GETKEYSINSLOT from this node's replica of the
// slot's shard (a node without one holds no keys of it). It reads after a read index, so that
// the count includes every write acknowledged before it (a replica that just became leader may
// not have applied them all yet), and off the event loop, since it goes through every key of
// the slot.
func clusterSlotKeys(s *Server, cl *Client, sub string, args [][]byte) {
	w := &cl.loop.w
	sl, ok := command.ParseInt(args[2])
	if !ok || sl < 0 || sl >= slot.Count {
		w.Error("ERR Invalid slot")
		return
	}
	limit := int64(-1)
	if sub == "getkeysinslot" {
		n, ok := command.ParseInt(args[3])
		if !ok || n < 0 {
			w.Error("ERR Invalid number of keys")
			return
		}
		limit = n
	}
	h := s.hostedShard(s.shardOfSlot(int(sl)))
	if h == nil {
		writeSlotKeys(w, nil, 0, limit)
		return
	}
	proto := cl.proto
	s.parkLocal(cl, func() []byte {
		rw := resp.Writer{Proto: proto}
		if h.raft != nil {
			done := make(chan error, 1)
			h.raft.ReadIndex(func(err error) { done <- err })
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = replica.ErrNoLeader
			}
			if err != nil {
				return errorReply(err)
			}
		}
		var keys [][]byte
		count := int64(0)
		v := h.sh.Acquire()
		defer v.Release()
		snap := v.Engine.DB().NewSnapshot()
		defer snap.Close()
		tx := keyspace.NewTx(snap, nil, v.State.Physical(0), time.Now().UnixMilli())
		err := tx.SlotKeys(int(sl), func(key []byte) bool {
			count++
			if limit >= 0 {
				keys = append(keys, append([]byte(nil), key...))
				return int64(len(keys)) < limit
			}
			return true
		})
		if err != nil {
			rw.Error("ERR " + err.Error())
			return rw.Buf
		}
		writeSlotKeys(&rw, keys, count, limit)
		return rw.Buf
	})
}

// writeSlotKeys writes COUNTKEYSINSLOT's count (limit < 0) or GETKEYSINSLOT's keys.
func writeSlotKeys(w *resp.Writer, keys [][]byte, count, limit int64) {
	if limit < 0 {
		w.Int(count)
		return
	}
	w.Array(len(keys))
	for _, k := range keys {
		w.Bulk(k)
	}
}

// parkLocal runs slow work for a server command off the event loop; its reply is delivered
// in order when it is done.
func (s *Server) parkLocal(cl *Client, work func() []byte) {
	pos := cl.reserveLocal()
	cl.cs.parked = true
	go func() { cl.finish(pos, work()) }()
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
		w.Int(int64(s.appliedTotal()))
		w.Array(0)
		return
	}
	views, t := c.shardViews()
	leads := false
	for _, v := range views {
		leads = leads || v.leader == c.id
	}
	if leads {
		// The nodes replicating what this node leads.
		var reps []*cluster.Node
		seen := map[uint64]bool{c.id: true}
		offsets := map[uint64]uint64{}
		for _, v := range views {
			if v.leader != c.id {
				continue
			}
			for _, r := range v.info.Replicas {
				offsets[r.Node] += v.applied[r.Node]
				if !seen[r.Node] {
					seen[r.Node] = true
					reps = append(reps, t.Nodes[r.Node])
				}
			}
		}
		w.Array(3)
		w.BulkString("master")
		w.Int(int64(s.appliedTotal()))
		w.Array(len(reps))
		for _, n := range reps {
			host, port, _ := cluster.SplitHostPort(n.Addr)
			w.Array(3)
			w.BulkString(host)
			w.BulkString(strconv.Itoa(port))
			w.BulkString(strconv.FormatUint(offsets[n.ID], 10))
		}
		return
	}
	host, port, state := "", 0, "connect"
	for _, v := range views {
		if v.info.ReplicaOn(c.id) != 0 && v.leader != 0 {
			host, port, _ = cluster.SplitHostPort(t.Nodes[v.leader].Addr)
			state = "connected"
			break
		}
	}
	w.Array(5)
	w.BulkString("slave")
	w.BulkString(host)
	w.Int(int64(port))
	w.BulkString(state)
	w.Int(int64(s.appliedTotal()))
}

// appliedTotal sums the applied indexes of the hosted shards: a replication offset that only
// grows.
func (s *Server) appliedTotal() uint64 {
	var n uint64
	for _, h := range s.allHosted() {
		n += h.sh.Log().Applied()
	}
	return n
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
	cs := &cl.cs
	cs.posMu.Lock()
	shard, index := cs.lastShard, cs.lastWrite
	cs.posMu.Unlock()
	var h *hosted
	if s.cluster != nil {
		if shard == 0 {
			// No write on this connection: every replica has what it wrote (nothing), as
			// Redis counts replicas at offset 0.
			w.Int(int64(s.cluster.connectedReplicas()))
			return
		}
		h = s.hostedShard(shard)
	}
	if cl.inExec {
		// In a transaction WAIT does not block: as Redis, it counts the replicas that have
		// acknowledged the connection's writes so far.
		count := 0
		if h != nil && h.raft != nil {
			h.raft.WaitReplicas(index, 0, time.Time{}, func(c int) { count = c })
		}
		w.Int(int64(count))
		return
	}
	if h == nil || h.raft == nil {
		// No replicas: nothing will ever acknowledge. Redis blocks until the timeout.
		if n <= 0 || s.cluster != nil {
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
	pos := cl.reserveLocal()
	cs.parked = true
	h.raft.WaitReplicas(index, int(max(n, 0)), deadline, func(count int) { cl.finish(pos, reply(count)) })
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

// Session tokens name the log position a session has seen, per shard:
// "shard:index[,shard:index...]".
func cmdSession(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch {
	case command.EqualFold(args[1], "token") && len(args) == 2:
		cs := &cl.cs
		cs.posMu.Lock()
		pos := make(map[uint64]uint64, len(cs.positions))
		for k, v := range cs.positions {
			pos[k] = v
		}
		cs.posMu.Unlock()
		if s.cluster == nil {
			pos[singleShard] = max(pos[singleShard], s.appliedTotal())
		}
		ids := make([]uint64, 0, len(pos))
		for id := range pos {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var b strings.Builder
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatUint(id, 10) + ":" + strconv.FormatUint(pos[id], 10))
		}
		if b.Len() == 0 {
			b.WriteString(strconv.Itoa(singleShard) + ":0")
		}
		w.BulkString(b.String())
	case command.EqualFold(args[1], "resume") && len(args) == 3:
		pos, ok := parseSessionToken(string(args[2]))
		if !ok {
			w.Error("ERR invalid session token")
			return
		}
		for id, idx := range pos {
			cl.cs.raisePosition(id, idx)
		}
		w.OK()
	case command.EqualFold(args[1], "token"), command.EqualFold(args[1], "resume"):
		w.Error(command.ErrWrongArgs("session|" + strings.ToLower(string(args[1]))))
	default:
		w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try SESSION TOKEN or SESSION RESUME <token>.")
	}
}

func parseSessionToken(tok string) (map[uint64]uint64, bool) {
	out := map[uint64]uint64{}
	for _, part := range strings.Split(tok, ",") {
		shard, idx, ok := strings.Cut(part, ":")
		if !ok {
			return nil, false
		}
		id, err1 := strconv.ParseUint(shard, 10, 64)
		v, err2 := strconv.ParseUint(idx, 10, 64)
		if err1 != nil || err2 != nil || id == 0 {
			return nil, false
		}
		out[id] = max(out[id], v)
	}
	return out, true
}

// mode is the server mode INFO and HELLO report.
func (s *Server) mode() string {
	if s.cluster != nil {
		return "cluster"
	}
	return "standalone"
}

// role is this node's replication role as Redis names it: a cluster node that leads no shard
// is a replica.
func (s *Server) role() string {
	if s.cluster != nil && s.anyLedShard() == nil {
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

// connectedReplicas counts the other nodes holding active replicas of the shards this node
// leads.
func (c *clusterNode) connectedReplicas() int {
	views, _ := c.shardViews()
	seen := map[uint64]bool{}
	for _, v := range views {
		if v.leader != c.id {
			continue
		}
		for _, r := range v.info.Replicas {
			if r.Node != c.id && (v.online == nil || v.online[r.Node]) {
				seen[r.Node] = true
			}
		}
	}
	return len(seen)
}

func infoClusterReplication(c *clusterNode, b *strings.Builder) {
	views, t := c.shardViews()
	leads := 0
	slaves := map[uint64]bool{}
	for _, v := range views {
		if v.leader != c.id {
			continue
		}
		leads++
		for _, r := range v.info.Replicas {
			if r.Node != c.id && (v.online == nil || v.online[r.Node]) {
				slaves[r.Node] = true
			}
		}
	}
	applied := c.s.appliedTotal()
	if leads > 0 {
		kv(b, "role", "master")
		kv(b, "connected_slaves", len(slaves))
		i := 0
		for _, n := range t.LiveNodes() {
			if slaves[n.ID] {
				host, port, _ := cluster.SplitHostPort(n.Addr)
				kv(b, "slave"+strconv.Itoa(i), fmt.Sprintf("ip=%s,port=%d,state=online,offset=%d,lag=0", host, port, applied))
				i++
			}
		}
	} else {
		kv(b, "role", "slave")
		host, port, link := "", 0, "down"
		lastIO := int64(-1)
		for _, v := range views {
			if v.info.ReplicaOn(c.id) != 0 && v.leader != 0 {
				host, port, _ = cluster.SplitHostPort(t.Nodes[v.leader].Addr)
				link = "up"
				if heard := c.bus.Heard(v.leader); !heard.IsZero() {
					lastIO = int64(time.Since(heard).Seconds())
				}
				break
			}
		}
		kv(b, "master_host", host)
		kv(b, "master_port", port)
		kv(b, "master_link_status", link)
		kv(b, "master_last_io_seconds_ago", lastIO)
		kv(b, "master_sync_in_progress", 0)
		kv(b, "slave_read_repl_offset", applied)
		kv(b, "slave_repl_offset", applied)
		kv(b, "slave_priority", 100)
		kv(b, "slave_read_only", 1)
		kv(b, "replica_announced", 1)
		kv(b, "connected_slaves", 0)
	}
	kv(b, "master_failover_state", "no-failover")
	kv(b, "master_replid", cluster.Name(c.id))
	kv(b, "master_repl_offset", applied)
	kv(b, "raft_node_id", c.id)
	kv(b, "raft_shards_hosted", len(c.s.allHosted()))
	kv(b, "raft_shards_led", leads)
	kv(b, "raft_topology_version", c.topology().t.Version)
	if m := c.metaRaft(); m != nil {
		st := m.Status()
		kv(b, "raft_meta", fmt.Sprintf("replica=%d,role=%s,term=%d,leader=%d,commit=%d,applied=%d",
			st.ID, st.Role, st.Term, m.LeaderNode(), st.Commit, st.Applied))
	}
	for _, h := range c.s.allHosted() {
		st := h.raft.Status()
		keys, _ := h.sh.KeyCounts()
		kv(b, "raft_shard_"+strconv.FormatUint(h.id(), 10), fmt.Sprintf("replica=%d,role=%s,term=%d,leader=%d,commit=%d,applied=%d,keys=%d",
			st.ID, st.Role, st.Term, h.raft.LeaderNode(), st.Commit, st.Applied, keys[0]))
	}
}
