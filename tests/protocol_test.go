package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestProtocolErrors sends malformed requests: each gets Redis's error text, after the replies
// to the requests before it, and then the connection is closed.
func TestProtocolErrors(t *testing.T) {
	srv := servertest.Start(t)
	tests := []struct{ in, want string }{
		{"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1048577\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"GET \"k\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{strings.Repeat("x", 70_000), "-ERR Protocol error: too big inline request\r\n"},
		{"*1\r\n$" + strings.Repeat("1", 70_000), "-ERR Protocol error: too big bulk count string\r\n"},
		{"*" + strings.Repeat("1", 70_000), "-ERR Protocol error: too big mbulk count string\r\n"},
	}
	for _, tt := range tests {
		c := srv.Dial()
		c.Send("PING\r\n" + tt.in)
		got, err := c.ReadAll(10 * time.Second)
		if want := "+PONG\r\n" + tt.want; got != want || err != nil {
			t.Fatalf("after %.30q: got %.200q, %v; want %q and the connection closed", tt.in, got, err, want)
		}
	}
	// Inline requests split arguments as redis-cli would quote them.
	c := srv.Dial()
	c.Send("SET \"a b\" 'c\\'d'\r\nGET \"a b\"\r\n\r\nECHO \"\\x41\\n\"\r\n")
	for _, want := range []string{"+OK\r\n", "$3\r\nc'd\r\n", "$2\r\nA\n\r\n"} {
		if got := c.ReadReply(); got != want {
			t.Fatalf("inline reply = %q, want %q", got, want)
		}
	}
}
