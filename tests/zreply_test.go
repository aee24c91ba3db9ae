package tests

import (
	"bufio"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Compact reply notation for the sorted-set and SORT tests, so an expected reply reads at a
// glance and still pins the RESP type of every element:
//
//	:3          integer             "a"      bulk string (Go-quoted)
//	,1.5        RESP3 double        nil      null bulk ($-1) or RESP3 null (_)
//	nil*        RESP2 null array    +OK      simple string
//	-ERR ...    error               [x y]    array; {k v} map; ~[x] set; #t boolean

// zrender turns a raw RESP reply into the compact notation.
func zrender(raw string) string {
	r := bufio.NewReader(strings.NewReader(raw))
	var b strings.Builder
	zrenderValue(r, &b)
	return b.String()
}

func zrenderValue(r *bufio.Reader, b *strings.Builder) {
	line, err := r.ReadString('\n')
	if err != nil {
		b.WriteString("<truncated>")
		return
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		b.WriteString("<empty>")
		return
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case ':', ',':
		b.WriteString(line)
	case '+', '-', '#':
		b.WriteString(line)
	case '_':
		b.WriteString("nil")
	case '$', '=':
		n, _ := strconv.Atoi(rest)
		if n < 0 {
			b.WriteString("nil")
			return
		}
		data := make([]byte, n+2)
		if _, err := ioFull(r, data); err != nil {
			b.WriteString("<truncated>")
			return
		}
		b.WriteString(strconv.Quote(string(data[:n])))
	case '*', '~', '%', '>':
		n, _ := strconv.Atoi(rest)
		if n < 0 {
			b.WriteString("nil*")
			return
		}
		open, close := "[", "]"
		switch kind {
		case '~':
			open = "~["
		case '%':
			open, close, n = "{", "}", 2*n
		case '>':
			open = ">["
		}
		b.WriteString(open)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			zrenderValue(r, b)
		}
		b.WriteString(close)
	default:
		b.WriteString("<unknown " + line + ">")
	}
}

func ioFull(r *bufio.Reader, buf []byte) (int, error) {
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

// zstep is one command and its expected reply in RESP2 and in RESP3 (want3 empty: the same).
type zstep struct {
	args  []string
	want  string
	want3 string
}

// zcmd splits a command line on spaces; arguments with spaces need zstep.args by hand.
func zcmd(line string) []string { return strings.Fields(line) }

// zrunSteps runs steps in order on a fresh connection speaking proto.
func zrunSteps(t *testing.T, srv *servertest.Server, proto int, steps []zstep) {
	t.Helper()
	conn := srv.Dial()
	if proto == 3 {
		if got := conn.Do("HELLO", "3"); !strings.HasPrefix(got, "%") {
			t.Fatalf("HELLO 3 = %q", got)
		}
	}
	for i, s := range steps {
		want := s.want
		if proto == 3 && s.want3 != "" {
			want = s.want3
		}
		if got := zrender(conn.Do(s.args...)); got != want {
			t.Fatalf("RESP%d step %d %q:\n got %s\nwant %s", proto, i, strings.Join(s.args, " "), got, want)
		}
	}
}

// zrunBoth runs steps in RESP2 and then in RESP3, each on a flushed server.
func zrunBoth(t *testing.T, srv *servertest.Server, steps []zstep) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		if got := srv.Dial().Do("FLUSHALL"); got != "+OK\r\n" {
			t.Fatalf("FLUSHALL = %q", got)
		}
		zrunSteps(t, srv, proto, steps)
	}
}

func TestZRender(t *testing.T) {
	cases := []struct{ raw, want string }{
		{":3\r\n", ":3"},
		{"$1\r\na\r\n", `"a"`},
		{"$-1\r\n", "nil"},
		{"*-1\r\n", "nil*"},
		{"_\r\n", "nil"},
		{",1.5\r\n", ",1.5"},
		{"*2\r\n*2\r\n$1\r\na\r\n,1\r\n$0\r\n\r\n", `[["a" ,1] ""]`},
		{"-ERR x y\r\n", "-ERR x y"},
		{"%1\r\n+k\r\n:1\r\n", "{+k :1}"},
	}
	for _, c := range cases {
		if got := zrender(c.raw); got != c.want {
			t.Fatalf("zrender(%q) = %s, want %s", c.raw, got, c.want)
		}
	}
}
