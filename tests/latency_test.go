package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// LATENCY replies recorded from redis-server 7.0 where they do not depend on time.
var latencySteps = []respStep{
	{[]string{"latency", "help"}, "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n+    Return a human readable latency analysis report.\r\n+GRAPH <event>\r\n+    Return an ASCII latency graph for the <event> class.\r\n+HISTORY <event>\r\n+    Return time-latency samples for the <event> class.\r\n+LATEST\r\n+    Return the latest latency samples for all events.\r\n+RESET [<event> ...]\r\n+    Reset latency data of one or more <event> classes.\r\n+    (default: reset all data for all event classes)\r\n+HISTOGRAM [COMMAND ...]\r\n+    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.\r\n+    If no commands are specified then all histograms are replied.\r\n+HELP\r\n+    Prints this help.\r\n"},
	{[]string{"latency", "latest"}, "*0\r\n"},
	{[]string{"latency", "history", "command"}, "*0\r\n"},
	{[]string{"latency", "graph", "command"}, "-ERR No samples available for event 'command'\r\n"},
	{[]string{"latency", "doctor"}, "$288\r\nI'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n\r\n"},
	{[]string{"latency", "reset"}, ":0\r\n"},
	{[]string{"latency", "reset", "command", "nosuch"}, ":0\r\n"},
	{[]string{"latency", "histogram", "nosuch"}, "*0\r\n"},
	{[]string{"latency", "history"}, "-ERR wrong number of arguments for 'latency|history' command\r\n"},
	{[]string{"latency", "history", "a", "b"}, "-ERR wrong number of arguments for 'latency|history' command\r\n"},
	{[]string{"latency", "latest", "x"}, "-ERR wrong number of arguments for 'latency|latest' command\r\n"},
	{[]string{"latency", "doctor", "x"}, "-ERR wrong number of arguments for 'latency|doctor' command\r\n"},
	{[]string{"latency", "graph"}, "-ERR wrong number of arguments for 'latency|graph' command\r\n"},
	{[]string{"latency", "help", "x"}, "-ERR wrong number of arguments for 'latency|help' command\r\n"},
	{[]string{"latency", "foo"}, "-ERR unknown subcommand 'foo'. Try LATENCY HELP.\r\n"},
	{[]string{"config", "set", "latency-monitor-threshold", "100"}, "+OK\r\n"},
	{[]string{"latency", "doctor"}, "$196\r\nDave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n\r\n"},
}

func TestLatencyScript(t *testing.T) {
	srv := servertest.Start(t)
	runSteps(t, srv.Dial(), latencySteps)
}

// TestLatencyMonitor makes spikes with DEBUG SLEEP and reads them back in every form.
func TestLatencyMonitor(t *testing.T) {
	srv := servertest.Start(t, "--enable-debug-command", "yes", "--latency-monitor-threshold", "50")
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	conn := srv.Dial()
	before := time.Now().Unix()
	conn.Do("debug", "sleep", "0.12")
	conn.Do("ping") // fast and quick: no event
	latest := rdb.Do(ctx, "latency", "latest").Val().([]any)
	if len(latest) != 1 {
		t.Fatalf("LATENCY LATEST = %v, want one event", latest)
	}
	ev := latest[0].([]any)
	if ev[0] != "command" || ev[1].(int64) < before || ev[2].(int64) < 120 || ev[3].(int64) != ev[2].(int64) {
		t.Fatalf("LATENCY LATEST = %v", ev)
	}
	hist := rdb.Do(ctx, "latency", "history", "command").Val().([]any)
	if len(hist) != 1 || hist[0].([]any)[1].(int64) != ev[2].(int64) {
		t.Fatalf("LATENCY HISTORY command = %v", hist)
	}
	graph := rdb.Do(ctx, "latency", "graph", "command").Val().(string)
	ms := strconv.FormatInt(ev[2].(int64), 10)
	if !strings.HasPrefix(graph, "command - high "+ms+" ms, low "+ms+" ms (all time high "+ms+" ms)\n"+strings.Repeat("-", 80)+"\n") {
		t.Fatalf("LATENCY GRAPH command =\n%s", graph)
	}
	doctor := rdb.Do(ctx, "latency", "doctor").Val().(string)
	if !strings.HasPrefix(doctor, "Dave, I have observed latency spikes in this Redis instance.") ||
		!strings.Contains(doctor, "1. command: 1 latency spikes (average "+ms+"ms, mean deviation 0ms") {
		t.Fatalf("LATENCY DOCTOR =\n%s", doctor)
	}
	if got := conn.Do("latency", "reset", "COMMAND"); got != ":1\r\n" {
		t.Fatalf("LATENCY RESET COMMAND = %q", got)
	}
	if got := conn.Do("latency", "latest"); got != "*0\r\n" {
		t.Fatalf("LATENCY LATEST after RESET = %q", got)
	}
	conn.Do("config", "set", "latency-monitor-threshold", "0")
	conn.Do("debug", "sleep", "0.06")
	if got := conn.Do("latency", "latest"); got != "*0\r\n" {
		t.Fatalf("LATENCY LATEST with the monitor off = %q", got)
	}
}

// TestLatencyHistogram checks LATENCY HISTOGRAM's shape: per command its calls and cumulative
// counts at Redis's bucket keys, subcommands under their full names, and latency-tracking.
func TestLatencyHistogram(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	conn.Do("config", "resetstat")
	for i := 0; i < 5; i++ {
		conn.Do("set", "k", "v")
		conn.Do("get", "k")
	}
	conn.Do("config", "get", "maxmemory")
	conn.Do("hello", "3")
	reply := conn.Do("latency", "histogram", "get", "config", "nosuch")
	// get, then the subcommands of config that ran (RESETSTAT counts itself, after the reset).
	if !strings.HasPrefix(reply, "%3\r\n$3\r\nget\r\n%2\r\n$5\r\ncalls\r\n:5\r\n$14\r\nhistogram_usec\r\n%") ||
		!strings.Contains(reply, "$10\r\nconfig|get\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n%") ||
		!strings.Contains(reply, "$16\r\nconfig|resetstat\r\n%2\r\n$5\r\ncalls\r\n:1\r\n") {
		t.Fatalf("LATENCY HISTOGRAM get config = %q", reply)
	}
	// The keys are the tops of the HDR counters holding 1024<<i ns, in µs, and 1073741 for the
	// rest (the top of the last counter), as redis-server 7.0 replies; the counts cumulative,
	// ending at the calls.
	keys := map[int64]bool{1073741: true}
	for i := 0; i < 20; i++ {
		keys[(1024<<i+8<<i-1)/1000] = true
	}
	_, after, _ := strings.Cut(reply, "$3\r\nget\r\n")
	_, hist, _ := strings.Cut(after, "histogram_usec\r\n%")
	n, _ := strconv.Atoi(hist[:strings.Index(hist, "\r\n")])
	lines := strings.Split(hist, "\r\n")[1 : 1+2*n]
	last := int64(0)
	for i := 0; i < len(lines); i += 2 {
		k, _ := strconv.ParseInt(strings.TrimPrefix(lines[i], ":"), 10, 64)
		c, _ := strconv.ParseInt(strings.TrimPrefix(lines[i+1], ":"), 10, 64)
		if !keys[k] || c <= last {
			t.Fatalf("histogram of get: key %d count %d after %d in %q", k, c, last, hist)
		}
		last = c
	}
	if last != 5 {
		t.Fatalf("histogram of get ends at %d, want 5", last)
	}
	conn.Do("config", "set", "latency-tracking", "no")
	conn.Do("get", "k")
	if got := conn.Do("latency", "histogram", "get"); !strings.Contains(got, "calls\r\n:5\r\n") {
		t.Fatalf("with latency-tracking no the histogram grew: %q", got)
	}
	conn.Do("config", "resetstat")
	if got := conn.Do("latency", "histogram", "get", "debug"); got != "%0\r\n" {
		t.Fatalf("LATENCY HISTOGRAM get after CONFIG RESETSTAT = %q", got)
	}
}
