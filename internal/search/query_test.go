package search

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	params := map[string]string{"t": "red", "lo": "(5"}
	tests := []struct {
		q, want string
	}{
		{"hello world", "INTERSECT { hello world }"},
		{"a b | c", "UNION { INTERSECT { a b } c }"},
		{"@f:{x | y*}", "TAG:@f: { x y* }"},
		{"@n:[(1 +inf]", "NUMERIC {(1 inf]} @n:"},
		{"@n:[$lo 10]", "NUMERIC {(5 10]} @n:"},
		{"-@f:{$t} ~z", "INTERSECT { NOT{ TAG:@f: { red } } OPTIONAL{ z } }"},
		{`"quick brown" fox*`, "INTERSECT { EXACT { quick brown } PREFIX{fox*} }"},
		{"@title|body:(a -b)", "INTERSECT { @title|body:a NOT{ @title|body:b } }"},
		{`@f:{New\ York}`, "TAG:@f: { New York }"},
		{"*", "<WILDCARD>"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.q, params)
		if err != nil {
			t.Fatalf("%q: %v", tt.q, err)
		}
		if got := strings.Join(strings.Fields(n.String()), " "); got != tt.want {
			t.Errorf("%q:\n got  %s\n want %s", tt.q, got, tt.want)
		}
	}
	for _, q := range []string{"(a b", "@f:", "@n:[1]", "a | ", "@n:[x 2]", "@f:{a", "$nope"} {
		if _, err := Parse(q, params); err == nil {
			t.Errorf("%q: parsed, want an error", q)
		}
	}
}

func TestTokenizeAndStem(t *testing.T) {
	if got := strings.Join(tokenize("Hello, World! foo-bar a\\-b"), " "); got != "hello world foo bar a-b" {
		t.Errorf("tokenize: %q", got)
	}
	if stemOf("running") != "+run" || stemOf("run") != "" {
		t.Errorf("stems: %q %q", stemOf("running"), stemOf("run"))
	}
}

// TestParseNoPanic feeds the query and expression parsers random strings over their alphabet:
// they must answer or refuse, never panic.
func TestParseNoPanic(t *testing.T) {
	alphabet := []string{"@", "f", ":", "{", "}", "[", "]", "(", ")", "|", "-", "~", "*", "\"", "'", "$", "p", "\\", " ", "1", "inf", ",", "%", "=>", "a", "==", "&&", "!", "+", "/", "^", "upper("}
	params := map[string]string{"p": "(1"}
	seed := uint64(1)
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := 0; j < 1+i%12; j++ {
			seed = seed*6364136223846793005 + 1442695040888963407
			b.WriteString(alphabet[(seed>>33)%uint64(len(alphabet))])
		}
		q := b.String()
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%q: panic %v", q, r)
				}
			}()
			if n, err := Parse(q, params); err == nil {
				_ = n.String()
			}
			_, _ = Parse(q, nil)
			_, _ = parseExpr(q)
		}()
	}
}
