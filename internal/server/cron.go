package server

import (
	"time"

	"github.com/cockroachdb/pebble/v2"

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

// sweep removes expired keys, then expired hash fields, through the log, batch by batch, until
// none are left or the server is stopping. Reads never see expired keys or fields; this reclaims
// their space.
func (s *Server) sweep() {
	if s.cluster != nil && !s.cluster.raft.IsLeader() {
		return // the leader sweeps for everyone: its deletions are replicated
	}
	if s.sweepIndex(keyspace.ExpiredKeys, command.SweepArgs) {
		s.sweepIndex(keyspace.ExpiredFieldKeys, command.FieldSweepArgs)
	}
}

// expiryIndex reads what an expiry index lists as due (keyspace.ExpiredKeys, ExpiredFieldKeys).
type expiryIndex func(r pebble.Reader, now int64, limit int) ([]keyspace.ExpiredKey, error)

// sweepIndex proposes the removals an expiry index lists as due, with args building each
// operation. It reports false if it stopped early (an error, or the server stopping).
func (s *Server) sweepIndex(due expiryIndex, args func(db byte, key []byte, at int64) [][]byte) bool {
	for {
		keys, err := s.expiredKeys(due)
		if err != nil {
			s.logger.Error("expiry sweep failed", "err", err)
			return false
		}
		if len(keys) == 0 {
			return true
		}
		cmds := make([][][]byte, len(keys))
		for i, k := range keys {
			cmds[i] = args(k.DB, k.Key, k.At)
		}
		done := make(chan error, 1)
		data := command.AppendOp(nil, 2, 0, command.OpSystem, s.now(), cmds...)
		err = s.log.Propose(replica.Proposal{Data: data, Done: func(_ []byte, err error) { done <- err }})
		if err == nil {
			select {
			case err = <-done:
			case <-s.shutdown:
				return false
			}
		}
		if err != nil {
			s.logger.Error("expiry sweep failed", "err", err)
			return false
		}
		if len(keys) < sweepBatch {
			return true
		}
		select {
		case <-s.shutdown:
			return false
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

func (s *Server) expiredKeys(due expiryIndex) ([]keyspace.ExpiredKey, error) {
	if s.cluster != nil {
		s.engMu.RLock()
		defer s.engMu.RUnlock()
	}
	return due(s.eng.DB(), s.now(), sweepBatch)
}
