package sim

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/tests/check"
)

// Client timeouts: a write the client stops waiting for is of unknown outcome; a read it stops
// waiting for failed. The read timeout is the server's for a parked read (2 election timeouts
// and 2 s).
const (
	writeTimeout = 5 * time.Second
	readTimeout  = 4 * time.Second
)

// Client is one client issuing operations one at a time, with its reads at one level.
//
// From Version4 it is a Redis Cluster client: it sends RESP requests to nodes (request.go),
// writes to the node its slot map names for the key's slot and reads to any node, follows
// -MOVED and records -TRYAGAIN and -CLUSTERDOWN as refusals. Before, it played the part of the
// server's connection code: writes were proposed to the shard's leader (a refused write
// followed the leader hint), reads went to any node and passed its read gate first.
type Client struct {
	w     *World
	id    int
	level Level
	// leader is, per shard, the node the client believes leads it (before Version4).
	leader []int
	// slotNode is the client's slot map (Version4): the node it sends a slot's writes to.
	slotNode map[int]int
	// conns are its connections, by node.
	conns map[int]*conn
	// pos is the session's position per shard: the highest log index it has seen. The
	// session follows the client from node to node, as SESSION RESUME carries it.
	pos map[uint64]uint64
	seq uint64
	cur *Record
	// final marks the client that reads every key once faults have healed.
	final bool
}

func newClient(w *World, id int, level Level) *Client {
	c := &Client{w: w, id: id, level: level, pos: map[uint64]uint64{}}
	if w.cfg.Version >= Version4 {
		// The slot map a client fetches when it connects (CLUSTER SLOTS): each shard's
		// preferred leader.
		c.slotNode, c.conns = map[int]int{}, map[int]*conn{}
		for _, g := range w.groups {
			sl := w.groupSlot[g]
			c.slotNode[sl] = int(w.topo.Shard(uint64(w.slots[sl])).Replicas[0].Node - 1)
		}
		return c
	}
	c.leader = make([]int, w.cfg.Shards)
	for i := range c.leader {
		c.leader[i] = w.pick().idx
	}
	return c
}

// schedule issues the next operation after a pause.
func (c *Client) schedule(pause time.Duration) {
	if c.w.stopping || c.final {
		return
	}
	c.w.after(pause, func() {
		if !c.w.stopping {
			c.start(c.nextInput())
		}
	})
}

// nextInput draws an operation.
func (c *Client) nextInput() check.Input {
	w := c.w
	if w.cfg.Version >= Version4 {
		return c.nextRouted()
	}
	in := check.Input{Group: w.groups[w.rng.IntN(len(w.groups))], Slot: w.rng.IntN(check.KeysPerGroup)}
	switch p := w.rng.IntN(100); {
	case p < 35:
		in.Kind = check.Get
	case p < 55:
		in.Kind = check.Set
		if w.rng.IntN(2) == 0 {
			in.Arg = strconv.Itoa(w.rng.IntN(100))
		} else {
			in.Arg = fmt.Sprintf("v%d.%d", c.id, c.seq+1)
		}
	case p < 73:
		in.Kind = check.Incr
	case p < 91:
		in.Kind = check.Append
		if w.rng.IntN(5) < 3 {
			in.Arg = strconv.Itoa(w.rng.IntN(10))
		} else {
			in.Arg = fmt.Sprintf("x%d.%d", c.id, c.seq+1)
		}
	default:
		in.Kind = check.Txn
		in.Slot2 = (in.Slot + 1 + w.rng.IntN(check.KeysPerGroup-1)) % check.KeysPerGroup
		in.Arg = strconv.Itoa(w.rng.IntN(10))
	}
	return in
}

// start issues an operation.
func (c *Client) start(in check.Input) *Record { return c.startAt(in, -1) }

// startAt issues an operation to node idx (from Version4), or where the client would send it
// if idx is -1.
func (c *Client) startAt(in check.Input, idx int) *Record {
	w := c.w
	rec := &Record{Client: c.id, Level: c.level, Input: in, Shard: w.shardOfSlot(w.groupSlot[in.Group]), Call: w.now}
	if in.Kind.IsWrite() {
		rec.Level = Strong
	}
	c.cur = rec
	if w.cfg.Version >= Version4 {
		c.startRouted(rec, idx)
		return rec
	}
	if in.Kind.IsWrite() {
		c.write(rec)
	} else {
		c.read(rec)
	}
	return rec
}

func argv(cmd []string) [][]byte {
	out := make([][]byte, len(cmd))
	for i, a := range cmd {
		out[i] = []byte(a)
	}
	return out
}

// write proposes the operation as the server does for a connection's write.
func (c *Client) write(rec *Record) {
	w := c.w
	si := rec.Shard
	rec.Node = c.leader[si-1]
	n := w.nodes[rec.Node]
	c.seq++
	rec.OpID = uint64(c.id+1)<<32 | c.seq
	w.hist.add(rec)
	w.tracef("c%d %s -> %s (op %x)", c.id, rec.Input, n.name, rec.OpID)
	if n.gone {
		c.followLeader(rec)
		c.finish(rec, Refused, "connection refused")
		return
	}
	if !n.up {
		c.finish(rec, Refused, "connection refused")
		return
	}
	w.after(writeTimeout, func() {
		if rec.Status == Pending {
			c.finish(rec, Unknown, "client timeout")
		}
	})
	inc := n.incarnation
	n.whenRunning(func() {
		if n.incarnation == inc && rec.Status == Pending {
			c.propose(rec, n)
		}
	})
}

// propose hands the write to the node's replica of its shard.
func (c *Client) propose(rec *Record, n *Node) {
	w := c.w
	var cmds [][][]byte
	for _, cmd := range rec.Input.Args() {
		cmds = append(cmds, argv(cmd))
	}
	var flags byte
	if rec.Input.Kind == check.Txn {
		flags = command.OpMulti
	}
	data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, DB: 0, Flags: flags, Time: n.opTime(), Client: rec.OpID, Shard: rec.Shard}, cmds...)
	r := n.shard(rec.Shard).raft
	done := func(res []byte, err error) {
		// The server notes the session's position in the proposer's completion.
		applied := r.Applied()
		res = append([]byte(nil), res...)
		w.complete(c.id, func() { c.writeDone(rec, res, err, applied) })
	}
	if err := r.Propose(replica.Proposal{Data: data, Done: done}); err != nil {
		done(nil, err)
	}
	n.dirty = true
}

func (c *Client) writeDone(rec *Record, res []byte, err error, applied uint64) {
	if rec.Status != Pending {
		return
	}
	switch {
	case err == nil:
		out, perr := parseReply(res)
		if perr != nil {
			c.w.problem("c%d: unreadable reply %q to %s", c.id, res, rec.Input)
		}
		rec.Output = out
		c.pos[rec.Shard] = max(c.pos[rec.Shard], applied)
		c.finish(rec, OK, "")
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, replica.ErrDropped):
		c.followLeader(rec)
		c.finish(rec, Refused, err.Error())
	default:
		c.finish(rec, Unknown, err.Error())
	}
}

// followLeader points the client at the leader the node it asked knows of (the -MOVED
// reply), or at another node.
func (c *Client) followLeader(rec *Record) {
	w := c.w
	n := w.nodes[rec.Node]
	if n.up {
		if lead := n.shard(rec.Shard).raft.Leader(); lead != 0 && lead != n.id {
			c.leader[rec.Shard-1] = int(lead - 1)
			return
		}
	}
	c.leader[rec.Shard-1] = w.pick().idx
}

// read sends a read to a node, through its read gate (route.go's readGate).
func (c *Client) read(rec *Record) {
	w := c.w
	n := w.pick()
	rec.Node = n.idx
	w.hist.add(rec)
	w.tracef("c%d %s %s -> %s", c.id, rec.Level, rec.Input, n.name)
	if !n.up {
		c.finish(rec, Refused, "connection refused")
		return
	}
	w.after(readTimeout, func() {
		if rec.Status == Pending {
			c.finish(rec, Refused, "read timed out")
		}
	})
	inc := n.incarnation
	n.whenRunning(func() {
		if n.incarnation == inc && rec.Status == Pending {
			c.gate(rec, n)
		}
	})
}

// gate passes the read through the node's read gate for its level.
func (c *Client) gate(rec *Record, n *Node) {
	w := c.w
	r := n.shard(rec.Shard).raft
	inc := n.incarnation
	gated := func(err error) { w.complete(c.id, func() { c.gated(rec, inc, err) }) }
	switch rec.Level {
	case Strong:
		r.ReadIndex(gated)
		n.dirty = true
	case Session:
		rec.Position = c.pos[rec.Shard]
		if r.Applied() >= rec.Position {
			c.gated(rec, inc, nil)
			return
		}
		r.WaitApplied(rec.Position, gated)
	default:
		c.gated(rec, inc, nil)
	}
}

// gated runs a read once its gate is passed.
func (c *Client) gated(rec *Record, inc int, err error) {
	if rec.Status != Pending {
		return
	}
	n := c.w.nodes[rec.Node]
	if err != nil {
		c.finish(rec, Refused, err.Error())
		return
	}
	if !n.up || n.incarnation != inc {
		c.finish(rec, Refused, "connection lost")
		return
	}
	if n.paused {
		// The reply is written when the process runs again.
		n.held = append(n.held, func() { c.gated(rec, inc, nil) })
		return
	}
	s := n.shard(rec.Shard)
	res := s.read(argv(rec.Input.Args()[0]), n.clock.Now().UnixMilli())
	rec.StateIndex = s.raft.Applied()
	out, perr := parseReply(res)
	if perr != nil {
		c.w.problem("c%d: unreadable reply %q to %s", c.id, res, rec.Input)
	}
	rec.Output = out
	// The server's afterRead: the session has now seen what this replica shows.
	c.pos[rec.Shard] = max(c.pos[rec.Shard], s.raft.Visible())
	c.finish(rec, OK, "")
}

func (c *Client) finish(rec *Record, st Status, why string) {
	w := c.w
	rec.Status, rec.Why, rec.Return = st, why, w.now
	switch st {
	case OK:
		w.tracef("c%d %s => %s (state %d)", c.id, rec.Input, rec.Output, rec.StateIndex)
	default:
		w.tracef("c%d %s => %s: %s", c.id, rec.Input, st, why)
	}
	if c.cur == rec {
		c.cur = nil
	}
	pause := w.between(0, 20*time.Millisecond)
	if st == Refused {
		pause = w.between(20*time.Millisecond, 200*time.Millisecond)
	}
	c.schedule(pause)
}
