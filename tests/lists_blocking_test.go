package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// waitBlocked waits until the server reports n blocked clients.
func waitBlocked(t *testing.T, c *servertest.Conn, n int) {
	t.Helper()
	want := "blocked_clients:" + strconv.Itoa(n) + "\r\n"
	waitFor(t, want, func() bool { return strings.Contains(c.Do("INFO", "clients"), want) })
}

// send writes a command without reading its reply.
func send(c *servertest.Conn, args ...string) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	c.Send(b.String())
}

func TestListsBlockingPop(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a, b := srv.Dial(), srv.Dial()
	send(a, "BLPOP", "q1", "q2", "0")
	waitBlocked(t, admin, 1)
	send(b, "BRPOP", "q2", "0")
	waitBlocked(t, admin, 2)
	// Waiters on a key are served oldest first; the push replies with the length it made.
	runScript(t, admin, []step{{cmd("RPUSH", "q2", "x", "y", "z"), integer(3)}})
	if got := a.ReadReply(); got != array(bulk("q2"), bulk("x")) {
		t.Fatalf("BLPOP = %q", got)
	}
	if got := b.ReadReply(); got != array(bulk("q2"), bulk("z")) {
		t.Fatalf("BRPOP = %q", got)
	}
	runScript(t, admin, []step{
		{cmd("LRANGE", "q2", "0", "-1"), bulks("y")},
		// With data present nothing blocks; the first key holding a list is used.
		{cmd("RPUSH", "q3", "w"), integer(1)},
		{cmd("BLPOP", "q1", "q3", "q2", "0"), array(bulk("q3"), bulk("w"))},
		{cmd("EXISTS", "q3"), integer(0)},
	})
	waitBlocked(t, admin, 0)
}

func TestListsBlockingTimeout(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{cmd("BLPOP", "k", "0.1"), nullArray},
		{cmd("BRPOP", "k", "j", "0.1"), nullArray},
		{cmd("BLMPOP", "0.1", "2", "k", "j", "LEFT"), nullArray},
		// Redis answers a timed-out BLMOVE with a null array too, not a null bulk.
		{cmd("BLMOVE", "k", "d", "LEFT", "LEFT", "0.1"), nullArray},
		{cmd("BRPOPLPUSH", "k", "d", "0.1"), nullArray},
	} {
		start := time.Now()
		if got := c.Do(tt.args...); got != tt.want {
			t.Fatalf("%v = %q, want %q", tt.args, got, tt.want)
		}
		if d := time.Since(start); d < 90*time.Millisecond {
			t.Fatalf("%v returned after %v, before its 100 ms timeout", tt.args, d)
		}
	}
	c.Do("HELLO", "3")
	runScript(t, c, []step{
		{cmd("BLPOP", "k", "0.05"), null3},
		{cmd("BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"), null3},
	})
	runScript(t, c, []step{{cmd("EXISTS", "d"), integer(0)}})
}

func TestListsBlockingMove(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a, b := srv.Dial(), srv.Dial()
	send(a, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
	waitBlocked(t, admin, 1)
	// A waiter on dst is served by the element BLMOVE pushes there.
	send(b, "BRPOPLPUSH", "dst", "last", "0")
	waitBlocked(t, admin, 2)
	runScript(t, admin, []step{{cmd("LPUSH", "src", "e1", "e2"), integer(2)}})
	if got := a.ReadReply(); got != bulk("e1") {
		t.Fatalf("BLMOVE = %q", got)
	}
	if got := b.ReadReply(); got != bulk("e1") {
		t.Fatalf("BRPOPLPUSH = %q", got)
	}
	runScript(t, admin, []step{
		{cmd("LRANGE", "src", "0", "-1"), bulks("e2")},
		{cmd("EXISTS", "dst"), integer(0)},
		{cmd("LRANGE", "last", "0", "-1"), bulks("e1")},
		// Data present: BLMOVE moves at once, also onto its own source.
		{cmd("BLMOVE", "src", "src", "LEFT", "RIGHT", "0"), bulk("e2")},
		{cmd("BRPOPLPUSH", "src", "last", "0"), bulk("e2")},
		{cmd("LRANGE", "last", "0", "-1"), bulks("e2", "e1")},
	})
}

func TestListsBlockingMPop(t *testing.T) {
	srv := servertest.Start(t)
	admin := srv.Dial()
	a, b := srv.Dial(), srv.Dial()
	send(a, "BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2")
	waitBlocked(t, admin, 1)
	send(b, "BLMPOP", "0", "1", "y", "LEFT", "COUNT", "5")
	waitBlocked(t, admin, 2)
	runScript(t, admin, []step{{cmd("RPUSH", "y", "1", "2", "3"), integer(3)}})
	if got, want := a.ReadReply(), array(bulk("y"), bulks("3", "2")); got != want {
		t.Fatalf("first BLMPOP = %q, want %q", got, want)
	}
	if got, want := b.ReadReply(), array(bulk("y"), bulks("1")); got != want {
		t.Fatalf("second BLMPOP = %q, want %q", got, want)
	}
	runScript(t, admin, []step{{cmd("EXISTS", "y"), integer(0)}})
}

// TestListsBlockingInMulti: inside MULTI a blocking command answers at once as if it had timed
// out (a null bulk for BLMOVE and BRPOPLPUSH), and serves when there is data.
func TestListsBlockingInMulti(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("MULTI"), ok},
		{cmd("BLPOP", "k", "0"), "+QUEUED\r\n"},
		{cmd("BLMOVE", "k", "d", "LEFT", "LEFT", "0"), "+QUEUED\r\n"},
		{cmd("BRPOPLPUSH", "k", "d", "0"), "+QUEUED\r\n"},
		{cmd("BLMPOP", "0", "1", "k", "LEFT"), "+QUEUED\r\n"},
		{cmd("RPUSH", "k", "a"), "+QUEUED\r\n"},
		{cmd("BRPOP", "k", "0"), "+QUEUED\r\n"},
		{cmd("EXEC"), array(nullArray, nilBulk, nilBulk, nullArray, integer(1), array(bulk("k"), bulk("a")))},
	})
}

// TestListsBlockingGoRedis: go-redis's blocking list calls work.
func TestListsBlockingGoRedis(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	done := make(chan []string, 1)
	go func() {
		v, _ := srv.Client().BLPop(ctx, 0, "gq").Result()
		done <- v
	}()
	waitBlocked(t, srv.Dial(), 1)
	if err := rdb.RPush(ctx, "gq", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-done:
		if len(v) != 2 || v[0] != "gq" || v[1] != "hello" {
			t.Fatalf("BLPop = %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("BLPop not served within 10s")
	}
	if key, v, err := rdb.BLMPop(ctx, 50*time.Millisecond, "left", 3, "none").Result(); err != redis.Nil {
		t.Fatalf("BLMPop on nothing = %q %v, %v; want redis.Nil", key, v, err)
	}
}
