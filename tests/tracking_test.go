package tests

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

func invalidate(keys ...string) string {
	b := ">2\r\n" + bulk("invalidate") + "*" + strconv.Itoa(len(keys)) + "\r\n"
	for _, k := range keys {
		b += bulk(k)
	}
	return b
}

const invalidateAll = ">2\r\n$10\r\ninvalidate\r\n_\r\n"

// invalidateMsg is an invalidation delivered through __redis__:invalidate to a RESP2 client.
func invalidateMsg(keys ...string) string {
	b := "*3\r\n" + bulk("message") + bulk("__redis__:invalidate")
	if keys == nil {
		return b + "$-1\r\n"
	}
	b += "*" + strconv.Itoa(len(keys)) + "\r\n"
	for _, k := range keys {
		b += bulk(k)
	}
	return b
}

func hello3(c *servertest.Conn) {
	if r := c.Do("HELLO", "3"); !strings.HasPrefix(r, "%7\r\n") {
		panic("HELLO 3 = " + r)
	}
}

// clientID returns the connection's CLIENT ID.
func clientID(t *testing.T, c *servertest.Conn) string {
	t.Helper()
	r := c.Do("CLIENT", "ID")
	if !strings.HasPrefix(r, ":") {
		t.Fatalf("CLIENT ID = %q", r)
	}
	return strings.TrimSpace(r[1:])
}

// expect checks the next replies and pushes on c, then that nothing else arrived: a PING's
// reply must come next.
func expect(t *testing.T, c *servertest.Conn, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := c.ReadReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	c.Send(encode("PING"))
	if got := c.ReadReply(); got != "+PONG\r\n" && got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
		t.Fatalf("got %q, want only PING's reply", got)
	}
}

func TestTrackingCommands(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	info := func(flags []string, redir string, prefixes ...string) string {
		b := "*6\r\n" + bulk("flags") + "*" + strconv.Itoa(len(flags)) + "\r\n"
		for _, f := range flags {
			b += bulk(f)
		}
		b += bulk("redirect") + ":" + redir + "\r\n" + bulk("prefixes") + "*" + strconv.Itoa(len(prefixes)) + "\r\n"
		for _, p := range prefixes {
			b += bulk(p)
		}
		return b
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"off"}, "-1")},
		{[]string{"CLIENT", "GETREDIR"}, ":-1\r\n"},
		{[]string{"CLIENT", "CACHING", "yes"}, "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"},
		{[]string{"CLIENT", "TRACKING", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"on"}, "0")},
		{[]string{"CLIENT", "GETREDIR"}, ":0\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "bcast"}, "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"},
		{[]string{"CLIENT", "TRACKING", "off"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "b", "prefix", "a", "noloop"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"on", "bcast", "noloop"}, "0", "a", "b")},
		{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "ab"}, "-ERR Prefix 'ab' overlaps with an existing prefix 'a'. Prefixes for a single client must not overlap.\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "c"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"on", "bcast"}, "0", "a", "b", "c")},
		{[]string{"CLIENT", "TRACKING", "on", "optin"}, "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"},
		{[]string{"CLIENT", "TRACKING", "off"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "x", "prefix", "xy"}, "-ERR Prefix 'x' overlaps with another provided prefix 'xy'. Prefixes for a single client must not overlap.\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "bcast", "optin"}, "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "optin", "optout"}, "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "prefix", "a"}, "-ERR PREFIX option requires BCAST mode to be enabled\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "redirect", "9999"}, "-ERR The client ID you want redirect to does not exist\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "redirect", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "redirect"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "foo"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "TRACKING", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "TRACKING"}, "-ERR wrong number of arguments for 'client|tracking' command\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "optin"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "optout"}, "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"},
		{[]string{"CLIENT", "CACHING", "no"}, "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"},
		{[]string{"CLIENT", "CACHING", "yes"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"on", "optin", "caching-yes"}, "0")},
		// The flag lasts for one command after the CLIENT commands: it is gone now.
		{[]string{"GET", "x"}, "$-1\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"on", "optin"}, "0")},
		{[]string{"CLIENT", "CACHING", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "TRACKING", "off"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKING", "on", "optout"}, "+OK\r\n"},
		{[]string{"CLIENT", "CACHING", "yes"}, "-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n"},
		{[]string{"CLIENT", "CACHING", "no"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, info([]string{"on", "optout", "caching-no"}, "0")},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	// RESP3: flags are a set, the whole a map.
	hello3(c)
	want := "%3\r\n" + bulk("flags") + "~2\r\n" + bulk("on") + bulk("optout") + bulk("redirect") + ":0\r\n" + bulk("prefixes") + "*0\r\n"
	if got := c.Do("CLIENT", "TRACKINGINFO"); got != want {
		t.Fatalf("RESP3 CLIENT TRACKINGINFO = %q, want %q", got, want)
	}
}

func TestTrackingInvalidationRESP3(t *testing.T) {
	srv := servertest.Start(t)
	a := srv.Dial()
	hello3(a)
	b := srv.Dial()
	if got := a.Do("CLIENT", "TRACKING", "on"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	a.Do("GET", "k1")
	a.Do("MGET", "k1", "k2")
	b.Do("SET", "k1", "v")
	expect(t, a, invalidate("k1"))
	// Invalidated once: a second write is not reported until the key is read again.
	b.Do("SET", "k1", "v2")
	expect(t, a)
	a.Do("GET", "k1")
	b.Do("DEL", "k1")
	expect(t, a, invalidate("k1"))
	// Its own write: the reply comes first, then the invalidation.
	a.Send(encode("SET", "k2", "mine"))
	expect(t, a, "+OK\r\n", invalidate("k2"))
	// Writes that change nothing send nothing.
	a.Do("GET", "k3")
	b.Do("SETNX", "k3", "x")
	expect(t, a, invalidate("k3"))
	a.Do("GET", "k3")
	b.Do("SETNX", "k3", "y")
	expect(t, a)
	// Keys that only the key specs find (a key count, then the keys) are tracked too.
	a.Do("ZUNION", "2", "z1", "z2")
	a.Do("SINTERCARD", "1", "s1")
	b.Do("ZADD", "z2", "1", "m")
	expect(t, a, invalidate("z2"))
	b.Do("SADD", "s1", "m")
	expect(t, a, invalidate("s1"))

	// FLUSHALL and FLUSHDB invalidate everything, tracked or not.
	b.Do("FLUSHALL")
	expect(t, a, invalidateAll)
	b.Do("SELECT", "3")
	b.Do("FLUSHDB")
	expect(t, a, invalidateAll)
	// After TRACKING OFF nothing more.
	a.Do("GET", "k4")
	a.Do("CLIENT", "TRACKING", "off")
	b.Do("SELECT", "0")
	b.Do("SET", "k4", "v")
	expect(t, a)

	// Keys are tracked across databases by name, as in Redis.
	a.Do("CLIENT", "TRACKING", "on")
	a.Do("GET", "shared")
	b.Do("SELECT", "5")
	b.Do("SET", "shared", "v")
	expect(t, a, invalidate("shared"))
}

func TestTrackingNoLoop(t *testing.T) {
	srv := servertest.Start(t)
	a := srv.Dial()
	hello3(a)
	b := srv.Dial()
	a.Do("CLIENT", "TRACKING", "on", "NOLOOP")
	a.Do("GET", "k")
	a.Do("SET", "k", "mine")
	expect(t, a)
	// The entry is gone after its own write, as in Redis; read again to track it.
	a.Do("GET", "k")
	b.Do("SET", "k", "theirs")
	expect(t, a, invalidate("k"))
}

func TestTrackingRedirectRESP2(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	// The redirect target: a go-redis RESP2 subscriber of __redis__:invalidate.
	var targetID int64
	var once sync.Once
	sub := srv.Client(func(o *redis.Options) {
		o.PoolSize = 1
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			once.Do(func() { targetID = cn.ClientID(ctx).Val() })
			return nil
		}
	})
	ps := sub.Subscribe(ctx, "__redis__:invalidate")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	c := srv.Dial()
	if got := c.Do("CLIENT", "TRACKING", "on", "REDIRECT", strconv.FormatInt(targetID, 10)); got != "+OK\r\n" {
		t.Fatalf("CLIENT TRACKING ON REDIRECT = %q", got)
	}
	if got := c.Do("CLIENT", "GETREDIR"); got != ":"+strconv.FormatInt(targetID, 10)+"\r\n" {
		t.Fatalf("CLIENT GETREDIR = %q", got)
	}
	c.Do("GET", "x")
	w := srv.Client()
	if err := w.Set(ctx, "x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	m, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != "__redis__:invalidate" || len(m.PayloadSlice) != 1 || m.PayloadSlice[0] != "x" {
		t.Fatalf("invalidation = %+v, want [x] on __redis__:invalidate", m)
	}
	// The raw form, and a flush's null.
	r := srv.Dial()
	r.Do("SUBSCRIBE", "__redis__:invalidate")
	c2 := srv.Dial()
	c2.Do("CLIENT", "TRACKING", "on", "REDIRECT", clientIDOfSubscribed(t, srv, r))
	c2.Do("GET", "y")
	w.Set(ctx, "y", "1", 0)
	expect(t, r, invalidateMsg("y"))
	w.FlushDB(ctx)
	expect(t, r, invalidateMsg(nil...))
	// A RESP2 tracking client without a redirect cannot receive invalidations: none are sent.
	d := srv.Dial()
	d.Do("CLIENT", "TRACKING", "on")
	d.Do("GET", "z")
	w.Set(ctx, "z", "1", 0)
	expect(t, d)
}

// clientIDOfSubscribed finds a subscribed raw connection's ID through CLIENT LIST, since it
// cannot run CLIENT ID itself.
func clientIDOfSubscribed(t *testing.T, srv *servertest.Server, c *servertest.Conn) string {
	t.Helper()
	list := srv.Client().ClientList(servertest.Ctx(t)).Val()
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "addr="+c.LocalAddr().String()+" ") {
			for _, f := range strings.Fields(line) {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					return id
				}
			}
		}
	}
	t.Fatalf("connection %s not in CLIENT LIST:\n%s", c.LocalAddr(), list)
	return ""
}

func TestTrackingBrokenRedirect(t *testing.T) {
	srv := servertest.Start(t)
	a := srv.Dial()
	hello3(a)
	g := srv.Dial()
	gid := clientID(t, g)
	a.Do("CLIENT", "TRACKING", "on", "REDIRECT", gid)
	a.Do("GET", "q")
	g.Close()
	w := srv.Client()
	ctx := servertest.Ctx(t)
	pollUntil(t, "the redirect target to go", func() bool { return !strings.Contains(w.ClientList(ctx).Val(), "id="+gid+" ") })
	w.Set(ctx, "q", "1", 0)
	expect(t, a, ">2\r\n"+bulk("tracking-redir-broken")+":"+gid+"\r\n")
	want := "%3\r\n" + bulk("flags") + "~2\r\n" + bulk("on") + bulk("broken_redirect") + bulk("redirect") + ":" + gid + "\r\n" + bulk("prefixes") + "*0\r\n"
	if got := a.Do("CLIENT", "TRACKINGINFO"); got != want {
		t.Fatalf("CLIENT TRACKINGINFO = %q, want %q", got, want)
	}
}

func TestTrackingBcast(t *testing.T) {
	srv := servertest.Start(t)
	d := srv.Dial()
	hello3(d)
	if got := d.Do("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "u:", "PREFIX", "v:", "NOLOOP"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	e := srv.Dial()
	hello3(e)
	e.Do("CLIENT", "TRACKING", "on", "BCAST")
	b := srv.Dial()
	// No reads needed: every key under a prefix is reported, one message per prefix, sorted.
	b.Do("MSET", "u:2", "a", "u:1", "b", "v:1", "c", "w:1", "d")
	expect(t, d, invalidate("u:1", "u:2"), invalidate("v:1"))
	expect(t, e, invalidate("u:1", "u:2", "v:1", "w:1"))
	// NOLOOP: d's own writes are not reported to d, but are to e.
	d.Do("SET", "u:3", "x")
	expect(t, d)
	expect(t, e, invalidate("u:3"))
	b.Do("FLUSHALL")
	expect(t, d, invalidateAll)
	expect(t, e, invalidateAll)
	ctx := servertest.Ctx(t)
	info := srv.Client().Info(ctx, "stats").Val()
	if !strings.Contains(info, "tracking_total_prefixes:3\r\n") {
		t.Fatalf("INFO stats lacks tracking_total_prefixes:3:\n%s", info)
	}
}

func TestTrackingOptInOptOut(t *testing.T) {
	srv := servertest.Start(t)
	h := srv.Dial()
	hello3(h)
	h.Do("CLIENT", "TRACKING", "on", "OPTIN")
	h.Do("GET", "o1")
	h.Do("CLIENT", "CACHING", "yes")
	h.Do("GET", "o2")
	h.Do("GET", "o3")
	b := srv.Dial()
	b.Do("MSET", "o1", "1", "o2", "2", "o3", "3")
	expect(t, h, invalidate("o2"))

	o := srv.Dial()
	hello3(o)
	o.Do("CLIENT", "TRACKING", "on", "OPTOUT")
	o.Do("GET", "p1")
	o.Do("CLIENT", "CACHING", "no")
	o.Do("GET", "p2")
	o.Do("GET", "p3")
	b.Do("MSET", "p1", "1", "p2", "2", "p3", "3")
	expect(t, o, invalidate("p1"), invalidate("p3"))
}

// Reads queued in a transaction are tracked like any other.
func TestTrackingTransaction(t *testing.T) {
	srv := servertest.Start(t)
	a := srv.Dial()
	hello3(a)
	a.Do("CLIENT", "TRACKING", "on")
	a.Do("MULTI")
	a.Do("GET", "t1")
	a.Do("SET", "t2", "x")
	if got := a.Do("EXEC"); !strings.HasPrefix(got, "*2\r\n") {
		t.Fatalf("EXEC = %q", got)
	}
	expect(t, a)
	b := srv.Dial()
	b.Do("SET", "t1", "v")
	expect(t, a, invalidate("t1"))
}

func TestTrackingTableLimit(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	if err := rdb.ConfigSet(ctx, "tracking-table-max-keys", "10").Err(); err != nil {
		t.Fatal(err)
	}
	a := srv.Dial()
	hello3(a)
	a.Do("CLIENT", "TRACKING", "on")
	// Each read past the limit evicts a key, which the client hears about as an invalidation.
	evicted := map[string]bool{}
	for i := 0; i <= 30; i++ {
		if i < 30 {
			a.Send(encode("GET", "key"+strconv.Itoa(i)))
		} else {
			a.Send(encode("PING")) // the last eviction may follow the last reply
		}
		for {
			r := a.ReadReply()
			if r == "_\r\n" || r == "+PONG\r\n" {
				break
			}
			if !strings.HasPrefix(r, ">2\r\n$10\r\ninvalidate\r\n*1\r\n") {
				t.Fatalf("unexpected %q", r)
			}
			evicted[strings.Split(r, "\r\n")[5]] = true
		}
	}
	info := rdb.Info(ctx, "stats").Val()
	if !strings.Contains(info, "tracking_total_keys:10\r\n") {
		t.Fatalf("INFO stats: want tracking_total_keys:10:\n%s", info)
	}
	if len(evicted) != 20 {
		t.Fatalf("%d keys evicted, want 20", len(evicted))
	}
	if got := rdb.ConfigGet(ctx, "tracking-table-max-keys").Val()["tracking-table-max-keys"]; got != "10" {
		t.Fatalf("CONFIG GET tracking-table-max-keys = %q", got)
	}
}

// A client-side cache kept by the invalidations stays coherent while another client writes:
// once the writer is done and the reader has seen everything sent to it, whatever it still
// caches is the latest value.
func TestTrackingCacheCoherence(t *testing.T) {
	seed := seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	const keys = 8
	w := srv.Client()
	done := make(chan struct{})
	go func() {
		defer close(done)
		wr := rand.New(rand.NewPCG(seed, 1))
		for i := 0; i < 3000; i++ {
			w.Incr(ctx, "c"+strconv.Itoa(wr.IntN(keys)))
		}
	}()
	a := srv.Dial()
	hello3(a)
	a.Do("CLIENT", "TRACKING", "on")
	cache := map[string]string{}
	// handle processes a push or returns the reply.
	next := func() string {
		for {
			r := a.ReadReply()
			if !strings.HasPrefix(r, ">2\r\n") {
				return r
			}
			parts := strings.Split(r, "\r\n")
			for i := 5; i < len(parts); i += 2 {
				delete(cache, parts[i])
			}
		}
	}
	writerDone := false
	for !writerDone {
		select {
		case <-done:
			writerDone = true
		default:
		}
		k := "c" + strconv.Itoa(rng.IntN(keys))
		if _, ok := cache[k]; ok {
			continue
		}
		a.Send(encode("GET", k))
		r := next()
		if r != "_\r\n" {
			cache[k] = r
		}
	}
	// Everything the writer caused has been sent; a PING's reply comes after it.
	a.Send(encode("PING"))
	if r := next(); r != "+PONG\r\n" {
		t.Fatalf("PING = %q", r)
	}
	for k, v := range cache {
		cur, err := w.Get(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if v != bulk(cur) {
			t.Fatalf("cached %s = %q, server has %q: a missed invalidation", k, v, cur)
		}
	}
}

func TestTrackingInfoFields(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	a := srv.Dial()
	hello3(a)
	a.Do("CLIENT", "TRACKING", "on")
	a.Do("MGET", "i1", "i2")
	b := srv.Dial()
	hello3(b)
	b.Do("CLIENT", "TRACKING", "on")
	b.Do("GET", "i1")
	rdb := srv.Client()
	clients := rdb.Info(ctx, "clients").Val()
	stats := rdb.Info(ctx, "stats").Val()
	for _, want := range []string{"tracking_clients:2\r\n"} {
		if !strings.Contains(clients, want) {
			t.Fatalf("INFO clients lacks %q:\n%s", want, clients)
		}
	}
	for _, want := range []string{"tracking_total_keys:2\r\n", "tracking_total_items:3\r\n", "tracking_total_prefixes:0\r\n"} {
		if !strings.Contains(stats, want) {
			t.Fatalf("INFO stats lacks %q:\n%s", want, stats)
		}
	}
}
