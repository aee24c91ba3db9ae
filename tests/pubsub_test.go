package tests

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// push encodes a RESP2 array (t '*') or RESP3 push (t '>') of bulk strings and a final integer.
func pushReply(t byte, kind, name string, n int) string {
	b := string(t) + "3\r\n" + bulk(kind)
	if name == "" {
		if t == '>' {
			b += "_\r\n"
		} else {
			b += "$-1\r\n"
		}
	} else {
		b += bulk(name)
	}
	return b + ":" + strconv.Itoa(n) + "\r\n"
}

func message(t byte, channel, payload string) string {
	return string(t) + "3\r\n" + bulk("message") + bulk(channel) + bulk(payload)
}

func pmessage(t byte, pattern, channel, payload string) string {
	return string(t) + "4\r\n" + bulk("pmessage") + bulk(pattern) + bulk(channel) + bulk(payload)
}

// readN reads n replies from c and concatenates them.
func readN(c *servertest.Conn, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(c.ReadReply())
	}
	return b.String()
}

const subscribedErr = "-ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"

func TestPubSubRESP2Replies(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	steps := []struct {
		args    []string
		replies int
		want    string
	}{
		{[]string{"UNSUBSCRIBE"}, 1, pushReply('*', "unsubscribe", "", 0)},
		{[]string{"PUNSUBSCRIBE"}, 1, pushReply('*', "punsubscribe", "", 0)},
		{[]string{"SUNSUBSCRIBE"}, 1, pushReply('*', "sunsubscribe", "", 0)},
		{[]string{"SUBSCRIBE", "a", "b", "a"}, 3, pushReply('*', "subscribe", "a", 1) + pushReply('*', "subscribe", "b", 2) + pushReply('*', "subscribe", "a", 2)},
		{[]string{"GET", "x"}, 1, fmt.Sprintf(subscribedErr, "get")},
		{[]string{"SET", "x", "1"}, 1, fmt.Sprintf(subscribedErr, "set")},
		{[]string{"CLIENT", "ID"}, 1, fmt.Sprintf(subscribedErr, "client|id")},
		{[]string{"PUBLISH", "a", "x"}, 1, fmt.Sprintf(subscribedErr, "publish")},
		{[]string{"SUBSCRIBE"}, 1, "-ERR wrong number of arguments for 'subscribe' command\r\n"},
		{[]string{"PING"}, 1, "*2\r\n" + bulk("pong") + bulk("")},
		{[]string{"PING", "hi"}, 1, "*2\r\n" + bulk("pong") + bulk("hi")},
		{[]string{"PING", "a", "b"}, 1, "-ERR wrong number of arguments for 'ping' command\r\n"},
		{[]string{"PSUBSCRIBE", "p*"}, 1, pushReply('*', "psubscribe", "p*", 3)},
		{[]string{"SSUBSCRIBE", "s1"}, 1, pushReply('*', "ssubscribe", "s1", 1)},
		{[]string{"UNSUBSCRIBE", "nope"}, 1, pushReply('*', "unsubscribe", "nope", 3)},
		{[]string{"UNSUBSCRIBE"}, 2, pushReply('*', "unsubscribe", "a", 2) + pushReply('*', "unsubscribe", "b", 1)},
		{[]string{"UNSUBSCRIBE"}, 1, pushReply('*', "unsubscribe", "", 1)},
		{[]string{"PUNSUBSCRIBE"}, 1, pushReply('*', "punsubscribe", "p*", 0)},
		// Still subscribed to a shard channel: still in subscribed mode.
		{[]string{"GET", "x"}, 1, fmt.Sprintf(subscribedErr, "get")},
		{[]string{"SUNSUBSCRIBE"}, 1, pushReply('*', "sunsubscribe", "s1", 0)},
		{[]string{"GET", "x"}, 1, "$-1\r\n"},
		{[]string{"PING"}, 1, "+PONG\r\n"},
	}
	for _, st := range steps {
		c.Send(encode(st.args...))
		if got := readN(c, st.replies); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
}

// encode builds a RESP request.
func encode(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		b.WriteString(bulk(a))
	}
	return b.String()
}

func TestPubSubRESP2ResetAndQuit(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("SUBSCRIBE", "a")
	if got := c.Do("RESET"); got != "+RESET\r\n" {
		t.Fatalf("RESET = %q", got)
	}
	if got := c.Do("GET", "x"); got != "$-1\r\n" {
		t.Fatalf("GET after RESET = %q, want a normal reply", got)
	}
	pub := srv.Client()
	ctx := servertest.Ctx(t)
	if n := pub.Publish(ctx, "a", "m").Val(); n != 0 {
		t.Fatalf("PUBLISH after RESET reached %d clients, want 0", n)
	}
	c.Do("PSUBSCRIBE", "*")
	if got := c.Do("QUIT"); got != "+OK\r\n" {
		t.Fatalf("QUIT in subscribed mode = %q", got)
	}
}

func TestPubSubRESP3Pushes(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("HELLO", "3")
	steps := []struct {
		args    []string
		replies int
		want    string
	}{
		{[]string{"UNSUBSCRIBE"}, 1, pushReply('>', "unsubscribe", "", 0)},
		{[]string{"SUBSCRIBE", "a"}, 1, pushReply('>', "subscribe", "a", 1)},
		// RESP3 clients may run any command while subscribed.
		{[]string{"GET", "x"}, 1, "_\r\n"},
		{[]string{"PING"}, 1, "+PONG\r\n"},
		// Its own message comes before PUBLISH's reply, as in Redis.
		{[]string{"PUBLISH", "a", "hello"}, 2, message('>', "a", "hello") + ":1\r\n"},
		{[]string{"PSUBSCRIBE", "a*"}, 1, pushReply('>', "psubscribe", "a*", 2)},
		{[]string{"PUBLISH", "a", "m2"}, 3, message('>', "a", "m2") + pmessage('>', "a*", "a", "m2") + ":2\r\n"},
		{[]string{"SSUBSCRIBE", "a"}, 1, pushReply('>', "ssubscribe", "a", 1)},
		{[]string{"SPUBLISH", "a", "m3"}, 2, ">3\r\n" + bulk("smessage") + bulk("a") + bulk("m3") + ":1\r\n"},
		{[]string{"UNSUBSCRIBE"}, 1, pushReply('>', "unsubscribe", "a", 1)},
		{[]string{"PUNSUBSCRIBE"}, 1, pushReply('>', "punsubscribe", "a*", 0)},
		{[]string{"SUNSUBSCRIBE"}, 1, pushReply('>', "sunsubscribe", "a", 0)},
	}
	for _, st := range steps {
		c.Send(encode(st.args...))
		if got := readN(c, st.replies); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
}

func TestPubSubDelivery(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			srv := servertest.Start(t)
			ctx := servertest.Ctx(t)
			sub := srv.Client(func(o *redis.Options) { o.Protocol = proto })
			pub := srv.Client()
			ps := sub.Subscribe(ctx, "news.tech")
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ps.PSubscribe(ctx, "news.*", "h?llo", "h[ae]llo"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if _, err := ps.Receive(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if n := pub.Publish(ctx, "news.tech", "m1").Val(); n != 2 {
				t.Fatalf("PUBLISH news.tech = %d, want 2 (channel and pattern)", n)
			}
			if n := pub.Publish(ctx, "hello", "m2").Val(); n != 2 {
				t.Fatalf("PUBLISH hello = %d, want 2 (two patterns)", n)
			}
			if n := pub.Publish(ctx, "hxllo", "m3").Val(); n != 1 {
				t.Fatalf("PUBLISH hxllo = %d, want 1", n)
			}
			if n := pub.Publish(ctx, "other", "m4").Val(); n != 0 {
				t.Fatalf("PUBLISH other = %d, want 0", n)
			}
			want := []redis.Message{
				{Channel: "news.tech", Payload: "m1"},
				{Channel: "news.tech", Pattern: "news.*", Payload: "m1"},
				{Channel: "hello", Pattern: "h?llo", Payload: "m2"},
				{Channel: "hello", Pattern: "h[ae]llo", Payload: "m2"},
				{Channel: "hxllo", Pattern: "h?llo", Payload: "m3"},
			}
			var got []redis.Message
			for len(got) < len(want) {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, *m)
			}
			// The two pattern messages of "hello" may come in either pattern order.
			if got[2].Pattern > got[3].Pattern {
				got[2], got[3] = got[3], got[2]
			}
			for i := range want {
				if got[i].Channel != want[i].Channel || got[i].Pattern != want[i].Pattern || got[i].Payload != want[i].Payload {
					t.Fatalf("message %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			if chans := pub.PubSubChannels(ctx, "*").Val(); len(chans) != 1 || chans[0] != "news.tech" {
				t.Fatalf("PUBSUB CHANNELS = %v", chans)
			}
			if n := pub.PubSubNumPat(ctx).Val(); n != 3 {
				t.Fatalf("PUBSUB NUMPAT = %d, want 3", n)
			}
			if m := pub.PubSubNumSub(ctx, "news.tech", "none").Val(); m["news.tech"] != 1 || m["none"] != 0 {
				t.Fatalf("PUBSUB NUMSUB = %v", m)
			}
			if err := ps.Unsubscribe(ctx, "news.tech"); err != nil {
				t.Fatal(err)
			}
			pollUntil(t, "channel unsubscribed", func() bool { return pub.PubSubNumSub(ctx, "news.tech").Val()["news.tech"] == 0 })
			if n := pub.Publish(ctx, "news.tech", "m5").Val(); n != 1 {
				t.Fatalf("PUBLISH after UNSUBSCRIBE = %d, want 1 (the pattern)", n)
			}
		})
	}
}

// pollUntil polls cond until it holds or 10 seconds pass.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPubSubShardChannels(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	ps := rdb.SSubscribe(ctx, "s1", "s2")
	defer ps.Close()
	for i := 0; i < 2; i++ {
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Shard channels and plain channels are separate namespaces.
	if n := rdb.Publish(ctx, "s1", "x").Val(); n != 0 {
		t.Fatalf("PUBLISH to a shard channel's name = %d, want 0", n)
	}
	if n := rdb.SPublish(ctx, "s1", "hello").Val(); n != 1 {
		t.Fatalf("SPUBLISH = %d, want 1", n)
	}
	m, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != "s1" || m.Payload != "hello" {
		t.Fatalf("smessage = %+v", m)
	}
	if chans := rdb.PubSubShardChannels(ctx, "s*").Val(); strings.Join(chans, ",") != "s1,s2" {
		t.Fatalf("PUBSUB SHARDCHANNELS = %v", chans)
	}
	if chans := rdb.PubSubShardChannels(ctx, "*").Val(); len(chans) != 2 {
		t.Fatalf("PUBSUB SHARDCHANNELS (all) = %v", chans)
	}
	if m := rdb.PubSubShardNumSub(ctx, "s1", "s3").Val(); m["s1"] != 1 || m["s3"] != 0 {
		t.Fatalf("PUBSUB SHARDNUMSUB = %v", m)
	}
	if chans := rdb.PubSubChannels(ctx, "").Val(); len(chans) != 0 {
		t.Fatalf("PUBSUB CHANNELS with only shard subscriptions = %v", chans)
	}
}

func TestPubSubCommandErrors(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PUBLISH", "a"}, "-ERR wrong number of arguments for 'publish' command\r\n"},
		{[]string{"PUBLISH", "a", "b", "c"}, "-ERR wrong number of arguments for 'publish' command\r\n"},
		{[]string{"SPUBLISH", "a"}, "-ERR wrong number of arguments for 'spublish' command\r\n"},
		{[]string{"PSUBSCRIBE"}, "-ERR wrong number of arguments for 'psubscribe' command\r\n"},
		{[]string{"PUBSUB"}, "-ERR wrong number of arguments for 'pubsub' command\r\n"},
		{[]string{"PUBSUB", "FOO"}, "-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n"},
		{[]string{"PUBSUB", "CHANNELS", "a", "b"}, "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"},
		{[]string{"PUBSUB", "SHARDCHANNELS", "a", "b"}, "-ERR unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try PUBSUB HELP.\r\n"},
		{[]string{"PUBSUB", "NUMPAT", "x"}, "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"},
		{[]string{"PUBSUB", "NUMSUB"}, "*0\r\n"},
		{[]string{"PUBSUB", "NUMPAT"}, ":0\r\n"},
		{[]string{"PUBLISH", "nobody", "x"}, ":0\r\n"},
	}
	for _, tc := range cases {
		if got := c.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	help := c.Do("PUBSUB", "HELP")
	if !strings.HasPrefix(help, "*14\r\n+PUBSUB <subcommand>") {
		t.Fatalf("PUBSUB HELP = %q", help)
	}
}

func TestPubSubManySubscribers(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	const subs, msgs = 100, 200
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	ready := make(chan struct{}, subs)
	for i := 0; i < subs; i++ {
		proto := 2 + i%2
		cl := srv.Client(func(o *redis.Options) { o.Protocol = proto; o.PoolSize = 1 })
		ps := cl.Subscribe(ctx, "fan")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(ps *redis.PubSub) {
			defer wg.Done()
			defer ps.Close()
			ready <- struct{}{}
			for j := 0; j < msgs; j++ {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil {
					errs <- err
					return
				}
				if want := "m" + strconv.Itoa(j); m.Payload != want {
					errs <- fmt.Errorf("message %d = %q, want %q", j, m.Payload, want)
					return
				}
			}
		}(ps)
	}
	for i := 0; i < subs; i++ {
		<-ready
	}
	pub := srv.Client()
	info := pub.Info(ctx, "clients").Val()
	if !strings.Contains(info, "pubsub_clients:100\r\n") {
		t.Fatalf("INFO clients lacks pubsub_clients:100:\n%s", info)
	}
	for j := 0; j < msgs; j++ {
		if n := pub.Publish(ctx, "fan", "m"+strconv.Itoa(j)).Val(); n != subs {
			t.Fatalf("PUBLISH reached %d clients, want %d", n, subs)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A client that disconnects leaves its channels.
func TestPubSubDisconnectCleansUp(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	c := srv.Dial()
	c.Do("SUBSCRIBE", "gone")
	c.Do("PSUBSCRIBE", "g*")
	rdb := srv.Client()
	if n := rdb.Publish(ctx, "gone", "x").Val(); n != 2 {
		t.Fatalf("PUBLISH = %d, want 2", n)
	}
	c.Close()
	pollUntil(t, "subscriptions removed", func() bool {
		return rdb.PubSubNumSub(ctx, "gone").Val()["gone"] == 0 && rdb.PubSubNumPat(ctx).Val() == 0
	})
	if n := rdb.Publish(ctx, "gone", "x").Val(); n != 0 {
		t.Fatalf("PUBLISH after disconnect = %d, want 0", n)
	}
}

// Under a stream of messages, an UNSUBSCRIBE confirmation is the last thing the channel sends,
// and a SUBSCRIBE confirmation comes before the channel's first message.
func TestPubSubConfirmationOrder(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pub := srv.Client()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pub.Publish(ctx, "stream", "tick")
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	c := srv.Dial()
	for round := 0; round < 20; round++ {
		c.Send(encode("SUBSCRIBE", "stream"))
		if got, want := c.ReadReply(), pushReply('*', "subscribe", "stream", 1); got != want {
			t.Fatalf("round %d: first reply after SUBSCRIBE = %q, want the confirmation", round, got)
		}
		if got := c.ReadReply(); got != message('*', "stream", "tick") {
			t.Fatalf("round %d: reply = %q, want a message", round, got)
		}
		c.Send(encode("UNSUBSCRIBE", "stream"))
		unsub := pushReply('*', "unsubscribe", "stream", 0)
		for {
			r := c.ReadReply()
			if r == unsub {
				break
			}
			if r != message('*', "stream", "tick") {
				t.Fatalf("round %d: reply = %q while waiting for the unsubscribe confirmation", round, r)
			}
		}
		if got := c.Do("PING"); got != "+PONG\r\n" {
			t.Fatalf("round %d: PING after UNSUBSCRIBE = %q: a message came after the confirmation", round, got)
		}
	}
}

func TestOutputBufferLimitConfig(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	get := func() string {
		return rdb.ConfigGet(ctx, "client-output-buffer-limit").Val()["client-output-buffer-limit"]
	}
	if got, want := get(), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"; got != want {
		t.Fatalf("default = %q, want %q", got, want)
	}
	if err := rdb.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 1mb 512kb 10").Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := get(), "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10"; got != want {
		t.Fatalf("after setting pubsub = %q, want %q", got, want)
	}
	if err := rdb.ConfigSet(ctx, "client-output-buffer-limit", "REPLICA 1k 2 3 normal 1 2 3").Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := get(), "normal 1 2 3 slave 1000 2 3 pubsub 1048576 524288 10"; got != want {
		t.Fatalf("after setting replica and normal = %q, want %q", got, want)
	}
	prefix := "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
	bad := []struct{ v, msg string }{
		{"pubsub 1mb", "Wrong number of arguments in buffer limit configuration."},
		{"foo 1 2 3", "Invalid client class specified in buffer limit configuration."},
		{"master 1 2 3", "Invalid client class specified in buffer limit configuration."},
		{"pubsub x 1 1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		{"pubsub 1 1 -1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		{"pubsub 1 1 x", "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
	}
	for _, b := range bad {
		err := rdb.ConfigSet(ctx, "client-output-buffer-limit", b.v).Err()
		if err == nil || err.Error() != prefix+b.msg {
			t.Fatalf("CONFIG SET %q = %v, want %q", b.v, err, prefix+b.msg)
		}
	}
	if got, want := get(), "normal 1 2 3 slave 1000 2 3 pubsub 1048576 524288 10"; got != want {
		t.Fatalf("after rejected values = %q, want %q", got, want)
	}
}

// A subscriber that never reads is disconnected once its pending output passes the pubsub
// hard limit; the others keep receiving everything.
func TestPubSubSlowSubscriberIsCutOff(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	pub := srv.Client()
	if err := pub.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 256kb 128kb 60").Err(); err != nil {
		t.Fatal(err)
	}
	// The slow subscriber: a small receive buffer (set before connecting, so the TCP window is
	// small from the start), and it never reads.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	raw, err := d.DialContext(ctx, "tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte(encode("SUBSCRIBE", "firehose"))); err != nil {
		t.Fatal(err)
	}
	fast := srv.Client(func(o *redis.Options) { o.PoolSize = 1 })
	ps := fast.Subscribe(ctx, "firehose")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "both subscribed", func() bool { return pub.PubSubNumSub(ctx, "firehose").Val()["firehose"] == 2 })

	payload := strings.Repeat("x", 4096)
	received := make(chan int, 1)
	go func() {
		n := 0
		for {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				received <- -1
				return
			}
			if m.Payload == "done" {
				received <- n
				return
			}
			n++
		}
	}()
	// 16 MB in all: far past the slow subscriber's kernel buffers and its 256 KB limit.
	const msgs = 4096
	cut := 0
	for i := 0; i < msgs; i++ {
		n, err := pub.Publish(ctx, "firehose", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && cut == 0 {
			cut = i
		}
	}
	pub.Publish(ctx, "firehose", "done")
	if cut == 0 {
		t.Fatalf("the slow subscriber was never disconnected")
	}
	if n := <-received; n != msgs {
		t.Fatalf("the fast subscriber received %d messages, want %d", n, msgs)
	}
	info := pub.Info(ctx, "stats").Val()
	if !strings.Contains(info, "client_output_buffer_limit_disconnections:1\r\n") {
		t.Fatalf("INFO stats does not count the disconnection:\n%s", info)
	}
	pollUntil(t, "the log line", func() bool {
		return strings.Contains(srv.Log(), "scheduled to be closed ASAP for overcoming of output buffer limits.")
	})
	// The slow client's connection is closed: reading drains what was sent, then EOF.
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := bufio.NewReader(raw).WriteTo(discard{}); err != nil {
		t.Fatalf("the slow subscriber's connection was not closed: %v\n%s\n%s", err, pub.ClientList(ctx).Val(), srv.Log())
	}
	t.Logf("slow subscriber cut off after %d messages (%d KB)", cut, cut*4)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// CLIENT LIST shows subscriptions (sub, psub, ssub, flag P) and tracking (flag t, redir);
// TYPE pubsub selects subscribed clients, for LIST and KILL.
func TestPubSubClientList(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	s := srv.Dial()
	s.Do("SUBSCRIBE", "a", "b")
	s.Do("PSUBSCRIBE", "p*")
	s.Do("SSUBSCRIBE", "s")
	tr := srv.Dial()
	hello3(tr)
	tr.Do("CLIENT", "TRACKING", "on", "BCAST")
	rdb := srv.Client()
	lineOf := func(c *servertest.Conn) string {
		t.Helper()
		for _, l := range strings.Split(rdb.ClientList(ctx).Val(), "\n") {
			if strings.Contains(l, "addr="+c.LocalAddr().String()+" ") {
				return l
			}
		}
		t.Fatalf("%s not in CLIENT LIST", c.LocalAddr())
		return ""
	}
	sl := lineOf(s)
	for _, want := range []string{" flags=P ", " sub=2 ", " psub=1 ", " ssub=1 ", " redir=-1 "} {
		if !strings.Contains(sl, want) {
			t.Fatalf("subscriber line lacks %q: %s", want, sl)
		}
	}
	tl := lineOf(tr)
	for _, want := range []string{" flags=tB ", " sub=0 ", " redir=0 "} {
		if !strings.Contains(tl, want) {
			t.Fatalf("tracking client line lacks %q: %s", want, tl)
		}
	}
	pubsubOnly := rdb.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Val().(string)
	if n := strings.Count(pubsubOnly, "\n"); n != 1 || !strings.Contains(pubsubOnly, " flags=P ") {
		t.Fatalf("CLIENT LIST TYPE pubsub = %q", pubsubOnly)
	}
	normal := rdb.Do(ctx, "CLIENT", "LIST", "TYPE", "normal").Val().(string)
	if strings.Contains(normal, " flags=P ") || strings.Count(normal, "\n") != 2 {
		t.Fatalf("CLIENT LIST TYPE normal = %q", normal)
	}
	if n := rdb.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Val(); n != int64(1) {
		t.Fatalf("CLIENT KILL TYPE pubsub = %v, want 1", n)
	}
	pollUntil(t, "the subscriber to go", func() bool { return rdb.PubSubNumPat(ctx).Val() == 0 })
}

// The soft limit cuts a subscriber off only after it has stayed over it for longer than its
// seconds.
func TestPubSubSoftLimit(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	pub := srv.Client()
	if err := pub.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 0 64kb 1").Err(); err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	raw, err := d.DialContext(ctx, "tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte(encode("SUBSCRIBE", "soft"))); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the subscription", func() bool { return pub.PubSubNumSub(ctx, "soft").Val()["soft"] == 1 })
	payload := strings.Repeat("y", 4096)
	var over time.Time // when its pending output was first seen over the soft limit
	deadline := time.Now().Add(30 * time.Second)
	for cut := false; !cut; {
		for i := 0; i < 50 && !cut; i++ {
			n, err := pub.Publish(ctx, "soft", payload).Result()
			if err != nil {
				t.Fatal(err)
			}
			cut = n == 0
		}
		if over.IsZero() {
			for _, l := range strings.Split(pub.ClientList(ctx).Val(), "\n") {
				if strings.Contains(l, "flags=P") && omemOf(l) >= 64*1024 {
					over = time.Now()
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the subscriber over the soft limit was not cut off")
		}
	}
	if over.IsZero() {
		t.Fatalf("cut off before its output was seen over the soft limit")
	}
	if held := time.Since(over); held < time.Second {
		t.Fatalf("cut off %v after passing the soft limit, want more than its 1 second", held)
	}
}

func omemOf(line string) int {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "omem="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
