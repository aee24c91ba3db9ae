package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/transport"
)

// Bus request kinds.
const (
	reqJoin     = 1 // body: JSON joinRequest; reply: JSON joinReply
	reqForward  = 2 // body: shard(8) encoded operations; reply: applied index and results
	reqMeta     = 4 // body: JSON cluster.MetaOp, proposed through the meta leader; reply: JSON cluster.MetaResult
	reqTopology = 5 // body: version(8); reply: the topology if newer, empty if not
	reqReplace  = 7 // body: JSON replaceRequest; reply: JSON replica.Member, the new replica
	// reqScriptLoad carries a script loaded with SCRIPT LOAD (body: the script); the reply,
	// empty, says it is in the receiver's cache.
	reqScriptLoad = 9
)

// Stream implements transport.Handler: the bus hands gossip its streams.
func (c *clusterNode) Stream(conn net.Conn) {
	if g := c.gossip.Load(); g != nil {
		g.Stream(conn)
		return
	}
	conn.Close()
}

// Deliver implements transport.Handler.
func (c *clusterNode) Deliver(from uint64, payload []byte) error {
	if !c.ready.Load() {
		return nil // Raft retransmits
	}
	return c.host.Deliver(from, payload)
}

// SnapshotInbox implements transport.Handler.
func (c *clusterNode) SnapshotInbox() string {
	return filepath.Join(c.s.cfg.Dir, "raft", "snap-in")
}

// ReceiveSnapshot implements transport.Handler.
func (c *clusterNode) ReceiveSnapshot(from uint64, header []byte, dir string) error {
	if !c.ready.Load() {
		return errors.New("node starting")
	}
	return c.host.ReceiveSnapshot(from, header, dir)
}

// Request implements transport.Handler.
func (c *clusterNode) Request(from uint64, kind byte, body []byte, reply func([]byte, error)) {
	if !c.ready.Load() {
		reply(nil, errors.New("node starting"))
		return
	}
	switch kind {
	case reqJoin:
		var req joinRequest
		if err := json.Unmarshal(body, &req); err != nil || req.Addr == "" || req.BusAddr == "" {
			reply(nil, errors.New("bad join request"))
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "add-node", Addr: req.Addr, BusAddr: req.BusAddr})
			if err != nil {
				reply(nil, err)
				return
			}
			// The reply carries the topology with the new node in it: wait until this node has
			// it (the meta leader applies before answering; a follower may lag a moment).
			var t *cluster.Topology
			for t = c.topology().t; t.Nodes[res.Node.ID] == nil && ctx.Err() == nil; t = c.topology().t {
				time.Sleep(20 * time.Millisecond)
			}
			b, _ := json.Marshal(joinReply{Node: *res.Node, Topology: t.Encode()})
			reply(b, nil)
		}()
	case reqMeta:
		var op cluster.MetaOp
		if err := json.Unmarshal(body, &op); err != nil {
			reply(nil, errors.New("bad meta request"))
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := c.proposeMeta(ctx, op)
			if err != nil {
				reply(nil, err)
				return
			}
			b, _ := json.Marshal(res)
			reply(b, nil)
		}()
	case reqScriptLoad:
		c.s.scripts().add(body) // scripting.go
		reply(nil, nil)
	case reqTopology:
		if len(body) != 8 {
			reply(nil, errors.New("bad topology request"))
			return
		}
		t := c.topology().t
		if t.Version <= binary.BigEndian.Uint64(body) {
			reply(nil, nil)
			return
		}
		reply(t.Encode(), nil)
	case reqForward:
		c.serveForward(body, reply)
	case reqRead:
		c.serveRead(body, reply)
	case reqReplace:
		c.serveReplace(body, reply)
	case reqUsersSync:
		c.serveUsersSync(body, reply)
	default:
		reply(nil, fmt.Errorf("unknown request kind %d", kind))
	}
}

// errNoMetaLeader is returned while the meta group has no leader this node can reach.
var errNoMetaLeader = errors.New("the meta group has no leader")

// proposeMeta proposes a meta operation: to this node's replica of the meta group if it leads
// it, else through the node that does. It returns the operation's result.
func (c *clusterNode) proposeMeta(ctx context.Context, op cluster.MetaOp) (*cluster.MetaResult, error) {
	// Refuse at once what the cluster's version does not support; the meta group's apply
	// checks again, and is the authority (cluster/version.go).
	if v := c.topology(); v != nil {
		if err := v.t.CheckOp(op.Op); err != nil {
			return &cluster.MetaResult{Err: err.Error()}, err
		}
	}
	data, _ := json.Marshal(op)
	for {
		var res cluster.MetaResult
		var err error
		if r := c.metaRaft(); r != nil && r.IsLeader() {
			done := make(chan struct{})
			var out []byte
			if perr := r.Propose(replica.Proposal{Data: data, Done: func(b []byte, e error) { out, err = b, e; close(done) }}); perr != nil {
				return nil, perr
			}
			select {
			case <-done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if err == nil {
				err = json.Unmarshal(out, &res)
			}
		} else {
			lead := c.metaLeader()
			if lead == 0 || lead == c.id {
				err = errNoMetaLeader
			} else {
				var out []byte
				if out, err = c.bus.CallPeer(ctx, lead, reqMeta, data); err == nil {
					err = json.Unmarshal(out, &res)
				}
			}
		}
		if err == nil {
			if res.Err != "" {
				return &res, errors.New(res.Err)
			}
			return &res, nil
		}
		var re *transport.RemoteError
		if errors.As(err, &re) && re.Msg != errNoMetaLeader.Error() && re.Msg != replica.ErrNotLeader.Error() {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// metaLeader is the node leading the meta group, as far as this node knows: its own replica's
// view, or the meta members asked in turn.
func (c *clusterNode) metaLeader() uint64 {
	if r := c.metaRaft(); r != nil {
		if lead := r.LeaderNode(); lead != 0 {
			return lead
		}
	}
	// A node outside the meta group asks the meta members (one heard from lately); any of
	// them relays.
	if peers := c.metaPeers(); len(peers) > 0 {
		return peers[0]
	}
	return 0
}

// Forwarding (cluster-proxy): a node that cannot take a connection's writes for a shard sends
// their encoded operations to the node leading it, which proposes them in order and answers
// with their replies.
//
//	request: shard(8) n(uvarint) { len(uvarint) op }*
//	reply:   applied(8) n(uvarint) { len(uvarint) result }*

// forward submits writes for a shard through its leader. It runs on its own goroutine.
func (c *clusterNode) forward(cl *Client, shard uint64, batch []Proposal) {
	ops := make([][]byte, len(batch))
	for i, p := range batch {
		// A forwarded command never blocks: the reply travels back as the answer to this
		// request, not through the leader's blocked clients.
		command.ClearOpClient(p.Data)
		ops[i] = p.Data
	}
	results, applied, err := c.forwardOps(shard, ops)
	if err != nil {
		for _, p := range batch {
			p.Done(nil, err)
		}
		return
	}
	cl.noteWrite(shard, applied)
	for i, p := range batch {
		p.Done(c.followAsk(ops[i], results[i]), nil)
	}
}

// forwardOps has the leader of a shard propose encoded operations and returns their replies
// and the leader's applied index after them. An error means none is known to be applied:
// ErrNotLeader if surely none was, ErrUnknown if some may have been.
func (c *clusterNode) forwardOps(shard uint64, ops [][]byte) ([][]byte, uint64, error) {
	node, ok := c.leaderNode(shard)
	if !ok {
		return nil, 0, replica.ErrNotLeader
	}
	body := binary.BigEndian.AppendUint64(nil, shard)
	body = binary.AppendUvarint(body, uint64(len(ops)))
	for _, op := range ops {
		body = binary.AppendUvarint(body, uint64(len(op)))
		body = append(body, op...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := c.bus.CallPeer(ctx, node, reqForward, body)
	if err != nil {
		var re *transport.RemoteError
		if errors.As(err, &re) && re.Msg == replica.ErrNotLeader.Error() {
			return nil, 0, replica.ErrNotLeader
		}
		return nil, 0, replica.ErrUnknown
	}
	if len(reply) < 8 {
		return nil, 0, replica.ErrUnknown
	}
	results, err := splitFrames(reply[8:])
	if err != nil || len(results) != len(ops) {
		return nil, 0, replica.ErrUnknown
	}
	return results, binary.BigEndian.Uint64(reply), nil
}

// leaderNode is the node leading a shard, for forwarding.
func (c *clusterNode) leaderNode(shard uint64) (uint64, bool) {
	if h := c.s.hostedShard(shard); h != nil {
		n := h.raft.LeaderNode()
		return n, n != 0 && n != c.id
	}
	if sh := c.topology().t.Shard(shard); sh != nil && sh.Leader != 0 && sh.Leader != c.id {
		return sh.Leader, true
	}
	return 0, false
}

func (c *clusterNode) serveForward(body []byte, reply func([]byte, error)) {
	if len(body) < 8 {
		reply(nil, errors.New("bad forward request"))
		return
	}
	h := c.s.hostedShard(binary.BigEndian.Uint64(body))
	ops, err := splitFrames(body[8:])
	if err != nil {
		reply(nil, err)
		return
	}
	if h == nil || !h.leads() {
		reply(nil, replica.ErrNotLeader)
		return
	}
	var mu sync.Mutex
	results := make([][]byte, len(ops))
	left := len(ops)
	props := make([]replica.Proposal, len(ops))
	for i, op := range ops {
		props[i] = replica.Proposal{Data: op, Done: func(res []byte, err error) {
			if err != nil {
				res = errorReply(err)
			}
			mu.Lock()
			results[i] = res
			left--
			last := left == 0
			mu.Unlock()
			if last {
				out := binary.BigEndian.AppendUint64(nil, h.raft.Applied())
				out = binary.AppendUvarint(out, uint64(len(results)))
				for _, r := range results {
					out = binary.AppendUvarint(out, uint64(len(r)))
					out = append(out, r...)
				}
				reply(out, nil)
			}
		}}
	}
	if err := h.raft.Propose(props...); err != nil {
		reply(nil, err)
	}
}

func splitFrames(b []byte) ([][]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("bad frames")
	}
	b = b[k:]
	out := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errors.New("bad frames")
		}
		out = append(out, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	return out, nil
}

// Reads forwarded by a proxying node: the node leading the shard runs the read after a read
// index (linearizable, as a strong read is) and answers with its reply.
//
//	request: shard(8) db(1) proto(1) n(uvarint) { len(uvarint) arg }*
//	reply:   the RESP reply

const reqRead = 6

// encodeRead encodes a read for another node.
func encodeRead(shard uint64, db, proto int, args [][]byte) []byte {
	body := binary.BigEndian.AppendUint64(nil, shard)
	body = append(body, byte(db), byte(proto))
	body = binary.AppendUvarint(body, uint64(len(args)))
	for _, a := range args {
		body = binary.AppendUvarint(body, uint64(len(a)))
		body = append(body, a...)
	}
	return body
}

// forwardRead sends a read to the leader of its shard; the reply takes the connection's next
// place.
func (c *clusterNode) forwardRead(cl *Client, shard uint64, args [][]byte) {
	body := encodeRead(shard, cl.db, cl.proto, args)
	pos := cl.reserveLocal()
	cl.cs.parked = true
	go func() {
		node, ok := c.leaderNode(shard)
		if !ok {
			cl.finish(pos, errorReply(replica.ErrNoLeader))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		reply, err := c.bus.CallPeer(ctx, node, reqRead, body)
		if err != nil {
			reply = errorReply(replica.ErrNoLeader)
		}
		cl.finish(pos, reply)
	}()
}

func (c *clusterNode) serveRead(body []byte, reply func([]byte, error)) {
	if len(body) < 10 {
		reply(nil, errors.New("bad read request"))
		return
	}
	h := c.s.hostedShard(binary.BigEndian.Uint64(body))
	db, proto := int(body[8]), int(body[9])
	args, err := splitFrames(body[10:])
	if err != nil || len(args) == 0 {
		reply(nil, errors.New("bad read request"))
		return
	}
	if h == nil || h.raft == nil {
		reply(nil, replica.ErrNotLeader)
		return
	}
	c.readOn(h, args, db, proto, func(r []byte) { reply(r, nil) })
}
