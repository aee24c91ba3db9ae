package tests

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// timeout closes idle clients only: bytes still arriving count as activity, and subscribers,
// blocked clients and MONITOR clients are exempt, as in Redis.
func TestTimeoutExemptions(t *testing.T) {
	srv := servertest.Start(t, "--timeout", "1", "--enable-debug-command", "yes")
	idle := srv.Dial()
	if got := idle.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	sub := srv.Dial()
	if got := sub.Do("SUBSCRIBE", "ch"); !strings.HasPrefix(got, "*3\r\n$9\r\nsubscribe\r\n") {
		t.Fatalf("SUBSCRIBE = %q", got)
	}
	sub3 := srv.Dial()
	sub3.Do("HELLO", "3")
	if got := sub3.Do("SUBSCRIBE", "ch"); !strings.HasPrefix(got, ">3\r\n$9\r\nsubscribe\r\n") {
		t.Fatalf("SUBSCRIBE (RESP3) = %q", got)
	}
	blk := srv.Dial()
	blk.Send("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n")
	mon := srv.Dial()
	if got := mon.Do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	// A command that runs longer than the timeout: its client waits, it is not idle.
	busy := srv.Dial()
	busy.Send("*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n2.5\r\n")
	// A request sent a few bytes at a time over three seconds.
	slow := srv.Dial()
	req := "*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$10\r\n0123456789\r\n"
	for i := 0; i < 10; i++ {
		slow.Send(req[i*len(req)/10 : (i+1)*len(req)/10])
		time.Sleep(300 * time.Millisecond)
	}
	if got := slow.ReadReply(); got != "+OK\r\n" {
		t.Fatalf("the slowly sent SET = %q", got)
	}
	if got := busy.ReadReply(); got != "+OK\r\n" {
		t.Fatalf("DEBUG SLEEP 2.5 with timeout 1 = %q", got)
	}
	// Well past the timeout: the idle client is gone, the others are served.
	if got, err := idle.ReadAll(2 * time.Second); err != nil && err != io.EOF || got != "" {
		t.Errorf("idle client: read %q, %v; want it closed", got, err)
	}
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	if n, err := rc.Publish(ctx, "ch", "hi").Result(); err != nil || n != 2 {
		t.Errorf("PUBLISH reached %d subscribers (%v), want 2", n, err)
	}
	if got := sub.ReadReply(); got != "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n" {
		t.Errorf("subscriber got %q", got)
	}
	if err := rc.LPush(ctx, "q", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if got := blk.ReadReply(); got != "*2\r\n$1\r\nq\r\n$1\r\nx\r\n" {
		t.Errorf("blocked client got %q", got)
	}
	for i := 0; ; i++ { // the slow SET, the go-redis client's handshake, then PUBLISH
		got := mon.ReadReply()
		if strings.Contains(strings.ToLower(got), `"publish"`) {
			break
		}
		if i == 10 {
			t.Fatalf("monitor got no PUBLISH, last %q", got)
		}
	}
}
