package resp

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// parseAll parses every request in buf, failing the test on an error or an incomplete tail.
func parseAll(t *testing.T, r *Reader, buf string) [][]string {
	t.Helper()
	var out [][]string
	b := []byte(buf)
	for len(b) > 0 {
		args, n, _, err := r.Parse(b)
		if err != nil {
			t.Fatalf("Parse(%q): %v", b, err)
		}
		out = append(out, strArgs(args))
		b = b[n:]
	}
	return out
}

func strArgs(args [][]byte) []string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = string(a)
	}
	return s
}

func TestReaderMultibulk(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"*1\r\n$4\r\nPING\r\n", []string{"PING"}},
		{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", []string{"SET", "k", ""}},
		{"*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n", []string{"GET", "a\r\nb"}},
		{"*1\r\n$3\r\n\x00\xff\n\r\n", []string{"\x00\xff\n"}},
		{"*0\r\n", []string{}},
		{"*-1\r\n", []string{}},
		{"*-5\r\n", []string{}},
	}
	for _, tt := range tests {
		var r Reader
		args, n, need, err := r.Parse([]byte(tt.in))
		if err != nil || n != len(tt.in) || need != 0 {
			t.Fatalf("Parse(%q) = n %d, need %d, err %v; want n %d", tt.in, n, need, err, len(tt.in))
		}
		if got := strArgs(args); strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Fatalf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReaderPipeline(t *testing.T) {
	var r Reader
	got := parseAll(t, &r, "*1\r\n$4\r\nPING\r\nECHO hi\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\nQUIT\n")
	want := [][]string{{"PING"}, {"ECHO", "hi"}, {}, {"GET", "k"}, {}, {"QUIT"}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range got {
		if strings.Join(got[i], " ") != strings.Join(want[i], " ") || len(got[i]) != len(want[i]) {
			t.Fatalf("request %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestReaderInline checks inline requests against what Redis's sdssplitargs makes of them.
func TestReaderInline(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: unbalanced quotes
	}{
		{"PING\r\n", []string{"PING"}},
		{"PING\n", []string{"PING"}},
		{"  set   k  v \r\n", []string{"set", "k", "v"}},
		{"\t set\tk\t\r\n", []string{"set", "k"}},
		{"\r\n", []string{}},
		{"\n", []string{}},
		{"   \n", []string{}},
		{"a\r\r\n", []string{"a"}},            // only one CR is stripped; the other ends the arg
		{"a\vb \fc\n", []string{"a\vb", "c"}}, // \v and \f separate only leading blanks
		{`set "a b" c` + "\n", []string{"set", "a b", "c"}},
		{`set "" ''` + "\n", []string{"set", "", ""}},
		{`"\n\r\t\b\a\\\"\q"` + "\n", []string{"\n\r\t\b\a\\\"q"}},
		{`"\x41\x4a\x6b\x7A" "\x4" "\xzz" "\x"` + "\n", []string{"AJkz", "x4", "xzz", "x"}},
		{`'a\'b' 'c\d' 'e"f'` + "\n", []string{"a'b", `c\d`, `e"f`}},
		{`foo"bar baz"` + "\n", []string{"foobar baz"}},
		{`a'b c' d` + "\n", []string{"ab c", "d"}},
		{`"a"` + "\n", []string{"a"}},
		{`"a"b` + "\n", nil},
		{`'a'b` + "\n", nil},
		{`"abc` + "\n", nil},
		{`'abc` + "\n", nil},
		{`"abc\"` + "\n", nil},
		{`"abc\` + "\n", nil},
		{"\"a\"\tb\n", []string{"a", "b"}},
		{"\"a\"\v\n", []string{"a"}},
		{"a\x00b c\n", []string{"a"}}, // a NUL ends the C string sdssplitargs reads
		{"\"a\x00b\"\n", nil},
		{"\x00abc\n", []string{}},
	}
	for _, tt := range tests {
		var r Reader
		args, n, _, err := r.Parse([]byte(tt.in))
		if tt.want == nil {
			var pe ProtocolError
			if !errors.As(err, &pe) || pe.Error() != "ERR Protocol error: unbalanced quotes in request" {
				t.Fatalf("Parse(%q) = %q, %v; want unbalanced quotes", tt.in, strArgs(args), err)
			}
			continue
		}
		if err != nil || n != len(tt.in) {
			t.Fatalf("Parse(%q): n %d, err %v", tt.in, n, err)
		}
		got := strArgs(args)
		if len(got) != len(tt.want) || strings.Join(got, "\x01") != strings.Join(tt.want, "\x01") {
			t.Fatalf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReaderProtocolErrors checks every protocol error and its text, which is sent to the
// client before the connection closes.
func TestReaderProtocolErrors(t *testing.T) {
	long := strings.Repeat("x", MaxInlineLen+1)
	tests := []struct {
		in, want string
	}{
		{"*abc\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*1x\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*01\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*+1\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*-0\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*1048577\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*99999999999999999999\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*1\rx", "ERR Protocol error: invalid multibulk length"},
		{"*" + long, "ERR Protocol error: too big mbulk count string"},
		{"*1\r\n+PING\r\n", "ERR Protocol error: expected '$', got '+'"},
		{"*1\r\nPING\r\n", "ERR Protocol error: expected '$', got 'P'"},
		{"*1\r\n\x01", "ERR Protocol error: expected '$', got '\x01'"},
		{"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$04\r\nPING\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$99999999999999999999\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$" + long, "ERR Protocol error: too big bulk count string"},
		{"*1\r\n$4\r\nPINGxx", "ERR Protocol error: invalid bulk format"},
		{long, "ERR Protocol error: too big inline request"},
		{`GET "k` + "\r\n", "ERR Protocol error: unbalanced quotes in request"},
	}
	for _, tt := range tests {
		var r Reader
		_, _, _, err := r.Parse([]byte(tt.in))
		var pe ProtocolError
		if !errors.As(err, &pe) || pe.Error() != tt.want {
			t.Fatalf("Parse(%.40q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// TestReaderLimits checks the edges of the limits: what is exactly at a limit is accepted.
func TestReaderLimits(t *testing.T) {
	r := Reader{MaxBulkLen: 10}
	if _, _, _, err := r.Parse([]byte("*1\r\n$10\r\n0123456789\r\n")); err != nil {
		t.Fatalf("bulk at the limit: %v", err)
	}
	if _, _, _, err := r.Parse([]byte("*1\r\n$11\r\n")); err == nil || err.Error() != "ERR Protocol error: invalid bulk length" {
		t.Fatalf("bulk over the limit: err = %v", err)
	}
	var d Reader
	if _, _, _, err := d.Parse([]byte("*1\r\n$536870912\r\n")); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("bulk of proto-max-bulk-len's default: err = %v, want incomplete", err)
	}
	if _, _, _, err := d.Parse([]byte("*1048576\r\n")); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("1M arguments: err = %v, want incomplete", err)
	}
	inline := strings.Repeat("x", MaxInlineLen)
	if _, _, _, err := d.Parse([]byte(inline)); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("inline of exactly %d bytes without newline: err = %v, want incomplete", MaxInlineLen, err)
	}
	// An inline request longer than the limit is fine once its newline has arrived.
	args, _, _, err := d.Parse([]byte(strings.Repeat("y", MaxInlineLen+10) + "\n"))
	if err != nil || len(args) != 1 || len(args[0]) != MaxInlineLen+10 {
		t.Fatalf("long complete inline request: %d args, err %v", len(args), err)
	}
	if _, _, _, err := d.Parse([]byte("*" + strings.Repeat("1", MaxInlineLen-1))); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("count line at the limit: err = %v, want incomplete", err)
	}
}

// TestReaderNeed checks the hint for incomplete requests: at most the request's length, and
// exact once a bulk header has arrived.
func TestReaderNeed(t *testing.T) {
	req := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n"
	tests := []struct {
		cut, need int
	}{
		{0, 0}, {1, 0}, {3, 0}, {4, 0}, {5, 0}, {7, 0},
		{8, 13}, {12, 13}, {13, 0}, {17, 20}, {20, 0}, {24, 0}, {25, len(req)}, {30, len(req)}, {len(req) - 1, len(req)},
	}
	var r Reader
	for _, tt := range tests {
		_, n, need, err := r.Parse([]byte(req[:tt.cut]))
		if !errors.Is(err, ErrIncomplete) || n != 0 || need != tt.need {
			t.Fatalf("Parse(%q) = n %d, need %d, err %v; want incomplete, need %d", req[:tt.cut], n, need, err, tt.need)
		}
	}
}

// TestReaderReuse checks that a Reader's results stay right across requests of different
// shapes, since it reuses its buffers.
func TestReaderReuse(t *testing.T) {
	var r Reader
	reqs := []string{`SET "a b" c` + "\n", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "x y z w v\n", "*1\r\n$1\r\nq\r\n"}
	want := []string{"SET|a b|c", "GET|k", "x|y|z|w|v", "q"}
	for round := 0; round < 3; round++ {
		for i, req := range reqs {
			args, _, _, err := r.Parse([]byte(req))
			if err != nil || strings.Join(strArgs(args), "|") != want[i] {
				t.Fatalf("round %d, Parse(%q) = %q, %v", round, req, strArgs(args), err)
			}
		}
	}
}

func TestReaderBigArgs(t *testing.T) {
	var r Reader
	v := bytes.Repeat([]byte("v"), 1<<20)
	req := append([]byte("*2\r\n$4\r\nECHO\r\n$"+strconv.Itoa(len(v))+"\r\n"), v...)
	req = append(req, "\r\n"...)
	args, n, _, err := r.Parse(req)
	if err != nil || n != len(req) || !bytes.Equal(args[1], v) {
		t.Fatalf("1 MB argument: n %d, err %v", n, err)
	}
}
