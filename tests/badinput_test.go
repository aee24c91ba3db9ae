package tests

import (
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/servertest"
)

// alive checks that the server still answers PING on a new connection.
func alive(t *testing.T, srv *servertest.Server) {
	t.Helper()
	if got := srv.Dial().Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after bad input = %q", got)
	}
}

// readUntilClosed reads what the server sends until it closes the connection.
func readUntilClosed(t *testing.T, c *servertest.Conn) string {
	t.Helper()
	got, err := c.ReadAll(10 * time.Second)
	if err != nil && err != io.EOF {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("server did not close the connection; got %q", got)
		}
	}
	return got
}

func TestProtocolErrors(t *testing.T) {
	srv := servertest.Start(t)
	tests := []struct {
		name, in, want string
	}{
		{"bulk length over proto-max-bulk-len", "*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"negative bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"bulk length not a number", "*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"multibulk length not a number", "*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"multibulk length too large", "*9999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"element not a bulk", "*2\r\n$3\r\nGET\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"unbalanced quotes", "SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"inline too long", strings.Repeat("a", 70*1024), "-ERR Protocol error: too big inline request\r\n"},
		{"mbulk count line too long", "*" + strings.Repeat("1", 70*1024), "-ERR Protocol error: too big mbulk count string\r\n"},
		// Replies to the requests before the bad one come first, in order.
		{"after good requests", "PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n", "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
		{"after a write", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$-2\r\n", "+OK\r\n-ERR Protocol error: invalid bulk length\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.Dial()
			c.Send(tc.in)
			if got := readUntilClosed(t, c); got != tc.want {
				t.Fatalf("reply = %q, want %q and the connection closed", got, tc.want)
			}
			alive(t, srv)
		})
	}
	// The errors are counted.
	info := srv.Dial().Do("INFO", "errorstats")
	if !strings.Contains(info, "errorstat_ERR:count=") {
		t.Errorf("INFO errorstats after protocol errors = %q", info)
	}
}

func TestHugeDeclaredLengths(t *testing.T) {
	srv := servertest.Start(t)
	rss := func() int64 {
		t.Helper()
		info := srv.Dial().Do("INFO", "memory")
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory_rss:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatalf("no used_memory_rss in %q", info)
		return 0
	}
	before := rss()
	// Declared sizes are not allocated up front: a 1M-element header and a 512 MB bulk header
	// cost nothing until the data arrives.
	var conns []*servertest.Conn
	for i := 0; i < 20; i++ {
		c := srv.Dial()
		c.Send("*1048576\r\n$3\r\nSET\r\n")
		d := srv.Dial()
		d.Send("*2\r\n$3\r\nGET\r\n$536870912\r\nabc")
		conns = append(conns, c, d)
	}
	alive(t, srv)
	if after := rss(); after-before > 200<<20 {
		t.Fatalf("memory grew from %d to %d bytes on declared lengths alone", before, after)
	}
	for _, c := range conns {
		c.Close()
	}
	alive(t, srv)
}

func TestGarbageBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 0))
	srv := servertest.Start(t)
	alphabet := []byte("*$:+-\r\n0123456789-abcSETGET \"'\\x\x00\xff")
	for i := 0; i < 60; i++ {
		n := 1 + rng.IntN(300)
		buf := make([]byte, n)
		for j := range buf {
			if rng.IntN(3) == 0 {
				buf[j] = byte(rng.IntN(256))
			} else {
				buf[j] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		c := srv.Dial()
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		// Whatever it answers, it must not stop serving.
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}
	alive(t, srv)
}

func TestDisconnectMidCommand(t *testing.T) {
	srv := servertest.Start(t)
	// A request cut short, then the client goes away.
	c := srv.Dial()
	c.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc")
	c.Close()
	// A pipeline of writes whose replies nobody reads.
	d := srv.Dial()
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		b.WriteString("*3\r\n$3\r\nSET\r\n$2\r\nw" + strconv.Itoa(i%10) + "\r\n$1\r\nv\r\n")
	}
	d.Send(b.String())
	d.Close()
	alive(t, srv)
	if got := srv.Dial().Do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("GET k after a truncated SET = %q, want nil", got)
	}
}

// TestLargeRequest sends a value far larger than one socket read, so the request arrives over
// many events.
func TestLargeRequest(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	val := strings.Repeat("0123456789", 300_000)
	if got := c.Do("SET", "big", val); got != "+OK\r\n" {
		t.Fatalf("SET big = %q", got)
	}
	if got := c.Do("STRLEN", "big"); got != ":3000000\r\n" {
		t.Fatalf("STRLEN big = %q", got)
	}
	if got := c.Do("GET", "big"); got != "$3000000\r\n"+val+"\r\n" {
		t.Fatalf("GET big returned %d bytes", len(got))
	}
}

// TestWrongArity sends every command in the table with a wrong number of arguments.
func TestWrongArity(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	n := 0
	check := func(cmd *command.Command, prefix []string) {
		t.Helper()
		var args []string
		switch {
		case cmd.Arity > 0:
			args = append(prefix, make([]string, cmd.Arity+1-len(prefix))...)
		case cmd.Arity < -1 && -cmd.Arity-1 >= len(prefix):
			args = append(prefix, make([]string, -cmd.Arity-1-len(prefix))...)
		default:
			return
		}
		for i := len(prefix); i < len(args); i++ {
			args[i] = "x"
		}
		want := "-ERR wrong number of arguments for '" + cmd.Name + "' command\r\n"
		if got := c.Do(args...); got != want {
			t.Errorf("%v = %q, want %q", args, got, want)
		}
		n++
	}
	for _, cmd := range command.All() {
		if cmd.Flags&command.FlagInternal != 0 {
			continue
		}
		check(cmd, []string{cmd.Name})
		for _, sub := range cmd.Subcommands {
			_, name, _ := strings.Cut(sub.Name, "|")
			check(sub, []string{cmd.Name, name})
		}
	}
	if n < 300 {
		t.Fatalf("checked %d commands, want the whole table", n)
	}
	alive(t, srv)
}

func TestUnknownCommands(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"FOO"}, "-ERR unknown command 'FOO', with args beginning with: \r\n"},
		{[]string{"foo", "a", "b c"}, "-ERR unknown command 'foo', with args beginning with: 'a' 'b c' \r\n"},
		{[]string{"CONFIG", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"},
		{[]string{"client", "nosuch", "x"}, "-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n"},
		{[]string{"SELECT", "99999999999999999999"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SELECT", "16"}, "-ERR DB index is out of range\r\n"},
		{[]string{"INCRBY", "n", "9223372036854775808"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SET", "n", "9223372036854775807"}, "+OK\r\n"},
		{[]string{"INCR", "n"}, "-ERR increment or decrement would overflow\r\n"},
	}
	for _, tc := range tests {
		if got := c.Do(tc.args...); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
	alive(t, srv)
}

func TestInlineAndPipelineOrder(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Send("PING\r\n\r\n   \r\nSET k \"a b\"\nGET k\r\nECHO 'it''s'\r\n")
	for _, want := range []string{"+PONG\r\n", "+OK\r\n", "$3\r\na b\r\n"} {
		if got := c.ReadReply(); got != want {
			t.Fatalf("inline reply = %q, want %q", got, want)
		}
	}
	if got := c.ReadReply(); !strings.HasPrefix(got, "-ERR Protocol error") && got != "$4\r\nit's\r\n" {
		t.Fatalf("ECHO 'it''s' = %q", got)
	}
	// Reads, writes and errors, pipelined: replies come back in request order.
	d := srv.Dial()
	var b strings.Builder
	var want []string
	for i := 0; i < 200; i++ {
		k := "p" + strconv.Itoa(i/5)
		switch i % 5 {
		case 0:
			b.WriteString("SET " + k + " " + strconv.Itoa(i) + "\r\n")
			want = append(want, "+OK\r\n")
		case 1:
			b.WriteString("GET " + k + "\r\n")
			want = append(want, "$"+strconv.Itoa(len(strconv.Itoa(i-1)))+"\r\n"+strconv.Itoa(i-1)+"\r\n")
		case 2:
			b.WriteString("NOSUCH\r\n")
			want = append(want, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n")
		case 3:
			b.WriteString("INCR " + k + "\r\n")
			want = append(want, ":"+strconv.Itoa(i-2)+"\r\n")
		case 4:
			b.WriteString("INCRBY " + k + " x\r\n")
			want = append(want, "-ERR value is not an integer or out of range\r\n")
		}
	}
	d.Send(b.String())
	for i, w := range want {
		if got := d.ReadReply(); got != w {
			t.Fatalf("pipelined reply %d = %q, want %q", i, got, w)
		}
	}
}

func TestMaxClients(t *testing.T) {
	srv := servertest.Start(t, "--maxclients", "3")
	a, b := srv.Dial(), srv.Dial()
	if a.Do("PING") != "+PONG\r\n" || b.Do("PING") != "+PONG\r\n" {
		t.Fatal("PING failed below maxclients")
	}
	c := srv.Dial()
	c.Do("PING")
	d := srv.Dial()
	if got := readUntilClosed(t, d); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("connection over maxclients got %q", got)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e := srv.Dial()
		e.Send("PING\r\n")
		got, _ := e.ReadAll(200 * time.Millisecond)
		if got == "+PONG\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a slot did not free up after a client left: %q", got)
		}
		e.Close()
	}
}

func TestQueryBufferLimit(t *testing.T) {
	srv := servertest.Start(t, "--client-query-buffer-limit", "1mb")
	c := srv.Dial()
	c.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
	chunk := strings.Repeat("v", 64<<10)
	for i := 0; i < 40; i++ {
		if _, err := c.Write([]byte(chunk)); err != nil {
			break // closed by the server: what we want
		}
	}
	readUntilClosed(t, c)
	alive(t, srv)
	if got := srv.Dial().Do("EXISTS", "k"); got != ":0\r\n" {
		t.Fatalf("EXISTS k = %q", got)
	}
}

func TestRequirePass(t *testing.T) {
	srv := servertest.Start(t, "--requirepass", "s3cret")
	c := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"GET", "k"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"AUTH", "wrong"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"AUTH", "bob", "s3cret"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"HELLO", "3"}, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"},
		{[]string{"AUTH", "s3cret"}, "+OK\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"RESET"}, "+RESET\r\n"},
		{[]string{"PING"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"AUTH", "default", "s3cret"}, "+OK\r\n"},
		{[]string{"AUTH", "a", "b", "c"}, "-ERR syntax error\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	d := srv.Dial()
	if got := d.Do("HELLO", "2", "AUTH", "default", "s3cret"); !strings.HasPrefix(got, "*14\r\n$6\r\nserver\r\n") {
		t.Fatalf("HELLO 2 AUTH = %q", got)
	}
	if got := d.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after HELLO AUTH = %q", got)
	}
	e := srv.Dial()
	if got := e.Do("HELLO", "3", "AUTH", "default", "nope"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Fatalf("HELLO AUTH wrong = %q", got)
	}
	// Without requirepass, AUTH says there is no password.
	open := servertest.Start(t)
	if got := open.Dial().Do("AUTH", "x"); got != "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n" {
		t.Fatalf("AUTH without requirepass = %q", got)
	}
}
