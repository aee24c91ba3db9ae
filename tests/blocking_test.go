package tests

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// A waiter is not woken when its key turns into another type: it keeps waiting, as in Redis,
// and is served once the key holds a list again.
func TestBlockedClientIgnoresOtherTypes(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	waiter := srv.Dial()
	send(waiter, "BLPOP", "k", "0")
	waitBlocked(t, srv.Dial(), 1)
	rdb.Set(ctx, "k", "a string", 0)
	rdb.Del(ctx, "k")
	rdb.ZAdd(ctx, "k")
	if info := srv.Dial().Do("INFO", "clients"); !strings.Contains(info, "blocked_clients:1\r\n") {
		t.Fatalf("the waiter was woken by a key of another type:\n%s", info)
	}
	rdb.RPush(ctx, "k", "v")
	if got := waiter.ReadReply(); got != "*2\r\n$1\r\nk\r\n$1\r\nv\r\n" {
		t.Fatalf("BLPOP = %q", got)
	}
}

// CLIENT UNBLOCK ends a wait with the timeout reply or an error, and reports whether the client
// was blocked.
func TestClientUnblock(t *testing.T) {
	srv := servertest.Start(t)
	ctl := srv.Dial()
	for _, mode := range []struct{ arg, want string }{
		{"TIMEOUT", "*-1\r\n"},
		{"ERROR", "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"},
	} {
		waiter := srv.Dial()
		id := strings.TrimSuffix(strings.TrimPrefix(waiter.Do("CLIENT", "ID"), ":"), "\r\n")
		send(waiter, "BRPOP", "none", "0")
		waitBlocked(t, srv.Dial(), 1)
		if got := ctl.Do("CLIENT", "UNBLOCK", id, mode.arg); got != ":1\r\n" {
			t.Fatalf("CLIENT UNBLOCK %s = %q", mode.arg, got)
		}
		if got := waiter.ReadReply(); got != mode.want {
			t.Fatalf("reply after CLIENT UNBLOCK %s = %q, want %q", mode.arg, got, mode.want)
		}
		if got := ctl.Do("CLIENT", "UNBLOCK", id); got != ":0\r\n" {
			t.Fatalf("CLIENT UNBLOCK of a client not blocked = %q, want 0", got)
		}
	}
	if got := ctl.Do("CLIENT", "UNBLOCK", "1", "BOGUS"); got != "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n" {
		t.Fatalf("CLIENT UNBLOCK with a bad reason = %q", got)
	}
}

// A client that disconnects while blocked is no longer a waiter: a later push stays in the list.
func TestBlockedClientDisconnects(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	waiter := srv.Dial()
	send(waiter, "BLPOP", "q", "0")
	waitBlocked(t, srv.Dial(), 1)
	waiter.Close()
	waitBlocked(t, srv.Dial(), 0)
	rdb := srv.Client()
	rdb.RPush(ctx, "q", "kept")
	if got := rdb.LRange(ctx, "q", 0, -1).Val(); len(got) != 1 || got[0] != "kept" {
		t.Fatalf("list after the waiter left = %v, want [kept]", got)
	}
}
