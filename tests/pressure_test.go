package tests

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// infoInt reads one integer field of INFO.
func infoInt(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	s, err := c.Info(servertest.Ctx(t), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// pipelineGets sends n GETs of key on a new connection and reads nothing.
func pipelineGets(t *testing.T, srv *servertest.Server, key string, n int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	get := fmt.Sprintf("*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
	go func() { _, _ = c.Write([]byte(strings.Repeat(get, n))) }()
	return c
}

// A client that pipelines far more output than it reads is throttled, not buffered: the
// server's memory stays bounded, other clients are served, and nothing is lost when the client
// finally reads.
func TestOutputBackpressure(t *testing.T) {
	srv := servertest.Start(t)
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	const size, n = 1 << 20, 120 // 120 MB of replies
	val := strings.Repeat("b", size)
	if err := rc.Set(ctx, "big", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	base := srv.RSS()
	c := pipelineGets(t, srv, "big", n)
	waitFor(t, "the client's output to be throttled", func() bool {
		return infoInt(t, rc, "stats", "total_net_output_bytes") > 8*size
	})
	time.Sleep(300 * time.Millisecond) // were it not throttled, it would keep going
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING while a client is throttled: %v", err)
	}
	grew := srv.PeakRSS() - base
	t.Logf("peak RSS grew by %d MB", grew>>20)
	if grew > 80<<20 {
		t.Errorf("peak RSS grew by %d MB for a client not reading (want < 80 MB)", grew>>20)
	}
	r := bufio.NewReaderSize(c, 1<<16)
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for i := 0; i < n; i++ {
		l, err := r.ReadString('\n')
		if err != nil || l != fmt.Sprintf("$%d\r\n", size) {
			t.Fatalf("reply %d: %q %v", i, l, err)
		}
		if _, err := io.CopyN(io.Discard, r, size+2); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
}

// Over its hard output limit a client is cut off before more replies are built for it.
func TestOutputHardLimitPipeline(t *testing.T) {
	srv := servertest.Start(t, "--client-output-buffer-limit", "normal 1mb 0 0")
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rc.Set(ctx, "v", strings.Repeat("h", 256<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	c := pipelineGets(t, srv, "v", 400)
	waitFor(t, "the output limit disconnection", func() bool {
		return infoInt(t, rc, "stats", "client_output_buffer_limit_disconnections") == 1
	})
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	got, err := io.Copy(io.Discard, c)
	if err != nil {
		t.Fatalf("reading until the server closed: %v", err)
	}
	if got >= 400*(256<<10) {
		t.Errorf("read %d bytes: every reply was sent", got)
	}
	if sent := infoInt(t, rc, "stats", "total_net_output_bytes"); sent > 64<<20 {
		t.Errorf("%d MB of output produced for a client over a 1 MB limit", sent>>20)
	}
}

// maxmemory-clients disconnects the biggest client, never one that set CLIENT NO-EVICT.
func TestMaxmemoryClients(t *testing.T) {
	srv := servertest.Start(t, "--maxmemory-clients", "2mb")
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rc.Set(ctx, "v", strings.Repeat("m", 256<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	keep := srv.Dial()
	if got := keep.Do("CLIENT", "NO-EVICT", "on"); got != "+OK\r\n" {
		t.Fatalf("CLIENT NO-EVICT on = %q", got)
	}
	keepID := strings.TrimSpace(strings.TrimPrefix(keep.Do("CLIENT", "ID"), ":"))
	get := "*2\r\n$3\r\nGET\r\n$1\r\nv\r\n"
	go func() { _, _ = keep.Write([]byte(strings.Repeat(get, 200))) }()
	pipelineGets(t, srv, "v", 200)
	waitFor(t, "a client eviction", func() bool { return infoInt(t, rc, "stats", "evicted_clients") >= 1 })
	list, err := rc.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "id="+keepID+" ") {
		t.Errorf("the NO-EVICT client was evicted:\n%s", list)
	}
	if n := strings.Count(list, "\n"); n != 2 {
		t.Errorf("%d clients left, want 2 (the NO-EVICT one and this):\n%s", n, list)
	}
}
