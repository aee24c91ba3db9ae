package server

import (
	"sync"
	"time"
)

// deniedRate is the reply to a connection refused by max-new-connections-per-second.
const deniedRate = "-ERR max number of new connections per second reached\r\n"

// connRate limits how fast new connections are accepted (max-new-connections-per-second, a
// cairn option: Redis's max-new-connections-per-cycle only spreads accepts over event loop
// cycles, it refuses none). It is a token bucket holding at most a second's worth of
// connections: a burst of that many passes at once, then connections pass at the rate, and
// the others are answered with deniedRate and closed before the server spends anything on
// them. A storm of connects from clients that reconnect in a loop then costs an accept and a
// close each, and the connections already open keep being served.
type connRate struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// allow reports whether a connection opened at now may be served under a limit of rate a
// second (0: no limit).
func (b *connRate) allow(now time.Time, rate int64) bool {
	if rate <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := float64(rate)
	if b.last.IsZero() {
		b.tokens = limit
	} else if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens += d * limit
	}
	b.tokens = min(b.tokens, limit) // also when the limit was lowered
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
