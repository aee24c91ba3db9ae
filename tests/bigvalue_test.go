package tests

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// A big argument is read into one buffer of its declared size (bench/pressure measures the
// memory); requests around it, arguments after it and several big arguments in one request,
// all sent in pieces, are parsed as usual.
func TestBigValueRequest(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "everysec")
	const size = 2 << 20
	val := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	c := srv.Dial()
	var req bytes.Buffer
	req.WriteString("*1\r\n$4\r\nPING\r\n")
	fmt.Fprintf(&req, "*5\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n", size)
	req.Write(val)
	req.WriteString("\r\n$2\r\nEX\r\n$4\r\n1000\r\n")
	req.WriteString("*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n")
	// In pieces, as a slow client sends them.
	for b := req.Bytes(); len(b) > 0; {
		n := min(len(b), 1<<20+7)
		c.Send(string(b[:n]))
		b = b[n:]
	}
	for _, want := range []string{"+PONG\r\n", "+OK\r\n", fmt.Sprintf(":%d\r\n", size)} {
		if got := c.ReadReply(); got != want {
			t.Fatalf("reply %q, want %q", got, want)
		}
	}
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	if got, err := rc.Get(ctx, "big").Result(); err != nil || got != string(val) {
		t.Fatalf("GET big: %d bytes, %v", len(got), err)
	}
	if ttl, _ := rc.TTL(ctx, "big").Result(); ttl <= 0 {
		t.Errorf("TTL big = %v: the arguments after the value were lost", ttl)
	}
	// Two big arguments in one request.
	a, b := strings.Repeat("a", 3<<19), strings.Repeat("b", 5<<18)
	if err := rc.MSet(ctx, "a", a, "b", b).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := rc.MGet(ctx, "a", "b").Result(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Error("MSET of two big values did not store them")
	}
}

// A value of several MB is stored in chunks (keyspace/chunks.go). Everything that reads a
// string sees the same bytes as with an inline value: GET, GETRANGE across chunk boundaries,
// STRLEN, APPEND, SETRANGE, DUMP and RESTORE, COPY, RENAME, GETDEL, and the value survives a
// restart and a kill -9.
func TestBigValueChunked(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "always")
	ctx := servertest.Ctx(t)
	rc := srv.Client()
	const size = 5<<20 + 12345
	val := make([]byte, size)
	for i := range val {
		val[i] = byte(i*7 + i>>18)
	}
	want := string(val)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(what, key, want string) {
		t.Helper()
		got, err := rc.Get(ctx, key).Result()
		if err != nil || got != want {
			t.Fatalf("%s: GET %s: %d bytes (err %v), want %d bytes", what, key, len(got), err, len(want))
		}
	}
	must(rc.Set(ctx, "big", val, 0).Err())
	check("after SET", "big", want)
	if n, _ := rc.StrLen(ctx, "big").Result(); n != size {
		t.Fatalf("STRLEN = %d, want %d", n, size)
	}
	for _, r := range [][2]int64{{0, 10}, {256<<10 - 3, 256<<10 + 3}, {1<<20 - 1, 3 << 20}, {size - 5, size + 100}, {-100, -1}} {
		got, err := rc.GetRange(ctx, "big", r[0], r[1]).Result()
		lo, hi := r[0], min(r[1], size-1)
		if lo < 0 {
			lo, hi = size+lo, size+r[1]
		}
		if err != nil || got != want[lo:hi+1] {
			t.Fatalf("GETRANGE %d %d: %d bytes (err %v), want %d", r[0], r[1], len(got), err, hi+1-lo)
		}
	}
	must(rc.Append(ctx, "big", "tail").Err())
	want += "tail"
	must(rc.SetRange(ctx, "big", 3<<20, "patch").Err())
	want = want[:3<<20] + "patch" + want[3<<20+5:]
	check("after APPEND and SETRANGE", "big", want)
	if enc, _ := rc.ObjectEncoding(ctx, "big").Result(); enc != "raw" {
		t.Fatalf("OBJECT ENCODING = %q", enc)
	}
	dump, err := rc.Dump(ctx, "big").Result()
	must(err)
	must(rc.Restore(ctx, "restored", 0, dump).Err())
	check("after RESTORE", "restored", want)
	must(rc.Copy(ctx, "big", "copy", 0, false).Err())
	must(rc.Rename(ctx, "restored", "renamed").Err())
	check("after COPY", "copy", want)
	check("after RENAME", "renamed", want)
	if got, err := rc.GetDel(ctx, "copy").Result(); err != nil || got != want {
		t.Fatalf("GETDEL: %d bytes, %v", len(got), err)
	}
	// A pipeline of reads of it keeps the replies in order.
	pipe := rc.Pipeline()
	g1, l1, g2 := pipe.Get(ctx, "big"), pipe.StrLen(ctx, "big"), pipe.Get(ctx, "renamed")
	_, err = pipe.Exec(ctx)
	must(err)
	if g1.Val() != want || l1.Val() != int64(len(want)) || g2.Val() != want {
		t.Fatal("pipelined GET, STRLEN, GET of big values: wrong replies")
	}
	srv.Restart()
	rc = srv.Client()
	check("after a restart", "big", want)
	must(rc.Set(ctx, "after", val, 0).Err())
	srv.Kill()
	srv.Restart()
	rc = srv.Client()
	check("after kill -9", "after", string(val))
	check("after kill -9", "renamed", want)
	must(rc.Del(ctx, "big", "renamed", "after").Err())
	if n, _ := rc.DBSize(ctx).Result(); n != 0 {
		t.Fatalf("DBSIZE = %d after DEL", n)
	}
}
