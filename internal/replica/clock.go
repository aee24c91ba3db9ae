package replica

import "time"

// Clock is the time source of the Raft scheduler. The real one is the system clock; the
// deterministic simulation drives a fake one, so elections and timeouts replay exactly.
type Clock interface {
	Now() time.Time
	// NewTicker delivers a tick every d until stopped.
	NewTicker(d time.Duration) Ticker
}

// Ticker is a Clock's periodic tick.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// SystemClock is the operating system's clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// NewTicker implements Clock.
func (SystemClock) NewTicker(d time.Duration) Ticker { return sysTicker{time.NewTicker(d)} }

type sysTicker struct{ t *time.Ticker }

func (t sysTicker) C() <-chan time.Time { return t.t.C }
func (t sysTicker) Stop()               { t.t.Stop() }
