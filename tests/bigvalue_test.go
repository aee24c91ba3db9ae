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
