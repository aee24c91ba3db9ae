package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/redis/go-redis/v9"
)

// SLOWLOG replies recorded from redis-server 7.0 where they do not depend on time.
var slowlogSteps = []respStep{
	{[]string{"slowlog", "help"}, "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n+    Return top <count> entries from the slowlog (default: 10, -1 mean all).\r\n+    Entries are made of:\r\n+    id, timestamp, time in microseconds, arguments array, client IP and port,\r\n+    client name\r\n+LEN\r\n+    Return the length of the slowlog.\r\n+RESET\r\n+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n"},
	{[]string{"slowlog", "get", "x"}, "-ERR count should be greater than or equal to -1\r\n"},
	{[]string{"slowlog", "get", "-2"}, "-ERR count should be greater than or equal to -1\r\n"},
	{[]string{"slowlog", "get", "0"}, "*0\r\n"},
	{[]string{"slowlog", "get", "1", "2"}, "-ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.\r\n"},
	{[]string{"slowlog", "len", "x"}, "-ERR wrong number of arguments for 'slowlog|len' command\r\n"},
	{[]string{"slowlog", "reset", "x"}, "-ERR wrong number of arguments for 'slowlog|reset' command\r\n"},
	{[]string{"slowlog", "foo"}, "-ERR unknown subcommand 'foo'. Try SLOWLOG HELP.\r\n"},
	{[]string{"slowlog"}, "-ERR wrong number of arguments for 'slowlog' command\r\n"},
	{[]string{"slowlog", "reset"}, "+OK\r\n"},
}

func TestSlowlogScript(t *testing.T) {
	srv := servertest.Start(t)
	runSteps(t, srv.Dial(), slowlogSteps)
}

// TestSlowlogEntries logs every command (threshold 0) and checks the entries: ids, times,
// arguments as sent (truncated and redacted as Redis does), the client's address and name.
func TestSlowlogEntries(t *testing.T) {
	srv := servertest.Start(t, "--slowlog-log-slower-than", "0")
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	conn := srv.Dial()
	conn.Do("client", "setname", "probe")
	conn.Do("slowlog", "reset")
	before := time.Now().Unix()
	conn.Do("set", "k", "v")
	conn.Do("get", "k")
	long := strings.Repeat("x", 200)
	conn.Do("set", "big", long)
	many := []string{"rpush", "list"}
	for i := 0; i < 40; i++ {
		many = append(many, strconv.Itoa(i))
	}
	conn.Do(many...)
	conn.Do("auth", "user", "secret")
	conn.Do("multi")
	conn.Do("incr", "n")
	conn.Do("exec")
	addr := clientField(t, conn.Do("client", "info"), "addr")

	all, err := rdb.SlowLogGet(ctx, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var entries []redis.SlowLog // the probe connection's, not the client's handshake
	for _, e := range all {
		if e.ClientName == "probe" {
			entries = append(entries, e)
		}
	}
	// Newest first. As in Redis, EXEC is not logged but the commands it ran are (each with the
	// time of the whole transaction), and MULTI is.
	var got []string
	for _, e := range entries {
		got = append(got, strings.Join(e.Args, " "))
	}
	want := []string{
		"client info",
		"incr n",
		"multi",
		"auth (redacted) (redacted)",
		"rpush list " + strings.Join(many[2:31], " ") + " ... (11 more arguments)",
		"set big " + long[:128] + "... (72 more bytes)",
		"get k",
		"set k v",
		"slowlog reset",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("slow log args:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, e := range entries {
		if e.ClientAddr != addr || e.ClientName != "probe" {
			t.Fatalf("entry %d client = %q %q, want %q probe", i, e.ClientAddr, e.ClientName, addr)
		}
		if e.Time.Unix() < before || e.Time.Unix() > time.Now().Unix() {
			t.Fatalf("entry %d time %v outside the test", i, e.Time)
		}
		if e.Duration < 0 {
			t.Fatalf("entry %d duration %v", i, e.Duration)
		}
		if i > 0 && e.ID != entries[i-1].ID-1 {
			t.Fatalf("ids not consecutive: %d after %d", e.ID, entries[i-1].ID)
		}
	}
	if n := rdb.SlowLogLen(ctx).Val(); n != int64(len(all))+1 {
		t.Fatalf("SLOWLOG LEN = %d, want %d (the GET that read them was logged too)", n, len(all)+1)
	}
	if got := len(rdb.SlowLogGet(ctx, 0).Val()); got != 0 {
		t.Fatalf("SLOWLOG GET 0 = %d entries", got)
	}
	if got := len(rdb.Do(ctx, "slowlog", "get").Val().([]any)); got != 10 {
		t.Fatalf("SLOWLOG GET (default) = %d entries, want 10", got)
	}
	// RESET empties the log but ids go on.
	lastID := entries[0].ID
	conn.Do("slowlog", "reset")
	after := rdb.SlowLogGet(ctx, -1).Val()
	if len(after) != 1 || after[0].ID <= lastID {
		t.Fatalf("after RESET: %d entries, oldest id %d (last before %d)", len(after), after[len(after)-1].ID, lastID)
	}
}

// clientField returns a field of a CLIENT INFO reply.
func clientField(t *testing.T, reply, name string) string {
	t.Helper()
	for _, f := range strings.Fields(bulkText(reply)) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s in %q", name, reply)
	return ""
}

// TestSlowlogConfig checks the threshold (-1 disables, a high one logs nothing) and the
// maximum length.
func TestSlowlogConfig(t *testing.T) {
	srv := servertest.Start(t, "--slowlog-log-slower-than", "-1")
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	rdb.Set(ctx, "k", "v", 0)
	if n := rdb.SlowLogLen(ctx).Val(); n != 0 {
		t.Fatalf("disabled: SLOWLOG LEN = %d", n)
	}
	rdb.ConfigSet(ctx, "slowlog-log-slower-than", "10000000")
	rdb.Set(ctx, "k", "v", 0)
	if n := rdb.SlowLogLen(ctx).Val(); n != 0 {
		t.Fatalf("10 s threshold: SLOWLOG LEN = %d", n)
	}
	rdb.ConfigSet(ctx, "slowlog-max-len", "3")
	rdb.ConfigSet(ctx, "slowlog-log-slower-than", "0")
	for i := 0; i < 10; i++ {
		rdb.Set(ctx, "k"+strconv.Itoa(i), "v", 0)
	}
	es := rdb.SlowLogGet(ctx, -1).Val()
	if len(es) != 3 || strings.Join(es[0].Args, " ") != "set k9 v" {
		t.Fatalf("max-len 3: %d entries, newest %v", len(es), es)
	}
	// Write commands are timed through apply; a blocking command that waited is not logged.
	rdb.ConfigSet(ctx, "slowlog-max-len", "128")
	rdb.SlowLogReset(ctx)
	rdb.BLPop(ctx, time.Second, "nolist")
	for _, e := range rdb.SlowLogGet(ctx, -1).Val() {
		if e.Args[0] == "blpop" {
			t.Fatalf("BLPOP that waited was logged: %v", e)
		}
	}
}

func TestSlowlogRESP3(t *testing.T) {
	srv := servertest.Start(t, "--slowlog-log-slower-than", "0")
	conn := srv.Dial()
	conn.Do("hello", "3")
	conn.Do("slowlog", "reset")
	conn.Do("ping")
	reply := conn.Do("slowlog", "get", "1")
	if !strings.HasPrefix(reply, "*1\r\n*6\r\n:") || !strings.Contains(reply, "*1\r\n$4\r\nping\r\n") {
		t.Fatalf("SLOWLOG GET 1 in RESP3 = %q", reply)
	}
}
