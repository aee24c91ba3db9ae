package server

import (
	"context"
	"slices"

	"github.com/panjf2000/gnet/v2"

	"github.com/cairn-db/cairn/internal/replica"
)

// One commit per event-loop pass.
//
// A single node with appendfsync everysec or no applies writes on the event loop that read them
// (applying costs less than handing them to another goroutine and being woken). Applied one
// connection at a time, every connection's writes would be a batch of their own: with fifty
// clients sending one SET each, fifty engine commits, each writing the applied index and the
// operation time beside its one key. So a loop gathers the writes of every connection it serves
// in one pass over its ready connections, and applies them once the pass is over, as one batch
// per shard: a task run on the loop after the pass's events (gnet's EventLoop.Execute queues it
// behind them), as Redis writes its AOF buffer once per pass, in beforeSleep. Each connection is
// parked meanwhile, exactly as while a write is in a replicated log. When its replies are in,
// the task goes on with the connection itself — sends the replies and reads on — as gnet would
// when woken: the task runs on the connection's loop, so waking it would only cost another turn
// of the loop and a queued task per connection.

// passWrites is the writes a loop gathered in its current pass. Owned by the loop.
type passWrites struct {
	shards    []passShard
	scheduled bool // the task that applies them is queued on the loop
	task      passTask
	results   [][]byte
	ready     []*Client // connections whose replies are all in
}

// passShard is one shard's writes of the pass, in submission order, with the connection and
// reply queue of each.
type passShard struct {
	log  *replica.Local
	ps   []Proposal
	from []passFrom
}

type passFrom struct {
	cl *Client
	q  *replyQueue
}

// passTask is the runnable that applies a loop's pass.
type passTask struct {
	s  *Server
	lp *loop
}

// Run implements gnet.Runnable; it runs on the loop.
func (t *passTask) Run(context.Context) error {
	t.s.applyPass(t.lp)
	return nil
}

// addToPass queues one shard's writes for the end of the loop's pass. It reports false when
// the loop cannot run the task (the server is stopping): the caller applies them at once.
func (s *Server) addToPass(lp *loop, log *replica.Local, cl *Client, q *replyQueue, ps []Proposal) bool {
	p := &lp.pass
	if !p.scheduled {
		p.task = passTask{s: s, lp: lp}
		if lp.el == nil || lp.el.Execute(context.Background(), &p.task) != nil {
			return false
		}
		p.scheduled = true
	}
	var sh *passShard
	for i := range p.shards {
		if p.shards[i].log == log {
			sh = &p.shards[i]
			break
		}
	}
	if sh == nil {
		p.shards = append(p.shards, passShard{log: log})
		sh = &p.shards[len(p.shards)-1]
	}
	sh.ps = append(sh.ps, ps...)
	for range ps {
		sh.from = append(sh.from, passFrom{cl, q})
	}
	return true
}

// applyPass applies the writes the loop gathered, one batch per shard, and completes them: each
// connection whose last reply came in sends its replies and reads on at once.
func (s *Server) applyPass(lp *loop) {
	p := &lp.pass
	p.scheduled = false
	for i := range p.shards {
		sh := &p.shards[i]
		if len(sh.ps) == 0 {
			continue
		}
		p.results = slices.Grow(p.results[:0], len(sh.ps))[:len(sh.ps)]
		err := sh.log.ApplyNow(sh.ps, p.results)
		for _, w := range sh.ps {
			if len(w.Data) >= bigWriteBytes {
				s.memToReturn.Store(true) // see bigWriteBytes
				break
			}
		}
		for j, f := range sh.from {
			if f.cl.fill(f.q, p.results[j], err) && !f.cl.inPass {
				f.cl.inPass = true
				p.ready = append(p.ready, f.cl)
			}
		}
		clear(p.results)
		clear(sh.ps)
		sh.ps = sh.ps[:0]
		clear(sh.from)
		sh.from = sh.from[:0]
	}
	// What gnet does for a woken connection (its eventloop.wake), for each one whose replies
	// are in, unless it closed meanwhile.
	for i, cl := range p.ready {
		p.ready[i] = nil
		cl.inPass = false
		if cl.gone {
			continue
		}
		if s.OnTraffic(cl.conn) == gnet.Close {
			_ = cl.conn.Close()
		}
	}
	p.ready = p.ready[:0]
}
