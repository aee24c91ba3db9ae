package tests

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// max-new-connections-per-second refuses the connections over the rate, counts them in INFO,
// and leaves the connections already open served.
func TestMaxNewConnectionsPerSecond(t *testing.T) {
	const rate, total = 50, 300
	srv := servertest.Start(t, "--max-new-connections-per-second", strconv.Itoa(rate))
	ctx := servertest.Ctx(t)
	watcher := srv.Client()
	if err := watcher.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	served, refused := 0, 0
	for i := 0; i < total; i++ {
		c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		switch {
		case line == "+PONG\r\n":
			served++
		case line == "-ERR max number of new connections per second reached\r\n":
			refused++
		default:
			t.Fatalf("connection %d: read %q, %v", i, line, err)
		}
	}
	elapsed := time.Since(start)
	// The bucket starts full (a second's worth) and refills at the rate; the watcher took one.
	if most := rate + int(elapsed.Seconds()*rate) + 1; served > most || refused == 0 {
		t.Errorf("%d connections in %v at a limit of %d/s: %d served (at most %d allowed), %d refused", total, elapsed, rate, served, most, refused)
	}
	t.Logf("%d connections in %v: %d served, %d refused", total, elapsed, served, refused)
	if err := watcher.Ping(ctx).Err(); err != nil {
		t.Errorf("the open connection after the refusals: %v", err)
	}
	info := watcher.Info(ctx, "stats").Val()
	if got := statsField(info, "rate_limited_connections"); got != strconv.Itoa(refused) {
		t.Errorf("INFO rate_limited_connections = %s, want %d", got, refused)
	}
	if got, _ := strconv.Atoi(statsField(info, "rejected_connections")); got < refused {
		t.Errorf("INFO rejected_connections = %d, want at least %d", got, refused)
	}
	// Lifting the limit serves new connections at once.
	if err := watcher.ConfigSet(ctx, "max-new-connections-per-second", "0").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if got := srv.Dial().Do("PING"); got != "+PONG\r\n" {
			t.Fatalf("a new connection with no limit: %q", got)
		}
	}
}

// statsField returns a field of an INFO reply ("" if absent).
func statsField(info, field string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}
