package tests

import (
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestExpireErrors(t *testing.T) {
	srv := servertest.Start(t)
	runScript(t, srv.Dial(), []step{
		{cmd("SET", "k", "v"), ok},
		{cmd("EXPIRE", "k"), errReply("ERR wrong number of arguments for 'expire' command")},
		{cmd("PEXPIREAT", "k"), errReply("ERR wrong number of arguments for 'pexpireat' command")},
		{cmd("EXPIRE", "k", "abc"), errReply("ERR value is not an integer or out of range")},
		{cmd("EXPIRE", "k", "1.5"), errReply("ERR value is not an integer or out of range")},
		{cmd("EXPIRE", "k", "10", "NX", "XX"), errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "10", "nx", "gt"), errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "10", "NX", "LT"), errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "10", "GT", "LT"), errReply("ERR GT and LT options at the same time are not compatible")},
		// Options are checked before the time is parsed.
		{cmd("EXPIRE", "k", "abc", "NX", "XX"), errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "abc", "foo"), errReply("ERR Unsupported option foo")},
		{cmd("PEXPIRE", "k", "10", "bar"), errReply("ERR Unsupported option bar")},
		// Overflow in the unit conversion or in adding the current time.
		{cmd("EXPIRE", "k", "9223372036854775807"), errReply("ERR invalid expire time in 'expire' command")},
		{cmd("EXPIRE", "k", "9223372036854775"), errReply("ERR invalid expire time in 'expire' command")},
		{cmd("EXPIRE", "k", "-9223372036854775808"), errReply("ERR invalid expire time in 'expire' command")},
		{cmd("PEXPIRE", "k", "9223372036854775807"), errReply("ERR invalid expire time in 'pexpire' command")},
		{cmd("EXPIREAT", "k", "9223372036854776"), errReply("ERR invalid expire time in 'expireat' command")},
		{cmd("EXPIRE", "k", "9223372036854775808"), errReply("ERR value is not an integer or out of range")},
		{cmd("TTL", "k"), integer(-1)},
		// A far but representable absolute time is fine.
		{cmd("PEXPIREAT", "k", "9223372036854775807"), integer(1)},
		{cmd("PEXPIRETIME", "k"), integer(9223372036854775807)},
		{cmd("TTL"), errReply("ERR wrong number of arguments for 'ttl' command")},
		{cmd("EXPIRETIME", "a", "b"), errReply("ERR wrong number of arguments for 'expiretime' command")},
		{cmd("PERSIST"), errReply("ERR wrong number of arguments for 'persist' command")},
	})
}

// TestExpireConditions checks NX/XX/GT/LT with absolute times, so the replies do not depend on
// how long each command takes; the relative forms share the code.
func TestExpireConditions(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	base := time.Now().Unix() + 10000
	at := func(d int64) string { return strconv.FormatInt(base+d, 10) }
	when := func(d int64) string { return integer(base + d) }
	runScript(t, c, []step{
		{cmd("EXPIRE", "missing", "10"), integer(0)},
		{cmd("EXPIRE", "missing", "-10"), integer(0)},
		{cmd("SET", "k", "v"), ok},
		// No expiry: XX and GT fail, NX and LT succeed.
		{cmd("EXPIREAT", "k", at(100), "XX"), integer(0)},
		{cmd("EXPIREAT", "k", at(100), "GT"), integer(0)},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("EXPIREAT", "k", at(100), "LT"), integer(1)},
		{cmd("EXPIRETIME", "k"), when(100)},
		{cmd("PERSIST", "k"), integer(1)},
		{cmd("EXPIREAT", "k", at(100), "NX"), integer(1)},
		{cmd("EXPIREAT", "k", at(200), "NX"), integer(0)},
		{cmd("EXPIRETIME", "k"), when(100)},
		{cmd("EXPIREAT", "k", at(200), "XX"), integer(1)},
		{cmd("EXPIRETIME", "k"), when(200)},
		{cmd("EXPIREAT", "k", at(100), "GT"), integer(0)},
		{cmd("EXPIREAT", "k", at(200), "GT"), integer(0)},
		{cmd("EXPIREAT", "k", at(300), "gt"), integer(1)},
		{cmd("EXPIRETIME", "k"), when(300)},
		{cmd("EXPIREAT", "k", at(400), "LT"), integer(0)},
		{cmd("EXPIREAT", "k", at(300), "LT"), integer(0)},
		{cmd("EXPIREAT", "k", at(50), "lt"), integer(1)},
		{cmd("EXPIRETIME", "k"), when(50)},
		{cmd("EXPIREAT", "k", at(60), "XX", "GT"), integer(1)},
		{cmd("EXPIRETIME", "k"), when(60)},
		{cmd("EXPIREAT", "k", at(30), "XX", "LT", "XX"), integer(1)},
		{cmd("EXPIRETIME", "k"), when(30)},
		{cmd("PEXPIREAT", "k", at(40)+"000", "GT"), integer(1)},
		{cmd("PEXPIRETIME", "k"), integer((base + 40) * 1000)},
		// A time in the past deletes the key, even under a condition that holds.
		{cmd("EXPIRE", "k", "-1", "LT"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("SET", "k", "v"), ok},
		{cmd("EXPIRE", "k", "0"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("SET", "k", "v"), ok},
		{cmd("PEXPIRE", "k", "-100"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("SET", "k", "v"), ok},
		{cmd("EXPIREAT", "k", "1"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("SET", "k", "v"), ok},
		{cmd("PEXPIREAT", "k", "-5"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("DBSIZE"), integer(0)},
		// A failed condition leaves even a past time alone.
		{cmd("SET", "k", "v"), ok},
		{cmd("EXPIRE", "k", "-1", "XX"), integer(0)},
		{cmd("EXISTS", "k"), integer(1)},
	})
	// The relative forms count from the command's time.
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	if ok, err := rdb.ExpireNX(ctx, "k", 100*time.Second).Result(); err != nil || !ok {
		t.Fatalf("EXPIRE k 100 NX = %v, %v; want 1", ok, err)
	}
	if ttl := rdb.PTTL(ctx, "k").Val(); ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Fatalf("PTTL after EXPIRE 100 = %v, want just under 100s", ttl)
	}
	if ok, err := rdb.ExpireLT(ctx, "k", 200*time.Second).Result(); err != nil || ok {
		t.Fatalf("EXPIRE k 200 LT = %v, %v; want 0", ok, err)
	}
	if ok, err := rdb.PExpire(ctx, "k", 200*time.Second).Result(); err != nil || !ok {
		t.Fatalf("PEXPIRE k 200000 = %v, %v; want 1", ok, err)
	}
	if ttl := rdb.PTTL(ctx, "k").Val(); ttl <= 190*time.Second || ttl > 200*time.Second {
		t.Fatalf("PTTL after PEXPIRE 200000 = %v, want just under 200s", ttl)
	}
}

func TestExpireTimes(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	at := time.Now().Add(time.Hour).UnixMilli()
	runScript(t, c, []step{
		{cmd("TTL", "missing"), integer(-2)},
		{cmd("PTTL", "missing"), integer(-2)},
		{cmd("EXPIRETIME", "missing"), integer(-2)},
		{cmd("PEXPIRETIME", "missing"), integer(-2)},
		{cmd("PERSIST", "missing"), integer(0)},
		{cmd("SET", "k", "v"), ok},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("PTTL", "k"), integer(-1)},
		{cmd("EXPIRETIME", "k"), integer(-1)},
		{cmd("PEXPIRETIME", "k"), integer(-1)},
		{cmd("PERSIST", "k"), integer(0)},
		{cmd("PEXPIREAT", "k", strconv.FormatInt(at, 10)), integer(1)},
		{cmd("PEXPIRETIME", "k"), integer(at)},
		// Seconds are rounded to the nearest, as Redis does.
		{cmd("EXPIRETIME", "k"), integer((at + 500) / 1000)},
		{cmd("EXPIREAT", "k", strconv.FormatInt(at/1000, 10)), integer(1)},
		{cmd("PEXPIRETIME", "k"), integer(at / 1000 * 1000)},
		{cmd("PERSIST", "k"), integer(1)},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("PERSIST", "k"), integer(0)},
	})
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rdb.PExpire(ctx, "k", 100*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, "k").Val(); ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Fatalf("PTTL = %v, want just under 100s", ttl)
	}
	// Writing a value without KEEPTTL drops the expiry; APPEND keeps it.
	deadline := rdb.PExpireTime(ctx, "k").Val()
	if err := rdb.Append(ctx, "k", "w").Err(); err != nil {
		t.Fatal(err)
	}
	if got := rdb.PExpireTime(ctx, "k").Val(); got != deadline {
		t.Fatalf("PEXPIRETIME after APPEND = %v, want %v", got, deadline)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.TTL(ctx, "k").Val(); ttl != -1 {
		t.Fatalf("TTL after SET = %v, want -1", ttl)
	}
	// RESP3 replies are plain integers too.
	c3 := srv.Dial()
	c3.Do("HELLO", "3")
	runScript(t, c3, []step{
		{cmd("EXPIRETIME", "missing"), integer(-2)},
		{cmd("PERSIST", "k"), integer(0)},
	})
}

// TestExpiredKeysInvisible checks that a key whose time has passed is gone for every command at
// once, and that the sweeper then reclaims it without any read touching it.
func TestExpiredKeysInvisible(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rdb.Set(ctx, "dead", "v", 200*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "live", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the key to expire", func() bool { return rdb.PTTL(ctx, "dead").Val() == -2 })
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("GET", "dead"), nilBulk},
		{cmd("EXISTS", "dead"), integer(0)},
		{cmd("TOUCH", "dead"), integer(0)},
		{cmd("TYPE", "dead"), "+none\r\n"},
		{cmd("TTL", "dead"), integer(-2)},
		{cmd("EXPIRETIME", "dead"), integer(-2)},
		{cmd("OBJECT", "ENCODING", "dead"), nilBulk},
		{cmd("KEYS", "*"), array(bulk("live"))},
		{cmd("KEYS", "dead"), array()},
		{cmd("SCAN", "0", "MATCH", "dead"), array(bulk("0"), array())},
		{cmd("SCAN", "0"), array(bulk("0"), array(bulk("live")))},
		{cmd("RANDOMKEY"), bulk("live")},
		{cmd("RENAME", "dead", "x"), errReply("ERR no such key")},
		{cmd("COPY", "dead", "x"), integer(0)},
		{cmd("MOVE", "dead", "1"), integer(0)},
		{cmd("EXPIRE", "dead", "100"), integer(0)},
		{cmd("PERSIST", "dead"), integer(0)},
		{cmd("DEL", "dead"), integer(0)},
		{cmd("SET", "dead", "new", "NX"), ok},
		{cmd("TTL", "dead"), integer(-1)},
	})
	// The sweeper removes expired keys by itself: DBSIZE counts them until then.
	for i := 0; i < 100; i++ {
		if err := rdb.Set(ctx, "sweep:"+strconv.Itoa(i), "v", 100*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the sweeper to remove 100 expired keys", func() bool { return rdb.DBSize(ctx).Val() == 2 })
}

// TestExpireFollowsRename checks that a renamed or copied key keeps its deadline and disappears
// at it.
func TestExpireFollowsRename(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rdb.Set(ctx, "a", "v", 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Rename(ctx, "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Copy(ctx, "b", "c", 0, false).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, "c").Val(); ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Fatalf("PTTL of the copy = %v, want at most 1.5s", ttl)
	}
	waitFor(t, "the renamed key and its copy to expire", func() bool {
		return rdb.Exists(ctx, "b", "c").Val() == 0
	})
	waitFor(t, "the sweeper", func() bool { return rdb.DBSize(ctx).Val() == 0 })
	if n := rdb.Exists(ctx, "a").Val(); n != 0 {
		t.Fatalf("EXISTS a = %d after RENAME, want 0", n)
	}
}

func TestExpireInMulti(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k", "v", 0)
		p.Expire(ctx, "k", 100*time.Second)
		p.TTL(ctx, "k")
		p.Persist(ctx, "k")
		p.TTL(ctx, "k")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := cmds[2].(*redis.DurationCmd).Val(); got != 100*time.Second {
		t.Fatalf("TTL in MULTI = %v, want 100s", got)
	}
	if got := cmds[4].(*redis.DurationCmd).Val(); got != -1 {
		t.Fatalf("TTL after PERSIST in MULTI = %v, want -1", got)
	}
}
