package tests

import (
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// startRedis starts the real redis-server installed on the machine, for comparing replies, or
// skips the test when there is none.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	port := servertest.FreePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	ctx := servertest.Ctx(t)
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return rdb
}

// TestCommandInfoMatchesRedis checks that go-redis, which routes cluster commands by COMMAND,
// parses cairn's reply into the same CommandInfo it gets from Redis. The installed server is 7.0;
// for the few sampled commands whose flags or response policy changed in 7.2 (cairn follows
// 7.2 and later), flags and policy are left out of the comparison.
func TestCommandInfoMatchesRedis(t *testing.T) {
	real := startRedis(t)
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	want, err := real.Command(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		rdb := srv.Client(func(o *redis.Options) { o.Protocol = proto })
		got, err := rdb.Command(ctx).Result()
		if err != nil {
			t.Fatalf("RESP%d: COMMAND: %v", proto, err)
		}
		for _, name := range []string{"get", "set", "mget", "mset", "del", "incr", "append", "getrange",
			"zunionstore", "zadd", "zrange", "eval", "evalsha", "xread", "xadd", "ping", "echo", "hset",
			"hgetall", "lpush", "blpop", "lmove", "sort", "config", "client", "expire", "exists",
			"sinterstore", "bitop", "object", "multi", "exec", "watch", "select", "auth", "dbsize",
			"keys", "scan", "flushall", "rename", "copy", "pfcount", "georadius", "subscribe", "publish"} {
			w, g := want[name], got[name]
			if w == nil {
				t.Fatalf("redis has no %q", name)
			}
			if g == nil {
				t.Errorf("RESP%d: cairn's COMMAND has no %q", proto, name)
				continue
			}
			if changedAfter70[name] {
				gc, wc := *g, *w
				gc.Flags, wc.Flags, gc.CommandPolicy, wc.CommandPolicy = nil, nil, nil, nil
				g, w = &gc, &wc
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("RESP%d: CommandInfo %s = %+v (policy %+v), want %+v (policy %+v)", proto, name, *g, g.CommandPolicy, *w, w.CommandPolicy)
			}
		}
	}
}

// changedAfter70 are commands whose flags or tips Redis changed after 7.0: may_replicate on
// EVAL, EVALSHA, PFCOUNT and PUBLISH, no_multi on MULTI and WATCH, noscript dropped from BLPOP,
// SCAN's response policy.
var changedAfter70 = map[string]bool{"eval": true, "evalsha": true, "pfcount": true, "publish": true,
	"multi": true, "watch": true, "blpop": true, "scan": true}

func TestCommandCountAndList(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	count, err := rdb.Do(ctx, "COMMAND", "COUNT").Int()
	if err != nil {
		t.Fatal(err)
	}
	all, err := rdb.Command(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if count != len(all) {
		t.Fatalf("COMMAND COUNT = %d, COMMAND lists %d", count, len(all))
	}
	if count < 200 {
		t.Fatalf("COMMAND COUNT = %d, want the whole table", count)
	}
	names, err := rdb.Do(ctx, "COMMAND", "LIST").StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	for _, n := range []string{"get", "config|get", "client|list", "command|getkeys"} {
		if !has[n] {
			t.Errorf("COMMAND LIST lacks %q", n)
		}
	}
	if has["__expire"] {
		t.Errorf("COMMAND LIST shows an internal operation")
	}
	tests := []struct {
		args []any
		want []string
	}{
		{[]any{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "hyperloglog"}, []string{"pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest"}},
		{[]any{"COMMAND", "LIST", "FILTERBY", "PATTERN", "xa*"}, []string{"xack", "xackdel", "xadd", "xautoclaim"}},
		{[]any{"COMMAND", "LIST", "FILTERBY", "PATTERN", "config|g*"}, []string{"config|get"}},
		{[]any{"COMMAND", "LIST", "FILTERBY", "MODULE", "search"}, nil},
		{[]any{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"}, nil},
	}
	for _, tc := range tests {
		got, err := rdb.Do(ctx, tc.args...).StringSlice()
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		sort.Strings(got)
		if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%v = %v, want %v", tc.args, got, tc.want)
		}
	}
	c := srv.Dial()
	for _, tc := range []struct{ args []string }{
		{[]string{"COMMAND", "LIST", "FILTERBY"}},
		{[]string{"COMMAND", "LIST", "FILTERBY", "BAD", "x"}},
		{[]string{"COMMAND", "LIST", "x"}},
	} {
		if got := c.Do(tc.args...); got != "-ERR syntax error\r\n" {
			t.Errorf("%v = %q, want syntax error", tc.args, got)
		}
	}
}

func TestCommandGetKeys(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"get", "a"}, "*1\r\n$1\r\na\r\n"},
		{[]string{"mset", "a", "1", "b", "2"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"eval", "return 1", "2", "k1", "k2", "arg"}, "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n"},
		{[]string{"eval", "return 1", "0"}, "*0\r\n"},
		{[]string{"fcall", "f", "1", "k"}, "*1\r\n$1\r\nk\r\n"},
		{[]string{"sort", "a", "BY", "w*", "LIMIT", "0", "1", "GET", "#", "STORE", "dst"}, "*2\r\n$1\r\na\r\n$3\r\ndst\r\n"},
		{[]string{"sort", "a", "STORE", "x", "STORE", "y"}, "*2\r\n$1\r\na\r\n$1\r\ny\r\n"},
		{[]string{"sort_ro", "a", "BY", "w*"}, "*1\r\n$1\r\na\r\n"},
		{[]string{"xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}, "*2\r\n$2\r\ns1\r\n$2\r\ns2\r\n"},
		{[]string{"xreadgroup", "GROUP", "g", "c", "STREAMS", "s1", ">"}, "*1\r\n$2\r\ns1\r\n"},
		{[]string{"migrate", "h", "6379", "k", "0", "5"}, "*1\r\n$1\r\nk\r\n"},
		{[]string{"migrate", "h", "6379", "", "0", "5", "AUTH", "pw", "KEYS", "a", "b"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"lmpop", "2", "a", "b", "LEFT"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"georadius", "g", "0", "0", "1", "km", "STORE", "dst"}, "*2\r\n$1\r\ng\r\n$3\r\ndst\r\n"},
		{[]string{"object", "encoding", "k"}, "*1\r\n$1\r\nk\r\n"},
		{[]string{"lmove", "a", "b", "left", "right"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		// Errors, as Redis words them.
		{[]string{"zunionstore", "d", "0", "a"}, "-ERR Invalid arguments specified for command\r\n"},
		{[]string{"zunionstore", "d", "5", "a"}, "-ERR Invalid arguments specified for command\r\n"},
		{[]string{"nosuch", "a"}, "-ERR Invalid command specified\r\n"},
		{[]string{"config", "nosuch", "a"}, "-ERR Invalid command specified\r\n"},
		{[]string{"ping", "x"}, "-ERR The command has no key arguments\r\n"},
		{[]string{"config", "get", "x"}, "-ERR The command has no key arguments\r\n"},
		{[]string{"get", "a", "b"}, "-ERR Invalid number of arguments specified for command\r\n"},
	}
	for _, tc := range tests {
		args := append([]string{"COMMAND", "GETKEYS"}, tc.args...)
		if got := c.Do(args...); got != tc.want {
			t.Errorf("COMMAND GETKEYS %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := c.Do("COMMAND", "GETKEYS"); got != "-ERR wrong number of arguments for 'command|getkeys' command\r\n" {
		t.Errorf("COMMAND GETKEYS = %q", got)
	}
	flagTests := []struct {
		args []string
		want string
	}{
		{[]string{"set", "a", "b"}, "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n"},
		{[]string{"set", "a", "b", "GET"}, "*1\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"},
		{[]string{"lmove", "a", "b", "left", "right"}, "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n*2\r\n+RW\r\n+insert\r\n"},
		{[]string{"bitfield", "k", "GET", "u8", "0"}, "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n"},
	}
	for _, tc := range flagTests {
		args := append([]string{"COMMAND", "GETKEYSANDFLAGS"}, tc.args...)
		if got := c.Do(args...); got != tc.want {
			t.Errorf("COMMAND GETKEYSANDFLAGS %v = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestCommandInfoShape(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	want2 := "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n" +
		"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n" +
		"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
	if got := c.Do("COMMAND", "INFO", "get"); got != want2 {
		t.Errorf("RESP2 COMMAND INFO get =\n%q\nwant\n%q", got, want2)
	}
	c.Do("HELLO", "3")
	want3 := "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n" +
		"~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n" +
		"$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
	if got := c.Do("COMMAND", "INFO", "get"); got != want3 {
		t.Errorf("RESP3 COMMAND INFO get =\n%q\nwant\n%q", got, want3)
	}
	if got := c.Do("COMMAND", "INFO", "nosuch"); got != "*1\r\n_\r\n" {
		t.Errorf("RESP3 COMMAND INFO nosuch = %q", got)
	}
	got := c.Do("COMMAND", "INFO", "config|get")
	if !strings.HasPrefix(got, "*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n") {
		t.Errorf("COMMAND INFO config|get = %q", got)
	}
	// A container lists its subcommands.
	got = c.Do("COMMAND", "INFO", "config")
	for _, sub := range []string{"config|get", "config|set", "config|resetstat", "config|rewrite", "config|help"} {
		if !strings.Contains(got, "$"+strconv.Itoa(len(sub))+"\r\n"+sub+"\r\n") {
			t.Errorf("COMMAND INFO config lacks %s", sub)
		}
	}
}

func TestCommandDocs(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client(servertest.RESP3)
	ctx := servertest.Ctx(t)
	v, err := rdb.Do(ctx, "COMMAND", "DOCS", "set", "nosuch", "config").Result()
	if err != nil {
		t.Fatal(err)
	}
	docs, ok := v.(map[any]any)
	if !ok {
		t.Fatalf("COMMAND DOCS = %T, want a map", v)
	}
	if len(docs) != 2 {
		t.Fatalf("COMMAND DOCS set nosuch config has %d entries, want 2", len(docs))
	}
	set := docs["set"].(map[any]any)
	if set["since"] != "1.0.0" || set["group"] != "string" {
		t.Errorf("DOCS set since/group = %v/%v", set["since"], set["group"])
	}
	if _, ok := set["summary"]; !ok {
		t.Errorf("DOCS set has no summary field")
	}
	args := set["arguments"].([]any)
	first := args[0].(map[any]any)
	if first["name"] != "key" || first["type"] != "key" || first["key_spec_index"] != int64(0) {
		t.Errorf("DOCS set first argument = %v", first)
	}
	var names []string
	for _, a := range args {
		names = append(names, a.(map[any]any)["name"].(string))
	}
	if strings.Join(names, " ") != "key value condition get expiration" {
		t.Errorf("DOCS set arguments = %v", names)
	}
	subs := docs["config"].(map[any]any)["subcommands"].(map[any]any)
	if _, ok := subs["config|get"]; !ok {
		t.Errorf("DOCS config subcommands = %v", subs)
	}
	// Deprecated commands say so.
	v, err = rdb.Do(ctx, "COMMAND", "DOCS", "getset").Result()
	if err != nil {
		t.Fatal(err)
	}
	gs := v.(map[any]any)["getset"].(map[any]any)
	if gs["deprecated_since"] != "6.2.0" {
		t.Errorf("DOCS getset deprecated_since = %v", gs["deprecated_since"])
	}
	// RESP2: a flat array of name, docs pairs.
	r2, err := srv.Client().Do(ctx, "COMMAND", "DOCS", "get").Slice()
	if err != nil {
		t.Fatal(err)
	}
	if len(r2) != 2 || r2[0] != "get" {
		t.Errorf("RESP2 COMMAND DOCS get = %v", r2)
	}
}
