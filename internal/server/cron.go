package server

import (
	"time"
)

// sweepBatch is how many expired keys one sweep operation removes.
const sweepBatch = 512

// cron runs the server's periodic work: removing expired keys and closing idle clients.
func (s *Server) cron() {
	defer close(s.cronDone)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-s.shutdown:
			return
		case <-t.C:
		}
		s.sampleRates()
		if !s.writesPaused() && !s.noActiveExpire.Load() {
			// CLIENT PAUSE holds back expiry too, as in Redis, so a paused dataset stays put.
			s.sweep()
		}
		s.closeIdleClients()
		s.evictClients()
		s.returnMemory()
		s.checkDisk()
		if n%10 == 0 && s.cluster != nil && s.disk.full.Load() {
			s.cluster.shedLeadership()
		}
		s.limitTracking(nil)
		if n%10 == 0 {
			// Once a second: appendfsync everysec, for every engine of the node in one loop,
			// and the key filters that filled up.
			for _, h := range s.allHosted() {
				if err := h.sh.BackgroundSync(); err != nil {
					s.logger.Error("background fsync failed", "shard", h.id(), "err", err)
				}
				h.sh.RebuildFilterIfNeeded()
			}
		}
	}
}

func (s *Server) stopCron() {
	s.Shutdown()
	<-s.cronDone
}

// sweep removes expired keys and hash fields through the log of each shard this node leads:
// a shard's leader sweeps for every replica, its deletions are replicated.
func (s *Server) sweep() {
	for _, h := range s.ledShards() {
		if err := h.sh.Sweep(s.now, s.shutdown); err != nil {
			s.logger.Error("expiry sweep failed", "shard", h.id(), "err", err)
		}
	}
}

func (s *Server) closeIdleClients() {
	if s.cfg.Timeout() <= 0 {
		return
	}
	// In whole seconds, as Redis counts (server.unixtime - c->lastinteraction > maxidletime):
	// a client is closed once it has been idle for more than timeout seconds by the clock's
	// second, which may be up to a second later than by the millisecond.
	now := time.Now().Unix()
	for _, c := range s.snapshotClients() {
		if now-c.lastActive.Load()/1000 > int64(s.cfg.Timeout()) && !s.idleExempt(c) {
			s.kill(c, nil)
		}
	}
}
