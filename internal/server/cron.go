package server

import (
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// sweepBatch is how many expired keys one sweep operation removes.
const sweepBatch = 512

// cron runs the server's periodic work: removing expired keys and closing idle clients.
func (s *Server) cron() {
	defer close(s.cronDone)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
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
		if s.filters.NeedsRebuild() {
			go func() {
				if s.cluster != nil {
					s.engMu.RLock() // a snapshot install must not swap the engine under the scan
					defer s.engMu.RUnlock()
				}
				if err := s.filters.Rebuild(s.eng.DB(), s.state.TotalKeys(), func() { time.Sleep(time.Millisecond) }); err != nil {
					s.logger.Error("key filter rebuild failed", "err", err)
				}
			}()
		}
		s.limitTracking(nil)
	}
}

func (s *Server) stopCron() {
	s.Shutdown()
	<-s.cronDone
}

// sweep removes expired keys through the log, batch by batch, until none are left or the
// server is stopping. Reads never see expired keys; this reclaims their space.
func (s *Server) sweep() {
	if s.cluster != nil && !s.cluster.raft.IsLeader() {
		return // the leader sweeps for everyone: its deletions are replicated
	}
	for {
		keys, err := s.expiredKeys()
		if err != nil {
			s.logger.Error("expiry sweep failed", "err", err)
			return
		}
		if len(keys) == 0 {
			return
		}
		cmds := make([][][]byte, len(keys))
		for i, k := range keys {
			cmds[i] = command.SweepArgs(k.DB, k.Key, k.At)
		}
		done := make(chan error, 1)
		data := command.AppendOp(nil, 2, 0, command.OpSystem, s.now(), cmds...)
		err = s.log.Propose(replica.Proposal{Data: data, Done: func(_ []byte, err error) { done <- err }})
		if err == nil {
			select {
			case err = <-done:
			case <-s.shutdown:
				return
			}
		}
		if err != nil {
			s.logger.Error("expiry sweep failed", "err", err)
			return
		}
		if len(keys) < sweepBatch {
			return
		}
		select {
		case <-s.shutdown:
			return
		default:
		}
	}
}

func (s *Server) closeIdleClients() {
	if s.cfg.Timeout() <= 0 {
		return
	}
	limit := time.Now().UnixMilli() - int64(s.cfg.Timeout())*1000
	for _, c := range s.snapshotClients() {
		if c.lastActive.Load() < limit {
			s.kill(c, nil)
		}
	}
}

func (s *Server) expiredKeys() ([]keyspace.ExpiredKey, error) {
	if s.cluster != nil {
		s.engMu.RLock()
		defer s.engMu.RUnlock()
	}
	return keyspace.ExpiredKeys(s.eng.DB(), s.now(), sweepBatch)
}
