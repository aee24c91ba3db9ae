package tests

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestStringsModel runs random string and bitmap commands against the server and a plain Go
// model of the same keys, so writes in apply and reads on the event loops (and their caches)
// are checked together.
func TestStringsModel(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 4))
	srv := servertest.Start(t)
	c := srv.Dial()
	model := map[string][]byte{}
	keys := []string{"a", "b", "c"}
	values := []string{"", "0", "12", "-7", "abc", "\x00\xff", "9223372036854775800", "hello world"}
	bulk := func(v []byte, ok bool) string {
		if !ok {
			return "$-1\r\n"
		}
		return "$" + strconv.Itoa(len(v)) + "\r\n" + string(v) + "\r\n"
	}
	num := func(n int) string { return ":" + strconv.Itoa(n) + "\r\n" }
	for i := 0; i < 3000; i++ {
		k := keys[r.IntN(len(keys))]
		cur, exists := model[k]
		var args []string
		var want string
		switch r.IntN(12) {
		case 0:
			v := values[r.IntN(len(values))]
			args, want = []string{"set", k, v}, "+OK\r\n"
			model[k] = []byte(v)
		case 1:
			v := values[r.IntN(len(values))]
			model[k] = append(append([]byte{}, cur...), v...)
			args, want = []string{"append", k, v}, num(len(model[k]))
		case 2:
			off, v := r.IntN(40), values[r.IntN(len(values))]
			args = []string{"setrange", k, strconv.Itoa(off), v}
			if v != "" {
				next := append([]byte{}, cur...)
				for len(next) < off+len(v) {
					next = append(next, 0)
				}
				copy(next[off:], v)
				model[k] = next
			}
			want = num(len(model[k]))
		case 3:
			off, b := r.IntN(300), r.IntN(2)
			args = []string{"setbit", k, strconv.Itoa(off), strconv.Itoa(b)}
			next := append([]byte{}, cur...)
			for len(next) <= off/8 {
				next = append(next, 0)
			}
			mask := byte(1) << (7 - off%8)
			want = num(int(next[off/8]&mask) >> (7 - off%8))
			if b == 1 {
				next[off/8] |= mask
			} else {
				next[off/8] &^= mask
			}
			model[k] = next
		case 4:
			n := r.IntN(200) - 100
			args = []string{"incrby", k, strconv.Itoa(n)}
			v, err := strconv.ParseInt(string(cur), 10, 64)
			sum := v + int64(n)
			switch {
			case !exists:
				model[k] = []byte(strconv.Itoa(n))
				want = num(n)
			case err != nil || strconv.FormatInt(v, 10) != string(cur):
				want = "-ERR value is not an integer or out of range\r\n"
			case (n > 0 && sum < v) || (n < 0 && sum > v):
				want = "-ERR increment or decrement would overflow\r\n"
			default:
				model[k] = []byte(strconv.FormatInt(sum, 10))
				want = ":" + string(model[k]) + "\r\n"
			}
		case 5:
			args, want = []string{"get", k}, bulk(cur, exists)
		case 6:
			args, want = []string{"strlen", k}, num(len(cur))
		case 7:
			s, e := r.IntN(41)-20, r.IntN(41)-20
			args, want = []string{"getrange", k, strconv.Itoa(s), strconv.Itoa(e)}, bulk(modelRange(cur, s, e), true)
		case 8:
			off := r.IntN(300)
			bit := 0
			if off/8 < len(cur) {
				bit = int(cur[off/8]>>(7-off%8)) & 1
			}
			args, want = []string{"getbit", k, strconv.Itoa(off)}, num(bit)
		case 9:
			n := 0
			for _, b := range cur {
				n += bits.OnesCount8(b)
			}
			args, want = []string{"bitcount", k}, num(n)
		case 10:
			args, want = []string{"getdel", k}, bulk(cur, exists)
			delete(model, k)
		case 11:
			v := values[r.IntN(len(values))]
			args, want = []string{"getset", k, v}, bulk(cur, exists)
			model[k] = []byte(v)
		}
		if got := c.Do(args...); got != want {
			t.Fatalf("step %d: %s = %q, want %q", i, strings.Join(args, " "), got, want)
		}
	}
}

// modelRange is GETRANGE as documented: negative indexes from the end, clamped, and empty when
// both are negative with start after end.
func modelRange(s []byte, start, end int) []byte {
	n := len(s)
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), min(max(end, 0), n-1)
	if start > end || n == 0 {
		return nil
	}
	return s[start : end+1]
}
