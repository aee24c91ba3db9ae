package tests

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

var scanSeed = flag.Uint64("seed", 0, "seed for randomized tests (0: pick one)")

func seed(t *testing.T) uint64 {
	t.Helper()
	s := *scanSeed
	if s == 0 {
		s = rand.Uint64()
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return s
}

// scanAll runs a whole SCAN and returns every key it returned (with repeats) and the number of
// calls it took.
func scanAll(t *testing.T, ctx context.Context, rdb *redis.Client, match string, count int64, typ string) ([]string, int) {
	t.Helper()
	var keys []string
	var cursor uint64
	calls := 0
	for {
		var page []string
		var err error
		if typ != "" {
			page, cursor, err = rdb.ScanType(ctx, cursor, match, count, typ).Result()
		} else {
			page, cursor, err = rdb.Scan(ctx, cursor, match, count).Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		calls++
		keys = append(keys, page...)
		if cursor == 0 {
			return keys, calls
		}
		if calls > 100000 {
			t.Fatalf("SCAN did not finish after %d calls", calls)
		}
	}
}

func sortedUnique(keys []string) []string {
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestScanReturnsEveryKey(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	var want []string
	pipe := rdb.Pipeline()
	for i := 0; i < 1000; i++ {
		k := fmt.Sprintf("key:%d", i)
		if i%3 == 0 {
			k = fmt.Sprintf("other:%d", i)
		}
		want = append(want, k)
		pipe.Set(ctx, k, "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	for _, count := range []int64{0, 1, 7, 10, 100, 5000} {
		keys, calls := scanAll(t, ctx, rdb, "", count, "")
		if len(keys) != len(want) {
			t.Fatalf("SCAN COUNT %d returned %d keys, want %d (no repeats without writes)", count, len(keys), len(want))
		}
		if got := sortedUnique(keys); !slices.Equal(got, want) {
			t.Fatalf("SCAN COUNT %d returned a different set of keys", count)
		}
		// COUNT is a hint for the work per call: with no MATCH, each call returns about COUNT.
		per := count
		if per == 0 {
			per = 10
		}
		if wantCalls := (int64(len(want)) + per - 1) / per; int64(calls) > wantCalls+1 {
			t.Fatalf("SCAN COUNT %d took %d calls, want about %d", count, calls, wantCalls)
		}
	}
	// MATCH with a literal prefix seeks to it; without one it filters every key.
	var wantOther []string
	for _, k := range want {
		if k[0] == 'o' {
			wantOther = append(wantOther, k)
		}
	}
	for _, pattern := range []string{"other:*", "*her:*", "[o]ther:*"} {
		keys, _ := scanAll(t, ctx, rdb, pattern, 50, "")
		if got := sortedUnique(keys); !slices.Equal(got, wantOther) {
			t.Fatalf("SCAN MATCH %s returned %d keys, want %d", pattern, len(got), len(wantOther))
		}
	}
	// A prefix scan visits only the keys under the prefix: it takes as many calls as they need.
	if _, calls := scanAll(t, ctx, rdb, "other:*", 10, ""); calls > len(wantOther)/10+1 {
		t.Fatalf("SCAN MATCH other:* COUNT 10 took %d calls for %d keys", calls, len(wantOther))
	}
	if keys, _ := scanAll(t, ctx, rdb, "key:998", 10, ""); !slices.Equal(keys, []string{"key:998"}) {
		t.Fatalf("SCAN MATCH key:998 = %q", keys)
	}
	if keys, _ := scanAll(t, ctx, rdb, "nomatch*", 10, ""); len(keys) != 0 {
		t.Fatalf("SCAN MATCH nomatch* = %q", keys)
	}
	// go-redis's iterator works with the cursors.
	n := 0
	iter := rdb.Scan(ctx, 0, "key:1*", 0).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil || n != 75 {
		t.Fatalf("iterator over key:1* = %d keys, %v; want 75", n, err)
	}
}

func TestScanType(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	c := srv.Dial()
	made := collectionCmds(t, c)
	for i := 0; i < 30; i++ {
		if err := rdb.Set(ctx, "s"+strconv.Itoa(i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ := scanAll(t, ctx, rdb, "", 7, "string")
	if len(sortedUnique(keys)) != 30 {
		t.Fatalf("SCAN TYPE string = %d keys, want 30", len(keys))
	}
	keys, _ = scanAll(t, ctx, rdb, "", 7, "STRING")
	if len(keys) != 30 {
		t.Fatalf("SCAN TYPE STRING = %d keys, want 30 (type names are case-insensitive)", len(keys))
	}
	for typ, key := range made {
		keys, _ := scanAll(t, ctx, rdb, "", 3, typ)
		if !slices.Equal(keys, []string{key}) {
			t.Fatalf("SCAN TYPE %s = %q, want [%s]", typ, keys, key)
		}
	}
	// An unknown type matches nothing (Redis 8 keeps this rather than an error).
	if keys, _ := scanAll(t, ctx, rdb, "", 100, "nosuchtype"); len(keys) != 0 {
		t.Fatalf("SCAN TYPE nosuchtype = %q", keys)
	}
	if keys, _ := scanAll(t, ctx, rdb, "", 100, "none"); len(keys) != 0 {
		t.Fatalf("SCAN TYPE none = %q", keys)
	}
	if keys, _ := scanAll(t, ctx, rdb, "s1*", 2, "string"); len(sortedUnique(keys)) != 11 {
		t.Fatalf("SCAN MATCH s1* TYPE string = %q, want 11 keys", keys)
	}
}

func TestScanErrors(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("SET", "k", "v"), ok},
		{cmd("SCAN"), errReply("ERR wrong number of arguments for 'scan' command")},
		{cmd("SCAN", "abc"), errReply("ERR invalid cursor")},
		{cmd("SCAN", "-1"), errReply("ERR invalid cursor")},
		{cmd("SCAN", "1.5"), errReply("ERR invalid cursor")},
		{cmd("SCAN", "18446744073709551616"), errReply("ERR invalid cursor")},
		{cmd("SCAN", "0", "COUNT", "0"), errReply("ERR syntax error")},
		{cmd("SCAN", "0", "COUNT", "-5"), errReply("ERR syntax error")},
		{cmd("SCAN", "0", "COUNT", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("SCAN", "0", "COUNT"), errReply("ERR syntax error")},
		{cmd("SCAN", "0", "MATCH"), errReply("ERR syntax error")},
		{cmd("SCAN", "0", "TYPE"), errReply("ERR syntax error")},
		{cmd("SCAN", "0", "FOO", "bar"), errReply("ERR syntax error")},
		{cmd("SCAN", "0", "NOVALUES"), errReply("ERR syntax error")},
		// Valid cursors the server never issued start over, as after a restart.
		{cmd("SCAN", "18446744073709551615"), array(bulk("0"), array(bulk("k")))},
		{cmd("SCAN", "+5"), array(bulk("0"), array(bulk("k")))},
		{cmd("SCAN", "0", "match", "*", "count", "1000", "type", "string"), array(bulk("0"), array(bulk("k")))},
		{cmd("SCAN", "0", "MATCH", "x", "MATCH", "k"), array(bulk("0"), array(bulk("k")))},
	})
	c.Do("HELLO", "3")
	runScript(t, c, []step{
		{cmd("SCAN", "0"), array(bulk("0"), array(bulk("k")))},
	})
}

// TestScanCursorAcrossConnections: a cursor is not tied to the connection that got it.
func TestScanCursorAcrossConnections(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	for i := 0; i < 30; i++ {
		rdb.Set(ctx, fmt.Sprintf("k%02d", i), "v", 0)
	}
	page, cursor, err := rdb.Scan(ctx, 0, "", 10).Result()
	if err != nil || cursor == 0 || len(page) != 10 {
		t.Fatalf("first SCAN = %q, %d, %v", page, cursor, err)
	}
	if cursor >= 1<<63 {
		t.Fatalf("cursor %d does not fit a signed 64-bit integer", cursor)
	}
	all := slices.Clone(page)
	other := srv.Client()
	for cursor != 0 {
		page, cursor, err = other.Scan(ctx, cursor, "", 10).Result()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
	}
	if len(all) != 30 || len(sortedUnique(all)) != 30 {
		t.Fatalf("SCAN over two connections returned %d keys (%d distinct), want 30", len(all), len(sortedUnique(all)))
	}
	// Reusing a cursor replays the same continuation.
	_, c1, _ := rdb.Scan(ctx, 0, "", 5).Result()
	p1, _, _ := rdb.Scan(ctx, c1, "", 5).Result()
	p2, _, _ := rdb.Scan(ctx, c1, "", 5).Result()
	if !slices.Equal(p1, p2) {
		t.Fatalf("the same cursor gave %q then %q", p1, p2)
	}
}

// TestScanWithConcurrentWrites checks SCAN's guarantee: every key present for the whole scan is
// returned, while other keys come and go.
func TestScanWithConcurrentWrites(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	rng := rand.New(rand.NewPCG(seed(t), 1))
	stable := map[string]bool{}
	pipe := rdb.Pipeline()
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("stable:%x", rng.Uint32())
		stable[k] = true
		pipe.Set(ctx, k, "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	writerSeed := rng.Uint64()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := srv.Client()
		r := rand.New(rand.NewPCG(writerSeed, 2))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Keys sorting before, among and after the stable ones.
			k := fmt.Sprintf("%c%x", "asz"[r.IntN(3)], r.Uint32())
			if r.IntN(2) == 0 {
				w.Set(ctx, k, "v", 0)
			} else {
				w.Del(ctx, k)
				w.Set(ctx, "stable:"+k, "v", 0)
				w.Del(ctx, "stable:"+k)
			}
		}
	}()
	for _, count := range []int64{1, 10, 97} {
		for _, match := range []string{"", "stable:*", "*"} {
			keys, _ := scanAll(t, ctx, rdb, match, count, "")
			got := map[string]bool{}
			for _, k := range keys {
				got[k] = true
			}
			for k := range stable {
				if !got[k] {
					close(stop)
					wg.Wait()
					t.Fatalf("SCAN MATCH %q COUNT %d missed %q, present throughout", match, count, k)
				}
			}
		}
	}
	close(stop)
	wg.Wait()
}

func TestScanSkipsExpired(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	pipe := rdb.Pipeline()
	for i := 0; i < 500; i++ {
		pipe.Set(ctx, fmt.Sprintf("e%03d", i), "v", 150*time.Millisecond)
	}
	pipe.Set(ctx, "live", "v", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the keys to expire", func() bool { return rdb.Exists(ctx, "e000", "e499").Val() == 0 })
	keys, _ := scanAll(t, ctx, rdb, "", 10, "")
	if !slices.Equal(keys, []string{"live"}) {
		t.Fatalf("SCAN = %q, want [live]", keys)
	}
}

func TestRandomKey(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RANDOMKEY"), nilBulk},
		{cmd("RANDOMKEY", "x"), errReply("ERR wrong number of arguments for 'randomkey' command")},
	})
	c.Do("HELLO", "3")
	runScript(t, c, []step{{cmd("RANDOMKEY"), null3}})
	want := map[string]bool{}
	for i := 0; i < 50; i++ {
		k := "k" + strconv.Itoa(i)
		want[k] = true
		rdb.Set(ctx, k, "v", 0)
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		k, err := rdb.RandomKey(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !want[k] {
			t.Fatalf("RANDOMKEY = %q, not a key of the database", k)
		}
		seen[k] = true
	}
	if len(seen) < 40 {
		t.Fatalf("RANDOMKEY returned %d distinct keys of 50 in 1000 calls", len(seen))
	}
	// In MULTI it runs in apply, with the operation's random source.
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RandomKey(ctx)
		return nil
	})
	if err != nil || !want[cmds[0].(*redis.StringCmd).Val()] {
		t.Fatalf("RANDOMKEY in MULTI = %v, %v", cmds, err)
	}
}

// TestKeyIterationInMulti: SCAN, KEYS and RANDOMKEY queued in MULTI run in apply and see the
// transaction's own earlier writes.
func TestKeyIterationInMulti(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("SET", "a", "1"), ok},
		{cmd("MULTI"), ok},
		{cmd("SET", "b", "2"), "+QUEUED\r\n"},
		{cmd("DEL", "a"), "+QUEUED\r\n"},
		{cmd("KEYS", "*"), "+QUEUED\r\n"},
		{cmd("SCAN", "0", "COUNT", "100"), "+QUEUED\r\n"},
		{cmd("RANDOMKEY"), "+QUEUED\r\n"},
		{cmd("EXEC"), array(ok, integer(1), array(bulk("b")), array(bulk("0"), array(bulk("b"))), bulk("b"))},
	})
	for i := 0; i < 20; i++ {
		c.Do("SET", "k"+strconv.Itoa(i), "v")
	}
	c.Do("MULTI")
	c.Do("SCAN", "0", "COUNT", "5")
	reply := c.Do("EXEC")
	// The cursor a transaction hands out continues outside it.
	lines := append(strings.Split(reply, "\r\n"), "", "", "")
	cursor, err := strconv.ParseUint(lines[3], 10, 64)
	if err != nil || cursor == 0 {
		t.Fatalf("SCAN in MULTI = %q, want a nonzero cursor", reply)
	}
	keys, _ := scanAllFrom(t, srv.Client(), cursor)
	if len(keys) != 16 {
		t.Fatalf("continuing a MULTI cursor returned %d keys, want the 16 not yet seen", len(keys))
	}
}

// scanAllFrom continues a scan from cursor to its end.
func scanAllFrom(t *testing.T, rdb *redis.Client, cursor uint64) ([]string, int) {
	t.Helper()
	ctx := servertest.Ctx(t)
	var keys []string
	calls := 0
	for {
		page, next, err := rdb.Scan(ctx, cursor, "", 5).Result()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, page...)
		calls++
		if cursor = next; cursor == 0 {
			return keys, calls
		}
	}
}
