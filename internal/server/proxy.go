package server

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/shard"
	"github.com/cairn-db/cairn/internal/slot"
)

// The proxy (cluster-proxy yes) lets clients that are not cluster-aware use any node as if it
// were one Redis: a single-key command is forwarded to its shard's leader (submit and dispatch
// do that), and the commands that Redis users expect to span the keyspace are split by shard
// and their replies merged — MGET, MSET, DEL, UNLINK, EXISTS and TOUCH over keys of several
// shards, and DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL and FLUSHDB over every shard of the
// cluster. Each part is atomic in its shard; the whole is not (an MSET over two shards may be
// half applied if a shard fails, as with Redis Cluster clients that split it). Commands that
// must be atomic across their keys (RENAME, SUNIONSTORE, transactions...) still get CROSSSLOT.

// scatterable reports whether a command over keys of several shards may be split by shard.
func scatterable(cmd *command.Command) bool {
	switch cmd.Name {
	case "mget", "mset", "del", "unlink", "exists", "touch":
		return true
	}
	return false
}

// part is one shard's share of a split command.
type part struct {
	shard uint64
	args  [][]byte
	// idx are the positions in the whole command's reply of this part's replies (MGET).
	idx []int
}

// scatter splits a command over keys of several shards by shard, runs the parts on their
// shards' leaders, and merges their replies in the place reserved for the command's.
func (s *Server) scatter(cl *Client, cmd *command.Command, args [][]byte) {
	step := 1
	if cmd.Name == "mset" {
		step = 2
	}
	byShard := map[uint64]*part{}
	var order []*part
	for i, n := 1, 0; i+step-1 < len(args); i, n = i+step, n+1 {
		id := s.shardOfSlot(slot.KeySlot(args[i]))
		p := byShard[id]
		if p == nil {
			p = &part{shard: id, args: [][]byte{args[0]}}
			byShard[id] = p
			order = append(order, p)
		}
		p.args = append(p.args, args[i:i+step]...)
		p.idx = append(p.idx, n)
	}
	nkeys := (len(args) - 1) / step
	db, proto, write := cl.db, cl.proto, cmd.IsWrite()
	pos := cl.reserveLocal()
	cl.cs.parked = true
	go func() {
		replies := s.cluster.runParts(order, write, db, proto)
		w := resp.Writer{Proto: proto}
		switch cmd.Name {
		case "mget":
			out := make([][]byte, nkeys)
			for i, p := range order {
				elems, ok := resp.ArrayElems(replies[i])
				if !ok || len(elems) != len(p.idx) {
					cl.finish(pos, replies[i]) // an error: the client sees it
					return
				}
				for j, e := range elems {
					out[p.idx[j]] = e
				}
			}
			w.Array(nkeys)
			for _, e := range out {
				w.Raw(e)
			}
		case "mset":
			for _, r := range replies {
				if len(r) > 0 && r[0] == '-' {
					cl.finish(pos, r)
					return
				}
			}
			w.OK()
		default: // counts
			var total int64
			for _, r := range replies {
				if len(r) < 3 || r[0] != ':' {
					cl.finish(pos, r)
					return
				}
				n, _ := strconv.ParseInt(string(r[1:len(r)-2]), 10, 64)
				total += n
			}
			w.Int(total)
		}
		cl.finish(pos, w.Buf)
	}()
}

// scatterKeyless runs a keyless data command over every shard of the cluster (proxy mode).
func (s *Server) scatterKeyless(cl *Client, cmd *command.Command, args [][]byte) {
	t := s.cluster.topology().t
	var order []*part
	for _, sh := range t.Shards {
		order = append(order, &part{shard: sh.ID, args: args})
	}
	db, proto := cl.db, cl.proto
	w := resp.Writer{Proto: proto}
	switch cmd.Name {
	case "swapdb":
		cl.loop.w.Error("ERR SWAPDB is not allowed in cluster mode")
		return
	case "scan":
		s.scanCluster(cl, cmd, args, t)
		return
	case "randomkey":
		// A random shard's random key; shards without keys are tried in turn from there.
		start := rand.IntN(len(order))
		order = append(order[start:], order[:start]...)
	}
	pos := cl.reserveLocal()
	cl.cs.parked = true
	go func() {
		var replies [][]byte
		if cmd.Name == "randomkey" {
			for _, p := range order {
				r := s.cluster.runParts([]*part{p}, false, db, proto)[0]
				if len(r) > 0 && r[0] == '$' && r[1] != '-' {
					cl.finish(pos, r)
					return
				}
				replies = append(replies, r)
			}
			w.Null()
			cl.finish(pos, w.Buf)
			return
		}
		replies = s.cluster.runParts(order, cmd.IsWrite(), db, proto)
		for _, r := range replies {
			if len(r) > 0 && r[0] == '-' {
				cl.finish(pos, r)
				return
			}
		}
		switch cmd.Name {
		case "dbsize":
			var total int64
			for _, r := range replies {
				n, _ := strconv.ParseInt(string(r[1:len(r)-2]), 10, 64)
				total += n
			}
			w.Int(total)
		case "keys":
			var all [][]byte
			for _, r := range replies {
				elems, _ := resp.ArrayElems(r)
				all = append(all, elems...)
			}
			w.Array(len(all))
			for _, e := range all {
				w.Raw(e)
			}
		default: // flushall, flushdb
			w.OK()
		}
		cl.finish(pos, w.Buf)
	}()
}

// scanCluster runs SCAN over every shard of the cluster, one after the other, with the shard
// in the cursor (as scanShards does over a node's led shards).
func (s *Server) scanCluster(cl *Client, cmd *command.Command, args [][]byte, t *cluster.Topology) {
	cur, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		cl.loop.w.Error("ERR invalid cursor")
		return
	}
	id, inner := cur&(1<<scanCursorBits-1), cur>>scanCursorBits
	i := 0
	for i < len(t.Shards) && t.Shards[i].ID < id {
		i++
	}
	if i == len(t.Shards) {
		cl.loop.w.Array(2)
		cl.loop.w.BulkString("0")
		cl.loop.w.Array(0)
		return
	}
	if t.Shards[i].ID != id {
		inner = 0
	}
	sh := t.Shards[i].ID
	nextShard := uint64(0)
	if i+1 < len(t.Shards) {
		nextShard = t.Shards[i+1].ID
	}
	inArgs := append([][]byte{args[0], []byte(strconv.FormatUint(inner, 10))}, args[2:]...)
	db, proto := cl.db, cl.proto
	pos := cl.reserveLocal()
	cl.cs.parked = true
	go func() {
		r := s.cluster.runParts([]*part{{shard: sh, args: inArgs}}, false, db, proto)[0]
		next, keys, ok := parseScanReply(r)
		if !ok {
			cl.finish(pos, r)
			return
		}
		out := nextShard
		if next != 0 {
			out = next<<scanCursorBits | sh
		}
		w := resp.Writer{Proto: proto}
		w.Array(2)
		w.BulkString(strconv.FormatUint(out, 10))
		w.Array(len(keys))
		for _, k := range keys {
			w.Bulk(k)
		}
		cl.finish(pos, w.Buf)
	}()
}

// runParts runs each part on its shard's leader, in parallel, and returns their replies (an
// error reply for a part that could not run). Off the event loops.
func (c *clusterNode) runParts(parts []*part, write bool, db, proto int) [][]byte {
	out := make([][]byte, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.onShard(p.shard, p.args, write, db, proto)
		}()
	}
	wg.Wait()
	return out
}

// onShard runs one command on a shard: a write through its leader's log, a read on the leader
// after a read index (linearizable). It returns the reply, or an error reply.
func (c *clusterNode) onShard(id uint64, args [][]byte, write bool, db, proto int) []byte {
	h := c.s.hostedShard(id)
	if write {
		op := command.AppendOpHeader(nil, command.OpHeader{Proto: proto, DB: db, Time: c.s.now(), Shard: id, Version: c.s.opVersion()}, args)
		if h != nil && h.leads() {
			done := make(chan []byte, 1)
			err := h.raft.Propose(replica.Proposal{Data: op, Done: func(r []byte, err error) {
				if err != nil {
					r = errorReply(err)
				}
				done <- r
			}})
			if err != nil {
				return errorReply(err)
			}
			return <-done
		}
		results, _, err := c.forwardOps(id, [][]byte{op})
		if err != nil {
			return errorReply(err)
		}
		return results[0]
	}
	if h != nil {
		done := make(chan []byte, 1)
		c.readOn(h, args, db, proto, func(r []byte) { done <- r })
		return <-done
	}
	node, ok := c.leaderNode(id)
	if !ok {
		return errorReply(replica.ErrNoLeader)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := c.bus.CallPeer(ctx, node, reqRead, encodeRead(id, db, proto, args))
	if err != nil {
		return errorReply(replica.ErrNoLeader)
	}
	return reply
}

// readOn runs a read on this node's replica of a shard after a read index, off the loops.
func (c *clusterNode) readOn(h *hosted, args [][]byte, db, proto int, reply func([]byte)) {
	cmd := shardCommand(args) // searchcluster.go
	if cmd == nil {
		reply(errorReply(errNotRead))
		return
	}
	h.raft.ReadIndex(func(err error) {
		if err != nil {
			reply(errorReply(err))
			return
		}
		if slotLeft(h, cluster.KeysSlot(cmd, args)) {
			w := resp.Writer{Proto: proto}
			w.Error(errSlotLeft)
			reply(w.Buf)
			return
		}
		var r shard.Reader
		w := resp.Writer{Proto: proto}
		v := h.sh.Acquire()
		r.Run(h.sh, v, cmd, args, db, &w, time.Now().UnixMilli())
		v.Release()
		reply(w.Buf)
	})
}
