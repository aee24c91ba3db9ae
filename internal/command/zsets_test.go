package command

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// zharness runs commands through the Applier, as apply does, like harness but for benchmarks
// too, and with several operations per batch.
type zharness struct {
	t      testing.TB
	eng    *engine.Engine
	a      *Applier
	limits *Limits
	index  uint64
	now    int64
	proto  int
	events []keyspace.Event
}

func newZHarness(t testing.TB, cacheSize int64) *zharness {
	t.Helper()
	eng, err := engine.Open(engine.Options{FS: vfs.NewMem(), CacheSize: cacheSize, MemTableSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	state, err := keyspace.LoadState(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	filters, err := keyspace.NewFilters(eng.DB(), 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &zharness{t: t, eng: eng, limits: DefaultLimits(), now: 1_700_000_000_000, proto: 2}
	if h.a, err = NewApplier(Storage{Engine: eng, State: state, Cache: keyspace.NewCache(1 << 20), Filters: filters}, h.limits); err != nil {
		t.Fatal(err)
	}
	h.a.OnApplied = func(eff *keyspace.Effects, _ []Served) {
		h.events = h.events[:0]
		for _, ev := range eff.Events {
			ev.Key = append([]byte(nil), ev.Key...)
			h.events = append(h.events, ev)
		}
	}
	return h
}

// applyOps applies one log entry per command, all in one batch, and returns the replies.
func (h *zharness) applyOps(cmds ...[][]byte) []string {
	h.t.Helper()
	entries := make([]replica.Entry, len(cmds))
	for i, args := range cmds {
		h.index++
		entries[i] = replica.Entry{Index: h.index, Data: AppendOp(nil, h.proto, 0, 0, h.now, args)}
	}
	results := make([][]byte, len(cmds))
	if err := h.a.Apply(entries, results); err != nil {
		h.t.Fatal(err)
	}
	out := make([]string, len(results))
	for i, r := range results {
		out[i] = string(r)
	}
	return out
}

// do runs one command and returns its raw reply.
func (h *zharness) do(args ...string) string {
	h.t.Helper()
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return h.applyOps(b)[0]
}

// eventNames renders the last command's events as "class:name:key" strings.
func (h *zharness) eventNames() string {
	var s []string
	for _, ev := range h.events {
		if ev.Class == 'n' {
			continue // "new" is tested on its own (TestNewKeyEvent)
		}
		s = append(s, fmt.Sprintf("%c:%s:%s", ev.Class, ev.Name, ev.Key))
	}
	return strings.Join(s, " ")
}

func TestZSetKeyspaceEvents(t *testing.T) {
	h := newZHarness(t, 8<<20)
	steps := []struct {
		args   []string
		events string
	}{
		{[]string{"zadd", "z", "1", "a", "2", "b", "3", "c"}, "z:zadd:z"},
		{[]string{"zadd", "z", "1", "a"}, ""},
		{[]string{"zadd", "z", "nx", "5", "a"}, ""},
		{[]string{"zadd", "z", "5", "a"}, "z:zadd:z"},
		{[]string{"zincrby", "z", "1", "a"}, "z:zincr:z"},
		{[]string{"zadd", "z", "incr", "1", "a"}, "z:zincr:z"},
		{[]string{"zrem", "z", "nope"}, ""},
		{[]string{"zrem", "z", "a"}, "z:zrem:z"},
		{[]string{"zadd", "z", "1", "a", "4", "d", "5", "e"}, "z:zadd:z"},
		{[]string{"zremrangebyscore", "z", "100", "200"}, ""},
		{[]string{"zremrangebyscore", "z", "1", "1"}, "z:zremrangebyscore:z"},
		{[]string{"zremrangebyrank", "z", "0", "0"}, "z:zremrangebyrank:z"},
		{[]string{"zremrangebylex", "z", "[c", "[c"}, "z:zremrangebylex:z"},
		{[]string{"zpopmin", "z"}, "z:zpopmin:z"},
		{[]string{"zpopmax", "z", "5"}, "z:zpopmax:z g:del:z"},
		{[]string{"zadd", "z", "1", "a", "2", "b"}, "z:zadd:z"},
		{[]string{"zrem", "z", "a", "b"}, "z:zrem:z g:del:z"},
		{[]string{"zadd", "z", "1", "a", "2", "b"}, "z:zadd:z"},
		{[]string{"zunionstore", "u", "1", "z"}, "z:zunionstore:u"},
		{[]string{"zinterstore", "u", "1", "z"}, "z:zinterstore:u"},
		{[]string{"zdiffstore", "u", "1", "z"}, "z:zdiffstore:u"},
		{[]string{"zrangestore", "u", "z", "0", "0"}, "z:zrangestore:u"},
		{[]string{"zrangestore", "u", "z", "5", "6"}, "g:del:u"},
		{[]string{"zrangestore", "u", "z", "5", "6"}, ""},
		{[]string{"sort", "z", "alpha", "store", "u"}, "l:sortstore:u"},
		{[]string{"sort", "z", "alpha", "limit", "5", "1", "store", "u"}, "g:del:u"},
		{[]string{"sort", "z", "alpha", "limit", "5", "1", "store", "u"}, ""},
		{[]string{"zmpop", "1", "z", "min"}, "z:zpopmin:z"},
		{[]string{"bzpopmax", "z", "0"}, "z:zpopmax:z g:del:z"},
		{[]string{"zremrangebyrank", "z", "0", "-1"}, ""},
	}
	for _, s := range steps {
		reply := h.do(s.args...)
		if strings.HasPrefix(reply, "-") {
			t.Fatalf("%v: %q", s.args, reply)
		}
		if got := h.eventNames(); got != s.events {
			t.Fatalf("%v: events %q, want %q", s.args, got, s.events)
		}
	}
}

// zmodel is a sorted set in memory, the reference for the commands.
type zmodel map[string]float64

func (m zmodel) sorted() []zentry {
	out := make([]zentry, 0, len(m))
	for k, v := range m {
		out = append(out, zentry{[]byte(k), v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return string(out[i].member) < string(out[j].member)
	})
	return out
}

// respScores renders entries as the RESP2 reply of ZRANGE ... WITHSCORES.
func respScores(es []zentry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", 2*len(es))
	for _, z := range es {
		s := strconv.FormatFloat(z.score, 'g', -1, 64)
		switch {
		case math.IsInf(z.score, 1):
			s = "inf"
		case math.IsInf(z.score, -1):
			s = "-inf"
		}
		fmt.Fprintf(&b, "$%d\r\n%s\r\n$%d\r\n%s\r\n", len(z.member), z.member, len(s), s)
	}
	return b.String()
}

func TestZSetCommandsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 1))
	h := newZHarness(t, 8<<20)
	m := zmodel{}
	scores := []string{"-inf", "-1", "0", "0.5", "1", "2", "+inf"}
	for i := 0; i < 1500; i++ {
		id := rng.IntN(40)
		member := fmt.Sprintf("m%d", id)
		if id%3 == 0 { // longer than a pop bound keeps (boundMax): bounds are truncated
			member += strings.Repeat("x", 70) + member
		}
		var args []string
		switch op := rng.IntN(11); {
		case op < 5:
			s := scores[rng.IntN(len(scores))]
			args = []string{"zadd", "z", s, member}
			f, _ := ParseFloat([]byte(s))
			m[member] = f
		case op < 7:
			args = []string{"zrem", "z", member}
			delete(m, member)
		case op < 8:
			args = []string{"zincrby", "z", "1", member}
			v := m[member] + 1
			if math.IsNaN(v) {
				continue
			}
			m[member] = v
		case op < 9:
			n := 1 + rng.IntN(3)
			args = []string{"zpopmin", "z", strconv.Itoa(n)}
			for _, e := range m.sorted()[:min(n, len(m))] {
				delete(m, string(e.member))
			}
		case op < 10:
			args = []string{"zpopmax", "z"}
			if es := m.sorted(); len(es) > 0 {
				delete(m, string(es[len(es)-1].member))
			}
		default:
			args = []string{"zremrangebyrank", "z", "-2", "-1"}
			es := m.sorted()
			for j := max(0, len(es)-2); j < len(es); j++ {
				delete(m, string(es[j].member))
			}
		}
		if reply := h.do(args...); strings.HasPrefix(reply, "-") {
			t.Fatalf("step %d %v: %q", i, args, reply)
		}
		if got, want := h.do("zrange", "z", "0", "-1", "withscores"), respScores(m.sorted()); got != want {
			t.Fatalf("step %d %v: ZRANGE = %q, want %q", i, args, got, want)
		}
		if got, want := h.do("zcard", "z"), fmt.Sprintf(":%d\r\n", len(m)); got != want {
			t.Fatalf("step %d: ZCARD = %q, want %q", i, got, want)
		}
		if len(m) == 0 {
			if got := h.do("exists", "z"); got != ":0\r\n" {
				t.Fatalf("step %d: emptied set still exists", i)
			}
		}
	}
}

func TestZSetEncodingFlag(t *testing.T) {
	h := newZHarness(t, 8<<20)
	encoding := func(key string) string {
		t.Helper()
		tx := keyspace.NewTx(h.eng.DB(), nil, 0, h.now)
		e, err := tx.Lookup([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return zsetEncoding(&e)
	}
	h.do("zadd", "small", "1", "a")
	if got := encoding("small"); got != "listpack" {
		t.Fatalf("one member: %s", got)
	}
	h.do("zadd", "long", "1", strings.Repeat("x", 65))
	if got := encoding("long"); got != "skiplist" {
		t.Fatalf("65-byte member: %s", got)
	}
	for i := 0; i < 128; i++ {
		h.do("zadd", "grow", strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	if got := encoding("grow"); got != "listpack" {
		t.Fatalf("128 members: %s", got)
	}
	h.do("zadd", "grow", "1", "one-more")
	if got := encoding("grow"); got != "skiplist" {
		t.Fatalf("129 members: %s", got)
	}
	h.do("zpopmin", "grow", "100")
	if got := encoding("grow"); got != "skiplist" {
		t.Fatalf("shrunk to 29: %s (Redis never converts back)", got)
	}
	h.do("zunionstore", "copy", "1", "grow")
	if got := encoding("copy"); got != "listpack" {
		t.Fatalf("stored 29 short members: %s", got)
	}
}

// TestZSetCommandsSurviveGarbage runs random argument lists through every sorted-set command and
// SORT: whatever the arguments, a command must reply (an error is fine) and never panic, which
// in apply would take the server down.
func TestZSetCommandsSurviveGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	h := newZHarness(t, 8<<20)
	h.do("zadd", "z", "1", "a", "2", "b", "3", "c", "+inf", "d")
	h.do("zadd", "z2", "0", "a", "0", "b")
	h.do("set", "s", "v")
	names := []string{"zadd", "zincrby", "zrem", "zcard", "zscore", "zmscore", "zrank", "zrevrank",
		"zcount", "zlexcount", "zrange", "zrangestore", "zrevrange", "zrangebyscore",
		"zrevrangebyscore", "zrangebylex", "zrevrangebylex", "zremrangebyrank", "zremrangebyscore",
		"zremrangebylex", "zpopmin", "zpopmax", "bzpopmin", "bzpopmax", "zmpop", "bzmpop",
		"zrandmember", "zunion", "zinter", "zdiff", "zunionstore", "zinterstore", "zdiffstore",
		"zintercard", "zscan", "sort", "sort_ro"}
	words := []string{"z", "z2", "s", "nokey", "a", "b", "0", "1", "2", "-1", "-2", "3",
		"9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e400", "-1e400",
		"nan", "inf", "-inf", "+inf", "(1", "(", "[a", "[", "-", "+", "(b", "0.5", "",
		"NX", "XX", "GT", "LT", "CH", "INCR", "WITHSCORES", "WITHSCORE", "LIMIT", "BYSCORE",
		"BYLEX", "REV", "COUNT", "MIN", "MAX", "WEIGHTS", "AGGREGATE", "SUM", "STORE", "BY", "GET",
		"ALPHA", "DESC", "ASC", "MATCH", "#", "w_*", "h_*->f", "*", "nosort"}
	for i := 0; i < 50000; i++ {
		args := []string{names[rng.IntN(len(names))]}
		for n := rng.IntN(8); n > 0; n-- {
			args = append(args, words[rng.IntN(len(words))])
		}
		cmd := Lookup([]byte(args[0]))
		if !CheckArity(cmd.Arity, len(args)) {
			continue
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%q panicked: %v", args, p)
				}
			}()
			if reply := h.do(args...); reply == "" {
				t.Fatalf("%q: no reply", args)
			}
		}()
	}
}
