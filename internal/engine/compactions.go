package engine

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Compactions schedules the compactions of every engine of a node from one goroutine.
//
// Pebble's default scheduler gives each DB a goroutine that wakes ten times a second to grant
// it compactions; a node holding a thousand shard engines would wake ten thousand times a
// second doing nothing. Pebble lets a scheduler be plugged in (Options.Experimental.
// CompactionScheduler): this one grants each engine what Pebble allows it, as the default
// does, when the engine asks, when a running compaction ends, when the engine says its
// allowance grew, and otherwise in one sweep over all engines a second.
type Compactions struct {
	mu   sync.Mutex
	dbs  map[*dbScheduler]struct{}
	poke chan *dbScheduler
	stop chan struct{}
	done chan struct{}
}

// NewCompactions starts a node's compaction scheduler; Close stops it.
func NewCompactions() *Compactions {
	c := &Compactions{dbs: map[*dbScheduler]struct{}{}, poke: make(chan *dbScheduler, 1024),
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// Close stops the scheduler; engines must be closed first.
func (c *Compactions) Close() {
	close(c.stop)
	<-c.done
}

func (c *Compactions) run() {
	defer close(c.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case s := <-c.poke:
			s.tryGrant()
		case <-t.C:
			c.mu.Lock()
			all := make([]*dbScheduler, 0, len(c.dbs))
			for s := range c.dbs {
				all = append(all, s)
			}
			c.mu.Unlock()
			for _, s := range all {
				s.tryGrant()
			}
		}
	}
}

// scheduler returns the scheduler one engine's Options take.
func (c *Compactions) scheduler() pebble.CompactionScheduler {
	s := &dbScheduler{pool: c}
	s.granting = sync.NewCond(&s.mu)
	return s
}

// dbScheduler is one engine's part: pebble.ConcurrencyLimitScheduler's accounting without its
// goroutine.
type dbScheduler struct {
	pool *Compactions
	db   pebble.DBForCompaction

	mu           sync.Mutex
	granting     *sync.Cond
	isGranting   bool
	unregistered bool
	running      int
	lastAllowed  int
}

var _ pebble.CompactionScheduler = (*dbScheduler)(nil)

func (s *dbScheduler) Register(_ int, db pebble.DBForCompaction) {
	s.db = db
	s.pool.mu.Lock()
	s.pool.dbs[s] = struct{}{}
	s.pool.mu.Unlock()
}

func (s *dbScheduler) Unregister() {
	s.pool.mu.Lock()
	delete(s.pool.dbs, s)
	s.pool.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unregistered = true
	for s.isGranting {
		s.granting.Wait()
	}
}

func (s *dbScheduler) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unregistered {
		return false, nil
	}
	s.lastAllowed = s.db.GetAllowedWithoutPermission()
	if s.lastAllowed > s.running {
		s.running++
		return true, s
	}
	return false, nil
}

func (s *dbScheduler) UpdateGetAllowedWithoutPermission() {
	s.mu.Lock()
	allowed := s.db.GetAllowedWithoutPermission()
	grow := allowed > s.lastAllowed
	s.lastAllowed = allowed
	s.mu.Unlock()
	if grow {
		s.nudge()
	}
}

// nudge has the pool's goroutine try to grant (never from Pebble's own goroutine, which may
// hold locks the grant takes).
func (s *dbScheduler) nudge() {
	select {
	case s.pool.poke <- s:
	default: // the sweep a second will do it
	}
}

// CompactionGrantHandle.
func (s *dbScheduler) Started()                                          {}
func (s *dbScheduler) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (s *dbScheduler) CumulativeStats(pebble.CompactionGrantHandleStats) {}

func (s *dbScheduler) Done() {
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	s.nudge()
}

// tryGrant grants the engine the compactions it may run and wants. Pool goroutine.
func (s *dbScheduler) tryGrant() {
	s.mu.Lock()
	for s.isGranting {
		s.granting.Wait()
	}
	if s.unregistered || s.db == nil {
		s.mu.Unlock()
		return
	}
	s.lastAllowed = s.db.GetAllowedWithoutPermission()
	toGrant := s.lastAllowed - s.running
	if toGrant <= 0 {
		s.mu.Unlock()
		return
	}
	s.isGranting = true
	s.mu.Unlock()
	for toGrant > 0 {
		if waiting, _ := s.db.GetWaitingCompaction(); !waiting {
			break
		}
		if !s.db.Schedule(s) {
			break
		}
		s.mu.Lock()
		s.running++
		s.mu.Unlock()
		toGrant--
	}
	s.mu.Lock()
	s.isGranting = false
	s.granting.Broadcast()
	s.mu.Unlock()
}
