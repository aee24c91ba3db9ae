package tests

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// pttl returns a key's PTTL over conn.
func pttl(t *testing.T, conn *servertest.Conn, key string) int64 {
	t.Helper()
	r := conn.Do("pttl", key)
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r, ":"), "\r\n"), 10, 64)
	if err != nil {
		t.Fatalf("PTTL %s = %q", key, r)
	}
	return n
}

// wantTTL fails unless key's PTTL lies in (lo, hi] milliseconds.
func wantTTL(t *testing.T, conn *servertest.Conn, key string, lo, hi int64) {
	t.Helper()
	if got := pttl(t, conn, key); got <= lo || got > hi {
		t.Fatalf("PTTL %s = %d, want in (%d, %d]", key, got, lo, hi)
	}
}

// TestStringsExpiry checks which commands set, keep and clear a key's time to live.
func TestStringsExpiry(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	const day = 86_400_000
	at := time.Now().Add(time.Hour).UnixMilli()
	do := func(want string, args ...string) {
		t.Helper()
		if got := c.Do(args...); got != want {
			t.Fatalf("%s = %q, want %q", strings.Join(args, " "), got, want)
		}
	}

	do("+OK\r\n", "set", "k", "v", "ex", "86400")
	wantTTL(t, c, "k", day-60_000, day)
	do("+OK\r\n", "set", "k", "v", "px", "86400000")
	wantTTL(t, c, "k", day-60_000, day)
	do("+OK\r\n", "set", "k", "v", "pxat", strconv.FormatInt(at, 10))
	wantTTL(t, c, "k", 3_600_000-60_000, 3_600_000)
	do("+OK\r\n", "set", "k", "v", "exat", strconv.FormatInt(at/1000, 10))
	wantTTL(t, c, "k", 3_600_000-61_000, 3_600_000)
	do("+OK\r\n", "set", "k", "w", "keepttl")
	wantTTL(t, c, "k", 3_600_000-61_000, 3_600_000)
	do("$1\r\nw\r\n", "set", "k", "x", "keepttl", "get")
	wantTTL(t, c, "k", 3_600_000-61_000, 3_600_000)
	do("+OK\r\n", "set", "k", "v")
	do(":-1\r\n", "pttl", "k")

	// Commands that change a value in place keep its TTL.
	keep := [][]string{
		{"append", "k", "x"},
		{"setrange", "k", "0", "1"},
		{"incr", "k"},
		{"incrbyfloat", "k", "1.5"},
		{"setbit", "k", "100", "1"},
		{"bitfield", "k", "set", "u8", "200", "1"},
		{"set", "k", "1", "keepttl"},
		{"getex", "k"},
	}
	for _, args := range keep {
		do("+OK\r\n", "set", "k", "1", "ex", "86400")
		c.Do(args...)
		wantTTL(t, c, "k", day-60_000, day)
	}
	// Commands that replace a value clear it.
	clear := [][]string{
		{"set", "k", "x"},
		{"getset", "k", "x"},
		{"mset", "k", "x"},
		{"bitop", "not", "k", "k"},
		{"getex", "k", "persist"},
	}
	for _, args := range clear {
		do("+OK\r\n", "set", "k", "1", "ex", "86400")
		c.Do(args...)
		if got := pttl(t, c, "k"); got != -1 {
			t.Fatalf("after %s PTTL = %d, want -1", strings.Join(args, " "), got)
		}
	}

	do("+OK\r\n", "setex", "k", "86400", "v")
	wantTTL(t, c, "k", day-60_000, day)
	do("+OK\r\n", "psetex", "k", "86400000", "v")
	wantTTL(t, c, "k", day-60_000, day)
	do("$1\r\nv\r\n", "getex", "k", "ex", "100")
	wantTTL(t, c, "k", 40_000, 100_000)
	do("$1\r\nv\r\n", "getex", "k", "pxat", strconv.FormatInt(at, 10))
	wantTTL(t, c, "k", 3_600_000-60_000, 3_600_000)

	// A time in the past deletes the key at once.
	do("+OK\r\n", "set", "k", "v", "pxat", strconv.FormatInt(time.Now().Add(-time.Second).UnixMilli(), 10))
	do(":0\r\n", "exists", "k")
	do("+OK\r\n", "set", "k", "v")
	do("$1\r\nv\r\n", "getex", "k", "exat", "1")
	do(":0\r\n", "exists", "k")

	// A short TTL runs out.
	do("+OK\r\n", "set", "short", "v", "px", "50")
	deadline := time.Now().Add(5 * time.Second)
	for c.Do("get", "short") != "$-1\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("key with a 50ms TTL still readable after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStringsLimits runs with the smallest proto-max-bulk-len Redis accepts, 1 MB.
func TestStringsLimits(t *testing.T) {
	srv := servertest.Start(t, "--proto-max-bulk-len", "1mb")
	c := srv.Dial()
	const tooBig = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
	const badOffset = "-ERR bit offset is not an integer or out of range\r\n"
	half := strings.Repeat("a", 1<<19)
	runSteps(t, c, []respStep{
		{[]string{"setrange", "k", "1048575", "x"}, ":1048576\r\n"},
		{[]string{"setrange", "k", "1048576", "x"}, tooBig},
		{[]string{"setrange", "k", "1048575", "xy"}, tooBig},
		{[]string{"setrange", "k", "9223372036854775807", "x"}, tooBig},
		{[]string{"setrange", "k", "9223372036854775807", ""}, ":1048576\r\n"},
		{[]string{"append", "k", "x"}, tooBig},
		{[]string{"strlen", "k"}, ":1048576\r\n"},
		{[]string{"set", "h", half}, "+OK\r\n"},
		{[]string{"append", "h", half}, ":1048576\r\n"},
		{[]string{"append", "h", "x"}, tooBig},
		{[]string{"setbit", "b", "8388607", "1"}, ":0\r\n"},
		{[]string{"strlen", "b"}, ":1048576\r\n"},
		{[]string{"setbit", "b", "8388608", "1"}, badOffset},
		{[]string{"getbit", "b", "8388608"}, badOffset},
		{[]string{"getbit", "b", "8388607"}, ":1\r\n"},
		{[]string{"bitfield", "b", "get", "u8", "8388608"}, badOffset},
		{[]string{"bitfield", "b", "set", "u8", "#1048576", "1"}, badOffset},
		// The offset is checked, not the end of the field: Redis pads past the limit.
		{[]string{"bitfield", "bf", "set", "i64", "8388607", "-1"}, "*1\r\n:0\r\n"},
		{[]string{"strlen", "bf"}, ":1048584\r\n"},
		{[]string{"mset", "l1", strings.Repeat("x", 600), "l2", strings.Repeat("x", 600)}, "+OK\r\n"},
		{[]string{"lcs", "l1", "l2"}, "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"},
		{[]string{"mset", "l1", strings.Repeat("x", 500), "l2", strings.Repeat("y", 500)}, "+OK\r\n"},
		{[]string{"lcs", "l1", "l2", "len"}, ":0\r\n"},
	})
}

// TestStringsWrongType checks every string and bitmap command against a key of another type.
func TestStringsWrongType(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	made := false
	for _, args := range [][]string{{"sadd", "c", "m"}, {"hset", "c", "f", "v"}, {"rpush", "c", "e"}, {"zadd", "c", "1", "m"}} {
		if r := c.Do(args...); r == ":1\r\n" {
			made = true
			break
		}
	}
	if !made {
		t.Skip("no collection type is implemented yet; internal/command's TestStringsWrongType covers this")
	}
	const wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	for _, args := range wrongTypeCommands {
		if got := c.Do(args...); got != wt {
			t.Errorf("%s = %q, want WRONGTYPE", strings.Join(args, " "), got)
		}
	}
	runSteps(t, c, []respStep{
		{[]string{"lcs", "c", "x"}, "-ERR The specified keys must contain string values\r\n"},
		{[]string{"mget", "c", "x"}, "*2\r\n$-1\r\n$-1\r\n"},
		{[]string{"bitop", "and", "c", "x"}, ":0\r\n"},
		{[]string{"exists", "c"}, ":0\r\n"},
	})
}

// wrongTypeCommands each answer WRONGTYPE when key "c" holds a collection.
var wrongTypeCommands = [][]string{
	{"get", "c"}, {"set", "c", "v", "get"}, {"getset", "c", "v"}, {"getdel", "c"}, {"getex", "c"},
	{"getex", "c", "ex", "-1"}, {"append", "c", "x"}, {"strlen", "c"}, {"incr", "c"}, {"decr", "c"},
	{"incrby", "c", "1"}, {"decrby", "c", "1"}, {"incrbyfloat", "c", "1"}, {"getrange", "c", "0", "1"},
	{"substr", "c", "0", "1"}, {"setrange", "c", "0", "x"}, {"setrange", "c", "0", ""},
	{"setbit", "c", "0", "1"}, {"getbit", "c", "0"}, {"bitcount", "c"}, {"bitcount", "c", "0", "1"},
	{"bitpos", "c", "1"}, {"bitop", "and", "d", "c"}, {"bitfield", "c", "get", "u8", "0"},
	{"bitfield", "c", "set", "u8", "0", "1"}, {"bitfield_ro", "c", "get", "u8", "0"},
}

// TestStringsGoRedis drives the string and bitmap commands through go-redis in both protocols.
func TestStringsGoRedis(t *testing.T) {
	srv := servertest.Start(t)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			rdb := srv.Client(func(o *redis.Options) { o.Protocol = proto })
			ctx := servertest.Ctx(t)
			if err := rdb.FlushAll(ctx).Err(); err != nil && !strings.Contains(err.Error(), "not supported") {
				t.Fatal(err)
			}
			p := "p" + strconv.Itoa(proto) + ":"
			check := func(what string, got, want any, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got != want {
					t.Fatalf("%s = %v, want %v", what, got, want)
				}
			}
			if _, err := rdb.Get(ctx, p+"missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: err = %v, want redis.Nil", err)
			}
			ok, err := rdb.SetNX(ctx, p+"k", "v", 0).Result()
			check("SETNX", ok, true, err)
			ok, err = rdb.SetNX(ctx, p+"k", "v", 0).Result()
			check("SETNX again", ok, false, err)
			ok, err = rdb.SetXX(ctx, p+"k", "w", time.Hour).Result()
			check("SET XX", ok, true, err)
			old, err := rdb.SetArgs(ctx, p+"k", "x", redis.SetArgs{Get: true, KeepTTL: true}).Result()
			check("SET GET KEEPTTL", old, "w", err)
			ttl, err := rdb.TTL(ctx, p+"k").Result()
			check("TTL > 59m", ttl > 59*time.Minute, true, err)
			v, err := rdb.GetEx(ctx, p+"k", 0).Result()
			check("GETEX", v, "x", err)
			v, err = rdb.GetDel(ctx, p+"k").Result()
			check("GETDEL", v, "x", err)
			if _, err := rdb.GetDel(ctx, p+"k").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GETDEL missing: err = %v, want redis.Nil", err)
			}
			check("MSET", rdb.MSet(ctx, p+"a", "1", p+"b", "2").Val(), "OK", nil)
			vals, err := rdb.MGet(ctx, p+"a", p+"nope", p+"b").Result()
			check("MGET len", len(vals), 3, err)
			check("MGET[0]", vals[0], any("1"), nil)
			check("MGET[1]", vals[1], nil, nil)
			n, err := rdb.IncrBy(ctx, p+"a", 41).Result()
			check("INCRBY", n, int64(42), err)
			f, err := rdb.IncrByFloat(ctx, p+"a", 0.5).Result()
			check("INCRBYFLOAT", f, 42.5, err)
			n, err = rdb.Append(ctx, p+"s", "Hello World").Result()
			check("APPEND", n, int64(11), err)
			v, err = rdb.GetRange(ctx, p+"s", -5, -1).Result()
			check("GETRANGE", v, "World", err)
			n, err = rdb.SetRange(ctx, p+"s", 6, "Redis").Result()
			check("SETRANGE", n, int64(11), err)
			n, err = rdb.StrLen(ctx, p+"s").Result()
			check("STRLEN", n, int64(11), err)
			rdb.MSet(ctx, p+"la", "ohmytext", p+"lb", "mynewtext")
			lcs, err := rdb.LCS(ctx, &redis.LCSQuery{Key1: p + "la", Key2: p + "lb"}).Result()
			check("LCS", lcs.MatchString, "mytext", err)
			lcs, err = rdb.LCS(ctx, &redis.LCSQuery{Key1: p + "la", Key2: p + "lb", Len: true}).Result()
			check("LCS LEN", lcs.Len, int64(6), err)
			lcs, err = rdb.LCS(ctx, &redis.LCSQuery{Key1: p + "la", Key2: p + "lb", Idx: true, MinMatchLen: 4, WithMatchLen: true}).Result()
			check("LCS IDX len", lcs.Len, int64(6), err)
			check("LCS IDX matches", len(lcs.Matches), 1, nil)
			m := lcs.Matches[0]
			check("LCS IDX match", [5]int64{m.Key1.Start, m.Key1.End, m.Key2.Start, m.Key2.End, m.MatchLen}, [5]int64{4, 7, 5, 8, 4}, nil)
			n, err = rdb.SetBit(ctx, p+"bits", 10, 1).Result()
			check("SETBIT", n, int64(0), err)
			n, err = rdb.GetBit(ctx, p+"bits", 10).Result()
			check("GETBIT", n, int64(1), err)
			n, err = rdb.BitCount(ctx, p+"bits", &redis.BitCount{Start: 0, End: -1, Unit: redis.BitCountIndexBit}).Result()
			check("BITCOUNT BIT", n, int64(1), err)
			n, err = rdb.BitPos(ctx, p+"bits", 1).Result()
			check("BITPOS", n, int64(10), err)
			n, err = rdb.BitOpOr(ctx, p+"dest", p+"bits", p+"s").Result()
			check("BITOP OR", n, int64(11), err)
			res, err := rdb.BitField(ctx, p+"bf", "SET", "u8", 0, 200, "INCRBY", "u8", 0, 100, "GET", "i8", 0).Result()
			check("BITFIELD", len(res), 3, err)
			check("BITFIELD results", [3]int64{res[0], res[1], res[2]}, [3]int64{0, 44, 44}, nil)
			res, err = rdb.BitFieldRO(ctx, p+"bf", "u8", 0).Result()
			check("BITFIELD_RO", len(res), 1, err)
			check("BITFIELD_RO result", res[0], int64(44), nil)
			if err := rdb.IncrByFloat(ctx, p+"s", 1).Err(); err == nil || err.Error() != "ERR value is not a valid float" {
				t.Fatalf("INCRBYFLOAT on text: err = %v", err)
			}
		})
	}
}

// TestStringsBigValues sends values larger than one network read, whole and in pieces behind a
// pipelined command, and reads them back.
func TestStringsBigValues(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	for _, size := range []int{70_000, 1 << 20, 5 << 20} {
		v := strings.Repeat("v", size)
		if got := c.Do("set", "big", v); got != "+OK\r\n" {
			t.Fatalf("SET of %d bytes = %q", size, got)
		}
		if got := c.Do("strlen", "big"); got != ":"+strconv.Itoa(size)+"\r\n" {
			t.Fatalf("STRLEN after SET of %d bytes = %q", size, got)
		}
		req := "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + strconv.Itoa(size) + "\r\n" + v + "\r\n"
		for _, cut := range []int{20, 30, len(req) / 2, len(req) - 1} {
			c.Send(req[:cut])
			time.Sleep(20 * time.Millisecond) // let the server see the partial request
			c.Send(req[cut:])
			if got := c.ReadReply(); got != "+PONG\r\n" {
				t.Fatalf("PING before a split SET = %q", got)
			}
			if got := c.ReadReply(); got != "+OK\r\n" {
				t.Fatalf("SET of %d bytes split at %d = %q", size, cut, got)
			}
		}
		if got := c.Do("getrange", "big", "-3", "-1"); got != "$3\r\nvvv\r\n" {
			t.Fatalf("GETRANGE of the big value = %q", got)
		}
	}
}

// TestMSetEx covers Redis 8.4's MSETEX through the server; internal/command tests its edges.
func TestMSetEx(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runSteps(t, c, []respStep{
		{[]string{"msetex", "2", "a", "1", "b", "2", "ex", "100"}, ":1\r\n"},
		{[]string{"mget", "a", "b"}, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{[]string{"msetex", "2", "a", "3", "c", "4", "nx"}, ":0\r\n"},
		{[]string{"exists", "c"}, ":0\r\n"},
		{[]string{"msetex", "1", "a", "5", "xx", "keepttl"}, ":1\r\n"},
		{[]string{"msetex", "3", "a", "1"}, "-ERR wrong number of key-value pairs\r\n"},
		{[]string{"msetex", "0", "a", "1"}, "-ERR invalid numkeys value\r\n"},
		{[]string{"msetex", "1", "a"}, "-ERR wrong number of arguments for 'msetex' command\r\n"},
		{[]string{"command", "getkeys", "msetex", "2", "k1", "v1", "k2", "v2", "px", "10"}, "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n"},
	})
	wantTTL(t, c, "a", 40_000, 100_000)
	wantTTL(t, c, "b", 40_000, 100_000)
}
