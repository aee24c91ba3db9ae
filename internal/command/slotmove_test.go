package command

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/slot"
)

// sys runs one of the server's own operations (OpSystem) and returns its raw reply.
func (h *harness) sys(args ...[]byte) string {
	h.t.Helper()
	h.index++
	data := AppendOp(nil, 2, 0, OpSystem, h.now, args)
	results := make([][]byte, 1)
	if err := h.app.Apply([]replica.Entry{{Index: h.index, Data: data}}, results); err != nil {
		h.t.Fatalf("apply %q: %v", args[0], err)
	}
	return string(results[0])
}

func bs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// slotOut runs __slotout and splits its reply into the outbox's sequence and batch.
func (h *harness) slotOut(s, to, maxKeys, maxBytes int) (uint64, []byte) {
	h.t.Helper()
	r := h.sys(bs(SlotOutName, strconv.Itoa(s), strconv.Itoa(to), strconv.Itoa(maxKeys), strconv.Itoa(maxBytes))...)
	// *2 :seq $n batch
	parts := strings.SplitN(r, "\r\n", 4)
	if len(parts) < 4 || parts[0] != "*2" || parts[1][0] != ':' || parts[2][0] != '$' {
		h.t.Fatalf("__slotout = %q", r)
	}
	seq, _ := strconv.ParseUint(parts[1][1:], 10, 64)
	n, _ := strconv.Atoi(parts[2][1:])
	return seq, []byte(parts[3][:n])
}

// Every type of value moves between two shards' appliers with its elements, expiries and hash
// field expiries; the source forgets what it moved; a key the target holds already is kept,
// and one expired on the way is dropped.
func TestSlotMoveRecords(t *testing.T) {
	src, dst := newHarness(t), newHarness(t)
	dst.now = src.now
	for _, c := range [][]string{
		{"SET", "{s}str", "value", "PX", "100000"},
		{"RPUSH", "{s}list", "a", "b", "c"},
		{"SADD", "{s}set", "x", "y"},
		{"ZADD", "{s}zset", "1", "one", "2.5", "two"},
		{"HSET", "{s}hash", "f1", "v1", "f2", "v2"},
		{"HPEXPIRE", "{s}hash", "50000", "FIELDS", "1", "f1"},
		{"XADD", "{s}stream", "1-1", "k", "v"},
		{"XGROUP", "CREATE", "{s}stream", "g", "0"},
		{"SET", "{s}dies", "soon", "PX", "10"},
		{"SET", "{s}both", "old"},
		{"SET", "other", "stays"},
	} {
		if r := src.do(c...); strings.HasPrefix(r, "-") {
			t.Fatalf("%v = %q", c, r)
		}
	}
	dst.check("+OK\r\n", "SET", "{s}both", "new")
	sl := slot.KeySlot([]byte("{s}"))
	// Reads of every value, compared on both sides.
	reads := [][]string{
		{"GET", "{s}str"}, {"PTTL", "{s}str"}, {"LRANGE", "{s}list", "0", "-1"}, {"SMEMBERS", "{s}set"},
		{"ZRANGE", "{s}zset", "0", "-1", "WITHSCORES"}, {"HGETALL", "{s}hash"}, {"HPTTL", "{s}hash", "FIELDS", "2", "f1", "f2"},
		{"XRANGE", "{s}stream", "-", "+"}, {"XINFO", "GROUPS", "{s}stream"},
	}
	src.now += 20 // {s}dies has expired
	dst.now = src.now
	before := map[string]string{}
	for _, r := range reads {
		before[strings.Join(r, " ")] = src.do(r...)
	}
	moved := 0
	var first [][]byte
	for round := 0; ; round++ {
		seq, batch := src.slotOut(sl, 2, 3, 1<<20)
		if seq == 0 {
			break
		}
		// In flight: requests for the batch's keys get TRYAGAIN; asking again returns the same batch.
		if seq2, batch2 := src.slotOut(sl, 2, 3, 1<<20); seq2 != seq || !bytes.Equal(batch, batch2) {
			t.Fatalf("a second __slotout with the outbox full gave another batch")
		}
		in := bs(SlotInName, strconv.Itoa(sl), "1", strconv.FormatUint(seq, 10), string(batch))
		if first == nil {
			first = in
		}
		r := dst.sys(in...)
		n, _ := strconv.Atoi(strings.TrimSpace(r[1:]))
		moved += n
		if r := dst.sys(in...); r != ":0\r\n" {
			t.Fatalf("a batch sent twice was written again: %q", r)
		}
		if r := src.sys(bs(SlotAckName, strconv.Itoa(sl), strconv.FormatUint(seq, 10))...); r != ":1\r\n" {
			t.Fatalf("__slotack = %q", r)
		}
		if round > 10 {
			t.Fatal("the slot never empties")
		}
	}
	if moved != 6 { // {s}both was the target's already, {s}dies expired
		t.Fatalf("%d keys written on the target, want 6", moved)
	}
	for _, r := range reads {
		if got, want := dst.do(r...), before[strings.Join(r, " ")]; got != want {
			t.Fatalf("on the target %v = %q, before the move %q", r, got, want)
		}
	}
	dst.check("$3\r\nnew\r\n", "GET", "{s}both")
	dst.check(":0\r\n", "EXISTS", "{s}dies")
	dst.check(":7\r\n", "DBSIZE")
	src.check(":1\r\n", "DBSIZE")
	src.check("$5\r\nstays\r\n", "GET", "other")
	// A batch delayed past later ones is not written: its keys may have changed since.
	dst.check(":1\r\n", "DEL", "{s}hash")
	if r := dst.sys(first...); r != ":0\r\n" {
		t.Fatalf("a stale batch was written: %q", r)
	}
	dst.check(":0\r\n", "EXISTS", "{s}hash")
	dst.check(":4\r\n", "RPUSH", "{s}list", "d")
	dst.check(":1\r\n", "ZADD", "{s}zset", "3", "three")
	dst.check("*3\r\n$3\r\none\r\n$3\r\ntwo\r\n$5\r\nthree\r\n", "ZRANGE", "{s}zset", "0", "-1")
}

// multi runs commands as one MULTI/EXEC operation.
func (h *harness) multi(cmds ...[]string) string {
	h.t.Helper()
	h.index++
	var ops [][][]byte
	for _, c := range cmds {
		ops = append(ops, bs(c...))
	}
	data := AppendOp(nil, 2, 0, OpMulti, h.now, ops...)
	results := make([][]byte, 1)
	if err := h.app.Apply([]replica.Entry{{Index: h.index, Data: data}}, results); err != nil {
		h.t.Fatal(err)
	}
	return string(results[0])
}

// While a slot moves out, the source decides at apply time: keys it has are served, keys gone
// (or never here) get -ASK naming the target shard, keys in flight and requests over keys on
// both sides get -TRYAGAIN. Once the slot is its own again it forgets all that.
func TestSlotMoveSourceReplies(t *testing.T) {
	h := newHarness(t)
	for _, k := range []string{"{s}a", "{s}b", "{s}c"} {
		h.check("+OK\r\n", "SET", k, k)
	}
	h.check("+OK\r\n", "SET", "other", "1")
	sl := slot.KeySlot([]byte("{s}"))
	ask := "-ASK " + strconv.Itoa(sl) + " @7\r\n"
	h.check("$4\r\n{s}a\r\n", "GET", "{s}a") // nothing moved yet
	seq, _ := h.slotOut(sl, 7, 1, 1<<20)
	h.check("-"+errTryAgainKey+"\r\n", "GET", "{s}a")
	h.check("-"+errTryAgainKey+"\r\n", "SET", "{s}a", "x")
	h.sys(bs(SlotAckName, strconv.Itoa(sl), strconv.FormatUint(seq, 10))...)
	for _, tc := range []struct {
		want string
		args []string
	}{
		{ask, []string{"GET", "{s}a"}},
		{ask, []string{"SET", "{s}a", "x"}},
		{ask, []string{"SET", "{s}new", "x"}},
		{ask, []string{"MGET", "{s}a", "{s}new"}},
		{"-" + errTryAgainSlot + "\r\n", []string{"MGET", "{s}a", "{s}b"}},
		{"$4\r\n{s}b\r\n", []string{"GET", "{s}b"}},
		{":1\r\n", []string{"DEL", "{s}c"}},
		{ask, []string{"GET", "{s}c"}}, // deleted: gone from here, so the target's
		{":2\r\n", []string{"INCR", "other"}},
		{ask, []string{"__eval", "1", "*", "rw", "return 1", "1", "{s}a"}},
	} {
		h.check(tc.want, tc.args...)
	}
	if got := h.multi([]string{"SET", "{s}b", "y"}, []string{"GET", "{s}b"}); got != "*2\r\n+OK\r\n$1\r\ny\r\n" {
		t.Fatalf("MULTI over a key still here = %q", got)
	}
	if got := h.multi([]string{"SET", "{s}b", "y"}, []string{"GET", "{s}a"}); got != "-"+errTryAgainSlot+"\r\n" {
		t.Fatalf("MULTI over keys on both sides = %q", got)
	}
	// A client cannot send the mover's operations.
	h.check("-ERR unknown command '__slotown'\r\n", SlotOwnName, strconv.Itoa(sl))
	h.sys(bs(SlotOwnName, strconv.Itoa(sl))...)
	h.check("$-1\r\n", "GET", "{s}a")
	h.check("+OK\r\n", "SET", "{s}new", "x")
}

// A client blocked on a key of a slot that starts moving out is answered -ASK (the key will be
// created on the target), unless the shard still holds one of its keys.
func TestSlotMoveRedirectsWaiters(t *testing.T) {
	h := newApplyHarness(t)
	if r := h.apply(op(7, "BLPOP", "{s}list", "0"), op(8, "BLPOP", "other", "0"), op(9, "XREAD", "BLOCK", "0", "STREAMS", "{s}st", "$")); len(r) != 3 {
		t.Fatal(r)
	}
	h.apply(op(0, "XADD", "{s}st", "1-1", "f", "v"))
	h.apply(op(10, "XREAD", "BLOCK", "0", "STREAMS", "{s}st", "$"))
	h.served = nil
	sl := slot.KeySlot([]byte("{s}"))
	h.index++
	data := AppendOp(nil, 2, 0, OpSystem, 1000, bs(SlotOutName, strconv.Itoa(sl), "2", "1", "1000000"))
	res := make([][]byte, 1)
	if err := h.a.Apply([]replica.Entry{{Index: h.index, Data: data}}, res); err != nil {
		t.Fatal(err)
	}
	// The first batch took the stream out too: its reader is redirected as well.
	ask := "-ASK " + strconv.Itoa(sl) + " @2\r\n"
	var tokens []uint64
	for _, sv := range h.served {
		if string(sv.Reply) != ask {
			t.Fatalf("waiter %d answered %q, want %q", sv.Token, sv.Reply, ask)
		}
		tokens = append(tokens, sv.Token)
	}
	slices.Sort(tokens)
	if !slices.Equal(tokens, []uint64{7, 10}) {
		t.Fatalf("redirected waiters %v, want 7 and 10", tokens)
	}
	if n := h.a.waiters.Count(); n != 1 {
		t.Fatalf("%d waiters left, want 1 (on another slot's key)", n)
	}
}

// Each slot's migration state is a record of its own, read back by a new applier over the same
// engine (a restart); the single record earlier versions kept for all slots is read too, and
// rewritten as per-slot records at the next change.
func TestSlotMoveStateRecords(t *testing.T) {
	h := newHarness(t)
	h.do("SET", "{a}k", "v")
	sa, sb := slot.KeySlot([]byte("{a}")), slot.KeySlot([]byte("{b}"))
	if seq, _ := h.slotOut(sa, 7, 10, 1<<20); seq == 0 {
		t.Fatal("no batch for a slot with a key")
	}
	h.slotOut(sb, 7, 10, 1<<20) // an empty slot: migrating, no outbox
	reopen := func() {
		t.Helper()
		app, err := NewApplier(Storage{Engine: h.eng, State: h.app.state, Cache: keyspace.NewCache(1 << 20), Filters: h.filters}, h.limits)
		if err != nil {
			t.Fatal(err)
		}
		h.app = app
	}
	want := []int{sa, sb}
	slices.Sort(want)
	got := func() []int { s := slices.Clone(h.app.MigratingSlots()); slices.Sort(s); return s }
	reopen()
	if !slices.Equal(got(), want) {
		t.Fatalf("after a restart the migrating slots are %v, want %v", got(), want)
	}
	// The outbox survived: __slotout answers it again.
	if seq, batch := h.slotOut(sa, 7, 10, 1<<20); seq == 0 || len(batch) == 0 {
		t.Fatal("the outbox was lost in the restart")
	}
	// Earlier versions' single record, as they wrote it.
	b := h.eng.NewBatch()
	for _, s := range want {
		_ = b.Delete(keyspace.SystemKey(slotMoveKey(s)), nil)
	}
	_ = b.Set(keyspace.SystemKey(slotMoveRecord), []byte(`{"`+strconv.Itoa(sb)+`":{"to":7},"`+strconv.Itoa(sa)+`":{"to":7}}`), nil)
	if err := h.eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	reopen()
	if !slices.Equal(got(), want) {
		t.Fatalf("from the old record the migrating slots are %v, want %v", got(), want)
	}
	h.sys(bs(SlotOwnName, strconv.Itoa(sb))...)
	reopen()
	if want := []int{sa}; !slices.Equal(got(), want) {
		t.Fatalf("after __slotown %d the migrating slots are %v, want %v", sb, got(), want)
	}
	if v, _, err := h.eng.DB().Get(keyspace.SystemKey(slotMoveRecord)); err == nil {
		t.Fatalf("the old record is still there: %q", v)
	}
}
