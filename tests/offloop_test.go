package tests

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Reads whose cost grows with the data run off the event loop (issue 15): another connection
// of the same loop is answered while they run, and their replies keep their place.

// startOneLoop starts a server with one event loop, so every connection shares it.
func startOneLoop(t *testing.T, args ...string) *servertest.Server {
	t.Helper()
	t.Setenv("CAIRN_EVENT_LOOPS", "1")
	return servertest.Start(t, args...)
}

// fill sends one command per chunk of values, pipelined, and checks every reply is no error.
func fill(t *testing.T, c *servertest.Conn, head []string, values []string, chunk int) {
	t.Helper()
	var b strings.Builder
	n := 0
	for i := 0; i < len(values); i += chunk {
		b.WriteString(encode(append(slices.Clone(head), values[i:min(i+chunk, len(values))]...)...))
		n++
	}
	c.Send(b.String())
	for ; n > 0; n-- {
		if r := c.ReadReply(); strings.HasPrefix(r, "-") {
			t.Fatalf("%s: %s", head[0], r)
		}
	}
}

// offLoopData fills, on c: list "l" of n numbers in a scrambled order (listValues), n/4 string
// keys "k:i" and, with sets, sets "s1" and "s2" with the list's even and odd positions and hash
// "h" of n/2 fields.
func offLoopData(t *testing.T, c *servertest.Conn, n int, sets bool) (listValues []string) {
	t.Helper()
	var s1, s2, h, keys []string
	for i := 0; i < n; i++ {
		v := strconv.Itoa((i * 7919) % n)
		listValues = append(listValues, v)
		if i%2 == 0 {
			s1 = append(s1, v)
			h = append(h, "f"+v, v)
		} else {
			s2 = append(s2, v)
		}
		if i < n/4 {
			keys = append(keys, "k:"+strconv.Itoa(i), strconv.Itoa(i))
		}
	}
	fill(t, c, []string{"RPUSH", "l"}, listValues, 1000)
	fill(t, c, []string{"MSET"}, keys, 1000)
	if sets {
		fill(t, c, []string{"SADD", "s1"}, s1, 1000)
		fill(t, c, []string{"SADD", "s2"}, s2, 1000)
		fill(t, c, []string{"HSET", "h"}, h, 1000)
	}
	return listValues
}

func TestOffLoopPingDuringLongRead(t *testing.T) {
	srv := startOneLoop(t)
	rc := srv.Client()
	long, probe := srv.Dial(), srv.Dial()
	const n = 100000
	offLoopData(t, long, n, false) // SORT's data: sets cost much more to fill under -race
	if r := long.Do("SET", "marker", "m"); r != ok {
		t.Fatal(r)
	}

	for _, tc := range []struct {
		args []string
		want string // the start of the reply
	}{
		{[]string{"SORT", "l", "LIMIT", "0", "3"}, array(bulk("0"), bulk("1"), bulk("2"))},
		{[]string{"SORT", "l", "BY", "nosort", "GET", "#", "GET", "k:*"}, "*" + strconv.Itoa(2*n) + "\r\n"},
		{[]string{"SORT", "l", "DESC", "LIMIT", "0", "1"}, array(bulk(strconv.Itoa(n - 1)))},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			before := infoInt(t, rc, "stats", "offloop_reads")
			// The long read, with a GET and a PING pipelined after it: they must wait for it.
			sent := time.Now()
			long.Send(encode(tc.args...) + encode("GET", "marker") + encode("PING"))
			var took time.Duration
			var reply string
			done := make(chan struct{})
			go func() {
				defer close(done)
				reply = long.ReadReply()
				took = time.Since(sent)
			}()
			// The other connection is answered meanwhile, each PING well within the long
			// read's time.
			pings, answeredDuring := pingWhile(t, probe, done)
			if !strings.HasPrefix(reply, tc.want) {
				t.Fatalf("%s = %.80q…, want it to start with %.80q", tc.args[0], reply, tc.want)
			}
			if r := long.ReadReply(); r != bulk("m") {
				t.Fatalf("pipelined GET after %s = %q", tc.args[0], r)
			}
			if r := long.ReadReply(); r != "+PONG\r\n" {
				t.Fatalf("pipelined PING after %s = %q", tc.args[0], r)
			}
			if got := infoInt(t, rc, "stats", "offloop_reads") - before; got != 1 {
				t.Errorf("%d reads ran off the loop, want 1", got)
			}
			worst := slices.Max(pings)
			t.Logf("%s took %v; %d PINGs answered while it ran, the slowest in %v", tc.args[0], took, answeredDuring, worst)
			if answeredDuring < 3 {
				t.Errorf("%d PINGs answered on the same loop during a %v %s, want several", answeredDuring, took, tc.args[0])
			}
			if worst > took/4 {
				t.Errorf("a PING took %v during a %v %s: the loop was held", worst, took, tc.args[0])
			}
		})
	}
}

// Reads that go off the loop give the replies they gave inline, in order, with small cases
// still inline.
func TestOffLoopReplies(t *testing.T) {
	srv := startOneLoop(t)
	rc := srv.Client()
	c := srv.Dial()
	const n = 6000
	list := offLoopData(t, c, n, true)
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	bulks := func(vs []string) string {
		var b strings.Builder
		b.WriteString("*" + strconv.Itoa(len(vs)) + "\r\n")
		for _, v := range vs {
			b.WriteString(bulk(v))
		}
		return b.String()
	}
	members := func(raw string) []string {
		vs := colParse(t, raw).strs(t)
		slices.Sort(vs)
		return vs
	}
	var evens, odds []string
	for i, v := range list {
		if i%2 == 0 {
			evens = append(evens, v)
		} else {
			odds = append(odds, v)
		}
	}
	slices.Sort(evens)
	slices.Sort(odds)
	all := slices.Sorted(slices.Values(list))
	var mgetKeys, mgetWant []string
	for i := 0; i < 2000; i++ {
		mgetKeys = append(mgetKeys, "k:"+strconv.Itoa(i%(n/4+10)))
		if i%(n/4+10) < n/4 {
			mgetWant = append(mgetWant, strconv.Itoa(i%(n/4+10)))
		} else {
			mgetWant = append(mgetWant, "")
		}
	}
	mgetReply := "*2000\r\n"
	for _, v := range mgetWant {
		if v == "" {
			mgetReply += nilBulk
		} else {
			mgetReply += bulk(v)
		}
	}

	type check struct {
		args    []string
		want    string                  // the exact reply, or
		members []string                // the elements of an unordered reply
		test    func(reply string) bool // or anything else
		offLoop bool
	}
	checks := []check{
		{args: []string{"SORT", "l"}, want: bulks(sorted), offLoop: true},
		{args: []string{"SORT_RO", "l", "DESC", "LIMIT", "0", "2"}, want: bulks([]string{sorted[n-1], sorted[n-2]}), offLoop: true},
		{args: []string{"LRANGE", "l", "0", "-1"}, want: bulks(list), offLoop: true},
		{args: []string{"LRANGE", "l", "10", "19"}, want: bulks(list[10:20])},
		{args: []string{"LRANGE", "l", "-5000", "-1"}, want: bulks(list[n-5000:]), offLoop: true},
		{args: []string{"SMEMBERS", "s1"}, members: evens, offLoop: true},
		{args: []string{"SUNION", "s1", "s2"}, members: all, offLoop: true},
		{args: []string{"SDIFF", "s2", "s1"}, members: odds, offLoop: true},
		{args: []string{"SINTER", "s1", "s2"}, want: "*0\r\n", offLoop: true},
		{args: []string{"SINTERCARD", "2", "s1", "s1"}, want: integer(n / 2), offLoop: true},
		{args: []string{"HKEYS", "h"}, test: func(r string) bool { return strings.HasPrefix(r, "*"+strconv.Itoa(n/2)+"\r\n") }, offLoop: true},
		{args: []string{"HGETALL", "h"}, test: func(r string) bool { return strings.HasPrefix(r, "*"+strconv.Itoa(n)+"\r\n") }, offLoop: true},
		{args: []string{"KEYS", "k:1?"}, members: []string{"k:10", "k:11", "k:12", "k:13", "k:14", "k:15", "k:16", "k:17", "k:18", "k:19"}, offLoop: true},
		{args: append([]string{"MGET"}, mgetKeys...), want: mgetReply, offLoop: true},
		{args: []string{"MGET", "k:1", "nokey"}, want: array(bulk("1"), nilBulk)},
		{args: []string{"SMEMBERS", "nokey"}, want: "*0\r\n"},
		{args: []string{"SUNION", "l", "s1"}, want: errReply("WRONGTYPE Operation against a key holding the wrong kind of value"), offLoop: true},
		{args: []string{"SORT", "s1", "BY", "x"}, test: func(r string) bool { return strings.HasPrefix(r, "*"+strconv.Itoa(n/2)+"\r\n") }, offLoop: true},
		{args: []string{"SORT", "l", "LIMIT", "0", "1", "STORE", "dst"}, want: integer(1)},
	}
	// All of them pipelined, twice: a reply out of place would show.
	var b strings.Builder
	for range 2 {
		for _, ch := range checks {
			b.WriteString(encode(ch.args...))
		}
	}
	before := infoInt(t, rc, "stats", "offloop_reads")
	c.Send(b.String())
	wantOff := 0
	for round := range 2 {
		for _, ch := range checks {
			got := c.ReadReply()
			name := strings.Join(ch.args[:min(len(ch.args), 4)], " ")
			switch {
			case ch.test != nil:
				if !ch.test(got) {
					t.Errorf("round %d: %s = %.100q…", round, name, got)
				}
			case ch.members != nil:
				if g := members(got); !slices.Equal(g, ch.members) {
					t.Errorf("round %d: %s has %d members, want %d", round, name, len(g), len(ch.members))
				}
			case got != ch.want:
				t.Errorf("round %d: %s = %.100q…, want %.100q…", round, name, got, ch.want)
			}
			if ch.offLoop {
				wantOff++
			}
		}
	}
	if got := infoInt(t, rc, "stats", "offloop_reads") - before; got != int64(wantOff) {
		t.Errorf("%d reads ran off the loop, want %d", got, wantOff)
	}
	if r := c.Do("LLEN", "dst"); r != integer(1) {
		t.Errorf("SORT ... STORE stored %q", r)
	}
}

// A read off the loop is a read like any other for CLIENT REPLY, the slow log, command stats,
// keyspace hits, MONITOR and client-side caching; in MULTI it runs atomically in EXEC.
func TestOffLoopAccounting(t *testing.T) {
	srv := startOneLoop(t)
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	c := srv.Dial()
	offLoopData(t, c, 4000, true)

	// CLIENT REPLY SKIP drops the off-loop reply only; OFF drops them all.
	c.Send(encode("CLIENT", "REPLY", "SKIP") + encode("SMEMBERS", "s1") + encode("GET", "k:3"))
	if r := c.ReadReply(); r != bulk("3") {
		t.Fatalf("after CLIENT REPLY SKIP + SMEMBERS: %q, want GET's reply", r)
	}
	c.Send(encode("CLIENT", "REPLY", "OFF") + encode("SMEMBERS", "s1") + encode("CLIENT", "REPLY", "ON") + encode("GET", "k:4"))
	if r := c.ReadReply(); r != ok {
		t.Fatalf("CLIENT REPLY ON = %.60q", r)
	}
	if r := c.ReadReply(); r != bulk("4") {
		t.Fatalf("GET = %q", r)
	}

	// Slow log, command stats and keyspace hits.
	if err := rc.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.SlowLogReset(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	hits := infoInt(t, rc, "stats", "keyspace_hits")
	calls := func() string {
		s, _ := rc.Info(ctx, "commandstats").Result()
		for _, l := range strings.Split(s, "\r\n") {
			if v, ok := strings.CutPrefix(l, "cmdstat_sunion:"); ok {
				return strings.Split(v, ",")[0]
			}
		}
		return ""
	}
	if got := calls(); got != "" {
		t.Fatalf("SUNION already counted: %s", got)
	}
	if r := c.Do("SUNION", "s1", "s2"); !strings.HasPrefix(r, "*4000\r\n") {
		t.Fatalf("SUNION = %.40q", r)
	}
	if got := calls(); got != "calls=1" {
		t.Errorf("cmdstat_sunion %q, want calls=1", got)
	}
	if got := infoInt(t, rc, "stats", "keyspace_hits") - hits; got != 2 {
		t.Errorf("keyspace_hits rose by %d, want 2", got)
	}
	found := false
	for _, e := range rc.SlowLogGet(ctx, 10).Val() {
		if len(e.Args) == 3 && e.Args[0] == "SUNION" {
			found = true
		}
	}
	if !found {
		t.Errorf("SUNION not in the slow log: %v", rc.SlowLogGet(ctx, 10).Val())
	}

	// MONITOR sees it.
	mon := srv.Dial()
	if r := mon.Do("MONITOR"); r != ok {
		t.Fatal(r)
	}
	if r := c.Do("SMEMBERS", "s2"); !strings.HasPrefix(r, "*2000\r\n") {
		t.Fatalf("SMEMBERS = %.40q", r)
	}
	if r := mon.ReadReply(); !strings.Contains(r, `"SMEMBERS" "s2"`) {
		t.Errorf("MONITOR showed %q", r)
	}

	// Client-side caching: a key read off the loop is tracked.
	tc := srv.Dial()
	hello3(tc)
	if r := tc.Do("CLIENT", "TRACKING", "ON"); r != ok {
		t.Fatal(r)
	}
	if r := tc.Do("SMEMBERS", "s1"); !strings.HasPrefix(r, "~2000\r\n") {
		t.Fatalf("SMEMBERS (RESP3) = %.40q", r)
	}
	if err := rc.SAdd(ctx, "s1", "new").Err(); err != nil {
		t.Fatal(err)
	}
	expect(t, tc, invalidate("s1"))

	// In MULTI the read is queued and runs in EXEC, which sees the transaction's own writes.
	c.Send(encode("MULTI") + encode("SADD", "s1", "x") + encode("SMEMBERS", "s1") + encode("EXEC"))
	for _, w := range []string{ok, "+QUEUED\r\n", "+QUEUED\r\n"} {
		if r := c.ReadReply(); r != w {
			t.Fatalf("MULTI: %q, want %q", r, w)
		}
	}
	if r := c.ReadReply(); !strings.HasPrefix(r, "*2\r\n:1\r\n*2002\r\n") {
		t.Fatalf("EXEC = %.60q", r)
	}
}

// Many connections reading big collections off the loop at once, with small requests between
// them: every reply arrives in its connection's order.
func TestOffLoopConcurrentPipelines(t *testing.T) {
	srv := startOneLoop(t)
	c := srv.Dial()
	offLoopData(t, c, 4000, true)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		conn := srv.Dial()
		go func() {
			defer wg.Done()
			var b strings.Builder
			for j := range 20 {
				b.WriteString(encode("SMEMBERS", "s1") + encode("GET", "k:"+strconv.Itoa(i*20+j)) + encode("LRANGE", "l", "0", "-1"))
			}
			if _, err := conn.Write([]byte(b.String())); err != nil {
				t.Error(err)
				return
			}
			for j := range 20 {
				if r := conn.ReadReply(); !strings.HasPrefix(r, "*2000\r\n") {
					t.Errorf("conn %d SMEMBERS %d = %.40q", i, j, r)
					return
				}
				if r := conn.ReadReply(); r != bulk(strconv.Itoa(i*20+j)) {
					t.Errorf("conn %d GET %d = %q", i, j, r)
					return
				}
				if r := conn.ReadReply(); !strings.HasPrefix(r, "*4000\r\n") {
					t.Errorf("conn %d LRANGE %d = %.40q", i, j, r)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// On a cluster node, KEYS over the shards it leads and a big read on one shard run off the
// loop too, their replies in order.
func TestOffLoopCluster(t *testing.T) {
	c := servertest.StartCluster(t, 1)
	node := c.Nodes[0]
	rc := node.Client()
	conn := node.Dial()
	var kv, members []string
	for i := range 3000 {
		kv = append(kv, "key:"+strconv.Itoa(i), "v")
		members = append(members, strconv.Itoa(i))
	}
	for i := 0; i < len(kv); i += 2 {
		if r := conn.Do("SET", kv[i], kv[i+1]); r != ok {
			t.Fatalf("SET %s = %q", kv[i], r)
		}
	}
	fill(t, conn, []string{"SADD", "set"}, members, 1000)
	before := infoInt(t, rc, "stats", "offloop_reads")
	conn.Send(encode("KEYS", "key:*") + encode("GET", "key:7") + encode("SMEMBERS", "set") + encode("KEYS", "nomatch*"))
	if got := members2(t, conn.ReadReply()); len(got) != 3000 || !strings.HasPrefix(got[0], "key:") {
		t.Fatalf("KEYS key:* gave %d keys", len(got))
	}
	if r := conn.ReadReply(); r != bulk("v") {
		t.Fatalf("GET after KEYS = %q", r)
	}
	if got := members2(t, conn.ReadReply()); len(got) != 3000 {
		t.Fatalf("SMEMBERS gave %d members", len(got))
	}
	if r := conn.ReadReply(); r != "*0\r\n" {
		t.Fatalf("KEYS nomatch* = %q", r)
	}
	if got := infoInt(t, rc, "stats", "offloop_reads") - before; got != 3 {
		t.Errorf("%d reads ran off the loop, want 3", got)
	}
}

func members2(t *testing.T, raw string) []string {
	t.Helper()
	vs := colParse(t, raw).strs(t)
	slices.Sort(vs)
	return vs
}

// A write whose cost grows with the data (SORT ... STORE, COPY of a big list) is applied by the
// shard's log goroutine, not by the event loop, under appendfsync everysec: PINGs on the same
// loop are answered while it runs, a pipelined GET after it still answers after it, and
// another client's writes meanwhile are applied too.
func TestOffLoopLongWrite(t *testing.T) {
	srv := startOneLoop(t, "--appendfsync", "everysec")
	rc := srv.Client()
	long, probe, writer := srv.Dial(), srv.Dial(), srv.Dial()
	const n = 100000
	offLoopData(t, long, n, false)
	if r := long.Do("SET", "marker", "m"); r != ok {
		t.Fatal(r)
	}
	for _, tc := range []struct {
		args []string
		want string
		len  string // the destination's length after it
	}{
		{[]string{"SORT", "l", "STORE", "dst"}, ":" + strconv.Itoa(n) + "\r\n", "dst"},
		{[]string{"COPY", "l", "l2"}, ":1\r\n", "l2"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			before := infoInt(t, rc, "stats", "offloop_writes")
			sent := time.Now()
			long.Send(encode(tc.args...) + encode("GET", "marker"))
			var took time.Duration
			var reply string
			done := make(chan struct{})
			go func() {
				defer close(done)
				reply = long.ReadReply()
				took = time.Since(sent)
			}()
			// Another client's writes meanwhile wait for the long write (the shard applies one
			// at a time) but do not hold the loop.
			writes := 0
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				for {
					if r := writer.Do("INCR", "counter:"+tc.args[0]); !strings.HasPrefix(r, ":") {
						t.Errorf("INCR = %q", r)
						return
					}
					writes++
					select {
					case <-done:
						return
					default:
					}
				}
			}()
			pings, answeredDuring := pingWhile(t, probe, done)
			<-wrote
			if reply != tc.want {
				t.Fatalf("%s = %q, want %q", tc.args[0], reply, tc.want)
			}
			if r := long.ReadReply(); r != bulk("m") {
				t.Fatalf("pipelined GET after %s = %q", tc.args[0], r)
			}
			if got, err := rc.LLen(servertest.Ctx(t), tc.len).Result(); err != nil || got != n {
				t.Fatalf("LLEN %s = %d, %v", tc.len, got, err)
			}
			if got, _ := rc.Get(servertest.Ctx(t), "counter:"+tc.args[0]).Int(); got != writes {
				t.Errorf("counter = %d after %d INCRs", got, writes)
			}
			if got := infoInt(t, rc, "stats", "offloop_writes") - before; got != 1 {
				t.Errorf("%d writes applied off the loop, want 1", got)
			}
			worst := slices.Max(pings)
			t.Logf("%s took %v; %d PINGs answered while it ran, the slowest in %v", tc.args[0], took, answeredDuring, worst)
			if answeredDuring < 3 {
				t.Errorf("%d PINGs answered on the same loop during a %v %s, want several", answeredDuring, took, tc.args[0])
			}
			if worst > took/4 {
				t.Errorf("a PING took %v during a %v %s: the loop was held", worst, took, tc.args[0])
			}
		})
	}
}

// pingWhile sends PINGs on probe, one after the other, until done is closed (and once more
// after), and returns each PING's time and how many were answered before done closed.
func pingWhile(t *testing.T, probe *servertest.Conn, done <-chan struct{}) (pings []time.Duration, answeredDuring int) {
	t.Helper()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		t0 := time.Now()
		if r := probe.Do("PING"); r != "+PONG\r\n" {
			t.Fatalf("PING = %q", r)
		}
		pings = append(pings, time.Since(t0))
		select {
		case <-done:
		default:
			answeredDuring++
		}
	}
	return pings, answeredDuring
}
