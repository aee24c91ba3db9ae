package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Scripting on a single node: EVAL and EVALSHA, the replies and error texts of redis-server
// 7.0.15 (taken from it), the script cache, scripts in MULTI, function libraries (loaded,
// called, listed, dumped, restored, kept across a restart), and a long script answered BUSY
// for others and stopped by SCRIPT KILL.
func TestScripting(t *testing.T) {
	s := servertest.Start(t)
	c := s.Dial()
	ctx := servertest.Ctx(t)
	rc := s.Client()
	do := func(want string, args ...string) {
		t.Helper()
		if got := c.Do(args...); got != want {
			t.Errorf("%q:\n got %q\nwant %q", args, got, want)
		}
	}
	sha := "e0e1f9fabfc9d4800c877a703b823ac0578ff8db" // SHA1 of "return 1"
	do("+OK\r\n", "SET", "s", "x")
	do("$1\r\nx\r\n", "EVAL", "return redis.call('get', KEYS[1])", "1", "s")
	do(":1\r\n", "EVAL", "redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', 'n')", "1", "k", "v")
	do("$1\r\nv\r\n", "GET", "k")
	do("*2\r\n:1\r\n:2\r\n", "EVAL", "return {1,2,nil,3}", "0")
	do(":3\r\n", "EVAL", "return 3.99", "0")
	do("$-1\r\n", "EVAL", "return false", "0")
	do("+yo\r\n", "EVAL", "return {ok='yo'}", "0")
	do("-bad thing\r\n", "EVAL", "return {err='bad thing'}", "0")
	do("-ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.\r\n", "EVAL", "error('boom')", "0")
	do("-ERR user_script:1: Script attempted to access nonexistent global variable 'foo' script: 47e30a5d10d5694f99208f9adc4fe3bf2450edbd, on @user_script:1.\r\n", "EVAL", "return foo", "0")
	do("-ERR user_script:1: Attempt to modify a readonly table script: e1934c7d679df0a682fa283afb2bdeec6495d463, on @user_script:1.\r\n", "EVAL", "foo = 1", "0")
	do("-ERR value is not an integer or out of range script: c243b9f46db13ba8f69da41b45a77708832babed, on @user_script:1.\r\n", "EVAL", "return redis.call('incr','s')", "0")
	do("-ERR Write commands are not allowed from read-only scripts. script: ff967d0ae0e68b4f9e360fa91c54598bc25ad9b6, on @user_script:1.\r\n", "EVAL_RO", "return redis.call('set','a','b')", "0")
	do("-ERR This Redis command is not allowed from script script: 1e5046f3a9119d3dc9cf5824428b6d9fedd305d2, on @user_script:1.\r\n", "EVAL", "return redis.call('eval','return 1','0')", "0")
	do("-ERR Number of keys can't be negative\r\n", "EVAL", "return 1", "-1")
	do("-ERR Number of keys can't be greater than number of args\r\n", "EVAL", "return 1", "3", "a")
	do("-NOSCRIPT No matching script. Please use EVAL.\r\n", "EVALSHA", sha, "0")
	do("$40\r\n"+sha+"\r\n", "SCRIPT", "LOAD", "return 1")
	do(":1\r\n", "EVALSHA", sha, "0")
	do(":1\r\n", "EVALSHA", strings.ToUpper(sha), "0")
	do("*2\r\n:1\r\n:0\r\n", "SCRIPT", "EXISTS", sha, "ffffffffffffffffffffffffffffffffffffffff")
	do("+OK\r\n", "SCRIPT", "FLUSH")
	do("*1\r\n:0\r\n", "SCRIPT", "EXISTS", sha)
	do(":1\r\n", "EVAL", "return 1", "0") // EVAL caches the script, as in Redis
	do("*1\r\n:1\r\n", "SCRIPT", "EXISTS", sha)
	do("-NOTBUSY No scripts in execution right now.\r\n", "SCRIPT", "KILL")

	// In MULTI, as one transaction.
	do("+OK\r\n", "MULTI")
	do("+QUEUED\r\n", "EVAL", "return redis.call('incr', KEYS[1])", "1", "m")
	do("+QUEUED\r\n", "EVALSHA", sha, "0")
	do("*2\r\n:1\r\n:1\r\n", "EXEC")

	// RESP3.
	r3 := s.Dial()
	r3.Do("HELLO", "3")
	for _, tc := range [][2]string{
		{"redis.setresp(3); return redis.call('hgetall','nokey')", "%0\r\n"},
		{"return {double=3.5}", ",3.5\r\n"},
		{"return {map={a=1}}", "%1\r\n$1\r\na\r\n:1\r\n"},
		{"return false", "_\r\n"},
		{"redis.setresp(3); return false", "#f\r\n"},
	} {
		if got := r3.Do("EVAL", tc[0], "0"); got != tc[1] {
			t.Errorf("RESP3 %s: got %q, want %q", tc[0], got, tc[1])
		}
	}

	// go-redis's Script helper: EVALSHA, falling back to EVAL on NOSCRIPT.
	incrBy := redis.NewScript("return redis.call('incrby', KEYS[1], ARGV[1])")
	if n, err := incrBy.Run(ctx, rc, []string{"counter"}, 5).Int(); err != nil || n != 5 {
		t.Fatalf("Script.Run: %d, %v", n, err)
	}

	// Functions.
	lib := "#!lua name=mylib\n" +
		"redis.register_function('getit', function(keys, args) return redis.call('get', keys[1]) end)\n" +
		"redis.register_function{function_name='ro', callback=function(keys, args) error('boom') end, flags={'no-writes'}, description='desc'}\n" +
		"redis.register_function('setit', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n"
	do("$5\r\nmylib\r\n", "FUNCTION", "LOAD", lib)
	do("-ERR Library 'mylib' already exists\r\n", "FUNCTION", "LOAD", lib)
	do("$5\r\nmylib\r\n", "FUNCTION", "LOAD", "REPLACE", lib)
	do("-ERR Missing library metadata\r\n", "FUNCTION", "LOAD", "return 1")
	do("-ERR No functions registered\r\n", "FUNCTION", "LOAD", "#!lua name=x\nreturn 1")
	do("-ERR Function getit already exists\r\n", "FUNCTION", "LOAD", "#!lua name=x2\nredis.register_function('getit', function() return 1 end)")
	do("+OK\r\n", "FCALL", "setit", "1", "fk", "fv")
	do("$2\r\nfv\r\n", "FCALL", "getit", "1", "fk")
	do("-ERR Can not execute a script with write flag using *_ro command.\r\n", "FCALL_RO", "getit", "1", "fk")
	do("-ERR Can not execute a script with write flag using *_ro command.\r\n", "FCALL_RO", "setit", "1", "fk", "v")
	do("-ERR user_function:3: boom script: ro, on @user_function:3.\r\n", "FCALL", "ro", "0")
	do("-ERR Function not found\r\n", "FCALL", "nosuch", "0")
	list, err := rc.FunctionList(ctx, redis.FunctionListQuery{WithCode: true}).Result()
	if err != nil || len(list) != 1 || list[0].Name != "mylib" || len(list[0].Functions) != 3 || list[0].Code != lib {
		t.Fatalf("FUNCTION LIST: %+v, %v", list, err)
	}
	payload, err := rc.FunctionDump(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	do("+OK\r\n", "FUNCTION", "FLUSH")
	do("-ERR Function not found\r\n", "FCALL", "getit", "1", "fk")
	if err := rc.FunctionRestore(ctx, payload).Err(); err != nil {
		t.Fatalf("FUNCTION RESTORE: %v", err)
	}
	do("$2\r\nfv\r\n", "FCALL", "getit", "1", "fk")

	// Libraries are replicated state: they survive a restart.
	s.Restart()
	c = s.Dial()
	do("$2\r\nfv\r\n", "FCALL", "getit", "1", "fk")
	do("-NOSCRIPT No matching script. Please use EVAL.\r\n", "EVALSHA", sha, "0") // the script cache is not

	// A long script: others get BUSY past the threshold, SCRIPT KILL stops it.
	do("+OK\r\n", "CONFIG", "SET", "busy-reply-threshold", "100")
	loop := s.Dial()
	loop.Send("*3\r\n$4\r\nEVAL\r\n$17\r\nwhile 1 do end   \r\n$1\r\n0\r\n")
	other := s.Dial()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := other.Do("GET", "s")
		if strings.HasPrefix(got, "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no BUSY reply while a script loops: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	do("+OK\r\n", "SCRIPT", "KILL")
	if got := loop.ReadReply(); !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL...") {
		t.Fatalf("the killed script answered %q", got)
	}
	do("$1\r\nx\r\n", "GET", "s")
	if got := other.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("after the kill: %q", got)
	}
}

// Scripting in a three-node cluster: the declared keys must share a slot, a script's writes
// reach every replica of its shard, and functions loaded on every master run wherever the
// key lives; BullMQ and redis-py's Lock run on it (scripting_apps_test.go).
func TestScriptingCluster(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	cc := c.Client()
	ctx := servertest.Ctx(t)
	res, err := cc.Eval(ctx, "redis.call('set', KEYS[1], ARGV[1]); redis.call('rpush', KEYS[2], ARGV[1]); return redis.call('llen', KEYS[2])",
		[]string{"{user1}:name", "{user1}:log"}, "ann").Int()
	if err != nil || res != 1 {
		t.Fatalf("EVAL with two keys of one slot: %d, %v", res, err)
	}
	if err := cc.Eval(ctx, "return 1", []string{"a", "b"}).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("EVAL with keys of two slots: %v", err)
	}
	// An undeclared key of the same shard works; one of another shard is refused.
	leader := c.LeaderOf("{user1}")
	direct := leader.Dial()
	if got := direct.Do("EVAL", "return redis.call('set', KEYS[1] .. ':x', '1')", "1", "{user1}"); got != "+OK\r\n" {
		t.Fatalf("undeclared key of the same slot: %q", got)
	}
	var other string
	for i := 0; i < 1000 && other == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		if c.LeaderOf(k) != leader {
			other = k
		}
	}
	if got := direct.Do("EVAL", "return redis.call('set', ARGV[1], '1')", "1", "{user1}", other); !strings.Contains(got, "Script attempted to access a non local key in a cluster node script") {
		t.Fatalf("undeclared key of another shard: %q", got)
	}
	// Every replica holds the script's writes.
	for _, n := range c.Nodes {
		conn := n.Dial()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := conn.Do("CONSISTENCY", "eventual", "GET", "{user1}:name")
			if got == "$3\r\nann\r\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s has %q for the script's write", n.Addr, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Functions, loaded through every master as Redis Cluster clients do.
	lib := "#!lua name=counters\nredis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)"
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.FunctionLoadReplace(ctx, lib).Err()
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("counter%d", i)
		if n, err := cc.FCall(ctx, "bump", []string{k}, 3).Int(); err != nil || n != 3 {
			t.Fatalf("FCALL bump %s: %d, %v", k, n, err)
		}
	}
	runScriptApps(t, c.Nodes[0].Addr, true)
}
