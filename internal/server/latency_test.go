package server

import (
	"strings"
	"testing"
	"time"
)

// TestHistBuckets checks the bucket edges against the keys redis-server reports in LATENCY
// HISTOGRAM (1, 2, 4, 8, 16, 33, 66, ... microseconds) and values on either side of an edge.
func TestHistBuckets(t *testing.T) {
	wantKeys := []int64{1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065, 1082130}
	for i, want := range wantKeys {
		if got := histTop(i) / 1000; got != want {
			t.Fatalf("bucket %d key = %d µs, want %d", i, got, want)
		}
	}
	for _, c := range []struct {
		ns   int64
		want int
	}{
		{0, 0}, {1, 0}, {1031, 0}, {1032, 1}, {2063, 1}, {2064, 2}, {33023, 5}, {33024, 6},
		{999_999_999, 20}, {5e9, 20},
	} {
		if got := histBucket(c.ns); got != c.want {
			t.Fatalf("histBucket(%d) = %d, want %d", c.ns, got, c.want)
		}
	}
	var h latencyHist
	h.record(500 * time.Nanosecond)
	h.record(3 * time.Microsecond)
	if counts, total := h.snapshot(); total != 2 || counts[0] != 1 || counts[2] != 1 {
		t.Fatalf("snapshot = %v, %d", counts, total)
	}
}

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
