package tests

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/testcert"
)

func TestTLSClients(t *testing.T) {
	ca := testcert.NewCA(t, "test CA")
	srvPair := ca.Issue(t, "server")
	cliPair := ca.Issue(t, "client")
	tlsPort := servertest.FreePort(t)
	srv := servertest.Start(t, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", srvPair.CertFile,
		"--tls-key-file", srvPair.KeyFile, "--tls-ca-cert-file", ca.CertFile, "--tls-auth-clients", "yes")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Log())
		}
	})
	ctx := servertest.Ctx(t)
	tlsAddr := "127.0.0.1:" + strconv.Itoa(tlsPort)
	dial := func(conf *tls.Config, proto int) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: tlsAddr, TLSConfig: conf, Protocol: proto, MaxRetries: -1, DialTimeout: 5 * time.Second})
		t.Cleanup(func() { c.Close() })
		return c
	}
	withCert := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost", Certificates: []tls.Certificate{cliPair.TLS}}
	for _, proto := range []int{2, 3} {
		c := dial(withCert, proto)
		if err := c.Set(ctx, "k", "v"+strconv.Itoa(proto), 0).Err(); err != nil {
			t.Fatalf("SET over TLS (RESP%d): %v", proto, err)
		}
		if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v"+strconv.Itoa(proto) {
			t.Fatalf("GET over TLS = %q, %v", v, err)
		}
	}
	// A pipeline of many commands and a large value cross the bridge intact.
	c := dial(withCert, 2)
	big := strings.Repeat("x", 3<<20)
	pipe := c.Pipeline()
	for i := 0; i < 1000; i++ {
		pipe.Set(ctx, "p"+strconv.Itoa(i), i, 0)
	}
	pipe.Set(ctx, "big", big, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "big").Result(); err != nil || v != big {
		t.Fatalf("GET big over TLS: %d bytes, %v", len(v), err)
	}
	// CLIENT LIST shows the client's own address, not the bridge's.
	list, err := c.ClientList(ctx).Result()
	if err != nil || strings.Contains(list, "@cairn") || !strings.Contains(list, "laddr="+tlsAddr) {
		t.Fatalf("CLIENT LIST over TLS: %v\n%s", err, list)
	}

	// Without a client certificate the handshake fails while tls-auth-clients is yes.
	noCert := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
	if err := dial(noCert, 2).Ping(ctx).Err(); err == nil {
		t.Fatal("a client without a certificate was served with tls-auth-clients yes")
	}
	// A certificate from another CA is refused too.
	other := testcert.NewCA(t, "other CA").Issue(t, "intruder")
	if err := dial(&tls.Config{RootCAs: ca.Pool, ServerName: "localhost", Certificates: []tls.Certificate{other.TLS}}, 2).Ping(ctx).Err(); err == nil {
		t.Fatal("a client with a certificate from another CA was served")
	}

	// redis-cli --tls.
	if _, err := exec.LookPath("redis-cli"); err == nil {
		out, err := exec.Command("redis-cli", "--tls", "--cacert", ca.CertFile, "--cert", cliPair.CertFile, "--key", cliPair.KeyFile,
			"-h", "127.0.0.1", "-p", strconv.Itoa(tlsPort), "GET", "k").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "v3" {
			t.Fatalf("redis-cli --tls GET k = %q, %v", out, err)
		}
		out, _ = exec.Command("redis-cli", "--tls", "--cacert", ca.CertFile, "-h", "127.0.0.1", "-p", strconv.Itoa(tlsPort), "PING").CombinedOutput()
		if strings.Contains(string(out), "PONG") {
			t.Fatal("redis-cli without a certificate was served")
		}
	} else {
		t.Log("redis-cli not installed: skipping its part")
	}

	plain := srv.Client()
	// tls-auth-clients no: a client without a certificate is served.
	if err := plain.ConfigSet(ctx, "tls-auth-clients", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if err := dial(noCert, 2).Ping(ctx).Err(); err != nil {
		t.Fatalf("with tls-auth-clients no: %v", err)
	}

	// New certificate files named by CONFIG SET are used by the next handshake.
	serverSerial := func() string {
		conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serverSerial()
	renewed := ca.Issue(t, "server-renewed")
	if err := plain.ConfigSet(ctx, "tls-cert-file", renewed.CertFile).Err(); err != nil {
		t.Fatal(err)
	}
	if err := plain.ConfigSet(ctx, "tls-key-file", renewed.KeyFile).Err(); err != nil {
		t.Fatal(err)
	}
	want := leafSerial(t, renewed)
	if got := serverSerial(); got != want || got == before {
		t.Fatalf("after CONFIG SET the server presents serial %s, want %s", got, want)
	}
	// A certificate replaced on disk is picked up without a restart.
	again := ca.Issue(t, "server-again")
	copyFile(t, again.CertFile, renewed.CertFile)
	copyFile(t, again.KeyFile, renewed.KeyFile)
	want = leafSerial(t, again)
	waitFor(t, "the renewed certificate", func() bool { return serverSerial() == want })

	// The event loops' internal socket refuses connections the bridge did not make.
	runID := infoField(t, plain, "run_id")
	uc, err := net.Dial("unix", "@cairn-"+runID+"-tls")
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	_, _ = uc.Write([]byte("PING\r\n"))
	_ = uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := uc.Read(make([]byte, 16)); err == nil {
		t.Fatalf("the internal socket answered a stranger (%d bytes)", n)
	}
}

func leafSerial(t *testing.T, p testcert.Pair) string {
	t.Helper()
	c, err := x509.ParseCertificate(p.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

func infoField(t *testing.T, c *redis.Client, field string) string {
	t.Helper()
	info, err := c.Info(servertest.Ctx(t), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	t.Fatalf("INFO has no %s", field)
	return ""
}
