package server

import (
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
)

// Replies in flight.
//
// A connection's pipelined writes may go to several shards, whose logs apply them
// independently: the reply to a later request can be ready before the reply to an earlier one.
// So every reply that comes later has its place reserved when its request is submitted, and
// the connection sends replies only once every place up to them is filled, in request order.
//
// Each shard applies a connection's writes in the order they were proposed, so the places a
// shard fills are filled in the order they were reserved: a queue per shard says which place
// its next completion fills. A blocking command ends its batch (nothing after it is submitted
// until it is answered, as in Redis), so a blocked reply's place is known when it blocks.

// replyQueue is the places one shard's completions fill, in order. Guarded by Client.mu.
type replyQueue struct {
	shard uint64
	pos   []int
	next  int
	// done is the completion of this shard's proposals for the connection, made once.
	done replica.Done
}

// pendingWrite is a write of this pass, waiting to be submitted to its shard.
type pendingWrite struct {
	h *hosted
	p replica.Proposal
}

// reserve reserves the next reply place for a write to shard and returns its queue. cl.mu is
// held.
func (cl *Client) reserve(shard uint64) *replyQueue {
	var q *replyQueue
	for _, x := range cl.queues {
		if x.shard == shard {
			q = x
			break
		}
	}
	if q == nil {
		q = &replyQueue{shard: shard}
		q.done = func(result []byte, err error) { cl.completeFrom(q, result, err, false) }
		cl.queues = append(cl.queues, q)
	}
	q.pos = append(q.pos, len(cl.replies))
	cl.replies = append(cl.replies, nil)
	cl.doneAt = append(cl.doneAt, time.Time{})
	cl.inflight++
	return q
}

// reserveLocal reserves the next reply place for a server command that replies later (WAIT,
// DEBUG SLEEP, CLUSTER FORGET); finish fills it.
func (cl *Client) reserveLocal() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.replies = append(cl.replies, nil)
	cl.doneAt = append(cl.doneAt, time.Time{})
	cl.inflight++
	return len(cl.replies) - 1
}

// completeFrom is the completion of a write to q's shard. inline is set when the write was
// applied on the connection's own event loop, which goes on to send the reply itself: nobody
// is woken.
func (cl *Client) completeFrom(q *replyQueue, result []byte, err error, inline bool) {
	if cl.fill(q, result, err) && !inline {
		_ = cl.conn.Wake(nil)
	}
}

// fill puts the reply of a write to q's shard in its place and reports whether it was the last
// one in flight: the connection may send its replies.
func (cl *Client) fill(q *replyQueue, result []byte, err error) bool {
	if err != nil {
		result = errorReply(err)
	} else if cl.srv.cluster != nil {
		if len(result) > 1 && result[0] == '-' && result[1] == 'A' {
			result = cl.srv.fixAsk(result) // a slot in motion (slotmove.go)
		}
		if h := cl.srv.hostedShard(q.shard); h != nil && h.raft != nil {
			cl.noteWrite(q.shard, h.raft.Applied())
		}
	}
	cl.mu.Lock()
	pos := q.pos[q.next]
	q.next++
	if timeout, blocked := command.IsBlocked(result); err == nil && blocked {
		cl.blockedPos = pos
		cl.mu.Unlock()
		cl.blockedOn(q.shard, timeout)
		return false // stays in flight until served, timed out or unblocked
	}
	cl.replies[pos] = result
	cl.doneAt[pos] = time.Now()
	cl.inflight--
	last := cl.inflight == 0
	cl.mu.Unlock()
	return last
}

// finish fills a reserved place with a reply that came later (a served or unblocked blocking
// command, a server command's late reply); the last reply in flight wakes the event loop.
func (cl *Client) finish(pos int, result []byte) {
	cl.mu.Lock()
	cl.replies[pos] = result
	cl.doneAt[pos] = time.Now()
	cl.inflight--
	last := cl.inflight == 0
	cl.mu.Unlock()
	if last {
		_ = cl.conn.Wake(nil)
	}
}

// finishBlocked answers the connection's blocked command.
func (cl *Client) finishBlocked(result []byte) {
	cl.mu.Lock()
	pos := cl.blockedPos
	cl.mu.Unlock()
	cl.finish(pos, result)
}

// takeReplies returns the replies of the writes in flight, in request order, once every one
// is in; false, taking nothing, while any is still out.
func (cl *Client) takeReplies() ([][]byte, []time.Time, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.inflight > 0 {
		return nil, nil, false
	}
	// The buffers are reused: nothing is submitted again before the caller has sent these.
	replies, done := cl.replies, cl.doneAt
	cl.replies, cl.doneAt = cl.replies[:0], cl.doneAt[:0]
	for _, q := range cl.queues {
		q.pos, q.next = q.pos[:0], 0
	}
	return replies, done, true
}

// queueOf is the reply queue of a shard's writes (reserve made it).
func (cl *Client) queueOf(shard uint64) *replyQueue {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, q := range cl.queues {
		if q.shard == shard {
			return q
		}
	}
	return nil
}
