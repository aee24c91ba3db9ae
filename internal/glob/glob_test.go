package glob

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomized tests (0: time-based)")

func testSeed(t *testing.T) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return s
}

// Answers of redis-server 7.0.15 (KEYS over a key of each string), so the quirks are Redis's
// and not the reference's.
func TestMatchRedisAnswers(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", false}, // KEYS "**" does not list the empty key
		{"**", "", false},
		{"", "", true},
		{"a**", "a", true},
		{"h?llo", "hello", true},
		{"h*llo", "hllo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"[", "[", false},   // an unterminated empty class holds nothing
		{"[^", "x", true},   // … and its negation everything
		{"[a-]", "]", true}, // "a-]" is the range ']'..'a', and the class runs to the end
		{"[a-]x]", "x", true},
		{"[a-\xff]", "A", true}, // signed chars: the range is \xff(-1)..'a'
		{"[a-\xff]", "b", false},
		{"[\x80-\xd0]", "\xc8", true},
		{"a\\", "a\\", true}, // a backslash ending the pattern stands for itself
		{"\\*", "*", true},
		{"\\*", "x", false},
		{"[\\]]", "]", true},
	}
	for _, c := range cases {
		if got := MatchString(c.pattern, c.s, false); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
		if got := redisMatch([]byte(c.pattern), []byte(c.s), false, 0); got != c.want {
			t.Errorf("redisMatch(%q, %q) = %v, want %v (the reference is wrong)", c.pattern, c.s, got, c.want)
		}
	}
	if !MatchString("H[A-C]LLO", "hbllo", true) || MatchString("H[A-C]LLO", "hbllo", false) {
		t.Error("nocase does not fold a range")
	}
}

func randomBytes(r *rand.Rand, alphabet string, maxLen int) []byte {
	b := make([]byte, r.IntN(maxLen+1))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// matchingString returns a string the pattern probably matches, so that the random cases are
// not nearly all misses.
func matchingString(r *rand.Rand, p []byte) []byte {
	var out []byte
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			out = append(out, randomBytes(r, "abc", 3)...)
		case '?':
			out = append(out, "abc"[r.IntN(3)])
		case '\\':
			if i+1 < len(p) {
				i++
			}
			out = append(out, p[i])
		case '[':
			if i+1 < len(p) && p[i+1] != '^' && p[i+1] != ']' {
				out = append(out, p[i+1])
			}
			for i < len(p) && p[i] != ']' {
				i++
			}
		default:
			out = append(out, p[i])
		}
	}
	return out
}

// TestMatchDifferential checks the matcher against Redis's algorithm over every byte class
// and against cairn's previous matcher where that one agreed with Redis, and that no case
// takes more than (len(pattern)+1)*(len(s)+1) steps.
func TestMatchDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 13))
	const n = 300000
	const patternBytes = "ab*?[]^-\\Ax\x80\xff"
	const stringBytes = "abAB]^-\\*x[\x80\xff"
	matches := 0
	for i := 0; i < n; i++ {
		p := randomBytes(r, patternBytes, 10)
		var s []byte
		if r.IntN(2) == 0 {
			s = randomBytes(r, stringBytes, 12)
		} else {
			s = matchingString(r, p)
		}
		nocase := r.IntN(4) == 0
		got, steps := match(p, s, nocase)
		if want := redisMatch(p, s, nocase, 0); got != want {
			t.Fatalf("Match(%q, %q, nocase=%v) = %v, Redis says %v", p, s, nocase, got, want)
		}
		if bound := (len(p) + 1) * (len(s) + 1); steps > bound {
			t.Fatalf("Match(%q, %q) took %d steps, more than %d", p, s, steps, bound)
		}
		if got {
			matches++
		}
		if len(s) > 0 && bytes.IndexFunc(p, func(c rune) bool { return c >= 0x80 }) < 0 {
			if want := previousMatch(p, s, nocase, 0); got != want {
				t.Fatalf("Match(%q, %q, nocase=%v) = %v, the previous matcher says %v", p, s, nocase, got, want)
			}
		}
	}
	if matches < n/10 {
		t.Fatalf("only %d of %d random cases match: the test exercises too little", matches, n)
	}
	t.Logf("%d cases, %d matches", n, matches)
}

// A pattern of many stars over a long string that almost matches took the recursive matcher
// exponential time (CVE-2022-36021); this one must stay within len(p)*len(s) steps.
func TestMatchPathologicalSteps(t *testing.T) {
	cases := []struct{ pattern, s string }{
		{strings.Repeat("a*", 200) + "b", strings.Repeat("a", 10000)},
		{strings.Repeat("*a", 50) + "*b", strings.Repeat("a", 5000) + "c"},
		{strings.Repeat("*?", 300) + "[b]", strings.Repeat("x", 10000)},
		{"*" + strings.Repeat("[a-z]", 100) + "1", strings.Repeat("q", 10000)},
	}
	for _, c := range cases {
		ok, steps := match([]byte(c.pattern), []byte(c.s), false)
		if ok {
			t.Errorf("pattern of %d bytes matched a string it cannot match", len(c.pattern))
		}
		if bound := (len(c.pattern) + 1) * (len(c.s) + 1); steps > bound {
			t.Errorf("pattern of %d bytes over %d bytes took %d steps, more than %d", len(c.pattern), len(c.s), steps, bound)
		}
		t.Logf("%d-byte pattern over %d bytes: %d steps", len(c.pattern), len(c.s), steps)
	}
	// A pattern beyond Redis's 1000 nested stars still answers correctly.
	p := strings.Repeat("*a", 1200)
	if !MatchString(p, strings.Repeat("a", 1300), false) {
		t.Error("1200 stars over a matching string: no match")
	}
}

func BenchmarkMatchPathological(b *testing.B) {
	p := []byte(strings.Repeat("a*", 200) + "b")
	s := []byte(strings.Repeat("a", 10000))
	for b.Loop() {
		Match(p, s, false)
	}
}

func BenchmarkMatchCommon(b *testing.B) {
	p := []byte("user:*:session:[0-9]*")
	s := []byte("user:12345:session:987654")
	for b.Loop() {
		Match(p, s, false)
	}
}
