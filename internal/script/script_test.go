package script

import (
	"context"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/resp"
)

// fakeHost answers a few commands from a map, as a server would in RESP2 or RESP3.
type fakeHost struct{ data map[string]string }

func (h *fakeHost) Call(args [][]byte, proto int) []byte {
	w := resp.Writer{Proto: proto}
	switch strings.ToLower(string(args[0])) {
	case "set":
		if len(args) != 3 {
			w.Error("ERR Wrong number of args calling Redis command from script")
			break
		}
		h.data[string(args[1])] = string(args[2])
		w.OK()
	case "get":
		if v, ok := h.data[string(args[1])]; ok {
			w.BulkString(v)
		} else {
			w.Null()
		}
	case "incr":
		w.Error("ERR value is not an integer or out of range")
	case "hgetall":
		w.Map(1)
		w.BulkString("f")
		w.BulkString("v")
	default:
		w.Error("ERR Unknown Redis command called from script")
	}
	return w.Buf
}

func eval(t *testing.T, body string, proto int, keys ...string) string {
	t.Helper()
	e := NewEngine()
	w := resp.Writer{Proto: proto}
	var k [][]byte
	for _, s := range keys {
		k = append(k, []byte(s))
	}
	e.Eval(context.Background(), &w, []byte(body), Request{Host: &fakeHost{data: map[string]string{"s": "x"}}, Keys: k, Proto: proto})
	return string(w.Buf)
}

// The expected replies are redis-server 7.0.15's.
func TestEvalReplies(t *testing.T) {
	for _, tc := range []struct {
		body  string
		proto int
		want  string
	}{
		{"return 1", 2, ":1\r\n"},
		{"return 3.99", 2, ":3\r\n"},
		{"return -3.99", 2, ":-3\r\n"},
		{"return 'x'", 2, "$1\r\nx\r\n"},
		{"return true", 2, ":1\r\n"},
		{"return false", 2, "$-1\r\n"},
		{"return nil", 2, "$-1\r\n"},
		{"return {1,2,nil,3}", 2, "*2\r\n:1\r\n:2\r\n"},
		{"return {1,{2,3},'x',{ok='yo'},{err='bb'}}", 2, "*5\r\n:1\r\n*2\r\n:2\r\n:3\r\n$1\r\nx\r\n+yo\r\n-bb\r\n"},
		{"return {err='bad thing'}", 2, "-bad thing\r\n"},
		{"return redis.error_reply('x y')", 2, "-x y\r\n"},
		{"return redis.status_reply('FINE')", 2, "+FINE\r\n"},
		{"return {double=3.5}", 3, ",3.5\r\n"},
		{"return {map={a=1}}", 3, "%1\r\n$1\r\na\r\n:1\r\n"},
		{"return {set={a=true}}", 3, "~1\r\n$1\r\na\r\n"},
		{"return {big_number='123'}", 3, "(123\r\n"},
		{"return false", 3, "_\r\n"},
		{"redis.setresp(3); return redis.call('hgetall','h')", 3, "%1\r\n$1\r\nf\r\n$1\r\nv\r\n"},
		{"redis.setresp(3); return type(redis.call('get','nokey'))", 3, "$3\r\nnil\r\n"},
		{"return type(redis.call('get','nokey'))", 2, "$7\r\nboolean\r\n"},
		{"return redis.call('get', KEYS[1])", 2, "$1\r\nx\r\n"},
		{"return redis.pcall('incr','s')", 2, "-ERR value is not an integer or out of range\r\n"},
		{"return tostring(math.random())", 2, "$16\r\n0.17082803611217\r\n"},
		{"return tostring(0.1+0.2)", 2, "$3\r\n0.3\r\n"},
		{"return redis.sha1hex('')", 2, "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"},
		{"return redis.REDIS_VERSION_NUM", 2, ":458767\r\n"},
		{"return cjson.encode({1,2,{a=1}})", 2, "$13\r\n[1,2,{\"a\":1}]\r\n"},
		{"return cjson.encode({a='x', b=1.5})", 2, "$17\r\n{\"a\":\"x\",\"b\":1.5}\r\n"},
		{"return cjson.decode('[1,{\"a\":\"b\"}]')[2].a", 2, "$1\r\nb\r\n"},
		{"return cmsgpack.pack({1,2,'a'})", 2, "$5\r\n\x93\x01\x02\xa1a\r\n"},
		{"local a, b = cmsgpack.unpack(cmsgpack.pack({1,2,'a'}, 300)) return {a[3], b}", 2, "*2\r\n$1\r\na\r\n:300\r\n"},
		{"return bit.band(7,3)", 2, ":3\r\n"},
		{"return bit.tohex(255)", 2, "$8\r\n000000ff\r\n"},
		{"return bit.bnot(0)", 2, ":-1\r\n"},
		{"return struct.pack('>I2',258)", 2, "$2\r\n\x01\x02\r\n"},
		{"return {struct.unpack('<i4', struct.pack('<i4', -5))}", 2, "*2\r\n:-5\r\n:5\r\n"},
		{"return type(unpack)..type(loadstring)", 2, "$16\r\nfunctionfunction\r\n"},
	} {
		if got := eval(t, tc.body, tc.proto, "s"); got != tc.want {
			t.Errorf("%s (RESP%d): got %q, want %q", tc.body, tc.proto, got, tc.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	sha := func(b string) string { return SHA1Hex([]byte(b)) }
	for _, tc := range []struct{ body, want string }{
		{"return foo", "-ERR user_script:1: Script attempted to access nonexistent global variable 'foo' script: " + sha("return foo") + ", on @user_script:1.\r\n"},
		{"foo = 1", "-ERR user_script:1: Attempt to modify a readonly table script: " + sha("foo = 1") + ", on @user_script:1.\r\n"},
		{"return redis.call('nosuch')", "-ERR Unknown Redis command called from script script: " + sha("return redis.call('nosuch')") + ", on @user_script:1.\r\n"},
		{"error('boom')", "-ERR user_script:1: boom script: " + sha("error('boom')") + ", on @user_script:1.\r\n"},
		{"error({err='MY err'})", "-MY err script: " + sha("error({err='MY err'})") + ", on @user_script:1.\r\n"},
		{"\n\nreturn redis.call('incr','s')", "-ERR value is not an integer or out of range script: " + sha("\n\nreturn redis.call('incr','s')") + ", on @user_script:3.\r\n"},
		{"return redis.call()", "-ERR Please specify at least one argument for this redis lib call script: " + sha("return redis.call()") + ", on @user_script:1.\r\n"},
		{"return redis.call({})", "-ERR Lua redis lib command arguments must be strings or integers script: " + sha("return redis.call({})") + ", on @user_script:1.\r\n"},
		{"return redis.setresp(4)", "-ERR user_script:1: RESP version must be 2 or 3. script: " + sha("return redis.setresp(4)") + ", on @user_script:1.\r\n"},
		{"return os.time()", "-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: " + sha("return os.time()") + ", on @user_script:1.\r\n"},
		{"return dofile('/etc/passwd')", "-ERR user_script:1: Script attempted to access nonexistent global variable 'dofile' script: " + sha("return dofile('/etc/passwd')") + ", on @user_script:1.\r\n"},
	} {
		if got := eval(t, tc.body, 2); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.body, got, tc.want)
		}
	}
	if got := eval(t, "syntax error here", 2); !strings.HasPrefix(got, "-ERR Error compiling script (new function): user_script:1:") {
		t.Errorf("compile error: %q", got)
	}
}
