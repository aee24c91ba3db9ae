package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestProtocolLimitsAndInline covers the protocol errors badinput_test.go leaves out, and
// inline requests quoted as redis-cli would quote them.
func TestProtocolLimitsAndInline(t *testing.T) {
	srv := servertest.Start(t)
	tests := []struct{ in, want string }{
		{"*1048577\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*01\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"*1\r\n$" + strings.Repeat("1", 70_000), "-ERR Protocol error: too big bulk count string\r\n"},
	}
	for _, tt := range tests {
		c := srv.Dial()
		c.Send("PING\r\n" + tt.in)
		got, err := c.ReadAll(10 * time.Second)
		if want := "+PONG\r\n" + tt.want; got != want || err != nil {
			t.Fatalf("after %.30q: got %.200q, %v; want %q and the connection closed", tt.in, got, err, want)
		}
	}
	c := srv.Dial()
	c.Send("SET \"a b\" 'c\\'d'\r\nGET \"a b\"\r\n\r\nECHO \"\\x41\\n\"\r\nECHO a\x00b\r\n")
	for _, want := range []string{"+OK\r\n", "$3\r\nc'd\r\n", "$2\r\nA\n\r\n", "$1\r\na\r\n"} {
		if got := c.ReadReply(); got != want {
			t.Fatalf("inline reply = %q, want %q", got, want)
		}
	}
}
