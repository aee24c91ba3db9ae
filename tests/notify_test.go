package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestNotifyConfig(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	cases := []struct{ set, get string }{
		{"KEA", "AKE"},
		{"Kg$lshzxetd", "AK"},
		{"AKEm", "AKEm"},
		{"x", "x"},
		{"gE", "gE"},
		{"Elg", "glE"},
		{"EKmn$", "$nKEm"},
		// Redis prints "AKEm" here, dropping n while keeping it on; cairn prints it.
		{"AKEmn", "AnKEm"},
		{"", ""},
	}
	for _, tc := range cases {
		if err := rdb.ConfigSet(ctx, "notify-keyspace-events", tc.set).Err(); err != nil {
			t.Fatalf("CONFIG SET %q: %v", tc.set, err)
		}
		if got := rdb.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; got != tc.get {
			t.Fatalf("after CONFIG SET %q, CONFIG GET = %q, want %q", tc.set, got, tc.get)
		}
	}
	for _, bad := range []string{"Q", "KEo", "K E", "a"} {
		err := rdb.ConfigSet(ctx, "notify-keyspace-events", bad).Err()
		want := "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
		if err == nil || err.Error() != want {
			t.Fatalf("CONFIG SET %q = %v, want %q", bad, err, want)
		}
	}
}

// notifyListener subscribes to every keyspace and keyevent channel plus a marker channel, so a
// test can collect exactly the events one command produced.
type notifyListener struct {
	t   *testing.T
	ps  *redis.PubSub
	pub *redis.Client
}

func listen(t *testing.T, srv *servertest.Server, proto int) *notifyListener {
	t.Helper()
	ctx := servertest.Ctx(t)
	sub := srv.Client(func(o *redis.Options) { o.Protocol = proto; o.PoolSize = 1 })
	ps := sub.PSubscribe(ctx, "__key*__:*")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ps.Subscribe(ctx, "marker"); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	return &notifyListener{t: t, ps: ps, pub: srv.Client()}
}

// collect returns the events received since the last collect, as "channel message" strings.
// The events of a write are published before its reply; a PUBLISH after it marks their end.
func (l *notifyListener) collect() []string {
	l.t.Helper()
	ctx := servertest.Ctx(l.t)
	if err := l.pub.Publish(ctx, "marker", "end").Err(); err != nil {
		l.t.Fatal(err)
	}
	var out []string
	for {
		m, err := l.ps.ReceiveMessage(ctx)
		if err != nil {
			l.t.Fatal(err)
		}
		if m.Channel == "marker" {
			return out
		}
		out = append(out, m.Channel+" "+m.Payload)
	}
}

// events expands "event key" pairs into the messages flags K and E produce for db 0.
func events(db string, ks, ke bool, pairs ...string) []string {
	var out []string
	for _, p := range pairs {
		ev, key, _ := strings.Cut(p, " ")
		if ks {
			out = append(out, "__keyspace@"+db+"__:"+key+" "+ev)
		}
		if ke {
			out = append(out, "__keyevent@"+db+"__:"+ev+" "+key)
		}
	}
	return out
}

type notifyStep struct {
	cmd  []any
	want []string // "event key" pairs
}

// runNotifySteps runs each command and checks the events it produced, in order.
func runNotifySteps(t *testing.T, rdb *redis.Client, l *notifyListener, ks, ke bool, steps []notifyStep) {
	t.Helper()
	ctx := servertest.Ctx(t)
	for _, st := range steps {
		if err := rdb.Do(ctx, st.cmd...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", st.cmd, err)
		}
		got := l.collect()
		want := events("0", ks, ke, st.want...)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%v events:\n%s\nwant:\n%s", st.cmd, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// The events of every command family on main, as Redis 7 sends them (checked against
// redis-server with the same commands).
func TestNotifyEventClasses(t *testing.T) {
	cases := []struct {
		name  string
		flags string
		steps []notifyStep
	}{
		{"generic", "Kg", []notifyStep{
			{[]any{"SET", "a", "1"}, nil},
			{[]any{"SET", "b", "1", "EX", "100"}, []string{"expire b"}},
			{[]any{"GETEX", "b", "PERSIST"}, []string{"persist b"}},
			{[]any{"GETEX", "b", "PERSIST"}, nil},
			{[]any{"GETEX", "b", "EX", "100"}, []string{"expire b"}},
			{[]any{"DEL", "a", "b", "nokey"}, []string{"del a", "del b"}},
			{[]any{"SET", "c", "1"}, nil},
			{[]any{"UNLINK", "c"}, []string{"del c"}},
			{[]any{"SET", "d", "1"}, nil},
			{[]any{"GETDEL", "d"}, []string{"del d"}},
			{[]any{"FLUSHALL"}, nil},
		}},
		{"string", "K$", []notifyStep{
			{[]any{"SET", "k", "v"}, []string{"set k"}},
			{[]any{"SET", "k", "v2", "EX", "100"}, []string{"set k"}},
			{[]any{"SETNX", "k", "v3"}, nil},
			{[]any{"SETEX", "k3", "100", "v"}, []string{"set k3"}},
			{[]any{"PSETEX", "k4", "100000", "v"}, []string{"set k4"}},
			{[]any{"GETSET", "k", "v5"}, []string{"set k"}},
			{[]any{"MSET", "m1", "a", "m2", "b"}, []string{"set m1", "set m2"}},
			{[]any{"MSETNX", "m3", "a", "m4", "b"}, []string{"set m3", "set m4"}},
			{[]any{"MSETNX", "m3", "a", "m5", "b"}, nil},
			{[]any{"APPEND", "k", "x"}, []string{"append k"}},
			{[]any{"INCR", "cnt"}, []string{"incrby cnt"}},
			{[]any{"DECR", "cnt"}, []string{"incrby cnt"}},
			{[]any{"INCRBY", "cnt", "5"}, []string{"incrby cnt"}},
			{[]any{"DECRBY", "cnt", "2"}, []string{"incrby cnt"}},
			{[]any{"INCRBYFLOAT", "fl", "1.5"}, []string{"incrbyfloat fl"}},
			{[]any{"SET", "k", "v", "KEEPTTL"}, []string{"set k"}},
			{[]any{"GET", "k"}, nil},
		}},
		{"new", "Kn", []notifyStep{
			{[]any{"LPUSH", "l", "a"}, []string{"new l"}},
			{[]any{"LPUSH", "l", "b"}, nil},
			{[]any{"ZADD", "z", "1", "a"}, []string{"new z"}},
			{[]any{"SET", "src", "1"}, []string{"new src"}},
			{[]any{"RENAME", "src", "dst"}, []string{"new dst"}},
			{[]any{"COPY", "dst", "cp"}, []string{"new cp"}},
			{[]any{"SET", "k", "v"}, []string{"new k"}},
			{[]any{"SET", "k", "v2"}, nil},
			{[]any{"INCR", "cnt"}, []string{"new cnt"}},
			{[]any{"MSET", "k", "1", "m", "2"}, []string{"new m"}},
			{[]any{"APPEND", "app", "x"}, []string{"new app"}},
			{[]any{"DEL", "k"}, nil},
			{[]any{"SET", "k", "v"}, []string{"new k"}},
		}},
		{"keymiss", "Km", []notifyStep{
			{[]any{"GET", "nokey"}, []string{"keymiss nokey"}},
			{[]any{"EXISTS", "nokey"}, []string{"keymiss nokey"}},
			{[]any{"TYPE", "nokey"}, []string{"keymiss nokey"}},
			{[]any{"TTL", "nokey"}, []string{"keymiss nokey"}},
			{[]any{"STRLEN", "nokey"}, []string{"keymiss nokey"}},
			{[]any{"SET", "k", "v"}, nil},
			{[]any{"GET", "k"}, nil},
			{[]any{"MGET", "nokey", "k", "other"}, []string{"keymiss nokey", "keymiss other"}},
		}},
		{"generic keys", "Kg", []notifyStep{
			{[]any{"SET", "k", "v"}, nil},
			{[]any{"EXPIRE", "k", "100"}, []string{"expire k"}},
			{[]any{"PEXPIRE", "k", "100000"}, []string{"expire k"}},
			{[]any{"EXPIREAT", "k", "9999999999"}, []string{"expire k"}},
			{[]any{"PEXPIREAT", "k", "9999999999999"}, []string{"expire k"}},
			{[]any{"PERSIST", "k"}, []string{"persist k"}},
			{[]any{"PERSIST", "k"}, nil},
			{[]any{"EXPIRE", "k", "0"}, []string{"del k"}},
			{[]any{"SET", "k", "v"}, nil},
			{[]any{"RENAME", "k", "k2"}, []string{"rename_from k", "rename_to k2"}},
			{[]any{"RENAMENX", "k2", "k3"}, []string{"rename_from k2", "rename_to k3"}},
			{[]any{"COPY", "k3", "k4"}, []string{"copy_to k4"}},
			{[]any{"TOUCH", "k3"}, nil},
			{[]any{"SET", "t", "1"}, nil},
			{[]any{"EXPIRE", "t", "-1"}, []string{"del t"}},
		}},
		{"list", "Klg", []notifyStep{
			{[]any{"LPUSH", "l", "a", "b", "c"}, []string{"lpush l"}},
			{[]any{"RPUSH", "l", "d"}, []string{"rpush l"}},
			{[]any{"LPUSHX", "l", "e"}, []string{"lpush l"}},
			{[]any{"RPUSHX", "nol", "e"}, nil},
			{[]any{"LPOP", "l"}, []string{"lpop l"}},
			{[]any{"RPOP", "l"}, []string{"rpop l"}},
			{[]any{"LPOP", "l", "2"}, []string{"lpop l"}},
			{[]any{"LSET", "l", "0", "z"}, []string{"lset l"}},
			{[]any{"LINSERT", "l", "BEFORE", "z", "y"}, []string{"linsert l"}},
			{[]any{"LINSERT", "l", "BEFORE", "nope", "y"}, nil},
			{[]any{"LREM", "l", "1", "y"}, []string{"lrem l"}},
			{[]any{"LTRIM", "l", "0", "0"}, []string{"ltrim l"}},
			{[]any{"RPUSH", "l2", "a", "b"}, []string{"rpush l2"}},
			{[]any{"LMOVE", "l2", "l3", "LEFT", "RIGHT"}, []string{"rpush l3", "lpop l2"}},
			{[]any{"LMOVE", "l2", "l3", "RIGHT", "LEFT"}, []string{"lpush l3", "rpop l2", "del l2"}},
			{[]any{"RPOPLPUSH", "l3", "l4"}, []string{"lpush l4", "rpop l3"}},
			{[]any{"LMPOP", "1", "l3", "LEFT", "COUNT", "5"}, []string{"lpop l3", "del l3"}},
			{[]any{"BLPOP", "l4", "0"}, []string{"lpop l4", "del l4"}},
			{[]any{"RPUSH", "big", "1", "2", "3"}, []string{"rpush big"}},
			{[]any{"LTRIM", "big", "5", "10"}, []string{"ltrim big", "del big"}},
			{[]any{"RPUSH", "sl", "3", "1", "2"}, []string{"rpush sl"}},
			{[]any{"SORT", "sl", "STORE", "sorted"}, []string{"sortstore sorted"}},
			{[]any{"SORT", "sl", "LIMIT", "5", "5", "STORE", "sorted"}, []string{"del sorted"}},
		}},
		{"zset", "Kzg", []notifyStep{
			{[]any{"ZADD", "z", "1", "a", "2", "b"}, []string{"zadd z"}},
			{[]any{"ZADD", "z", "1", "a"}, nil},
			{[]any{"ZADD", "z", "XX", "5", "a"}, []string{"zadd z"}},
			{[]any{"ZINCRBY", "z", "1", "a"}, []string{"zincr z"}},
			{[]any{"ZREM", "z", "nope"}, nil},
			{[]any{"ZREM", "z", "a"}, []string{"zrem z"}},
			{[]any{"ZADD", "z", "1", "c", "3", "d"}, []string{"zadd z"}},
			{[]any{"ZREMRANGEBYSCORE", "z", "1", "1"}, []string{"zremrangebyscore z"}},
			{[]any{"ZREMRANGEBYRANK", "z", "0", "0"}, []string{"zremrangebyrank z"}},
			{[]any{"ZREMRANGEBYLEX", "z", "-", "+"}, []string{"zremrangebylex z", "del z"}},
			{[]any{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, []string{"zadd z"}},
			{[]any{"ZPOPMIN", "z"}, []string{"zpopmin z"}},
			{[]any{"ZPOPMAX", "z"}, []string{"zpopmax z"}},
			{[]any{"ZMPOP", "1", "z", "MIN"}, []string{"zpopmin z", "del z"}},
			{[]any{"ZADD", "z1", "1", "a"}, []string{"zadd z1"}},
			{[]any{"ZADD", "z2", "2", "a"}, []string{"zadd z2"}},
			{[]any{"ZUNIONSTORE", "zu", "2", "z1", "z2"}, []string{"zunionstore zu"}},
			{[]any{"ZINTERSTORE", "zi", "2", "z1", "z2"}, []string{"zinterstore zi"}},
			{[]any{"ZDIFFSTORE", "zd", "1", "z1"}, []string{"zdiffstore zd"}},
			{[]any{"ZRANGESTORE", "zr", "z1", "0", "-1"}, []string{"zrangestore zr"}},
			{[]any{"ZRANGESTORE", "zr", "z1", "5", "6"}, []string{"del zr"}},
			{[]any{"BZPOPMIN", "z1", "0"}, []string{"zpopmin z1", "del z1"}},
		}},
		{"hash", "Khg", []notifyStep{
			{[]any{"HSET", "h", "f", "1", "g", "2"}, []string{"hset h"}},
			{[]any{"HSET", "h", "f", "1"}, []string{"hset h"}},
			{[]any{"HSETNX", "h", "f", "4"}, nil},
			{[]any{"HSETNX", "h", "n", "4"}, []string{"hset h"}},
			{[]any{"HMSET", "h", "a", "1"}, []string{"hset h"}},
			{[]any{"HINCRBY", "h", "i", "1"}, []string{"hincrby h"}},
			{[]any{"HINCRBYFLOAT", "h", "fl", "1.5"}, []string{"hincrbyfloat h"}},
			{[]any{"HDEL", "h", "nope"}, nil},
			{[]any{"HDEL", "h", "f", "g"}, []string{"hdel h"}},
			{[]any{"HDEL", "h", "n", "a", "i", "fl"}, []string{"hdel h", "del h"}},
		}},
		{"set", "Ksg", []notifyStep{
			{[]any{"SADD", "s", "a", "b"}, []string{"sadd s"}},
			{[]any{"SADD", "s", "a"}, nil},
			{[]any{"SREM", "s", "nope"}, nil},
			{[]any{"SREM", "s", "a"}, []string{"srem s"}},
			{[]any{"SPOP", "s"}, []string{"spop s", "del s"}},
			{[]any{"SADD", "s1", "a", "b", "c"}, []string{"sadd s1"}},
			{[]any{"SADD", "s2", "b", "c", "d"}, []string{"sadd s2"}},
			{[]any{"SINTERSTORE", "si", "s1", "s2"}, []string{"sinterstore si"}},
			{[]any{"SUNIONSTORE", "su", "s1", "s2"}, []string{"sunionstore su"}},
			{[]any{"SDIFFSTORE", "sd", "s1", "s2"}, []string{"sdiffstore sd"}},
			{[]any{"SDIFFSTORE", "sd", "s1", "s1"}, []string{"del sd"}},
			{[]any{"SMOVE", "s1", "s3", "a"}, []string{"srem s1", "sadd s3"}},
			{[]any{"SMOVE", "s1", "s3", "zz"}, nil},
			{[]any{"SPOP", "s1", "5"}, []string{"spop s1", "del s1"}},
			{[]any{"SRANDMEMBER", "s2"}, nil},
		}},
		{"stream", "Ktg", []notifyStep{
			{[]any{"XADD", "st", "1-1", "f", "v"}, []string{"xadd st"}},
			{[]any{"XADD", "st", "2-1", "f", "v"}, []string{"xadd st"}},
			{[]any{"XADD", "st", "MAXLEN", "1", "3-1", "f", "v"}, []string{"xadd st", "xtrim st"}},
			{[]any{"XADD", "st", "NOMKSTREAM", "4-1", "f", "v"}, []string{"xadd st"}},
			{[]any{"XADD", "nost", "NOMKSTREAM", "1-1", "f", "v"}, nil},
			{[]any{"XDEL", "st", "3-1", "4-1"}, []string{"xdel st"}},
			{[]any{"XDEL", "st", "9-9"}, nil},
			{[]any{"XTRIM", "st", "MAXLEN", "0"}, nil},
			{[]any{"XADD", "st2", "1-1", "a", "b"}, []string{"xadd st2"}},
			{[]any{"XGROUP", "CREATE", "st2", "g", "0"}, []string{"xgroup-create st2"}},
			{[]any{"XGROUP", "CREATECONSUMER", "st2", "g", "c1"}, []string{"xgroup-createconsumer st2"}},
			{[]any{"XGROUP", "DELCONSUMER", "st2", "g", "c1"}, []string{"xgroup-delconsumer st2"}},
			{[]any{"XGROUP", "SETID", "st2", "g", "0"}, []string{"xgroup-setid st2"}},
			{[]any{"XSETID", "st2", "5-5"}, []string{"xsetid st2"}},
			{[]any{"XGROUP", "DESTROY", "st2", "g"}, []string{"xgroup-destroy st2"}},
			{[]any{"XGROUP", "CREATE", "st3", "g", "$", "MKSTREAM"}, []string{"xgroup-create st3"}},
		}},
		{"keyevent only", "E$g", []notifyStep{
			{[]any{"SET", "k", "v"}, []string{"set k"}},
			{[]any{"DEL", "k"}, []string{"del k"}},
		}},
		{"all", "KEA", []notifyStep{
			{[]any{"SET", "k", "v", "EX", "100"}, []string{"set k", "expire k"}},
			{[]any{"INCR", "n"}, []string{"incrby n"}},
			{[]any{"GET", "nokey"}, nil}, // 'm' is not part of A
			{[]any{"DEL", "k", "n"}, []string{"del k", "del n"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := servertest.Start(t, "--notify-keyspace-events", tc.flags)
			for _, proto := range []int{2, 3} {
				l := listen(t, srv, proto)
				rdb := srv.Client()
				runNotifySteps(t, rdb, l, strings.Contains(tc.flags, "K"), strings.Contains(tc.flags, "E"), tc.steps)
				if err := rdb.FlushAll(servertest.Ctx(t)).Err(); err != nil {
					t.Fatal(err)
				}
				l.collect()
			}
		})
	}
}

// Notifications name the SELECT number, also after SWAPDB moved the data.
func TestNotifyDatabaseNumbers(t *testing.T) {
	srv := servertest.Start(t, "--notify-keyspace-events", "Eg$")
	ctx := servertest.Ctx(t)
	l := listen(t, srv, 2)
	c := srv.Client(func(o *redis.Options) { o.DB = 5; o.PoolSize = 1 })
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(l.collect(), ","), "__keyevent@5__:set k"; got != want {
		t.Fatalf("events in db 5 = %q, want %q", got, want)
	}
	if err := c.Do(ctx, "SWAPDB", 5, 7).Err(); err != nil {
		t.Fatal(err)
	}
	c7 := srv.Client(func(o *redis.Options) { o.DB = 7; o.PoolSize = 1 })
	if err := c7.Del(ctx, "k").Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(l.collect(), ","), "__keyevent@7__:del k"; got != want {
		t.Fatalf("events after SWAPDB = %q, want %q", got, want)
	}
}

// Expired keys fire 'expired' when the sweeper removes them.
func TestNotifyExpired(t *testing.T) {
	srv := servertest.Start(t, "--notify-keyspace-events", "Ex")
	ctx := servertest.Ctx(t)
	sub := srv.Client()
	ps := sub.Subscribe(ctx, "__keyevent@0__:expired")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client()
	if err := rdb.Set(ctx, "short", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "long", "v", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	m, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Payload != "short" {
		t.Fatalf("expired event for %q, want short", m.Payload)
	}
	if n := rdb.Exists(ctx, "short", "long").Val(); n != 1 {
		t.Fatalf("EXISTS short long = %d, want 1", n)
	}
	if !strings.Contains(rdb.Info(ctx, "stats").Val(), "expired_keys:1\r\n") {
		t.Fatalf("INFO stats does not count the expired key")
	}
}

// With nothing enabled, or with classes but neither K nor E, nothing is published.
func TestNotifyOff(t *testing.T) {
	for _, flags := range []string{"", "A", "gm"} {
		srv := servertest.Start(t, "--notify-keyspace-events", flags)
		l := listen(t, srv, 3)
		rdb := srv.Client()
		ctx := servertest.Ctx(t)
		rdb.Set(ctx, "k", "v", 0)
		rdb.Get(ctx, "nokey")
		rdb.Del(ctx, "k")
		if got := l.collect(); len(got) != 0 {
			t.Fatalf("flags %q: events %v, want none", flags, got)
		}
	}
}

// A write that finds its key expired removes it first, with an 'expired' event, as Redis's lazy
// expiry does; the background sweeper is off here so only the write can see it.
func TestNotifyExpiredOnWrite(t *testing.T) {
	srv := servertest.Start(t, "--notify-keyspace-events", "KEA", "--enable-debug-command", "yes")
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	if err := rdb.Do(ctx, "DEBUG", "SET-ACTIVE-EXPIRE", "0").Err(); err != nil {
		t.Fatal(err)
	}
	l := listen(t, srv, 2)
	if err := rdb.Set(ctx, "e", "v", time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	l.collect()
	pollUntil(t, "the key to expire", func() bool { return rdb.Exists(ctx, "e").Val() == 0 })
	steps := []notifyStep{
		{[]any{"SET", "e", "v2"}, []string{"expired e", "set e"}},
		{[]any{"LPUSH", "l", "a"}, []string{"lpush l"}},
		{[]any{"PEXPIRE", "l", "1"}, []string{"expire l"}},
	}
	runNotifySteps(t, rdb, l, true, true, steps)
	pollUntil(t, "the list to expire", func() bool { return rdb.Exists(ctx, "l").Val() == 0 })
	runNotifySteps(t, rdb, l, true, true, []notifyStep{
		{[]any{"LPUSH", "l", "b"}, []string{"expired l", "lpush l"}},
	})
}
