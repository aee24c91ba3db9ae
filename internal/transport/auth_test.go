package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/testcert"
)

func newSecureBus(t *testing.T, id uint64, sec Security) (*Bus, *recorder) {
	t.Helper()
	rec := &recorder{inbox: t.TempDir()}
	b, err := Listen(Options{ID: id, Listen: "127.0.0.1:0", Handler: rec, QueueLen: 16, Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, rec
}

// exercise checks that a's frames, requests, snapshots and streams reach b.
func exercise(t *testing.T, a, b *Bus, rec *recorder) {
	t.Helper()
	a.SetPeer(b.opts.ID, b.Addr())
	waitUntil(t, "a payload", func() bool {
		a.Send(b.opts.ID, []byte("hi"))
		return rec.count() > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := a.Call(ctx, b.Addr(), 5, []byte("ping")); err != nil || string(got) != "1:5:ping" {
		t.Fatalf("Call = %q, %v", got, err)
	}
	if err := a.SendSnapshot(b.opts.ID, []byte("hdr"), t.TempDir()); err != nil {
		t.Fatalf("SendSnapshot: %v", err)
	}
	c, err := a.DialStream(b.Addr(), time.Second)
	if err != nil {
		t.Fatalf("DialStream: %v", err)
	}
	c.Close()
}

// refusedBy checks that nothing a stranger sends reaches b: Raft payloads, requests, snapshots.
func refusedBy(t *testing.T, stranger, b *Bus, rec *recorder) {
	t.Helper()
	stranger.SetPeer(b.opts.ID, b.Addr())
	for i := 0; i < 20; i++ {
		stranger.Send(b.opts.ID, []byte("injected"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := stranger.Call(ctx, b.Addr(), 5, []byte("ping")); err == nil {
		t.Fatal("a stranger's request was answered")
	}
	if err := stranger.SendSnapshot(b.opts.ID, []byte("hdr"), t.TempDir()); err == nil {
		t.Fatal("a stranger's snapshot was accepted")
	}
	waitUntil(t, "refusals", func() bool { return b.Refused() >= 2 })
	if n := rec.count(); n != 0 {
		t.Fatalf("%d payloads from a stranger were delivered", n)
	}
	if rec.header != nil {
		t.Fatal("a stranger's snapshot reached the handler")
	}
}

// rawInject writes a hello and a Raft frame as an old or hostile peer would, without a
// handshake, and waits for the bus to close the connection.
func rawInject(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriter(c)
	_ = writeFrame(w, frameHello, helloBody(7, purposeMessages))
	_ = writeFrame(w, frameRaft, []byte("injected"))
	_ = w.Flush()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	for {
		if _, err := c.Read(b[:]); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the bus kept a connection that never proved the secret")
			}
			return
		}
	}
}

func TestBusSecret(t *testing.T) {
	secret := Security{Secret: []byte("s3cret")}
	a, _ := newSecureBus(t, 1, secret)
	b, rec := newSecureBus(t, 2, secret)
	exercise(t, a, b, rec)

	c, crec := newSecureBus(t, 3, secret)
	for _, stranger := range []Security{{}, {Secret: []byte("guess")}} {
		s, _ := newSecureBus(t, 9, stranger)
		refusedBy(t, s, c, crec)
	}
	rawInject(t, c.Addr())
	if crec.count() != 0 {
		t.Fatal("a raw Raft frame without the handshake was delivered")
	}
	// A member does not talk to a bus that cannot prove the secret either.
	open, orec := newSecureBus(t, 4, Security{})
	a.SetPeer(4, open.Addr())
	a.Send(4, []byte("to a stranger"))
	waitUntil(t, "the dialer to give up", func() bool { return a.Refused() > 0 })
	if orec.count() != 0 {
		t.Fatal("a member sent a payload to a bus that did not prove the secret")
	}
}

func TestBusMutualTLS(t *testing.T) {
	ca := testcert.NewCA(t, "cluster CA")
	member := func(name string, ca *testcert.CA) Security {
		pair := ca.Issue(t, name)
		get := func() (*tls.Certificate, error) { return &pair.TLS, nil }
		srv, cli := MutualTLS(get, get, func() *x509.CertPool { return ca.Pool })
		return Security{ServerTLS: srv, ClientTLS: cli}
	}
	a, _ := newSecureBus(t, 1, member("a", ca))
	b, rec := newSecureBus(t, 2, member("b", ca))
	exercise(t, a, b, rec)

	c, crec := newSecureBus(t, 3, member("c", ca))
	other := testcert.NewCA(t, "another CA")
	s, _ := newSecureBus(t, 9, member("stranger", other))
	refusedBy(t, s, c, crec)
	plain, _ := newSecureBus(t, 8, Security{})
	refusedBy(t, plain, c, crec)
	rawInject(t, c.Addr())

	// TLS and the secret together.
	both := func(name string) Security {
		s := member(name, ca)
		s.Secret = []byte("s3cret")
		return s
	}
	d, _ := newSecureBus(t, 1, both("d"))
	e, erec := newSecureBus(t, 2, both("e"))
	exercise(t, d, e, erec)
}

func BenchmarkSecretHandshake(b *testing.B) {
	secret := []byte("s3cret")
	for b.Loop() {
		l, d := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- proveAsListener(l, secret) }()
		if err := proveAsDialer(d, secret); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		l.Close()
		d.Close()
	}
}
