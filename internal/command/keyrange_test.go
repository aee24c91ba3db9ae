package command

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/cairn-db/cairn/internal/resp"
)

// parseBulkArray reads a reply that is an array of bulk strings.
func parseBulkArray(t *testing.T, reply string) []string {
	t.Helper()
	var rd resp.Reader
	items, _, _, err := rd.Parse([]byte(reply))
	if err != nil {
		t.Fatalf("reply %q: %v", reply, err)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it)
	}
	return out
}

// TestKeyRangeModel compares KEYRANGE with a sorted model of the keys, over bounds inside one
// hash tag (one slot) and across slots, inclusive and exclusive, forward and reverse, paged.
func TestKeyRangeModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	h := newHarness(t)
	live := map[string]bool{}
	for i := 0; i < 400; i++ {
		var k string
		if rng.IntN(2) == 0 {
			k = fmt.Sprintf("{u%d}:%03d", rng.IntN(3), rng.IntN(100))
		} else {
			k = fmt.Sprintf("k%03d", rng.IntN(300))
		}
		switch rng.IntN(10) {
		case 0:
			h.do("DEL", k)
			delete(live, k)
		case 1:
			h.do("SET", k, "v", "PX", "1") // expires before the reads below
			delete(live, k)
		case 2:
			h.do("DEL", k)
			h.do("RPUSH", k, "x")
			live[k] = true
		default:
			h.do("SET", k, "v"+k)
			live[k] = true
		}
	}
	h.now += 10
	var model []string
	for k := range live {
		model = append(model, k)
	}
	slices.Sort(model)
	pick := func() string {
		switch rng.IntN(6) {
		case 0:
			return "-"
		case 1:
			return "+"
		case 2:
			return fmt.Sprintf("{u%d}:%03d", rng.IntN(3), rng.IntN(100))
		}
		if rng.IntN(2) == 0 {
			return "(" + fmt.Sprintf("k%03d", rng.IntN(300))
		}
		return fmt.Sprintf("k%03d", rng.IntN(300))
	}
	for round := 0; round < 300; round++ {
		a, b := pick(), pick()
		if rng.IntN(2) == 0 && round%3 == 0 {
			tag := fmt.Sprintf("{u%d}:", rng.IntN(3))
			a, b = tag+strconv.Itoa(rng.IntN(100)), tag+strconv.Itoa(rng.IntN(100))
		}
		rev := rng.IntN(2) == 0
		args := []string{"KEYRANGE", a, b}
		if rev {
			args = append(args, "REV")
		}
		got := parseBulkArray(t, h.do(args...))
		want := modelRange(model, a, b, rev)
		if !slices.Equal(got, want) {
			t.Fatalf("%q:\n got  %q\n want %q", args, got, want)
		}
		// Paged in pages of 7 gives the same keys.
		var paged []string
		from := a
		for {
			page := parseBulkArray(t, h.do(append([]string{"KEYRANGE", from, b, "LIMIT", "7"}, args[3:]...)...))
			paged = append(paged, page...)
			if len(page) < 7 {
				break
			}
			from = "(" + page[len(page)-1]
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("%q paged:\n got  %q\n want %q", args, paged, want)
		}
	}
}

func modelRange(model []string, a, b string, rev bool) []string {
	if rev {
		a, b = b, a
	}
	in := func(k, bound string, lower bool) bool {
		switch {
		case bound == "-":
			return lower
		case bound == "+":
			return !lower
		}
		excl := bound[0] == '('
		if excl || bound[0] == '[' {
			bound = bound[1:]
		}
		c := bytes.Compare([]byte(k), []byte(bound))
		if lower {
			return c > 0 || c == 0 && !excl
		}
		return c < 0 || c == 0 && !excl
	}
	out := []string{}
	for _, k := range model {
		if in(k, a, true) && in(k, b, false) {
			out = append(out, k)
		}
	}
	if rev {
		slices.Reverse(out)
	}
	return out
}

func TestKeyRangeOptions(t *testing.T) {
	h := newHarness(t)
	h.do("SET", "a", "1")
	h.do("RPUSH", "b", "x")
	h.do("SET", "c", "3")
	h.check("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n", "KEYRANGE", "-", "+", "TYPE", "string", "WITHVALUES")
	h.check("*2\r\n$1\r\nb\r\n$-1\r\n", "KEYRANGE", "(a", "c", "WITHVALUES", "LIMIT", "1")
	h.check("*1\r\n$1\r\nc\r\n", "KEYRANGE", "+", "-", "REV", "LIMIT", "1")
	h.check("*0\r\n", "KEYRANGE", "+", "-")
	h.check("-ERR syntax error\r\n", "KEYRANGE", "a", "b", "BOGUS")
	h.check("-ERR value is not an integer or out of range\r\n", "KEYRANGE", "a", "b", "LIMIT", "x")
	h.proto = 3
	h.check("*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n_\r\n", "KEYRANGE", "a", "b", "WITHVALUES")
}
