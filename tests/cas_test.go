package tests

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestDigestAndDelex(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	c := srv.Dial()
	rdb.Set(ctx, "k", "Hello world", 0)
	if got := c.Do("DIGEST", "k"); got != "$16\r\nb6acb9d84a38ff74\r\n" {
		t.Fatalf("DIGEST = %q", got)
	}
	if got := c.Do("DIGEST", "missing"); got != "$-1\r\n" {
		t.Fatalf("DIGEST missing = %q", got)
	}
	d, err := rdb.Digest(ctx, "k").Result()
	if err != nil || fmt.Sprintf("%016x", d) != "b6acb9d84a38ff74" {
		t.Fatalf("go-redis Digest = %x, %v", d, err)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"DELEX", "missing"}, ":0\r\n"},
		{[]string{"DELEX", "k", "IFEQ", "nope"}, ":0\r\n"},
		{[]string{"DELEX", "k", "IFNE", "Hello world"}, ":0\r\n"},
		{[]string{"DELEX", "k", "IFDEQ", "0000000000000000"}, ":0\r\n"},
		{[]string{"DELEX", "k", "IFDNE", "B6ACB9D84A38FF74"}, ":0\r\n"}, // hex digits in either case
		{[]string{"DELEX", "k", "IFDEQ", "123"}, "-ERR The digest must be exactly 16 hexadecimal characters\r\n"},
		{[]string{"DELEX", "k", "IFXX", "v"}, "-ERR syntax error\r\n"},
		{[]string{"DELEX", "k", "IFEQ"}, "-ERR syntax error\r\n"},
		{[]string{"EXISTS", "k"}, ":1\r\n"},
		{[]string{"DELEX", "k", "IFDEQ", "b6acb9d84a38ff74"}, ":1\r\n"},
		{[]string{"EXISTS", "k"}, ":0\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"DELEX", "k", "IFEQ", "v"}, ":1\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"DELEX", "k"}, ":1\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"DELIFEQ", "k", "w"}, ":0\r\n"},
		{[]string{"DELIFEQ", "k", "v"}, ":1\r\n"},
		{[]string{"DELIFEQ", "k", "v"}, ":0\r\n"},
		{[]string{"DIGEST"}, "-ERR wrong number of arguments for 'digest' command\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	n, err := rdb.DelExArgs(ctx, "nokey", redis.DelExArgs{Mode: "IFEQ", MatchValue: "x"}).Result()
	if err != nil || n != 0 {
		t.Fatalf("DelExArgs on a missing key = %d, %v", n, err)
	}
}

func TestSetConditions(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	c := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		// A missing key equals nothing: IFEQ/IFDEQ do not create it, IFNE/IFDNE do.
		{[]string{"SET", "k", "v1", "IFEQ", "x"}, "$-1\r\n"},
		{[]string{"SET", "k", "v1", "IFDEQ", "0000000000000000"}, "$-1\r\n"},
		{[]string{"EXISTS", "k"}, ":0\r\n"},
		{[]string{"SET", "k", "v1", "IFNE", "x"}, "+OK\r\n"},
		{[]string{"SET", "k", "v2", "IFEQ", "wrong"}, "$-1\r\n"},
		{[]string{"SET", "k", "v2", "IFEQ", "v1"}, "+OK\r\n"},
		{[]string{"SET", "k", "v3", "IFNE", "v2"}, "$-1\r\n"},
		{[]string{"SET", "k", "v3", "IFNE", "zz", "GET"}, "$2\r\nv2\r\n"},
		{[]string{"SET", "k", "v4", "IFEQ", "nope", "GET"}, "$2\r\nv3\r\n"}, // GET returns the old value either way
		{[]string{"GET", "k"}, "$2\r\nv3\r\n"},
		{[]string{"SET", "k", "v5", "EX", "100", "IFEQ", "v3"}, "+OK\r\n"}, // go-redis puts the condition last
		{[]string{"TTL", "k"}, ":100\r\n"},
		{[]string{"SET", "k", "v", "IFEQ", "a", "NX"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "v", "XX", "IFNE", "a"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "v", "IFEQ", "a", "IFNE", "b"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "v", "IFEQ"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "v", "IFDEQ", "xyz"}, "-ERR The digest must be exactly 16 hexadecimal characters\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	// Optimistic update through the digest, as go-redis exposes it.
	rdb.Set(ctx, "doc", "draft", 0)
	d := rdb.Digest(ctx, "doc").Val()
	if err := rdb.SetIFDEQ(ctx, "doc", "final", d, 0).Err(); err != nil {
		t.Fatalf("SetIFDEQ with the current digest: %v", err)
	}
	if err := rdb.SetIFDEQ(ctx, "doc", "stale", d, 0).Err(); err != redis.Nil {
		t.Fatalf("SetIFDEQ with an old digest = %v, want redis.Nil", err)
	}
	if got := rdb.Get(ctx, "doc").Val(); got != "final" {
		t.Fatalf("doc = %q, want final", got)
	}
	if err := rdb.SetIFEQ(ctx, "doc", "v2", "final", 0).Err(); err != nil {
		t.Fatalf("SetIFEQ: %v", err)
	}
}
