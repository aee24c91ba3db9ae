package server

import (
	"strings"
	"testing"
)

// TestLatencyGraph compares with the graph redis-server 7.0 drew for spikes of 300, 121, 500
// and 200 ms, 5, 4, 2 and 1 seconds ago.
func TestLatencyGraph(t *testing.T) {
	var ts latencySeries
	now := int64(1000)
	for _, s := range []latencySample{{995, 300}, {996, 121}, {998, 500}, {999, 200}} {
		ts.samples[ts.idx] = s
		ts.idx++
		ts.max = max(ts.max, s.latency)
	}
	want := "command - high 500 ms, low 121 ms (all time high 500 ms)\n" + strings.Repeat("-", 80) + "\n" +
		"  # \n  | \n# | \n|_|#\n    \n5421\nssss\n"
	if got := latencyGraph("command", &ts, now); got != want {
		t.Fatalf("graph =\n%s\nwant\n%s", got, want)
	}
}
