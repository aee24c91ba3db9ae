package server

import (
	"testing"
	"time"
)

func TestConnRate(t *testing.T) {
	var b connRate
	t0 := time.Unix(1000, 0)
	allowed := func(now time.Time, rate int64, n int) int {
		got := 0
		for i := 0; i < n; i++ {
			if b.allow(now, rate) {
				got++
			}
		}
		return got
	}
	if got := allowed(t0, 0, 1000); got != 1000 {
		t.Fatalf("no limit: %d of 1000 allowed", got)
	}
	if got := allowed(t0, 100, 500); got != 100 {
		t.Errorf("a burst at a limit of 100/s: %d allowed, want 100", got)
	}
	if got := allowed(t0.Add(100*time.Millisecond), 100, 50); got != 10 {
		t.Errorf("100ms later: %d allowed, want 10", got)
	}
	// A long quiet spell refills the bucket to a second's worth, no more.
	if got := allowed(t0.Add(time.Hour), 100, 500); got != 100 {
		t.Errorf("an hour later: %d allowed, want 100", got)
	}
	// A lowered limit applies at once.
	if got := allowed(t0.Add(2*time.Hour), 5, 50); got != 5 {
		t.Errorf("at a limit lowered to 5/s: %d allowed, want 5", got)
	}
	// A clock that steps back refills nothing.
	if got := allowed(t0.Add(time.Hour), 5, 50); got != 0 {
		t.Errorf("after the clock stepped back: %d allowed, want 0", got)
	}
}
