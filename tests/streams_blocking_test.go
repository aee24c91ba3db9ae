package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Blocking stream reads: XREAD BLOCK and XREADGROUP BLOCK served by XADD, timeouts, "$"
// semantics, and the waiters of XREADGROUP answered NOGROUP or WRONGTYPE when their stream goes.

func TestStreamsBlockingXRead(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a, b := srv.Dial(), srv.Dial()
	admin.Do("XADD", "s", "1-0", "f", "v")
	// "$" is the last ID when the command blocks: entries added later are served, and one
	// added while the waiter is blocked is not missed when another key wakes it.
	send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "t", "$", "$")
	waitBlocked(t, admin, 1)
	send(b, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "0")
	if got := b.ReadReply(); got != xread2("s", xentry("1-0", "f", "v")) {
		t.Fatalf("XREAD from 0 = %q", got)
	}
	runScript(t, admin, []step{{cmd("XADD", "t", "1-5", "g", "w"), bulk("1-5")}})
	if got := a.ReadReply(); got != xread2("t", xentry("1-5", "g", "w")) {
		t.Fatalf("XREAD $ = %q", got)
	}
	// Both readers of a key are served by one XADD.
	send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	send(b, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	waitBlocked(t, admin, 2)
	admin.Do("XADD", "s", "2-0", "f", "w")
	for _, c := range []*servertest.Conn{a, b} {
		if got := c.ReadReply(); got != xread2("s", xentry("2-0", "f", "w")) {
			t.Fatalf("XREAD = %q", got)
		}
	}
	waitBlocked(t, admin, 0)
}

func TestStreamsBlockingDollarSurvivesOtherWrites(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a := srv.Dial()
	admin.Do("XADD", "s", "5-0", "f", "v")
	send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	waitBlocked(t, admin, 1)
	// The key is deleted (the waiter stays: a stream reader ignores other types and deletions)
	// and recreated with a smaller ID: only entries after the resolved "$" (5-0) serve it.
	admin.Do("DEL", "s")
	admin.Do("SET", "s", "x")
	admin.Do("DEL", "s")
	admin.Do("XADD", "s", "3-0", "f", "old")
	admin.Do("XADD", "s", "6-0", "f", "new")
	if got := a.ReadReply(); got != xread2("s", xentry("6-0", "f", "new")) {
		t.Fatalf("XREAD $ = %q", got)
	}
}

func TestStreamsBlockingTimeout(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	for _, args := range [][]string{
		cmd("XREAD", "BLOCK", "100", "STREAMS", "s", "$"),
		cmd("XREAD", "BLOCK", "100", "STREAMS", "s", "0"),
	} {
		start := time.Now()
		if got := c.Do(args...); got != "*-1\r\n" {
			t.Fatalf("%v = %q", args, got)
		}
		if d := time.Since(start); d < 90*time.Millisecond {
			t.Fatalf("%v returned after %v", args, d)
		}
	}
	c.Do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	start := time.Now()
	if got := c.Do("XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", "s", ">"); got != "*-1\r\n" {
		t.Fatalf("XREADGROUP timeout = %q", got)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("XREADGROUP returned after %v", d)
	}
	// Blocking does not apply to history reads: they answer at once.
	if got := c.Do("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0"); got != xread2("s") {
		t.Fatalf("XREADGROUP history = %q", got)
	}
	// Inside MULTI nothing blocks.
	c.Do("MULTI")
	c.Do("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	if got := c.Do("EXEC"); got != "*1\r\n*-1\r\n" {
		t.Fatalf("EXEC = %q", got)
	}
}

func TestStreamsBlockingReadGroup(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a, b, r := srv.Dial(), srv.Dial(), srv.Dial()
	admin.Do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	send(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
	waitBlocked(t, admin, 1)
	send(b, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">")
	waitBlocked(t, admin, 2)
	send(r, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	waitBlocked(t, admin, 3)
	// One entry: the first group waiter gets it; the plain reader gets it too.
	admin.Do("XADD", "s", "1-0", "f", "v")
	if got := a.ReadReply(); got != xread2("s", xentry("1-0", "f", "v")) {
		t.Fatalf("alice = %q", got)
	}
	if got := r.ReadReply(); got != xread2("s", xentry("1-0", "f", "v")) {
		t.Fatalf("reader = %q", got)
	}
	waitBlocked(t, admin, 1)
	// The consumer was created when it blocked.
	if got := admin.Do("XINFO", "CONSUMERS", "s", "g"); !strings.Contains(got, "bob") {
		t.Fatalf("XINFO CONSUMERS = %q", got)
	}
	admin.Do("XADD", "s", "2-0", "f", "w")
	if got := b.ReadReply(); got != xread2("s", xentry("2-0", "f", "w")) {
		t.Fatalf("bob = %q", got)
	}
	runScript(t, admin, []step{{cmd("XPENDING", "s", "g"), array(integer(2), bulk("1-0"), bulk("2-0"),
		array(array(bulk("alice"), bulk("1")), array(bulk("bob"), bulk("1"))))}})
}

func TestStreamsBlockingReadGroupErrors(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a := srv.Dial()
	for _, tc := range []struct {
		kill []string
		want string
	}{
		{cmd("XGROUP", "DESTROY", "s", "g"), "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"},
		{cmd("DEL", "s"), "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"},
		{cmd("SET", "s", "x"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	} {
		admin.Do("DEL", "s")
		admin.Do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		waitBlocked(t, admin, 1)
		admin.Do(tc.kill...)
		if got := a.ReadReply(); got != tc.want {
			t.Fatalf("after %v: %q, want %q", tc.kill, got, tc.want)
		}
		waitBlocked(t, admin, 0)
	}
}
