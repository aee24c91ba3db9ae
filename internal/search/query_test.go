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
