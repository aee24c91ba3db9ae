package server

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// Commands over a node's data without keys — DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL, FLUSHDB —
// act in Redis Cluster on the keys of the slots the node is master of (a replica's, after
// READONLY, on its copy of its master's). A cairn node is master
// of the shards it leads, so in cluster mode they run over those: counts are summed, keys
// merged, SCAN walks the shards one after the other with the shard in its cursor, and a flush
// is proposed to each of them. On a single node its one shard runs them directly.

// isKeylessData reports whether cmd works on a node's data without naming keys.
func isKeylessData(cmd *command.Command) bool {
	switch cmd.Name {
	case "dbsize", "keys", "scan", "randomkey", "flushall", "flushdb", "swapdb":
		return true
	}
	return false
}

// ledShards lists the shards this node leads, by ID.
func (s *Server) ledShards() []*hosted {
	var out []*hosted
	for _, h := range s.allHosted() {
		if h.leads() {
			out = append(out, h)
		}
	}
	return out
}

// keylessData runs a keyless data command over the shards this node leads — or, for a read at
// eventual consistency (or after READONLY), over every shard it holds a replica of, as a Redis
// replica answers from its copy. It reports whether processing must stop (a flush replies
// later).
func (s *Server) keylessData(cl *Client, r *request, cmd *command.Command, args [][]byte) bool {
	w := &cl.loop.w
	led := s.keylessShards(cl, r, cmd)
	switch cmd.Name {
	case "dbsize":
		var n int64
		for _, h := range led {
			keys, _ := h.sh.KeyCounts()
			n += keys[cl.db]
		}
		w.Int(n)
	case "keys":
		var all [][]byte
		for _, h := range led {
			all = append(all, s.readArray(cl, h, cmd, args)...)
		}
		w.Array(len(all))
		for _, k := range all {
			w.Bulk(k)
		}
	case "scan":
		s.scanShards(cl, cmd, args, led)
	case "randomkey":
		var total int64
		counts := make([]int64, len(led))
		for i, h := range led {
			keys, _ := h.sh.KeyCounts()
			counts[i] = keys[cl.db]
			total += counts[i]
		}
		if total <= 0 {
			w.Null()
			return false
		}
		pick := rand.Int64N(total)
		for i, h := range led {
			if pick < counts[i] {
				s.read(cl, cmd, args, h, time.Now())
				return false
			}
			pick -= counts[i]
		}
		w.Null()
	case "flushall", "flushdb":
		s.flushShards(cl, cmd, args, led)
		return true
	case "swapdb":
		w.Error("ERR SWAPDB is not allowed in cluster mode")
	}
	return false
}

// keylessShards are the shards a keyless data command runs over: the ones this node leads, or
// for a read at eventual consistency (or after READONLY) every one it holds a replica of.
func (s *Server) keylessShards(cl *Client, r *request, cmd *command.Command) []*hosted {
	lv := r.level
	if lv == levelDefault {
		lv = cl.cs.level
	}
	if !cmd.IsWrite() && (lv == levelEventual || cl.cs.readonly) {
		return s.allHosted()
	}
	return s.ledShards()
}

// readArray runs a read whose reply is an array of bulk strings on shard h and returns them.
func (s *Server) readArray(cl *Client, h *hosted, cmd *command.Command, args [][]byte) [][]byte {
	w := &cl.loop.w
	mark := w.Len()
	s.read(cl, cmd, args, h, time.Now())
	reply := append([]byte(nil), w.Buf[mark:]...)
	w.Truncate(mark)
	// An array of bulk strings reads like a request.
	var rd resp.Reader
	items, _, _, err := rd.Parse(reply)
	if err != nil {
		return nil
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = append([]byte(nil), it...)
	}
	return out
}

// scanCursorBits is how many low bits of a cluster SCAN cursor name the shard (IDs up to 16384,
// as there is at most a shard per slot); the rest, command.CursorBits wide, is that shard's own
// cursor: 62 bits in all.
const scanCursorBits = 15

// scanShards runs SCAN over the shards this node leads, one after the other: the cursor holds
// the shard being scanned and its own cursor there.
func (s *Server) scanShards(cl *Client, cmd *command.Command, args [][]byte, led []*hosted) {
	w := &cl.loop.w
	cur, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		w.Error("ERR invalid cursor")
		return
	}
	shard, inner := cur&(1<<scanCursorBits-1), cur>>scanCursorBits
	i := 0
	for i < len(led) && led[i].id() < shard {
		i++
	}
	if i == len(led) {
		w.Array(2)
		w.BulkString("0")
		w.Array(0)
		return
	}
	if led[i].id() != shard {
		inner = 0 // the shard moved away: go on with the next one from its start
	}
	inArgs := append([][]byte{args[0], []byte(strconv.FormatUint(inner, 10))}, args[2:]...)
	mark := w.Len()
	s.read(cl, cmd, inArgs, led[i], time.Now())
	reply := append([]byte(nil), w.Buf[mark:]...)
	w.Truncate(mark)
	next, keys, ok := parseScanReply(reply)
	if !ok {
		w.Raw(reply) // an error: pass it on
		return
	}
	out := uint64(0)
	switch {
	case next != 0:
		out = next<<scanCursorBits | led[i].id()
	case i+1 < len(led):
		out = led[i+1].id()
	}
	w.Array(2)
	w.BulkString(strconv.FormatUint(out, 10))
	w.Array(len(keys))
	for _, k := range keys {
		w.Bulk(k)
	}
}

// parseScanReply splits SCAN's reply (*2 $cursor *n $key...) into the cursor and the keys.
func parseScanReply(b []byte) (uint64, [][]byte, bool) {
	if len(b) < 4 || string(b[:4]) != "*2\r\n" {
		return 0, nil, false
	}
	var rd resp.Reader
	// "$len cursor" then an array: parse the cursor as a one-element request.
	i := 4
	j := i
	for j < len(b) && b[j] != '\n' {
		j++
	}
	k := j + 1
	for k < len(b) && b[k] != '\n' {
		k++
	}
	cursor, err := strconv.ParseUint(string(b[j+1:k-1]), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	keys, _, _, err := rd.Parse(b[k+1:])
	if err != nil {
		return 0, nil, false
	}
	out := make([][]byte, len(keys))
	for n, key := range keys {
		out[n] = append([]byte(nil), key...)
	}
	return cursor, out, true
}

// flushShards proposes a flush to every shard this node leads and replies once all are
// applied, with the first error if any failed.
func (s *Server) flushShards(cl *Client, cmd *command.Command, args [][]byte, led []*hosted) {
	if len(led) == 0 {
		cl.loop.w.OK()
		return
	}
	s.proposeEach(cl, cl.reserveLocal(), led, args)
	cl.cs.parked = true
}

// proposeEach proposes the same operation to each of shards and fills the reply place pos once
// all are applied: with the first error if any failed, else the first reply.
func (s *Server) proposeEach(cl *Client, pos int, shards []*hosted, args [][]byte) {
	props := make([]*Proposal, len(shards))
	for i, h := range shards {
		p := s.proposal(cl, h, 0, copyArgs(args))
		props[i] = &p
	}
	go func() {
		done := make(chan []byte, len(shards))
		for i, h := range shards {
			p := props[i]
			p.Done = func(r []byte, err error) {
				if err != nil {
					r = errorReply(err)
				}
				done <- r
			}
			if err := h.sh.Log().Propose(*p); err != nil {
				done <- errorReply(err)
			}
		}
		var first []byte
		for range shards {
			if r := <-done; first == nil || (len(r) > 0 && r[0] == '-' && first[0] != '-') {
				first = r
			}
		}
		cl.finish(pos, first)
	}()
}

// runPure runs a command that touches no data (PING, ECHO, TIME) on a node that holds no shard.
func (s *Server) runPure(cl *Client, cmd *command.Command, args [][]byte) {
	ctx := command.Ctx{Cmd: cmd, Args: args, W: &cl.loop.w, DB: cl.db, Now: time.Now().UnixMilli(), Limits: s.limits}
	cmd.Run(&ctx)
}
