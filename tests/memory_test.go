package tests

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// MEMORY and LOLWUT replies recorded from redis-server 7.0 (LOLWUT's version line is Redis 8's,
// whose semantics cairn follows; cairn draws no art).
var memorySteps = []respStep{
	{[]string{"memory", "help"}, "*14\r\n+MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n+    Return memory problems reports.\r\n+MALLOC-STATS\r\n+    Return internal statistics report from the memory allocator.\r\n+PURGE\r\n+    Attempt to purge dirty pages for reclamation by the allocator.\r\n+STATS\r\n+    Return information about the memory usage of the server.\r\n+USAGE <key> [SAMPLES <count>]\r\n+    Return memory in bytes used by <key> and its value. Nested values are\r\n+    sampled up to <count> times (default: 5, 0 means sample all).\r\n+HELP\r\n+    Prints this help.\r\n"},
	{[]string{"memory", "usage", "nokey"}, "$-1\r\n"},
	{[]string{"set", "g", "x"}, "+OK\r\n"},
	{[]string{"memory", "usage", "g", "samples", "x"}, "-ERR value is not an integer or out of range\r\n"},
	{[]string{"memory", "usage", "g", "foo"}, "-ERR syntax error\r\n"},
	{[]string{"memory", "usage", "g", "samples"}, "-ERR syntax error\r\n"},
	{[]string{"memory", "usage", "g", "samples", "-1"}, "-ERR syntax error\r\n"},
	{[]string{"memory", "usage"}, "-ERR wrong number of arguments for 'memory|usage' command\r\n"},
	{[]string{"memory", "stats", "x"}, "-ERR wrong number of arguments for 'memory|stats' command\r\n"},
	{[]string{"memory", "doctor", "x"}, "-ERR wrong number of arguments for 'memory|doctor' command\r\n"},
	{[]string{"memory", "purge", "x"}, "-ERR wrong number of arguments for 'memory|purge' command\r\n"},
	{[]string{"memory", "malloc-stats", "x"}, "-ERR wrong number of arguments for 'memory|malloc-stats' command\r\n"},
	{[]string{"memory", "foo"}, "-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n"},
	{[]string{"memory", "purge"}, "+OK\r\n"},
	{[]string{"memory", "doctor"}, "$268\r\nHi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n\r\n"},
	{[]string{"lolwut"}, "$17\r\nRedis ver. 8.2.0\n\r\n"},
	{[]string{"lolwut", "version", "5", "1", "2"}, "$17\r\nRedis ver. 8.2.0\n\r\n"},
	{[]string{"lolwut", "version", "x"}, "-ERR value is not an integer or out of range\r\n"},
}

func TestMemoryScript(t *testing.T) {
	srv := servertest.Start(t)
	runSteps(t, srv.Dial(), memorySteps)
}

// TestMemoryUsage checks that MEMORY USAGE follows what is stored: a string by its length, a
// collection by its elements (sampled, or all with SAMPLES 0), an expiry by its index entry.
func TestMemoryUsage(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	usage := func(args ...string) int64 {
		t.Helper()
		reply := conn.Do(append([]string{"memory", "usage"}, args...)...)
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(reply, ":"), "\r\n"), 10, 64)
		if err != nil {
			t.Fatalf("MEMORY USAGE %v = %q", args, reply)
		}
		return n
	}
	conn.Do("set", "s", "x")
	small := usage("s")
	conn.Do("set", "s", strings.Repeat("x", 1001))
	if got := usage("s"); got != small+1000 {
		t.Fatalf("a string 1000 bytes longer uses %d, want %d", got, small+1000)
	}
	conn.Do("expire", "s", "100")
	if got := usage("s"); got <= small+1000 {
		t.Fatalf("with an expiry %d, want more than %d", got, small+1000)
	}
	for _, kind := range []struct{ name, cmd string }{{"z", "zadd"}, {"h", "hset"}, {"l", "rpush"}, {"st", "sadd"}} {
		args := []string{kind.cmd, kind.name}
		for i := 0; i < 100; i++ {
			switch kind.cmd {
			case "zadd":
				args = append(args, strconv.Itoa(i), "member"+strconv.Itoa(i))
			case "hset":
				args = append(args, "field"+strconv.Itoa(i), "value")
			default:
				args = append(args, "element"+strconv.Itoa(i))
			}
		}
		conn.Do(args...)
		all, sampled := usage(kind.name, "samples", "0"), usage(kind.name)
		if all < 100*10 || sampled < all*8/10 || sampled > all*12/10 {
			t.Fatalf("%s of 100: usage %d (all) and %d (sampled)", kind.cmd, all, sampled)
		}
	}
	if usage("z", "samples", "0") <= usage("st", "samples", "0") {
		t.Fatalf("a sorted set keeps two records per member: %d, set %d", usage("z", "samples", "0"), usage("st", "samples", "0"))
	}
}

func TestMemoryStats(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client(servertest.RESP3)
	rdb.Set(ctx, "k", "v", 0)
	stats := rdb.Do(ctx, "memory", "stats").Val().(map[any]any)
	for _, f := range []string{"peak.allocated", "total.allocated", "startup.allocated", "keys.count",
		"dataset.bytes", "allocator.allocated", "fragmentation", "engine.disk.bytes"} {
		if _, ok := stats[f]; !ok {
			t.Fatalf("MEMORY STATS has no %s: %v", f, stats)
		}
	}
	if stats["keys.count"] != int64(1) {
		t.Fatalf("keys.count = %v, want 1", stats["keys.count"])
	}
	db0, ok := stats["db.0"].(map[any]any)
	if !ok || len(db0) != 2 {
		t.Fatalf("db.0 = %v", stats["db.0"])
	}
	text := rdb.Do(ctx, "memory", "malloc-stats").Val().(string)
	if !strings.Contains(text, "HeapAlloc: ") {
		t.Fatalf("MEMORY MALLOC-STATS = %q", text)
	}
}

// TestRedisCliTools runs redis-cli's --bigkeys, --memkeys and --latency against cairn.
func TestRedisCliTools(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	srv := servertest.Start(t)
	conn := srv.Dial()
	conn.Do("set", "str", strings.Repeat("x", 50))
	conn.Do("rpush", "list", "a", "b", "c")
	conn.Do("hset", "hash", "f", "v")
	conn.Do("sadd", "set", "a", "b")
	conn.Do("zadd", "zset", "1", "a")
	conn.Do("pfadd", "hll", "a")
	conn.Do("geoadd", "geo", "1", "2", "p")
	port := srv.Addr[strings.LastIndex(srv.Addr, ":")+1:]
	run := func(d time.Duration, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		out, _ := exec.CommandContext(ctx, cli, append([]string{"-p", port}, args...)...).CombinedOutput()
		return string(out)
	}
	big := run(20*time.Second, "--bigkeys")
	for _, want := range []string{"Sampled 7 keys", "Biggest string found '\"str\"' has 50 bytes", "Biggest   list found '\"list\"' has 3 items",
		"2 zsets with 2 members"} {
		if !strings.Contains(big, want) {
			t.Fatalf("--bigkeys: no %q in\n%s", want, big)
		}
	}
	mem := run(20*time.Second, "--memkeys")
	if !strings.Contains(mem, "Sampled 7 keys") || regexp.MustCompile(`\d+ strings with 0 bytes`).MatchString(mem) ||
		!regexp.MustCompile(`Biggest string found '"str"' has \d+ bytes`).MatchString(mem) {
		t.Fatalf("--memkeys:\n%s", mem)
	}
	// --latency pings until stopped; without a terminal it prints "min max avg samples" lines.
	lat := run(2*time.Second, "--latency")
	if !regexp.MustCompile(`\d+ \d+ \d+\.\d+ \d+`).MatchString(lat) {
		t.Fatalf("--latency printed %q", lat)
	}
}
