package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// eventsOf applies one command and returns the keyspace events and modified keys it produced,
// as "db:class:name:key" and "db:key".
func eventsOf(t *testing.T, h *applyHarness, args ...string) (reply string, events, modified []string) {
	t.Helper()
	h.a.OnApplied = func(eff *keyspace.Effects, _ []Served) {
		for _, e := range eff.Events {
			if e.Class == 'n' {
				continue // "new" is tested on its own (TestNewKeyEvent)
			}
			events = append(events, fmt.Sprintf("%d:%c:%s:%s", e.DB, e.Class, e.Name, e.Key))
		}
		for _, m := range eff.Modified {
			modified = append(modified, fmt.Sprintf("%d:%s", m.DB, m.Key))
		}
	}
	r := h.apply(op(1, args...))
	return string(r[0]), events, modified
}

func TestGenericKeyEvents(t *testing.T) {
	h := newApplyHarness(t)
	h.apply(op(1, "SET", "a", "1"))
	cases := []struct {
		args     []string
		reply    string
		events   string
		modified string
	}{
		{[]string{"RENAME", "a", "b"}, "+OK\r\n", "0:g:rename_from:a 0:g:rename_to:b", "0:a 0:b"},
		{[]string{"RENAMENX", "b", "b"}, ":0\r\n", "", ""},
		{[]string{"COPY", "b", "c"}, ":1\r\n", "0:g:copy_to:c", "0:c"},
		{[]string{"COPY", "b", "c", "DB", "2"}, ":1\r\n", "2:g:copy_to:c", "2:c"},
		{[]string{"COPY", "b", "c"}, ":0\r\n", "", ""},
		{[]string{"MOVE", "b", "3"}, ":1\r\n", "0:g:move_from:b 3:g:move_to:b", "3:b 0:b"},
		{[]string{"EXPIRE", "c", "100"}, ":1\r\n", "0:g:expire:c", "0:c"},
		{[]string{"EXPIRE", "c", "100", "NX"}, ":0\r\n", "", ""},
		{[]string{"PERSIST", "c"}, ":1\r\n", "0:g:persist:c", "0:c"},
		{[]string{"PERSIST", "c"}, ":0\r\n", "", ""},
		{[]string{"PEXPIREAT", "c", "999"}, ":1\r\n", "0:g:del:c", "0:c"},
		{[]string{"DEL", "c", "nothing"}, ":0\r\n", "", ""},
		{[]string{"SET", "d", "1"}, "+OK\r\n", "0:$:set:d", "0:d"},
		{[]string{"UNLINK", "d"}, ":1\r\n", "0:g:del:d", "0:d"},
	}
	for _, c := range cases {
		reply, events, modified := eventsOf(t, h, c.args...)
		if reply != c.reply {
			t.Fatalf("%v = %q, want %q", c.args, reply, c.reply)
		}
		if got := strings.Join(events, " "); got != c.events {
			t.Fatalf("%v events = %q, want %q", c.args, got, c.events)
		}
		if got := strings.Join(modified, " "); got != c.modified {
			t.Fatalf("%v modified = %q, want %q", c.args, got, c.modified)
		}
	}
}

func TestStringEncoding(t *testing.T) {
	cases := []struct{ value, want string }{
		{"0", "int"}, {"-1", "int"}, {"9223372036854775807", "int"}, {"-9223372036854775808", "int"},
		{"9223372036854775808", "embstr"}, {"01", "embstr"}, {"+1", "embstr"}, {" 1", "embstr"},
		{"1 ", "embstr"}, {"-0", "embstr"}, {"", "embstr"}, {"abc", "embstr"},
		{strings.Repeat("a", 44), "embstr"}, {strings.Repeat("a", 45), "raw"},
		{strings.Repeat("1", 45), "raw"},
	}
	for _, c := range cases {
		if got := stringEncoding([]byte(c.value)); got != c.want {
			t.Fatalf("stringEncoding(%q) = %s, want %s", c.value, got, c.want)
		}
	}
}

func TestScanCursors(t *testing.T) {
	cs := NewScanCursors(3, 100)
	ids := map[uint64]string{}
	for _, k := range []string{"a", "b", "c"} {
		id := cs.Put("keys", []byte(k))
		if id == 0 || id >= 1<<63 {
			t.Fatalf("cursor id %d out of range", id)
		}
		ids[id] = k
	}
	for id, k := range ids {
		if _, ok := cs.Get(id, "zset:1"); ok {
			t.Fatalf("Get(%d) in another scope succeeded", id)
		}
		if got, ok := cs.Get(id, "keys"); !ok || string(got) != k {
			t.Fatalf("Get(%d) = %q, %v; want %q", id, got, ok, k)
		}
	}
	// The least recently used goes first.
	var oldest uint64
	for id, k := range ids {
		if k == "a" {
			oldest = id
		}
	}
	for id, k := range ids {
		if k != "a" {
			cs.Get(id, "keys")
		}
	}
	cs.Put("keys", []byte("d"))
	if _, ok := cs.Get(oldest, "keys"); ok {
		t.Fatalf("least recently used cursor kept past the bound")
	}
	if n := cs.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	// The byte bound evicts too, but never the cursor just made, however large.
	huge := cs.Put("keys", make([]byte, 1000))
	if _, ok := cs.Get(huge, "keys"); !ok || cs.Len() != 1 {
		t.Fatalf("huge cursor: kept %v, Len %d; want kept alone", ok, cs.Len())
	}
	if _, ok := cs.Get(12345, "keys"); ok {
		t.Fatalf("Get of an unknown cursor succeeded")
	}
}

func TestParseCursor(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"18446744073709551615", 1<<64 - 1, true}, {"+5", 5, true},
		{"007", 7, true}, {"-1", 0, false}, {"", 0, false}, {"abc", 0, false}, {"1.5", 0, false},
		{"18446744073709551616", 0, false}, {"++5", 0, false}, {"+-5", 0, false}, {" 5", 0, false},
	}
	for _, c := range cases {
		got, ok := parseCursor([]byte(c.in))
		if ok != c.ok || (ok && got != c.want) {
			t.Fatalf("parseCursor(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// "new" fires when a key comes into being — created, or written after it expired — and not
// when an existing key is overwritten, as Redis's dbAdd.
func TestNewKeyEvent(t *testing.T) {
	h := newHarness(t)
	news := func() int {
		n := 0
		for _, e := range h.events {
			if e.Class == 'n' && e.Name == "new" {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"SET", "k", "v", "PX", "10"}, 1},
		{[]string{"SET", "k", "w", "KEEPTTL"}, 0},
		{[]string{"MSET", "a", "1", "k", "2", "b", "3"}, 2},
	} {
		h.do(tc.args...)
		if got := news(); got != tc.want {
			t.Fatalf("%v: %d new events, want %d", tc.args, got, tc.want)
		}
	}
	h.now += 100 // k (PX 10) has expired
	h.do("SET", "k", "again")
	if got := news(); got != 0 {
		// MSET above rewrote k without expiry; set one again to test the expired case.
		t.Fatalf("overwrite of a live key: %d new events, want 0", got)
	}
	h.do("SET", "e", "v", "PX", "10")
	h.now += 100
	h.do("SET", "e", "v2")
	if got := news(); got != 1 {
		t.Fatalf("write over an expired key: %d new events, want 1", got)
	}
}
