package command

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// TestCollectionEvents checks the keyspace events of the hash and set commands, as Redis names
// and orders them (class letter, then name), including "del" when a collection is emptied.
func TestCollectionEvents(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"HSET", "h", "a", "1", "b", "2"}, "h:hset"},
		{[]string{"HMSET", "h", "c", "3"}, "h:hset"},
		{[]string{"HSETNX", "h", "a", "x"}, ""},
		{[]string{"HSETNX", "h", "d", "4"}, "h:hset"},
		{[]string{"HINCRBY", "h", "n", "1"}, "h:hincrby"},
		{[]string{"HINCRBYFLOAT", "h", "n", "1.5"}, "h:hincrbyfloat"},
		{[]string{"HDEL", "h", "nope"}, ""},
		{[]string{"HDEL", "h", "n"}, "h:hdel"},
		{[]string{"HEXPIRE", "h", "100", "FIELDS", "1", "a"}, "h:hexpire"},
		{[]string{"HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"}, ""},
		{[]string{"HPERSIST", "h", "FIELDS", "1", "a"}, "h:hpersist"},
		{[]string{"HPERSIST", "h", "FIELDS", "1", "a"}, ""},
		{[]string{"HEXPIRE", "h", "0", "FIELDS", "1", "a"}, "h:hdel"},
		{[]string{"HGETEX", "h", "EX", "10", "FIELDS", "1", "b"}, "h:hexpire"},
		{[]string{"HGETEX", "h", "PERSIST", "FIELDS", "1", "b"}, "h:hpersist"},
		{[]string{"HGETEX", "h", "FIELDS", "1", "b"}, ""},
		{[]string{"HSETEX", "h", "EX", "10", "FIELDS", "1", "e", "5"}, "h:hset h:hexpire"},
		{[]string{"HSETEX", "h", "FIELDS", "1", "e", "6"}, "h:hset"},
		{[]string{"HGETDEL", "h", "FIELDS", "1", "e"}, "h:hdel"},
		{[]string{"HDEL", "h", "b", "c"}, "h:hdel"},
		{[]string{"HGETDEL", "h", "FIELDS", "1", "d"}, "h:hdel g:del"},
		{[]string{"HSET", "h", "a", "1"}, "h:hset"},
		{[]string{"HDEL", "h", "a"}, "h:hdel g:del"},
		{[]string{"HSET", "h", "a", "1"}, "h:hset"},
		{[]string{"HEXPIRE", "h", "0", "FIELDS", "1", "a"}, "h:hdel g:del"},
		{[]string{"SADD", "s", "a", "b", "c"}, "s:sadd"},
		{[]string{"SADD", "s", "a"}, ""},
		{[]string{"SREM", "s", "zz"}, ""},
		{[]string{"SREM", "s", "a"}, "s:srem"},
		{[]string{"SMOVE", "s", "t", "b"}, "s:srem s:sadd"},
		{[]string{"SMOVE", "s", "t", "zz"}, ""},
		{[]string{"SADD", "t", "c"}, "s:sadd"},
		{[]string{"SMOVE", "s", "t", "c"}, "s:srem g:del"}, // c was already in t
		{[]string{"SADD", "u", "1", "2", "3"}, "s:sadd"},
		{[]string{"SPOP", "u"}, "s:spop"},
		{[]string{"SPOP", "u", "5"}, "s:spop g:del"},
		{[]string{"SINTERSTORE", "d", "t", "t"}, "s:sinterstore"},
		{[]string{"SUNIONSTORE", "d", "t"}, "s:sunionstore"},
		{[]string{"SDIFFSTORE", "d", "t", "t"}, "g:del"},
		{[]string{"SDIFFSTORE", "d", "t", "t"}, ""},
	} {
		h.do(tt.args...)
		if got := h.eventNames(); got != tt.want {
			t.Fatalf("%s: events %q, want %q", strings.Join(tt.args, " "), got, tt.want)
		}
	}
}

// TestFieldSweep runs the sweeper's operation through apply: expired fields go, the hash with
// them when it is emptied, with Redis's events.
func TestFieldSweep(t *testing.T) {
	h := newHarness(t)
	h.check(":2\r\n", "HSET", "h", "a", "1", "b", "2")
	h.check("*2\r\n:1\r\n:1\r\n", "HPEXPIRE", "h", "100", "FIELDS", "2", "a", "b")
	h.check(":1\r\n", "HSET", "keep", "a", "1")
	h.now += 100
	h.check("*0\r\n", "HGETALL", "h")
	h.check(":1\r\n", "EXISTS", "h") // until the sweeper runs, as in Redis
	h.check(":2\r\n", FieldSweepName, "\x00", "h", "\x00\x00\x00\x00\x00\x00\x00\x00")
	if got := h.eventNames(); got != "h:hexpired g:del" {
		t.Fatalf("sweep events %q", got)
	}
	h.check(":0\r\n", "EXISTS", "h")
	// An index entry that matches nothing is dropped without touching data.
	h.check(":0\r\n", FieldSweepName, "\x00", "keep", "\x00\x00\x00\x00\x00\x00\x00\x01")
	h.check(":1\r\n", "HLEN", "keep")
}

func TestCollectionEncodings(t *testing.T) {
	l := NewEncodingLimits()
	for _, tc := range []struct {
		st   keyspace.HashStats
		want string
	}{
		{keyspace.HashStats{Peak: 1, Longest: 1}, "listpack"},
		{keyspace.HashStats{Peak: 128, Longest: 64}, "listpack"},
		{keyspace.HashStats{Peak: 129, Longest: 1}, "hashtable"},
		{keyspace.HashStats{Peak: 1, Longest: 65}, "hashtable"},
		{keyspace.HashStats{Peak: 1, Longest: 1, Volatile: true}, "listpackex"},
		{keyspace.HashStats{Peak: 200, Longest: 1, Volatile: true}, "hashtable"},
	} {
		if got := hashEncoding(tc.st, l); got != tc.want {
			t.Errorf("hashEncoding(%+v) = %s, want %s", tc.st, got, tc.want)
		}
	}
	for _, tc := range []struct {
		st   keyspace.SetStats
		want string
	}{
		{keyspace.SetStats{IntPeak: 3, Longest: 1}, "intset"},
		{keyspace.SetStats{IntPeak: 512, Longest: 3}, "intset"},
		{keyspace.SetStats{IntPeak: 513, Longest: 3}, "hashtable"},
		{keyspace.SetStats{NonInt: true, Peak: 128, Longest: 64}, "listpack"},
		{keyspace.SetStats{NonInt: true, IntPeak: 200, Peak: 11, Longest: 3}, "listpack"},
		{keyspace.SetStats{NonInt: true, Peak: 129, Longest: 1}, "hashtable"},
		{keyspace.SetStats{NonInt: true, Peak: 2, Longest: 65}, "hashtable"},
		{keyspace.SetStats{NonInt: true, IntPeak: 600, Peak: 1, Longest: 1}, "hashtable"},
	} {
		if got := setEncoding(tc.st, l); got != tc.want {
			t.Errorf("setEncoding(%+v) = %s, want %s", tc.st, got, tc.want)
		}
	}
	l.Set("hash-max-listpack-entries", "2")
	if got := hashEncoding(keyspace.HashStats{Peak: 3}, l); got != "hashtable" {
		t.Errorf("with hash-max-listpack-entries 2, a 3-field hash is %s", got)
	}
}

// TestSPopDeterministic: SPOP draws from the log position's source, so applying the same log to
// two stores pops the same members.
func TestSPopDeterministic(t *testing.T) {
	var replies [2][]string
	for i := range replies {
		h := newHarness(t)
		args := []string{"SADD", "s"}
		for j := range 3000 {
			args = append(args, "m"+strings.Repeat("x", j%7)+string(rune('a'+j%26))+string(rune('a'+j/26%26))+string(rune('a'+j/676)))
		}
		h.do(args...)
		for range 5 {
			replies[i] = append(replies[i], h.do("SPOP", "s"), h.do("SPOP", "s", "7"))
		}
	}
	if strings.Join(replies[0], "|") != strings.Join(replies[1], "|") {
		t.Fatalf("the same log popped different members:\n%v\n%v", replies[0], replies[1])
	}
}
