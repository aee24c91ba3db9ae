package server

import "testing"

// TestMergeDefinition checks how the shards' replies to an FT.* definition command make one:
// a command that reached some shards before failing converges when retried.
func TestMergeDefinition(t *testing.T) {
	ok := "+OK\r\n"
	exists := "-Index already exists\r\n"
	again := "-TRYAGAIN The write was not applied: the leader changed. It is safe to retry.\r\n"
	syntax := "-Unknown argument `x`\r\n"
	for _, tc := range []struct {
		cmd     string
		replies []string
		want    string
	}{
		{"ft.create", []string{ok, ok, ok}, ok},
		{"ft.create", []string{exists, exists}, exists},                // the index existed: an error
		{"ft.create", []string{ok, exists, ok}, ok},                    // a retry completing a partial create
		{"ft.create", []string{ok, again, exists}, again},              // a shard still without it
		{"ft.create", []string{syntax, syntax}, syntax},                // refused everywhere alike
		{"ft.dropindex", []string{"-Unknown Index name\r\n", ok}, ok},  // a retried drop
		{"ft.aliasadd", []string{"-Alias already exists\r\n", ok}, ok}, // a retried alias
		{"ft.aliasdel", []string{"-Alias does not exist\r\n", "-Alias does not exist\r\n"}, "-Alias does not exist\r\n"},
		{"ft.alter", []string{"-Duplicate field in schema - f\r\n", ok}, ok},
		{"ft.aliasupdate", []string{ok, "-Unknown index name (or name is an alias itself)\r\n"}, "-Unknown index name (or name is an alias itself)\r\n"},
	} {
		rs := make([][]byte, len(tc.replies))
		for i, r := range tc.replies {
			rs[i] = []byte(r)
		}
		if got := string(mergeDefinition(tc.cmd, rs)); got != tc.want {
			t.Errorf("%s %q = %q, want %q", tc.cmd, tc.replies, got, tc.want)
		}
	}
}

func TestBulkValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"$3\r\nabc\r\n", "abc", true},
		{"$0\r\n\r\n", "", true},
		{"$-1\r\n", "", false},
		{"-ERR x\r\n", "", false},
		{"$", "", false},
	} {
		got, ok := bulkValue([]byte(tc.in))
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("bulkValue(%q) = %q, %v", tc.in, got, ok)
		}
	}
}

func TestFirstError(t *testing.T) {
	page := "$2\r\n{}\r\n"
	for _, tc := range []struct {
		replies []string
		want    string
	}{
		{[]string{page, page}, ""},
		{[]string{"-idx: no such index\r\n", "-idx: no such index\r\n"}, "-idx: no such index\r\n"},
		{[]string{page, "-idx: no such index\r\n"}, errPartialIndex},
		{[]string{"-Unknown Index name\r\n", "*0\r\n"}, errPartialIndex}, // FT.TAGVALS
		{[]string{page, "-Syntax error at offset 3\r\n"}, "-Syntax error at offset 3\r\n"},
	} {
		rs := make([][]byte, len(tc.replies))
		for i, r := range tc.replies {
			rs[i] = []byte(r)
		}
		if got := string(firstError(rs)); got != tc.want {
			t.Errorf("firstError(%q) = %q, want %q", tc.replies, got, tc.want)
		}
	}
}
