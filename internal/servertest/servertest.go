// Package servertest starts real cairn servers for integration tests: it builds the cairn binary
// once per test process, starts it on a free port with its own data directory, and hands out
// go-redis clients and raw connections.
package servertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of a cairn binary built from this checkout (once per process). The
// CAIRN_BIN environment variable overrides it.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CAIRN_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cairn-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cairn")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/cairn")
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is a running cairn process.
type Server struct {
	t    testing.TB
	Addr string
	Port int
	Dir  string
	Args []string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   sync.Mutex
	done chan struct{}
}

// FreePort returns a port for a server to listen on: free a moment ago, never handed out twice
// by this process, and in 5000-10000, below the kernel's ephemeral range (32768 and up) and apart
// from the ranges cluster nodes (ClusterPorts) and tests/chaos use. A port from bind(0) would be
// ephemeral, and another test process could be handed the same one before this server bound it:
// a test then talks to that process's server and sees its connection reset when it stops.
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for i := 0; i < 1000; i++ {
		p := 5000 + rand.IntN(5000)
		if handedOut[p] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l.Close()
		handedOut[p] = true
		return p
	}
	t.Fatal("no free port in 5000-10000")
	return 0
}

// Start starts a server with extra options (redis.conf names as --flags) and stops it when the
// test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir(), Args: args}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// StartIn starts a server over an existing data directory.
func StartIn(t testing.TB, dir string, port int, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: dir, Port: port, Args: args}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	if s.Port == 0 {
		s.Port = FreePort(s.t)
	}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	args := append([]string{"server", "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir}, s.Args...)
	cmd := exec.Command(Binary(s.t), args...)
	if s.log == nil {
		s.log = &bytes.Buffer{} // kept across restarts, so a failure shows every run's log
	}
	cmd.Stdout = &lockedWriter{b: s.log, mu: &s.mu}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.t.Fatalf("cairn exited during startup:\n%s", s.Log())
		default:
		}
		if !s.ready() {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		// One connection once the log says it listens (each one counts against maxclients
		// until the server has seen it close).
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("cairn did not start listening on %s:\n%s", s.Addr, s.Log())
}

// ready reports whether this server's own log says it listens (when its log goes to a file, the
// accepted dial has to do): the port answering is not enough, since it could be another process.
func (s *Server) ready() bool {
	for i, a := range s.Args {
		if a == "--logfile" && i+1 < len(s.Args) {
			return true
		}
	}
	return strings.Contains(s.Log(), "ready to accept connections")
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Log returns what the server has logged.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Stop shuts the server down gracefully (SIGTERM) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		if s.t.Failed() {
			s.t.Logf("cairn (%s) had exited before the test stopped it (%v); its log:\n%s", s.Addr, s.cmd.ProcessState, s.Log())
		}
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		// SIGQUIT makes the Go runtime print every goroutine's stack into the log: what the
		// shutdown waits for.
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		dump := s.Log()
		if i := strings.Index(dump, "SIGQUIT"); i >= 0 {
			dump = dump[i:]
		}
		s.t.Errorf("cairn did not stop on SIGTERM within 15s; its goroutines:\n%s", dump)
	}
	if strings.Contains(s.Log(), "DATA RACE") || strings.Contains(s.Log(), "panic:") {
		s.t.Errorf("cairn log reports a race or panic:\n%s", s.Log())
	}
}

// Kill kills the server with SIGKILL, as a crash would.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Restart starts the server again on the same port and directory, stopping it gracefully
// first if it is still running (a second process on the port would answer in its place).
func (s *Server) Restart() {
	s.t.Helper()
	if !s.Exited() {
		s.Stop()
	}
	s.start()
}

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, Protocol: 2}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// RESP3 makes a client speak RESP3.
func RESP3(o *redis.Options) { o.Protocol = 3 }

// Conn is a raw connection for testing the protocol byte by byte.
type Conn struct {
	t testing.TB
	net.Conn
	R *bufio.Reader
}

// Dial opens a raw connection, closed when the test ends.
func (s *Server) Dial() *Conn {
	s.t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return &Conn{t: s.t, Conn: c, R: bufio.NewReader(c)}
}

// Send writes raw bytes.
func (c *Conn) Send(raw string) {
	c.t.Helper()
	if _, err := c.Write([]byte(raw)); err != nil {
		c.t.Fatal(err)
	}
}

// Do sends a command as a RESP array and returns the raw reply.
func (c *Conn) Do(args ...string) string {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.Send(b.String())
	return c.ReadReply()
}

// ReadReply reads one complete reply and returns it raw, as sent.
func (c *Conn) ReadReply() string {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	if err := readValue(c.R, &b); err != nil {
		c.t.Fatalf("reading reply: %v (got so far %q)", err, b.String())
	}
	return b.String()
}

// ReadErr reads until the server closes the connection or the deadline passes, returning what
// arrived and the error that ended the read.
func (c *Conn) ReadAll(d time.Duration) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b bytes.Buffer
	_, err := b.ReadFrom(c.R)
	return b.String(), err
}

func readValue(r *bufio.Reader, b *strings.Builder) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	b.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return err
		}
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return err
		}
		b.Write(buf)
		return nil
	case '*', '~', '>':
		n, err := strconv.Atoi(body)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := readValue(r, b); err != nil {
				return err
			}
		}
		return nil
	case '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return err
		}
		for i := 0; i < 2*n; i++ {
			if err := readValue(r, b); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return readValue(r, b)
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Ctx is a context for test calls.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
