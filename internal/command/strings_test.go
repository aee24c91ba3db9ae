package command

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
)

const wrongType = "-" + ErrWrongType + "\r\n"

// TestStringsWrongType runs every string and bitmap command against keys of each collection
// type.
func TestStringsWrongType(t *testing.T) {
	cmds := [][]string{
		{"get", "c"}, {"set", "c", "v", "get"}, {"set", "c", "v", "nx", "get"}, {"getset", "c", "v"},
		{"getdel", "c"}, {"getex", "c"}, {"getex", "c", "ex", "-1"}, {"getex", "c", "persist"},
		{"append", "c", "x"}, {"strlen", "c"}, {"incr", "c"}, {"decr", "c"}, {"incrby", "c", "1"},
		{"decrby", "c", "1"}, {"incrbyfloat", "c", "1"}, {"getrange", "c", "0", "1"},
		{"substr", "c", "0", "1"}, {"setrange", "c", "0", "x"}, {"setrange", "c", "0", ""},
		{"setbit", "c", "0", "1"}, {"getbit", "c", "0"}, {"bitcount", "c"}, {"bitcount", "c", "0", "1", "bit"},
		{"bitpos", "c", "1"}, {"bitpos", "c", "0", "1", "2"}, {"bitop", "and", "d", "x", "c"},
		{"bitop", "one", "d", "c"}, {"bitfield", "c", "get", "u8", "0"}, {"bitfield", "c", "set", "u8", "0", "1"},
		{"bitfield", "c"}, {"bitfield_ro", "c", "get", "u8", "0"},
	}
	for _, typ := range []keyspace.Type{keyspace.TypeList, keyspace.TypeSet, keyspace.TypeZSet, keyspace.TypeHash, keyspace.TypeStream} {
		t.Run(typ.String(), func(t *testing.T) {
			h := newHarness(t)
			h.putCollection("c", typ)
			for _, args := range cmds {
				h.check(wrongType, args...)
			}
			h.check("-ERR The specified keys must contain string values\r\n", "lcs", "c", "x")
			h.check("-ERR The specified keys must contain string values\r\n", "lcs", "x", "c")
			h.check("*2\r\n$-1\r\n$-1\r\n", "mget", "c", "x")
			h.check(":0\r\n", "setnx", "c", "v")
			h.check(":0\r\n", "msetnx", "x", "1", "c", "v")
			h.check("-ERR syntax error\r\n", "set", "c", "v", "xx", "nx")
			h.check("+OK\r\n", "set", "c", "v", "xx")
			h.check("$1\r\nv\r\n", "get", "c")
		})
	}
}

// TestStringsEvents checks the keyspace events each command fires, with Redis's names and
// classes.
func TestStringsEvents(t *testing.T) {
	tests := []struct {
		setup [][]string
		cmd   []string
		want  string
	}{
		{nil, []string{"set", "k", "v"}, "$:set"},
		{nil, []string{"set", "k", "v", "ex", "10"}, "$:set g:expire"},
		{nil, []string{"set", "k", "v", "pxat", "1"}, ""},
		{[][]string{{"set", "k", "v"}}, []string{"set", "k", "v", "pxat", "1"}, "g:del"},
		{[][]string{{"set", "k", "v"}}, []string{"set", "k", "w", "nx"}, ""},
		{nil, []string{"setnx", "k", "v"}, "$:set"},
		{nil, []string{"setex", "k", "10", "v"}, "$:set g:expire"},
		{nil, []string{"psetex", "k", "10", "v"}, "$:set g:expire"},
		{nil, []string{"getset", "k", "v"}, "$:set"},
		{[][]string{{"set", "k", "v"}}, []string{"getdel", "k"}, "g:del"},
		{nil, []string{"getdel", "k"}, ""},
		{[][]string{{"set", "k", "v"}}, []string{"getex", "k"}, ""},
		{[][]string{{"set", "k", "v"}}, []string{"getex", "k", "ex", "10"}, "g:expire"},
		{[][]string{{"set", "k", "v"}}, []string{"getex", "k", "exat", "1"}, "g:del"},
		{[][]string{{"set", "k", "v"}}, []string{"getex", "k", "persist"}, ""},
		{[][]string{{"set", "k", "v", "ex", "10"}}, []string{"getex", "k", "persist"}, "g:persist"},
		{nil, []string{"mset", "a", "1", "b", "2"}, "$:set $:set"},
		{nil, []string{"msetnx", "a", "1", "b", "2"}, "$:set $:set"},
		{nil, []string{"append", "k", "x"}, "$:append"},
		{nil, []string{"incr", "k"}, "$:incrby"},
		{nil, []string{"decr", "k"}, "$:incrby"},
		{nil, []string{"incrby", "k", "5"}, "$:incrby"},
		{nil, []string{"decrby", "k", "5"}, "$:incrby"},
		{nil, []string{"incrbyfloat", "k", "1.5"}, "$:incrbyfloat"},
		{nil, []string{"setrange", "k", "2", "x"}, "$:setrange"},
		{[][]string{{"set", "k", "v"}}, []string{"setrange", "k", "2", ""}, ""},
		{nil, []string{"setbit", "k", "2", "1"}, "$:setbit"},
		{nil, []string{"setbit", "k", "2", "0"}, "$:setbit"}, // the string grows
		{[][]string{{"setbit", "k", "2", "1"}}, []string{"setbit", "k", "2", "1"}, ""},
		{nil, []string{"bitfield", "k", "set", "u8", "0", "1"}, "$:setbit"},
		{nil, []string{"bitfield", "k", "get", "u8", "0"}, ""},
		{[][]string{{"set", "k", "\x01"}}, []string{"bitfield", "k", "set", "u8", "0", "1"}, ""},
		{nil, []string{"bitfield", "k", "overflow", "fail", "set", "u2", "0", "9"}, ""},
		{[][]string{{"set", "a", "x"}}, []string{"bitop", "not", "k", "a"}, "$:set"},
		{[][]string{{"set", "k", "x"}}, []string{"bitop", "and", "k", "nokey"}, "g:del"},
		{nil, []string{"bitop", "and", "k", "nokey"}, ""},
		{[][]string{{"set", "a", "x"}, {"set", "b", "y"}}, []string{"lcs", "a", "b"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmd, " "), func(t *testing.T) {
			h := newHarness(t)
			for _, s := range tt.setup {
				h.do(s...)
			}
			h.do(tt.cmd...)
			if got := h.eventNames(); got != tt.want {
				t.Fatalf("events = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStringsTTL checks exact expiry times, with the operation's time fixed.
func TestStringsTTL(t *testing.T) {
	h := newHarness(t)
	now := h.now
	at := func(ms int64) string { return ":" + itoa(ms) + "\r\n" }
	h.do("set", "k", "v", "ex", "100")
	h.check(at(100_000), "pttl", "k")
	h.do("set", "k", "v", "px", "1234")
	h.check(at(1234), "pttl", "k")
	h.do("set", "k", "v", "exat", itoa(now/1000+50))
	h.check(at((now/1000+50)*1000-now), "pttl", "k")
	h.do("set", "k", "v", "pxat", itoa(now+777))
	h.check(at(777), "pttl", "k")
	h.do("set", "k", "v", "keepttl")
	h.check(at(777), "pttl", "k")
	h.do("getex", "k", "px", "5000")
	h.check(at(5000), "pttl", "k")
	h.do("setex", "k", "7", "v")
	h.check(at(7000), "pttl", "k")
	// The expiry is the operation's time plus the TTL, not the wall clock's.
	h.now += 60_000
	h.check(":-2\r\n", "pttl", "k")
	h.check("$-1\r\n", "get", "k")
	h.check("+OK\r\n", "set", "k", "v", "px", "9223372036854775807"[:15])
	h.check("-ERR invalid expire time in 'set' command\r\n", "set", "k", "v", "px", "9223372036854775807")
	h.check("-ERR invalid expire time in 'getex' command\r\n", "getex", "k", "ex", "9223372036854775")
	h.check("-ERR invalid expire time in 'psetex' command\r\n", "psetex", "k", "9223372036854775000", "v")
}

func itoa(n int64) string { return string(FormatInt(nil, n)) }

func TestMSetEx(t *testing.T) {
	h := newHarness(t)
	h.check(":1\r\n", "msetex", "2", "a", "1", "b", "2")
	h.check("*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "mget", "a", "b")
	h.check(":-1\r\n", "pttl", "a")
	h.check(":1\r\n", "msetex", "2", "a", "x", "b", "y", "px", "5000")
	if got := h.eventNames(); got != "$:set g:expire $:set g:expire" {
		t.Fatalf("events = %q", got)
	}
	h.check(":5000\r\n", "pttl", "b")
	h.check(":1\r\n", "msetex", "1", "a", "z", "keepttl")
	h.check(":5000\r\n", "pttl", "a")
	h.check(":1\r\n", "msetex", "1", "a", "z")
	h.check(":-1\r\n", "pttl", "a")
	h.check(":1\r\n", "msetex", "1", "c", "v", "exat", itoa(h.now/1000+100))
	h.check(":"+itoa((h.now/1000+100)*1000-h.now)+"\r\n", "pttl", "c")
	// NX and XX look at every key before writing any.
	h.check(":0\r\n", "msetex", "2", "new", "1", "a", "2", "nx")
	h.check(":0\r\n", "exists", "new")
	h.check(":1\r\n", "msetex", "2", "new", "1", "new2", "2", "NX", "PX", "100")
	h.check(":0\r\n", "msetex", "2", "a", "1", "absent", "2", "xx")
	h.check("$1\r\nz\r\n", "get", "a")
	h.check(":1\r\n", "msetex", "2", "a", "1", "b", "2", "xx", "ex", "10")
	h.check("$1\r\n1\r\n", "get", "a")
	// Any type of value counts as existing and is replaced.
	h.putCollection("coll", keyspace.TypeSet)
	h.check(":0\r\n", "msetex", "1", "coll", "v", "nx")
	h.check(":1\r\n", "msetex", "1", "coll", "v")
	h.check("$1\r\nv\r\n", "get", "coll")
	// A time in the past removes the keys.
	h.check(":1\r\n", "msetex", "2", "a", "1", "zz", "2", "pxat", "1")
	h.check(":0\r\n", "exists", "a", "zz")
	// Errors, as Redis 8.4.
	for _, tt := range []struct {
		want string
		args []string
	}{
		{"-ERR invalid numkeys value\r\n", []string{"msetex", "-1", "a", "1"}},
		{"-ERR invalid numkeys value\r\n", []string{"msetex", "0", "a", "1"}},
		{"-ERR invalid numkeys value\r\n", []string{"msetex", "x", "a", "1"}},
		{"-ERR invalid numkeys value\r\n", []string{"msetex", "4294967296", "a", "1"}},
		{"-ERR wrong number of key-value pairs\r\n", []string{"msetex", "5", "a", "1", "b", "2"}},
		{"-ERR wrong number of key-value pairs\r\n", []string{"msetex", "2", "a", "1", "b"}},
		{"-ERR syntax error\r\n", []string{"msetex", "1", "a", "1", "b", "2"}},
		{"-ERR syntax error\r\n", []string{"msetex", "2", "a", "1", "b", "2", "ex", "10", "keepttl"}},
		{"-ERR syntax error\r\n", []string{"msetex", "2", "a", "1", "b", "2", "nx", "xx"}},
		{"-ERR syntax error\r\n", []string{"msetex", "1", "a", "1", "get"}},
		{"-ERR syntax error\r\n", []string{"msetex", "1", "a", "1", "ifeq", "x"}},
		{"-ERR syntax error\r\n", []string{"msetex", "1", "a", "1", "ex"}},
		{"-ERR invalid expire time in 'msetex' command\r\n", []string{"msetex", "1", "a", "1", "ex", "-1"}},
		{"-ERR value is not an integer or out of range\r\n", []string{"msetex", "1", "a", "1", "px", "x"}},
	} {
		h.check(tt.want, tt.args...)
	}
	if got := msetexKeys([][]byte{[]byte("msetex"), []byte("2"), []byte("a"), []byte("1"), []byte("b"), []byte("2"), []byte("EX"), []byte("1")}); len(got) != 2 || got[0] != 2 || got[1] != 4 {
		t.Fatalf("msetexKeys = %v, want [2 4]", got)
	}
}
