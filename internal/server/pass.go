package server

import (
	"context"
	"slices"

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
// parked meanwhile, exactly as while a write is in a replicated log, and woken when its replies
// are in.

// passWrites is the writes a loop gathered in its current pass. Owned by the loop.
type passWrites struct {
	shards    []passShard
	scheduled bool // the task that applies them is queued on the loop
	task      passTask
	results   [][]byte
}

// passShard is one shard's writes of the pass, in submission order.
type passShard struct {
	log *replica.Local
	ps  []Proposal
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
func (s *Server) addToPass(lp *loop, log *replica.Local, ps []Proposal) bool {
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
	return true
}

// applyPass applies the writes the loop gathered, one batch per shard, and completes them: each
// connection whose last reply came in is woken to send its replies.
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
		for j, pr := range sh.ps {
			pr.Done(p.results[j], err)
		}
		clear(p.results)
		clear(sh.ps)
		sh.ps = sh.ps[:0]
	}
}
