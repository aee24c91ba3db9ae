package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Helpers of the hash and set tests: replies are compared byte for byte with what Redis sends,
// in RESP2 and RESP3.

// colStep is one command and the exact reply expected in RESP2 and, if it differs, in RESP3.
type colStep struct {
	args         []string
	want2, want3 string
}

func colDo(want string, args ...string) colStep { return colStep{args: args, want2: want} }

func colDo23(want2, want3 string, args ...string) colStep {
	return colStep{args: args, want2: want2, want3: want3}
}

// colRun runs steps on a fresh server for each protocol.
func colRun(t *testing.T, steps []colStep) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := colDial(t, servertest.Start(t), proto)
			for _, s := range steps {
				want := s.want2
				if proto == 3 && s.want3 != "" {
					want = s.want3
				}
				if got := c.Do(s.args...); got != want {
					t.Fatalf("%s = %q, want %q", strings.Join(s.args, " "), got, want)
				}
			}
		})
	}
}

// colDial opens a raw connection speaking proto.
func colDial(t *testing.T, srv *servertest.Server, proto int) *servertest.Conn {
	t.Helper()
	c := srv.Dial()
	if proto == 3 {
		if got := c.Do("HELLO", "3"); !strings.HasPrefix(got, "%") {
			t.Fatalf("HELLO 3 = %q", got)
		}
	}
	return c
}

func colInt(n int64) string     { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func colErr(msg string) string  { return "-" + msg + "\r\n" }
func colBulk(s string) string   { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func colStatus(s string) string { return "+" + s + "\r\n" }

const (
	colNull2 = "$-1\r\n"
	colNull3 = "_\r\n"
	colOK    = "+OK\r\n"
)

func colAgg(kind byte, n int, items []string) string {
	return string(kind) + strconv.Itoa(n) + "\r\n" + strings.Join(items, "")
}

// colArr is an array of replies; colBulks an array of bulk strings.
func colArr(items ...string) string { return colAgg('*', len(items), items) }
func colBulks(items ...string) string {
	b := make([]string, len(items))
	for i, s := range items {
		b[i] = colBulk(s)
	}
	return colArr(b...)
}

// colSet3 and colMap3 are RESP3 sets and maps of bulk strings (a map given as key, value, ...).
func colSet3(items ...string) string {
	b := make([]string, len(items))
	for i, s := range items {
		b[i] = colBulk(s)
	}
	return colAgg('~', len(b), b)
}

func colMap3(kv ...string) string {
	b := make([]string, len(kv))
	for i, s := range kv {
		b[i] = colBulk(s)
	}
	return colAgg('%', len(b)/2, b)
}

func colInts(ns ...int64) string {
	b := make([]string, len(ns))
	for i, n := range ns {
		b[i] = colInt(n)
	}
	return colArr(b...)
}

func colWrongArgs(cmd string) string {
	return colErr("ERR wrong number of arguments for '" + cmd + "' command")
}

const colWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

// colValue is a parsed reply, for checks on replies whose content is random.
type colValue struct {
	kind  byte // the RESP type byte
	str   string
	n     int64
	items []colValue
}

// colParse parses one raw reply.
func colParse(t *testing.T, raw string) colValue {
	t.Helper()
	v, rest, err := colParseRESP(raw)
	if err != nil || rest != "" {
		t.Fatalf("parsing %q: %v (left %q)", raw, err, rest)
	}
	return v
}

func colParseRESP(s string) (colValue, string, error) {
	i := strings.Index(s, "\r\n")
	if i < 1 {
		return colValue{}, s, fmt.Errorf("no line")
	}
	kind, line, rest := s[0], s[1:i], s[i+2:]
	v := colValue{kind: kind}
	switch kind {
	case '+', '-':
		v.str = line
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return v, s, err
		}
		v.n = n
	case '_':
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil {
			return v, s, err
		}
		if n < 0 {
			v.kind = '_'
			return v, rest, nil
		}
		if len(rest) < n+2 {
			return v, s, fmt.Errorf("short bulk")
		}
		v.str, rest = rest[:n], rest[n+2:]
	case '*', '~', '%':
		n, err := strconv.Atoi(line)
		if err != nil {
			return v, s, err
		}
		if kind == '%' {
			n *= 2
		}
		for range n {
			var item colValue
			if item, rest, err = colParseRESP(rest); err != nil {
				return v, s, err
			}
			v.items = append(v.items, item)
		}
	default:
		return v, s, fmt.Errorf("unknown type %q", kind)
	}
	return v, rest, nil
}

// strs returns the bulk strings of an aggregate.
func (v colValue) strs(t *testing.T) []string {
	t.Helper()
	out := make([]string, len(v.items))
	for i, it := range v.items {
		if it.kind != '$' {
			t.Fatalf("item %d of the reply is %q, not a bulk string", i, it.kind)
		}
		out[i] = it.str
	}
	return out
}
