package tests

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// dumpFixture writes, with commands, values of every type in each encoding Redis picks for
// them (small and large, integers and text), and returns their keys.
func dumpFixture(t *testing.T, c *redis.Client, r *rand.Rand) []string {
	t.Helper()
	ctx := servertest.Ctx(t)
	var keys []string
	text := func(n int) string { return strings.Repeat(string(rune('a'+r.IntN(26))), n) }
	for i, n := range []int{1, 3, 127, 129, 600} {
		p := c.Pipeline()
		str, list, set, iset, hash, zset := fmt.Sprintf("str%d", i), fmt.Sprintf("list%d", i), fmt.Sprintf("set%d", i),
			fmt.Sprintf("iset%d", i), fmt.Sprintf("hash%d", i), fmt.Sprintf("zset%d", i)
		p.Set(ctx, str, text(n), 0)
		p.Set(ctx, str+"i", strconv.Itoa(r.IntN(1<<31)), 0)
		for j := 0; j < n; j++ {
			p.RPush(ctx, list, text(1+r.IntN(80)), j)
			p.SAdd(ctx, set, fmt.Sprintf("m%d-%s", j, text(r.IntN(70))))
			p.SAdd(ctx, iset, j*7919-300)
			p.HSet(ctx, hash, fmt.Sprintf("f%d", j), text(r.IntN(70)))
			p.ZAdd(ctx, zset, redis.Z{Score: []float64{float64(j), r.NormFloat64(), 1.5}[j%3], Member: fmt.Sprintf("z%d%s", j, text(r.IntN(70)))})
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, str, str+"i", list, set, iset, hash, zset)
	}
	return keys
}

// valueOf reads the value at key, in an order-independent form.
func valueOf(t *testing.T, c *redis.Client, key string) []string {
	t.Helper()
	ctx := servertest.Ctx(t)
	typ := c.Type(ctx, key).Val()
	var out []string
	switch typ {
	case "string":
		out = []string{c.Get(ctx, key).Val()}
	case "list":
		out = c.LRange(ctx, key, 0, -1).Val()
	case "set":
		out = c.SMembers(ctx, key).Val()
		sort.Strings(out)
	case "hash":
		for f, v := range c.HGetAll(ctx, key).Val() {
			out = append(out, f+"="+v)
		}
		sort.Strings(out)
	case "zset":
		for _, z := range c.ZRangeWithScores(ctx, key, 0, -1).Val() {
			out = append(out, fmt.Sprintf("%v=%v", z.Member, z.Score))
		}
	}
	return append([]string{typ}, out...)
}

// TestDumpRestoreWithRedis: values dumped by redis-server restore on cairn, and values dumped
// by cairn restore on redis-server, to the same values.
func TestDumpRestoreWithRedis(t *testing.T) {
	real := startRedis(t)
	srv := servertest.Start(t)
	c := srv.Client()
	ctx := servertest.Ctx(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	keys := dumpFixture(t, real, rand.New(rand.NewPCG(seed, 1)))
	for _, k := range keys {
		want := valueOf(t, real, k)
		payload, err := real.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Restore(ctx, k, 0, payload).Err(); err != nil {
			t.Fatalf("%s (%s): RESTORE of redis-server's dump on cairn: %v", k, real.ObjectEncoding(ctx, k).Val(), err)
		}
		if got := valueOf(t, c, k); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: cairn restored %.200v, want %.200v", k, got, want)
		}
		back, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := real.Restore(ctx, k+":back", 0, back).Err(); err != nil {
			t.Fatalf("%s: RESTORE of cairn's dump on redis-server: %v", k, err)
		}
		if got := valueOf(t, real, k+":back"); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: redis-server restored cairn's dump as %.200v, want %.200v", k, got, want)
		}
	}
}

// TestRestoreOptionsAndErrors diffs RESTORE's options and error replies against redis-server.
func TestRestoreOptionsAndErrors(t *testing.T) {
	real := startRedis(t)
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	real.RPush(ctx, "l", "a", "b")
	payload := real.Dump(ctx, "l").Val()
	bad := []byte(payload)
	bad[2] ^= 0xff
	cmds := [][]any{
		{"SET", "exists", "x"},
		{"RESTORE", "exists", "0", payload},
		{"RESTORE", "exists", "0", payload, "REPLACE"},
		{"LRANGE", "exists", "0", "-1"},
		{"RESTORE", "n1", "0", string(bad)},
		{"RESTORE", "n1", "0", "short"},
		{"RESTORE", "n1", "-1", payload},
		{"RESTORE", "n1", "x", payload},
		{"RESTORE", "n1", "0", payload, "IDLETIME", "-1"},
		{"RESTORE", "n1", "0", payload, "FREQ", "256"},
		{"RESTORE", "n1", "0", payload, "IDLETIME", "1", "FREQ", "2"},
		{"RESTORE", "n1", "0", payload, "BOGUS"},
		{"RESTORE", "n1", "0", payload, "IDLETIME"},
		{"RESTORE", "n1", "0", payload, "IDLETIME", "1000"},
		{"OBJECT", "IDLETIME", "n1"},
		{"RESTORE", "n2", "1", payload, "ABSTTL"}, // long expired: not created
		{"EXISTS", "n2"},
		{"RESTORE", "exists", "1", payload, "ABSTTL", "REPLACE"}, // deletes the old key
		{"EXISTS", "exists"},
		{"RESTORE", "n3", "100000", payload},
		{"DUMP", "missing"},
		{"TYPE", "n3"},
		{"XADD", "st", "1-1", "a", "1"},
	}
	c := srv.Client()
	for _, args := range cmds {
		want, werr := real.Do(ctx, args...).Result()
		got, gerr := c.Do(ctx, args...).Result()
		if fmt.Sprint(got, gerr) != fmt.Sprint(want, werr) {
			t.Errorf("%v: cairn %v %v, redis-server %v %v", args[:min(len(args), 3)], got, gerr, want, werr)
		}
	}
	if ttl := c.PTTL(ctx, "n3").Val(); ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Errorf("PTTL after RESTORE with TTL 100000 = %v", ttl)
	}
	// A read uses the key: its idle time starts again.
	c.LRange(ctx, "n1", 0, -1)
	if idle := c.ObjectIdleTime(ctx, "n1").Val(); idle > 2*time.Second {
		t.Errorf("OBJECT IDLETIME after a read = %v, want about 0", idle)
	}
	if err := c.Dump(ctx, "st").Err(); err == nil || err.Error() != "ERR DUMP of a stream is not supported by cairn" {
		t.Errorf("DUMP of a stream: %v", err)
	}
}

// TestObjectIdletimeAndFreq: OBJECT IDLETIME counts from the key's last access, OBJECT FREQ
// counts accesses under an LFU policy, and each refuses as Redis does under the other policy.
func TestObjectIdletimeAndFreq(t *testing.T) {
	real := startRedis(t)
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	c := srv.Client()
	for _, cl := range []*redis.Client{real, c} {
		cl.Set(ctx, "k", "v", 0)
		cl.RestoreReplace(ctx, "old", 0, dumpOf(t, real, "old"))
	}
	for _, cl := range []*redis.Client{c} {
		if err := cl.Do(ctx, "RESTORE", "idle", "0", dumpOf(t, real, "x"), "IDLETIME", "500").Err(); err != nil {
			t.Fatal(err)
		}
		if got := cl.ObjectIdleTime(ctx, "idle").Val(); got < 500*time.Second || got > 502*time.Second {
			t.Fatalf("OBJECT IDLETIME after RESTORE IDLETIME 500 = %v", got)
		}
		// TYPE, TTL and OBJECT do not use the key; GET does.
		cl.Type(ctx, "idle")
		cl.TTL(ctx, "idle")
		if got := cl.ObjectIdleTime(ctx, "idle").Val(); got < 500*time.Second {
			t.Fatalf("OBJECT IDLETIME after TYPE and TTL = %v, want still 500s", got)
		}
		// Nor does a read under CLIENT NO-TOUCH, but TOUCH does.
		nt := srv.Dial()
		nt.Do("CLIENT", "NO-TOUCH", "ON")
		nt.Do("GET", "idle")
		if got := cl.ObjectIdleTime(ctx, "idle").Val(); got < 500*time.Second {
			t.Fatalf("OBJECT IDLETIME after a NO-TOUCH GET = %v, want still 500s", got)
		}
		nt.Do("TOUCH", "idle")
		if got := cl.ObjectIdleTime(ctx, "idle").Val(); got > 2*time.Second {
			t.Fatalf("OBJECT IDLETIME after TOUCH = %v, want about 0", got)
		}
		cl.Do(ctx, "RESTORE", "idle", "0", dumpOf(t, real, "x"), "IDLETIME", "500", "REPLACE")
		cl.Get(ctx, "idle")
		if got := cl.ObjectIdleTime(ctx, "idle").Val(); got > 2*time.Second {
			t.Fatalf("OBJECT IDLETIME after GET = %v, want about 0", got)
		}
	}
	for _, cl := range []*redis.Client{real, c} {
		want := "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
		if err := cl.ObjectFreq(ctx, "k").Err(); err == nil || err.Error() != want {
			t.Fatalf("OBJECT FREQ without LFU: %v", err)
		}
		cl.ConfigSet(ctx, "maxmemory-policy", "allkeys-lfu")
		if err := cl.Do(ctx, "RESTORE", "f", "0", dumpOf(t, real, "x"), "FREQ", "100", "REPLACE").Err(); err != nil {
			t.Fatal(err)
		}
		if got := cl.ObjectFreq(ctx, "f").Val(); got != 100 {
			t.Fatalf("OBJECT FREQ after RESTORE FREQ 100 = %d", got)
		}
		for i := 0; i < 200; i++ {
			cl.Get(ctx, "k")
		}
		if got := cl.ObjectFreq(ctx, "k").Val(); got < 6 || got > 20 {
			t.Fatalf("OBJECT FREQ after 200 reads = %d, want the logarithmic counter of Redis (about 10)", got)
		}
		want = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
		if err := cl.ObjectIdleTime(ctx, "k").Err(); err == nil || err.Error() != want {
			t.Fatalf("OBJECT IDLETIME under LFU: %v", err)
		}
		cl.ConfigSet(ctx, "maxmemory-policy", "noeviction")
	}
}

// dumpOf returns a DUMP payload of a small string from redis-server.
func dumpOf(t *testing.T, real *redis.Client, key string) string {
	t.Helper()
	ctx := servertest.Ctx(t)
	real.Set(ctx, key+":dumpsrc", "value", 0)
	return real.Dump(ctx, key+":dumpsrc").Val()
}
