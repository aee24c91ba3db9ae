package resp

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
)

// readerResult is what one Parse call produced, copied out of the Reader.
type readerResult struct {
	args [][]byte
	n    int
	need int
	err  error
}

func parseOnce(buf []byte) readerResult {
	var r Reader
	args, n, need, err := r.Parse(buf)
	res := readerResult{n: n, need: need, err: err}
	for _, a := range args {
		res.args = append(res.args, append([]byte{}, a...))
	}
	return res
}

func sameArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func encodeRequest(args [][]byte) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

var readerSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n",
	"*0\r\n", "*-1\r\n", "*2\r\n$0\r\n\r\n$1\r\n\x00\r\n",
	"PING\r\n", "set k v\n", "\r\n", `SET "a b\x41\n" 'c\'d'` + "\r\n", `"unbalanced` + "\n", `"a"b` + "\n",
	"*abc\r\n", "*1\r\n+x\r\n", "*1\r\n$-1\r\n", "*1\r\n$4\r\nPINGxx", "*1048577\r\n", "*01\r\n",
	"*2\r\n$3\r\nGET\r\n$3\r\nkey", "a\x00b\n", "*1\r\n$3\r\n\r\n\r\n\r\n",
}

// FuzzReader checks that Parse never panics, that a request parsed from any prefix of its
// bytes is either incomplete (with a need no larger than the request) or the same request, and
// that re-encoding the arguments parses back to them.
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		whole := parseOnce(buf)
		switch {
		case whole.err == nil:
			if whole.n <= 0 || whole.n > len(buf) || whole.need != 0 {
				t.Fatalf("Parse(%q) = n %d, need %d", buf, whole.n, whole.need)
			}
		case errors.Is(whole.err, ErrIncomplete):
			if whole.n != 0 || (whole.need != 0 && whole.need <= len(buf)) {
				t.Fatalf("Parse(%q) incomplete with n %d, need %d", buf, whole.n, whole.need)
			}
		default:
			var pe ProtocolError
			if !errors.As(whole.err, &pe) {
				t.Fatalf("Parse(%q): error %v is neither incomplete nor a protocol error", buf, whole.err)
			}
		}
		// Past the inline limit, how the bytes arrived decides between an error and a request,
		// as in Redis.
		if len(buf) <= MaxInlineLen {
			for k := 0; k < len(buf); k++ {
				part := parseOnce(buf[:k])
				switch {
				case whole.err == nil && k >= whole.n:
					if part.err != nil || part.n != whole.n || !sameArgs(part.args, whole.args) {
						t.Fatalf("Parse(%q) = %q, %v; Parse of the whole %q = %q", buf[:k], part.args, part.err, buf, whole.args)
					}
				case whole.err == nil || errors.Is(whole.err, ErrIncomplete):
					if !errors.Is(part.err, ErrIncomplete) {
						t.Fatalf("Parse(%q) = %v, want incomplete (the whole %q gives %v)", buf[:k], part.err, buf, whole.err)
					}
					if whole.err == nil && part.need > whole.n {
						t.Fatalf("Parse(%q) needs %d, but the request is %d bytes", buf[:k], part.need, whole.n)
					}
				default:
					if !errors.Is(part.err, ErrIncomplete) && part.err.Error() != whole.err.Error() {
						t.Fatalf("Parse(%q) = %v, want incomplete or %v", buf[:k], part.err, whole.err)
					}
				}
			}
		}
		if whole.err == nil && len(whole.args) > 0 {
			enc := encodeRequest(whole.args)
			again := parseOnce(enc)
			if again.err != nil || again.n != len(enc) || !sameArgs(again.args, whole.args) {
				t.Fatalf("re-encoded %q parses as %q, n %d, %v", whole.args, again.args, again.n, again.err)
			}
		}
	})
}
