package command

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// testtake is a blocking command for these tests: it takes (gets and deletes) the first of its
// keys that holds a string, or blocks on all of them.
func init() {
	Register(&Command{Name: "testtake", Arity: -2, Flags: FlagWrite, Run: func(c *Ctx) {
		for _, key := range c.Args[1:] {
			e, ok := c.lookupString(key)
			if !ok {
				return
			}
			if e.Exists() {
				value := e.Value
				if _, err := c.Tx.Delete(key, &e); err != nil {
					c.Fail(err)
					return
				}
				c.W.Bulk(value)
				return
			}
		}
		if c.CanBlock() {
			c.WouldBlock(0, c.Args[1:]...)
			return
		}
		c.W.NullArray()
	}})
}

type applyHarness struct {
	t       *testing.T
	a       *Applier
	index   uint64
	served  []Served
	applied [][]byte
}

func newApplyHarness(t *testing.T) *applyHarness {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	st, err := keyspace.LoadState(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	fs, err := keyspace.NewFilters(eng.DB(), 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewApplier(Storage{Engine: eng, State: st, Cache: keyspace.NewCache(1 << 20), Filters: fs}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	h := &applyHarness{t: t, a: a}
	a.OnApplied = func(_ *keyspace.Effects, served []Served) { h.served = append(h.served, served...) }
	return h
}

// apply applies one batch of operations, each given as (client, args...).
func (h *applyHarness) apply(ops ...[]any) [][]byte {
	h.t.Helper()
	var entries []replica.Entry
	for _, op := range ops {
		var args [][]byte
		for _, a := range op[1:] {
			args = append(args, []byte(a.(string)))
		}
		h.index++
		data := AppendOpHeader(nil, OpHeader{Proto: 2, Time: 1000, Client: op[0].(uint64)}, args)
		entries = append(entries, replica.Entry{Index: h.index, Data: data})
	}
	results := make([][]byte, len(entries))
	if err := h.a.Apply(entries, results); err != nil {
		h.t.Fatal(err)
	}
	return results
}

func op(client uint64, args ...string) []any {
	out := []any{client}
	for _, a := range args {
		out = append(out, a)
	}
	return out
}

func TestBlockThenServedByLaterBatch(t *testing.T) {
	h := newApplyHarness(t)
	r := h.apply(op(7, "testtake", "a", "b"))
	if _, ok := IsBlocked(r[0]); !ok {
		t.Fatalf("testtake on empty keys = %q, want the blocked marker", r[0])
	}
	if n := h.a.waiters.Count(); n != 2 {
		t.Fatalf("waiter index has %d entries, want 2 (one per key)", n)
	}
	r = h.apply(op(8, "SET", "b", "hello"))
	if string(r[0]) != "+OK\r\n" {
		t.Fatalf("SET = %q", r[0])
	}
	if len(h.served) != 1 || h.served[0].Token != 7 || string(h.served[0].Reply) != "$5\r\nhello\r\n" {
		t.Fatalf("served = %+v, want token 7 with hello", h.served)
	}
	if !h.a.waiters.Empty() {
		t.Fatal("waiter still registered after being served")
	}
	// The element went to the waiter, atomically with the SET: the key is gone.
	if r := h.apply(op(9, "GET", "b")); string(r[0]) != "$-1\r\n" {
		t.Fatalf("GET b after serving = %q, want null", r[0])
	}
}

func TestBlockServedInSameBatchFIFO(t *testing.T) {
	h := newApplyHarness(t)
	r := h.apply(
		op(1, "testtake", "k"),
		op(2, "testtake", "k"),
		op(3, "SET", "k", "first"),
		op(4, "SET", "k", "second"),
	)
	if string(r[0]) != "$5\r\nfirst\r\n" || string(r[1]) != "$6\r\nsecond\r\n" {
		t.Fatalf("replies = %q, %q; want first to the oldest waiter, second to the next", r[0], r[1])
	}
	if len(h.served) != 0 {
		t.Fatalf("served separately = %+v; same-batch waiters answer through their own operation", h.served)
	}
}

func TestUnblockTimeoutAndGone(t *testing.T) {
	h := newApplyHarness(t)
	h.apply(op(5, "testtake", "x"))
	r := h.apply(op(0, unblockName, string(tokenBytes(5)), UnblockTimeout))
	if string(r[0]) != "*-1\r\n" {
		t.Fatalf("unblock timeout = %q, want the null array", r[0])
	}
	// Unblocking again finds nothing: the waiter was already removed.
	r = h.apply(op(0, unblockName, string(tokenBytes(5)), UnblockTimeout))
	if IsReply(r[0]) {
		t.Fatalf("second unblock = %q, want the no-waiter marker", r[0])
	}
	h.apply(op(6, "testtake", "y"))
	h.apply(op(0, unblockAllName))
	if !h.a.waiters.Empty() {
		t.Fatal("waiters left after unblock-all")
	}
	h.apply(op(10, "SET", "y", "v"))
	if len(h.served) != 0 {
		t.Fatalf("a cleared waiter was served: %+v", h.served)
	}
}

func TestNoBlockInMulti(t *testing.T) {
	h := newApplyHarness(t)
	data := AppendOpHeader(nil, OpHeader{Proto: 2, Time: 1000, Client: 3, Flags: OpMulti}, [][]byte{[]byte("testtake"), []byte("q")})
	results := make([][]byte, 1)
	if err := h.a.Apply([]replica.Entry{{Index: 1, Data: data}}, results); err != nil {
		t.Fatal(err)
	}
	if string(results[0]) != "*1\r\n*-1\r\n" {
		t.Fatalf("blocking command in MULTI = %q, want a null reply at once", results[0])
	}
}

func tokenBytes(t uint64) []byte {
	return UnblockArgs(t, "")[1]
}

func init() {
	Register(&Command{Name: "testpanic", Arity: 1, Flags: FlagWrite, Run: func(c *Ctx) { panic("boom") }})
}

// A command that panics in apply is isolated: the rest of its batch is applied, it becomes a
// no-op answering an error, and the applier keeps working.
func TestApplyPanicIsolated(t *testing.T) {
	h := newApplyHarness(t)
	r := h.apply(op(1, "SET", "a", "1"), op(1, "testpanic"), op(1, "INCR", "a"))
	if string(r[0]) != "+OK\r\n" || string(r[2]) != ":2\r\n" {
		t.Fatalf("the entries around a panicking one = %q, %q; want OK and 2", r[0], r[2])
	}
	if !strings.HasPrefix(string(r[1]), "-ERR internal error (a bug): boom") {
		t.Fatalf("the panicking entry = %q, want an internal error", r[1])
	}
	if got := h.a.eng.DB(); got == nil {
		t.Fatal("engine closed")
	}
	applied, err := keyspace.LoadApplied(h.a.eng.DB())
	if err != nil || applied != h.index {
		t.Fatalf("applied index = %d, %v; want %d (the skipped entry counts as applied)", applied, err, h.index)
	}
}
