package resp

import (
	"strings"
	"testing"
)

func TestValueLen(t *testing.T) {
	for _, v := range []string{
		"+OK\r\n", "-ERR x\r\n", ":12\r\n", "$3\r\nabc\r\n", "$-1\r\n", "_\r\n", ",1.5\r\n", "#t\r\n",
		"*2\r\n$1\r\na\r\n:1\r\n", "*-1\r\n", "*0\r\n", "%1\r\n+k\r\n*1\r\n$1\r\nv\r\n",
		"=7\r\ntxt:abc\r\n", "*2\r\n*1\r\n$-1\r\n~1\r\n+x\r\n",
	} {
		n, ok := ValueLen([]byte(v + "+tail\r\n"))
		if !ok || n != len(v) {
			t.Fatalf("ValueLen(%q) = %d, %v; want %d", v, n, ok, len(v))
		}
		if _, ok := ValueLen([]byte(v[:len(v)-1])); ok {
			t.Fatalf("ValueLen of a cut %q succeeded", v)
		}
	}
	elems, ok := ArrayElems([]byte("*3\r\n$1\r\na\r\n$-1\r\n_\r\n"))
	if !ok || strings.Join(toStrings(elems), "|") != "$1\r\na\r\n|$-1\r\n|_\r\n" {
		t.Fatalf("ArrayElems = %q, %v", elems, ok)
	}
	if _, ok := ArrayElems([]byte("-CROSSSLOT x\r\n")); ok {
		t.Fatal("ArrayElems took an error reply for an array")
	}
}

func toStrings(b [][]byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = string(x)
	}
	return out
}
