package replica

import (
	"slices"
	"sync"
	"sync/atomic"
)

// maxRun bounds how many operations one batch applies, so one huge burst does not hold every
// reply back until all of it is on disk.
const maxRun = 1024

// Local is the log of a single node: operations are numbered in arrival order and applied at
// once by one goroutine, many per storage batch. Durability is the storage engine's: its
// write-ahead log is the log.
type Local struct {
	sm StateMachine

	// applyMu serializes applying: the log's own goroutine and callers of ApplyNow take it
	// around numbering and applying a run, so the log stays one sequence.
	applyMu sync.Mutex

	mu      sync.Mutex
	queue   []Proposal
	wake    chan struct{}
	stopped bool

	applied atomic.Uint64
	// busy is set while the log's goroutine applies a run (see Busy).
	busy  atomic.Bool
	waits waiters
	done  chan struct{}
}

// NewLocal starts a local log whose last applied index is applied.
func NewLocal(sm StateMachine, applied uint64) *Local {
	l := &Local{sm: sm, wake: make(chan struct{}, 1), done: make(chan struct{})}
	l.applied.Store(applied)
	go l.run()
	return l
}

// Propose implements Log.
func (l *Local) Propose(ps ...Proposal) error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return ErrStopped
	}
	l.queue = append(l.queue, ps...)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// Busy reports whether the log's own goroutine is applying a run with a long operation
// (Proposal.Long): ApplyNow would wait for it as long as that takes, where Propose returns at
// once. Other runs of the goroutine (expiry sweeps, scripts) do not count: a caller diverted by
// them would keep the goroutine busy with its own writes, and every later write would follow.
func (l *Local) Busy() bool { return l.busy.Load() }

// Applied implements Log.
func (l *Local) Applied() uint64 { return l.applied.Load() }

// ReadIndex implements Log. A local log has no other replica to be behind: everything
// acknowledged is applied, so a read may run at once.
func (l *Local) ReadIndex(done func(error)) { done(nil) }

// WaitApplied implements Log.
func (l *Local) WaitApplied(index uint64, done func(error)) {
	l.waits.add(index, l.applied.Load, done)
}

// Close implements Log. Operations already queued are applied first.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.stopped = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-l.done
	l.waits.fail(ErrStopped)
	return nil
}

// ApplyNow applies ps at once on the caller's goroutine, in order with everything else the log
// applies, and fills results; the proposals' Done functions are not called. It lets an event
// loop apply its own writes when nothing needs to wait for a disk sync, without handing them to
// the log's goroutine and being woken again.
func (l *Local) ApplyNow(ps []Proposal, results [][]byte) error {
	if len(ps) > maxRun {
		if err := l.ApplyNow(ps[:maxRun], results[:maxRun]); err != nil {
			return err
		}
		return l.ApplyNow(ps[maxRun:], results[maxRun:])
	}
	var entries [16]Entry
	_, err := l.applyRun(ps, entries[:0], results)
	if d, ok := l.sm.(SyncDeferrer); ok {
		if wait := d.TakeSync(); wait != nil && err == nil {
			err = wait()
		}
	}
	return err
}

// synced is a run the log applied, to acknowledge once it is durable.
type synced struct {
	wait    func() error // nil: nothing to wait for
	run     []Proposal
	results [][]byte
	err     error
}

// acknowledge calls the Done of each run it receives, in order, once the run is durable. With a
// state machine that defers syncs, the log goroutine applies the next run during this one's sync.
func acknowledge(runs <-chan synced, done chan<- struct{}) {
	defer close(done)
	for r := range runs {
		err := r.err
		if r.wait != nil {
			if werr := r.wait(); err == nil {
				err = werr
			}
		}
		for i, p := range r.run {
			p.Done(r.results[i], err)
		}
	}
}

// applyRun numbers and applies one run of proposals under applyMu.
func (l *Local) applyRun(run []Proposal, entries []Entry, results [][]byte) ([]Entry, error) {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	entries = entries[:0]
	next := l.applied.Load()
	for _, p := range run {
		next++
		entries = append(entries, Entry{Index: next, Data: p.Data})
	}
	err := l.sm.Apply(entries, results)
	if err == nil {
		l.applied.Store(next)
		l.waits.release(next)
	}
	clear(entries) // their data (a big write's request buffer) need not outlive apply
	return entries[:0], err
}

func (l *Local) run() {
	defer close(l.done)
	var (
		batch   []Proposal
		spare   []Proposal
		entries []Entry
		results [][]byte
	)
	deferrer, _ := l.sm.(SyncDeferrer)
	var acks chan synced
	if deferrer != nil {
		acks = make(chan synced, 16)
		acked := make(chan struct{})
		go acknowledge(acks, acked)
		defer func() {
			close(acks)
			<-acked
		}()
	}
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.stopped {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if len(l.queue) == 0 && l.stopped {
			l.mu.Unlock()
			return
		}
		// Swap the queue out so proposers never wait for apply.
		batch, l.queue = l.queue, spare[:0]
		l.mu.Unlock()

		for start := 0; start < len(batch); start += maxRun {
			run := batch[start:min(start+maxRun, len(batch))]
			results = results[:0]
			for range run {
				results = append(results, nil)
			}
			var err error
			long := slices.ContainsFunc(run, func(p Proposal) bool { return p.Long })
			if long {
				l.busy.Store(true)
			}
			entries, err = l.applyRun(run, entries, results)
			if long {
				l.busy.Store(false)
			}
			if deferrer != nil {
				// Acknowledged by the other goroutine once durable, in order; the batch and
				// results buffers go with it.
				acks <- synced{wait: deferrer.TakeSync(), run: slices.Clone(run), results: slices.Clone(results), err: err}
				clear(results)
				continue
			}
			for i, p := range run {
				p.Done(results[i], err)
				results[i] = nil
			}
		}
		clear(batch)
		spare = batch
	}
}
