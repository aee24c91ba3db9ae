package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/command"
)

// CLIENT PAUSE: while a pause is on, a client's next command that the pause covers is not run;
// the connection is parked (its input stays buffered) and woken when the pause ends, so paused
// commands wait rather than fail, as in Redis.

const (
	pauseNone int32 = iota
	pauseWrite
	pauseAll
)

type pauseState struct {
	mode atomic.Int32 // read without the lock on every command

	mu      sync.Mutex
	end     time.Time
	timer   *time.Timer
	waiters []*Client
}

// parkIfPaused reports whether args must wait for the pause to end, and if so records cl to be
// woken then.
func (s *Server) parkIfPaused(cl *Client, args [][]byte) bool {
	if s.pause.mode.Load() == pauseNone {
		return false
	}
	s.pause.mu.Lock()
	defer s.pause.mu.Unlock()
	switch s.pause.mode.Load() {
	case pauseNone:
		return false
	case pauseWrite:
		if !mayWrite(cl, args) {
			return false
		}
	}
	if !cl.parked {
		cl.parked = true
		s.pause.waiters = append(s.pause.waiters, cl)
	}
	return true
}

// mayWrite reports whether a command may change data or replicate: what CLIENT PAUSE WRITE
// holds back. EXEC counts when a queued command may write.
func mayWrite(cl *Client, args [][]byte) bool {
	cmd, sub := resolve(args)
	if cmd == nil {
		return false
	}
	if sub != nil {
		cmd = sub
	}
	const writing = command.FlagWrite | command.FlagMayReplicate
	if cmd.Flags&writing != 0 {
		return true
	}
	if cmd.Name == "exec" && cl.multi {
		for _, q := range cl.queued {
			if q.cmd.Flags&writing != 0 {
				return true
			}
		}
	}
	return false
}

func flagsOf(c *command.Command) command.Flags {
	if c == nil {
		return 0
	}
	return c.Flags
}

// pauseClients starts or extends a pause: the longer end and the stricter mode win.
func (s *Server) pauseClients(d time.Duration, mode int32) {
	s.pause.mu.Lock()
	defer s.pause.mu.Unlock()
	end := time.Now().Add(d)
	if s.pause.mode.Load() == pauseNone || end.After(s.pause.end) {
		s.pause.end = end
	}
	if mode > s.pause.mode.Load() {
		s.pause.mode.Store(mode)
	}
	if s.pause.timer != nil {
		s.pause.timer.Stop()
	}
	s.pause.timer = time.AfterFunc(time.Until(s.pause.end), s.endPauseIfDue)
}

func (s *Server) endPauseIfDue() {
	s.pause.mu.Lock()
	if s.pause.mode.Load() == pauseNone {
		s.pause.mu.Unlock()
		return
	}
	if left := time.Until(s.pause.end); left > 0 {
		s.pause.timer = time.AfterFunc(left, s.endPauseIfDue)
		s.pause.mu.Unlock()
		return
	}
	s.pause.mu.Unlock()
	s.unpauseClients()
}

// unpauseClients ends the pause and wakes every parked client.
func (s *Server) unpauseClients() {
	s.pause.mu.Lock()
	s.pause.mode.Store(pauseNone)
	if s.pause.timer != nil {
		s.pause.timer.Stop()
		s.pause.timer = nil
	}
	waiters := s.pause.waiters
	s.pause.waiters = nil
	for _, c := range waiters {
		c.parked = false
	}
	s.pause.mu.Unlock()
	for _, c := range waiters {
		_ = c.conn.Wake(nil)
	}
}

// writesPaused reports whether background writes (expiry) must wait too.
func (s *Server) writesPaused() bool { return s.pause.mode.Load() != pauseNone }

// pausedClients counts the clients parked by a pause.
func (s *Server) pausedClients() int {
	s.pause.mu.Lock()
	defer s.pause.mu.Unlock()
	return len(s.pause.waiters)
}
