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
