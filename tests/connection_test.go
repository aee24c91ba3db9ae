package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestHello(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	tests := []struct {
		args []string
		want string // prefix
	}{
		{[]string{"HELLO"}, "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"},
		{[]string{"HELLO", "4"}, "-NOPROTO unsupported protocol version\r\n"},
		{[]string{"HELLO", "1"}, "-NOPROTO unsupported protocol version\r\n"},
		{[]string{"HELLO", "abc"}, "-ERR Protocol version is not an integer or out of range\r\n"},
		{[]string{"HELLO", "3", "FOO"}, "-ERR Syntax error in HELLO option 'FOO'\r\n"},
		{[]string{"HELLO", "3", "SETNAME", "a b"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"HELLO", "3", "SETNAME", "conn1"}, "%7\r\n$6\r\nserver\r\n"},
		{[]string{"CLIENT", "GETNAME"}, "$5\r\nconn1\r\n"},
		{[]string{"HELLO", "2"}, "*14\r\n"},
	}
	for _, tc := range tests {
		if got := c.Do(tc.args...); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v = %q, want prefix %q", tc.args, got, tc.want)
		}
	}
	got := c.Do("HELLO", "3")
	for _, field := range []string{"$5\r\nproto\r\n:3\r\n", "$4\r\nmode\r\n$10\r\nstandalone\r\n", "$4\r\nrole\r\n$6\r\nmaster\r\n", "$7\r\nmodules\r\n*0\r\n"} {
		if !strings.Contains(got, field) {
			t.Errorf("HELLO 3 = %q lacks %q", got, field)
		}
	}
}

func TestConnectionCommands(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"PING", "hi"}, "$2\r\nhi\r\n"},
		{[]string{"ECHO", "x y"}, "$3\r\nx y\r\n"},
		{[]string{"SET", "a", "1"}, "+OK\r\n"},
		{[]string{"SELECT", "1"}, "+OK\r\n"},
		{[]string{"GET", "a"}, "$-1\r\n"},
		{[]string{"SET", "b", "2"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":1\r\n"},
		{[]string{"SWAPDB", "0", "1"}, "+OK\r\n"},
		{[]string{"GET", "a"}, "$1\r\n1\r\n"},
		{[]string{"SWAPDB", "0", "x"}, "-ERR invalid second DB index\r\n"},
		{[]string{"SWAPDB", "0", "16"}, "-ERR DB index is out of range\r\n"},
		{[]string{"FLUSHDB", "ASYNC"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":0\r\n"},
		{[]string{"FLUSHDB", "LATER"}, "-ERR syntax error\r\n"},
		{[]string{"SELECT", "0"}, "+OK\r\n"},
		{[]string{"GET", "b"}, "$1\r\n2\r\n"},
		{[]string{"FLUSHALL", "SYNC"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":0\r\n"},
		{[]string{"SAVE"}, "+OK\r\n"},
		{[]string{"BGSAVE"}, "+Background saving started\r\n"},
		{[]string{"BGSAVE", "SCHEDULE"}, "+Background saving started\r\n"},
		{[]string{"SHUTDOWN", "ABORT"}, "-ERR No shutdown in progress.\r\n"},
		{[]string{"SHUTDOWN", "MAYBE"}, "-ERR syntax error\r\n"},
		{[]string{"RESET"}, "+RESET\r\n"},
		{[]string{"QUIT"}, "+OK\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	if got, _ := c.ReadAll(5 * time.Second); got != "" {
		t.Fatalf("after QUIT got %q, want the connection closed", got)
	}
	d := srv.Dial()
	tm := d.Do("TIME")
	if !regexp.MustCompile(`^\*2\r\n\$10\r\n\d{10}\r\n\$\d+\r\n\d{1,6}\r\n$`).MatchString(tm) {
		t.Fatalf("TIME = %q", tm)
	}
	ls := d.Do("LASTSAVE")
	n, _ := strconv.ParseInt(strings.Trim(ls, ":\r\n"), 10, 64)
	if now := time.Now().Unix(); n < now-60 || n > now+1 {
		t.Fatalf("LASTSAVE = %q, now %d", ls, now)
	}
	// SHUTDOWN NOSAVE stops the server.
	d.Send("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
	deadline := time.Now().Add(15 * time.Second)
	for !srv.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("server still running 15s after SHUTDOWN")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var clientLineRE = regexp.MustCompile(`^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=\w+ db=\d+ sub=0 psub=0 ssub=0 multi=-?\d+ watch=\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=\S+ user=default redir=-1 resp=[23] lib-name=\S* lib-ver=\S* io-thread=0$`)

func TestClientCommands(t *testing.T) {
	srv := servertest.Start(t)
	c, other := srv.Dial(), srv.Dial()
	id := strings.Trim(c.Do("CLIENT", "ID"), ":\r\n")
	otherID := strings.Trim(other.Do("CLIENT", "ID"), ":\r\n")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "GETNAME"}, "$-1\r\n"},
		{[]string{"CLIENT", "SETNAME", "a b"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETNAME", "worker"}, "+OK\r\n"},
		{[]string{"CLIENT", "GETNAME"}, "$6\r\nworker\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "mylib"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "1.2"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "1 2"}, "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "color", "x"}, "-ERR Unrecognized option 'color'\r\n"},
		{[]string{"CLIENT", "NO-EVICT", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "LIST", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'\r\n"},
		{[]string{"CLIENT", "LIST", "TYPE", "pubsub"}, "$0\r\n\r\n"},
		{[]string{"CLIENT", "LIST", "ID", "0"}, "-ERR Invalid client ID\r\n"},
		{[]string{"CLIENT", "LIST", "FOO"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "KILL", "1.2.3.4:5"}, "-ERR No such client\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "0"}, "-ERR client-id should be greater than 0\r\n"},
		{[]string{"CLIENT", "KILL", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'\r\n"},
		{[]string{"CLIENT", "KILL", "USER", "bob"}, "-ERR No such user 'bob'\r\n"},
		{[]string{"CLIENT", "KILL", "MAXAGE", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"CLIENT", "KILL", "ID"}, "-ERR No such client\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "1", "SKIPME"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "KILL", "ID", id}, ":0\r\n"}, // SKIPME yes by default
		{[]string{"CLIENT", "PAUSE", "abc"}, "-ERR timeout is not an integer or out of range\r\n"},
		{[]string{"CLIENT", "PAUSE", "-1"}, "-ERR timeout is negative\r\n"},
		{[]string{"CLIENT", "PAUSE", "10", "READ"}, "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	info := c.Do("CLIENT", "INFO")
	line := strings.TrimSuffix(info[strings.Index(info, "\r\n")+2:], "\n\r\n")
	if !clientLineRE.MatchString(line) {
		t.Fatalf("CLIENT INFO line = %q", line)
	}
	for _, f := range []string{"id=" + id + " ", " name=worker ", " flags=e ", " cmd=client|info ", " lib-name=mylib ", " lib-ver=1.2 ", " resp=2 "} {
		if !strings.Contains(line, f) {
			t.Errorf("CLIENT INFO %q lacks %q", line, f)
		}
	}
	list := c.Do("CLIENT", "LIST")
	lines := strings.Split(strings.TrimSuffix(list[strings.Index(list, "\r\n")+2:], "\n\r\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST has %d lines: %q", len(lines), list)
	}
	for _, l := range lines {
		if !clientLineRE.MatchString(l) {
			t.Errorf("CLIENT LIST line = %q", l)
		}
	}
	if got := c.Do("CLIENT", "LIST", "ID", otherID, "999"); !strings.Contains(got, "id="+otherID+" ") || strings.Contains(got, "id="+id+" ") {
		t.Fatalf("CLIENT LIST ID %s = %q", otherID, got)
	}
	// MULTI shows in the other client's line.
	other.Do("MULTI")
	other.Do("SET", "k", "v")
	if got := c.Do("CLIENT", "LIST", "ID", otherID); !strings.Contains(got, " flags=x ") || !strings.Contains(got, " multi=1 ") {
		t.Fatalf("CLIENT LIST of a client in MULTI = %q", got)
	}
	if got := c.Do("CLIENT", "KILL", "ID", otherID); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL ID = %q", got)
	}
	if got, _ := other.ReadAll(5 * time.Second); got != "" {
		t.Fatalf("killed client read %q", got)
	}
	// Old form, by address.
	third := srv.Dial()
	third.Do("PING")
	if got := c.Do("CLIENT", "KILL", third.LocalAddr().String()); got != "+OK\r\n" {
		t.Fatalf("CLIENT KILL addr = %q", got)
	}
	// SKIPME no kills the caller too, after its reply.
	if got := c.Do("CLIENT", "KILL", "ID", id, "SKIPME", "no"); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL own ID SKIPME no = %q", got)
	}
	if got, _ := c.ReadAll(5 * time.Second); got != "" {
		t.Fatalf("self-killed client read %q", got)
	}
	alive(t, srv)
}

func TestClientReply(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Send("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n" +
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" + // a write, reply dropped
		"*2\r\n$3\r\nGET\r\n$1\r\na\r\n" + // a read, reply dropped
		"*1\r\n$3\r\nFOO\r\n" + // an error, dropped
		"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n" +
		"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n" +
		"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n" + // skipped
		"*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
	for _, want := range []string{"+OK\r\n", "$1\r\n2\r\n"} {
		if got := c.ReadReply(); got != want {
			t.Fatalf("reply = %q, want %q", got, want)
		}
	}
}

func TestClientPause(t *testing.T) {
	srv := servertest.Start(t)
	admin, w := srv.Dial(), srv.Dial()
	noReply := func(c *servertest.Conn) {
		t.Helper()
		if got, _ := c.ReadAll(300 * time.Millisecond); got != "" {
			t.Fatalf("paused client got %q before the pause ended", got)
		}
	}
	if got := admin.Do("CLIENT", "PAUSE", "60000", "WRITE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE = %q", got)
	}
	if got := w.Do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("GET during a WRITE pause = %q", got)
	}
	w.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	noReply(w)
	if got := admin.Do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("the paused SET ran: GET = %q", got)
	}
	if got := admin.Do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT UNPAUSE = %q", got)
	}
	for _, want := range []string{"+OK\r\n", "$1\r\nv\r\n"} {
		if got := w.ReadReply(); got != want {
			t.Fatalf("after UNPAUSE reply = %q, want %q", got, want)
		}
	}
	// ALL holds reads too, until the timeout ends the pause.
	admin.Do("CLIENT", "PAUSE", "700", "ALL")
	start := time.Now()
	if got := w.Do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET after an ALL pause = %q", got)
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("GET answered %v into a 700 ms ALL pause", el)
	}
}

func TestMonitor(t *testing.T) {
	srv := servertest.Start(t, "--requirepass", "pw")
	m, c := srv.Dial(), srv.Dial()
	m.Do("AUTH", "pw")
	if got := m.Do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	c.Do("AUTH", "pw")
	c.Do("SET", "k", "a\"b\n\x01")
	c.Do("CONFIG", "GET", "maxclients") // admin: not shown
	c.Do("SELECT", "2")
	c.Do("GET", "k")
	want := []string{
		`^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "AUTH" "\(redacted\)"\r\n$`,
		`^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "k" "a\\"b\\n\\x01"\r\n$`,
		`^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SELECT" "2"\r\n$`,
		`^\+\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "GET" "k"\r\n$`,
	}
	for _, re := range want {
		got := m.ReadReply()
		if !regexp.MustCompile(re).MatchString(got) {
			t.Fatalf("MONITOR line = %q, want %s", got, re)
		}
	}
	if got := m.Do("GET", "k"); got != "-ERR Replica can't interact with the keyspace\r\n" {
		t.Fatalf("GET from a monitor = %q", got)
	}
}

func TestDebugAndScripting(t *testing.T) {
	off := servertest.Start(t)
	if got := off.Dial().Do("DEBUG", "SLEEP", "0"); !strings.HasPrefix(got, "-ERR DEBUG command not allowed.") {
		t.Fatalf("DEBUG without enable-debug-command = %q", got)
	}
	srv := servertest.Start(t, "--enable-debug-command", "yes")
	c := srv.Dial()
	c.Do("SET", "s", "hello")
	c.Do("SET", "n", "12")
	for _, tc := range []struct{ key, enc string }{{"s", "embstr"}, {"n", "int"}} {
		got := c.Do("DEBUG", "OBJECT", tc.key)
		re := `^\+Value at:0x[0-9a-f]+ refcount:1 encoding:` + tc.enc + ` serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+\r\n$`
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("DEBUG OBJECT %s = %q", tc.key, got)
		}
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"DEBUG", "OBJECT", "nosuch"}, "-ERR no such key\r\n"},
		{[]string{"DEBUG", "NOSUCH"}, "-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.\r\n"},
		{[]string{"DEBUG", "RELOAD"}, "-ERR DEBUG RELOAD is not supported by cairn\r\n"},
		{[]string{"FUNCTION", "LIST"}, "*0\r\n"},
		{[]string{"FUNCTION", "LIST", "LIBRARYNAME", "x", "WITHCODE"}, "*0\r\n"},
		{[]string{"FUNCTION", "LIST", "foo"}, "-ERR Unknown argument foo\r\n"},
		{[]string{"FUNCTION", "FLUSH"}, "+OK\r\n"},
		{[]string{"FUNCTION", "FLUSH", "bad"}, "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n"},
		{[]string{"FUNCTION", "STATS"}, "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:0\r\n$15\r\nfunctions_count\r\n:0\r\n"},
		// RDB version 10 and its CRC-64: what redis-server 7.0.15 answers, byte for byte.
		{[]string{"FUNCTION", "DUMP"}, "$10\r\n\x0a\x00" + "]\x9b\\@\x0f\x7f\xa2\xda" + "\r\n"},
		{[]string{"FUNCTION", "LOAD", "#!lua name=x\nreturn 1"}, "-ERR No functions registered\r\n"},
		{[]string{"EVAL", "return 1", "0"}, ":1\r\n"},
		{[]string{"EVALSHA_RO", "abc", "0"}, "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		{[]string{"FCALL", "f", "0"}, "-ERR Function not found\r\n"},
		{[]string{"SCRIPT", "FLUSH"}, "+OK\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Errorf("%q = %q, want %q", st.args, got, st.want)
		}
	}
	// DEBUG SLEEP delays its own connection only.
	slow := srv.Dial()
	slow.Send("*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n0.5\r\n*1\r\n$4\r\nPING\r\n")
	start := time.Now()
	if got := c.Do("PING"); got != "+PONG\r\n" || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("another client's PING during DEBUG SLEEP = %q after %v", got, time.Since(start))
	}
	if got := slow.ReadReply(); got != "+OK\r\n" {
		t.Fatalf("DEBUG SLEEP = %q", got)
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Fatalf("DEBUG SLEEP 0.5 answered after %v", time.Since(start))
	}
	if got := slow.ReadReply(); got != "+PONG\r\n" {
		t.Fatalf("PING after DEBUG SLEEP = %q", got)
	}
}
