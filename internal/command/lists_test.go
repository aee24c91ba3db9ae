package command

import (
	"strings"
	"testing"
)

// TestListsEvents checks the keyspace events each list command fires, with Redis's names,
// classes and order (t_list.c).
func TestListsEvents(t *testing.T) {
	one := [][]string{{"rpush", "k", "a"}}
	two := [][]string{{"rpush", "k", "a", "b"}}
	tests := []struct {
		setup [][]string
		cmd   []string
		want  string
	}{
		{nil, []string{"lpush", "k", "a", "b"}, "l:lpush"},
		{nil, []string{"rpush", "k", "a"}, "l:rpush"},
		{nil, []string{"lpushx", "k", "a"}, ""},
		{one, []string{"lpushx", "k", "a"}, "l:lpush"},
		{one, []string{"rpushx", "k", "a", "b"}, "l:rpush"},
		{one, []string{"lpop", "k"}, "l:lpop g:del"},
		{two, []string{"lpop", "k"}, "l:lpop"},
		{two, []string{"rpop", "k", "5"}, "l:rpop g:del"},
		{two, []string{"rpop", "k", "0"}, ""},
		{nil, []string{"lpop", "k"}, ""},
		{two, []string{"lset", "k", "1", "x"}, "l:lset"},
		{two, []string{"lset", "k", "5", "x"}, ""},
		{two, []string{"linsert", "k", "before", "b", "x"}, "l:linsert"},
		{two, []string{"linsert", "k", "before", "zz", "x"}, ""},
		{two, []string{"lrem", "k", "0", "a"}, "l:lrem"},
		{one, []string{"lrem", "k", "0", "a"}, "l:lrem g:del"},
		{two, []string{"lrem", "k", "0", "zz"}, ""},
		{two, []string{"ltrim", "k", "0", "-1"}, "l:ltrim"}, // fires even when nothing is dropped
		{two, []string{"ltrim", "k", "1", "0"}, "l:ltrim g:del"},
		{nil, []string{"ltrim", "k", "0", "1"}, ""},
		{one, []string{"lmove", "k", "d", "left", "right"}, "l:rpush l:lpop g:del"},
		{two, []string{"rpoplpush", "k", "k"}, "l:lpush l:rpop"},
		{one, []string{"lmove", "k", "k", "left", "left"}, "l:lpush l:lpop"},
		{[][]string{{"set", "d", "x"}, {"rpush", "k", "a"}}, []string{"lmove", "k", "d", "left", "left"}, ""},
		{two, []string{"lmpop", "2", "none", "k", "right", "count", "9"}, "l:rpop g:del"},
		{two, []string{"blpop", "none", "k", "0"}, "l:lpop"},
		{one, []string{"brpop", "k", "0"}, "l:rpop g:del"},
		{two, []string{"blmove", "k", "d", "right", "left", "0"}, "l:lpush l:rpop"},
		{one, []string{"brpoplpush", "k", "d", "0"}, "l:lpush l:rpop g:del"},
		{two, []string{"blmpop", "0", "1", "k", "left"}, "l:lpop"},
		{two, []string{"sort", "k", "alpha", "store", "d"}, "l:sortstore"},
		{[][]string{{"set", "d", "x"}}, []string{"sort", "k", "store", "d"}, "g:del"},
		{nil, []string{"sort", "k", "store", "d"}, ""},
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

// TestListsBlockingServedAtApply: a blocked BLPOP is served by the push that gives it data,
// within the same operation, and the element is gone afterwards.
func TestListsBlockingServedAtApply(t *testing.T) {
	h := newApplyHarness(t)
	r := h.apply(op(7, "BLPOP", "q1", "q2", "0"))
	if _, ok := IsBlocked(r[0]); !ok {
		t.Fatalf("BLPOP on empty lists = %q, want the blocked marker", r[0])
	}
	r = h.apply(op(8, "RPUSH", "q2", "a", "b"))
	if string(r[0]) != ":2\r\n" {
		t.Fatalf("RPUSH = %q, want the length before serving the waiter", r[0])
	}
	if len(h.served) != 1 || h.served[0].Token != 7 || string(h.served[0].Reply) != "*2\r\n$2\r\nq2\r\n$1\r\na\r\n" {
		t.Fatalf("served = %+v, want token 7 with [q2, a]", h.served)
	}
	if r := h.apply(op(9, "LRANGE", "q2", "0", "-1")); string(r[0]) != "*1\r\n$1\r\nb\r\n" {
		t.Fatalf("LRANGE after serving = %q", r[0])
	}
}

// TestListsBlockingMoveChain: a BLMOVE served by a push pushes onto its destination, which
// serves the next waiter in turn.
func TestListsBlockingMoveChain(t *testing.T) {
	h := newApplyHarness(t)
	h.apply(op(1, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0"))
	h.apply(op(2, "BRPOP", "b", "0"))
	h.apply(op(3, "LPUSH", "a", "x"))
	if len(h.served) != 2 {
		t.Fatalf("served = %+v, want both waiters", h.served)
	}
	got := map[uint64]string{}
	for _, s := range h.served {
		got[s.Token] = string(s.Reply)
	}
	if got[1] != "$1\r\nx\r\n" || got[2] != "*2\r\n$1\r\nb\r\n$1\r\nx\r\n" {
		t.Fatalf("replies = %v", got)
	}
	if r := h.apply(op(4, "EXISTS", "a", "b")); string(r[0]) != ":0\r\n" {
		t.Fatalf("EXISTS a b = %q, want both emptied", r[0])
	}
}

// TestListsBlockingCount: BLMPOP takes up to COUNT elements when served, from the end asked.
func TestListsBlockingCount(t *testing.T) {
	h := newApplyHarness(t)
	h.apply(op(1, "BLMPOP", "0", "2", "j", "k", "RIGHT", "COUNT", "2"))
	h.apply(op(4, "RPUSH", "k", "a", "b", "c"))
	if len(h.served) != 1 || string(h.served[0].Reply) != "*2\r\n$1\r\nk\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n" {
		t.Fatalf("served = %+v, want [k, [c, b]]", h.served)
	}
}

// TestListsNoBlock: where a command may not block it answers at once with Redis's null reply:
// a null array, but a null bulk for BLMOVE and BRPOPLPUSH.
func TestListsNoBlock(t *testing.T) {
	h := newHarness(t) // operations without a client may not block
	h.check("*-1\r\n", "blpop", "k", "0")
	h.check("*-1\r\n", "brpop", "k", "j", "1.5")
	h.check("*-1\r\n", "blmpop", "0", "2", "k", "j", "left")
	h.check("$-1\r\n", "blmove", "k", "j", "left", "left", "0")
	h.check("$-1\r\n", "brpoplpush", "k", "j", "0")
	h.proto = 3
	h.check("_\r\n", "blpop", "k", "0")
	h.check("_\r\n", "blmove", "k", "j", "left", "left", "0")
}
