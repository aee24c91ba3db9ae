package tests

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// externalIP returns an address of this machine that is not loopback, or "" if it has none.
func externalIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// Redis 8's reply to a client protected mode refuses.
const wantDenied = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

func TestProtectedMode(t *testing.T) {
	ip := externalIP()
	if ip == "" {
		t.Skip("no address other than loopback")
	}
	srv := servertest.Start(t, "--bind", "127.0.0.1", ip)
	ext := net.JoinHostPort(ip, strconv.Itoa(srv.Port))
	ping := func() string {
		t.Helper()
		c, err := net.Dial("tcp", ext)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write([]byte("PING\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReaderSize(c, 4096).ReadString('\n')
		return line
	}
	if got := ping(); got != wantDenied {
		t.Fatalf("a client from %s got %q, want Redis's DENIED", ip, got)
	}
	local := srv.Client()
	ctx := servertest.Ctx(t)
	if err := local.Ping(ctx).Err(); err != nil {
		t.Fatalf("a loopback client: %v", err)
	}
	if err := local.ConfigSet(ctx, "requirepass", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	if got := ping(); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("with a password, a client from %s got %q, want to be served (NOAUTH)", ip, got)
	}
	if err := local.Do(ctx, "AUTH", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"requirepass", ""}, {"protected-mode", "no"}} {
		if err := local.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if got := ping(); got != "+PONG\r\n" {
		t.Fatalf("with protected-mode no, a client from %s got %q", ip, got)
	}
}

// A storm of 20,000 connections leaves the server serving the clients it has.
func TestConnectionStorm(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	watcher := srv.Client()
	if err := watcher.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	const total, workers = 20000, 64
	var next, opened, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Source addresses spread over 127.0.0.0/8, so the storm does not use up the
			// ephemeral ports of 127.0.0.1 that other tests on this machine need.
			d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(2+w))}}
			for next.Add(1) <= total {
				c, err := d.Dial("tcp", srv.Addr)
				if err != nil {
					failed.Add(1)
					continue
				}
				opened.Add(1)
				c.Close()
			}
		}(w)
	}
	stormDone := make(chan struct{})
	go func() { wg.Wait(); close(stormDone) }()
	served := 0
	for waiting := true; waiting; {
		select {
		case <-stormDone:
			waiting = false
		default:
			if err := watcher.Ping(ctx).Err(); err != nil {
				t.Fatalf("the watching client was not served during the storm: %v", err)
			}
			served++
		}
	}
	if err := watcher.Set(ctx, "after", "storm", 0).Err(); err != nil {
		t.Fatal(err)
	}
	fresh := srv.Client()
	if v, err := fresh.Get(ctx, "after").Result(); err != nil || v != "storm" {
		t.Fatalf("a new client after the storm: %q, %v", v, err)
	}
	t.Logf("%d connections opened, %d failed; %d commands served to another client meanwhile", opened.Load(), failed.Load(), served)
	if opened.Load() < total/2 {
		t.Fatalf("only %d of %d connections opened", opened.Load(), total)
	}
}
