package command

import (
	"strconv"
	"testing"
)

// Apply runs every operation at the later of its own time and the last applied operation's, so
// when a new leader with a slower clock proposes, time does not go back — and since the value
// is replicated state, every replica computes the same.
func TestApplyTimeNeverGoesBack(t *testing.T) {
	h := newHarness(t)
	start := h.now
	h.check("+OK\r\n", "SET", "a", "1")
	h.now = start - 60_000 // a proposer whose clock is a minute behind
	h.check("+OK\r\n", "SET", "b", "1", "PX", "10000")
	want := ":" + strconv.FormatInt(start+10_000, 10) + "\r\n"
	h.check(want, "PEXPIRETIME", "b")
	// After a restart the last time is read back from the engine.
	state := h.app.state
	app, err := NewApplier(Storage{Engine: h.eng, State: state, Cache: nil, Filters: h.filters}, h.limits)
	if err != nil {
		t.Fatal(err)
	}
	h.app = app
	h.check("+OK\r\n", "SET", "c", "1", "PX", "10000")
	h.check(want, "PEXPIRETIME", "c")
}
