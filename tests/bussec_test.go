package tests

import (
	"bytes"
	"encoding/binary"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
	"github.com/cairn-db/cairn/internal/testcert"
)

// syncBuffer is a bytes.Buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// busFrame is a frame of the cluster bus: length (of type and body), type, body.
func busFrame(typ byte, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)+1))
	return append(append(b, typ), body...)
}

// A cluster with a cluster-secret refuses what a node without it sends: it cannot join, and
// Raft messages written straight to the bus are not read.
func TestClusterSecretRefusesStrangers(t *testing.T) {
	testBusRefusesStrangers(t, []string{"--cluster-secret", "s3cret"},
		[][]string{nil, {"--cluster-secret", "guess"}}, "refused a connection that did not prove the cluster secret")
}

// With tls-cluster the bus is mutual TLS: a node whose certificate is not from the cluster's
// CA, or that speaks plain TCP, is refused.
func TestClusterTLSRefusesStrangers(t *testing.T) {
	ca := testcert.NewCA(t, "cluster CA")
	pair := ca.Issue(t, "member")
	other := testcert.NewCA(t, "stranger CA")
	spair := other.Issue(t, "stranger")
	tlsArgs := func(p testcert.Pair, ca *testcert.CA) []string {
		return []string{"--tls-cluster", "yes", "--tls-cert-file", p.CertFile, "--tls-key-file", p.KeyFile, "--tls-ca-cert-file", ca.CertFile}
	}
	testBusRefusesStrangers(t, tlsArgs(pair, ca), [][]string{nil, tlsArgs(spair, other)}, "TLS handshake failed")
}

func testBusRefusesStrangers(t *testing.T, member []string, strangers [][]string, refusal string) {
	c := servertest.StartCluster(t, 3, member...)
	n0 := c.Nodes[0]
	busAddr := "127.0.0.1:" + strconv.Itoa(n0.Port+10000)
	rdb := n0.Client()
	ctx := servertest.Ctx(t)
	if err := c.Client().Set(ctx, "k", "v", 0).Err(); err != nil { // through k's shard's leader
		t.Fatal(err)
	}

	// A hello as a member would send it without the secret or TLS, then a Raft payload: the
	// connection is closed unread.
	hello := append([]byte("CAIRN1"), binary.BigEndian.AppendUint64(nil, 2)...)
	hello = append(hello, 0)
	conn, err := net.Dial("tcp", busAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write(append(busFrame(1, hello), busFrame(2, bytes.Repeat([]byte{0xff}, 64))...))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the bus answered a connection that did not prove the secret")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the bus kept a connection that did not prove the secret")
	}

	// Nodes with no secret or a wrong one try to join.
	for i, args := range strangers {
		port := servertest.ClusterPort(t)
		out := &syncBuffer{}
		cmd := exec.Command(servertest.Binary(t), append([]string{"server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--dir", t.TempDir(), "--cluster-enabled", "yes", "--cluster-join", n0.Addr}, args...)...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the stranger's join to be refused", func() bool { return strings.Contains(out.String(), "retrying") })
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if strings.Contains(out.String(), "joined the cluster") {
			t.Fatalf("stranger %d joined:\n%s", i, out.String())
		}
	}
	waitFor(t, "the refusals in the log", func() bool {
		return strings.Contains(n0.Log(), refusal)
	})
	nodes, err := rdb.ClusterNodes(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(nodes), "\n") + 1; n != 3 {
		t.Fatalf("CLUSTER NODES lists %d nodes, want 3:\n%s", n, nodes)
	}
	if v, err := c.Nodes[1].Client().Get(ctx, "k").Result(); err != nil && !strings.HasPrefix(err.Error(), "MOVED") {
		t.Fatalf("GET on another member: %v", err)
	} else if err == nil && v != "v" {
		t.Fatalf("GET k = %q", v)
	}
}
