package tests

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestMultiExecReplies(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"EXEC"}, "-ERR EXEC without MULTI\r\n"},
		{[]string{"DISCARD"}, "-ERR DISCARD without MULTI\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"MULTI"}, "-ERR MULTI calls can not be nested\r\n"},
		{[]string{"SET", "a", "1"}, "+QUEUED\r\n"},
		{[]string{"INCR", "a"}, "+QUEUED\r\n"},
		{[]string{"SET", "s", "foo"}, "+QUEUED\r\n"},
		{[]string{"INCR", "s"}, "+QUEUED\r\n"}, // fails at run time
		{[]string{"GET", "a"}, "+QUEUED\r\n"},
		{[]string{"PING"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*6\r\n+OK\r\n:2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\n2\r\n+PONG\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"SET", "a"}, "-ERR wrong number of arguments for 'set' command\r\n"},
		{[]string{"SET", "b", "1"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{[]string{"EXISTS", "b"}, ":0\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"NOSUCHCMD"}, "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n"},
		{[]string{"EXEC"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"EXEC"}, "*0\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"SET", "c", "1"}, "+QUEUED\r\n"},
		{[]string{"DISCARD"}, "+OK\r\n"},
		{[]string{"EXISTS", "c"}, ":0\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"WATCH", "a"}, "-ERR WATCH inside MULTI is not allowed\r\n"},
		{[]string{"SELECT", "3"}, "+QUEUED\r\n"},
		{[]string{"SET", "indb3", "yes"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*2\r\n+OK\r\n+OK\r\n"},
		{[]string{"GET", "indb3"}, "$3\r\nyes\r\n"}, // the connection is now in db 3
		{[]string{"SELECT", "0"}, "+OK\r\n"},
		{[]string{"GET", "indb3"}, "$-1\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
}

func TestWatch(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	other := srv.Client()
	cases := []struct {
		name    string
		setup   func()
		between func() // runs after WATCH, before EXEC, from another client
		aborted bool
	}{
		{"untouched", func() { other.Set(ctx, "k", "v", 0) }, func() {}, false},
		{"overwritten", func() { other.Set(ctx, "k", "v", 0) }, func() { other.Set(ctx, "k", "w", 0) }, true},
		{"same value written", func() { other.Set(ctx, "k", "v", 0) }, func() { other.Set(ctx, "k", "v", 0) }, true},
		{"deleted", func() { other.Set(ctx, "k", "v", 0) }, func() { other.Del(ctx, "k") }, true},
		{"created", func() { other.Del(ctx, "k") }, func() { other.Set(ctx, "k", "v", 0) }, true},
		{"created and deleted", func() { other.Del(ctx, "k") }, func() { other.Set(ctx, "k", "v", 0); other.Del(ctx, "k") }, true},
		// The TTL is long enough that WATCH sees the key even on a loaded machine; between
		// waits until it has expired.
		{"expired", func() { other.Set(ctx, "k", "v", 500*time.Millisecond) }, func() {
			for other.Exists(ctx, "k").Val() != 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}, true},
		{"other key written", func() { other.Set(ctx, "k", "v", 0) }, func() { other.Set(ctx, "unrelated", "x", 0) }, false},
		{"flushdb", func() { other.Set(ctx, "k", "v", 0) }, func() { other.FlushDB(ctx) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			c := srv.Dial()
			if got := c.Do("WATCH", "k"); got != "+OK\r\n" {
				t.Fatalf("WATCH = %q", got)
			}
			tc.between()
			c.Do("MULTI")
			c.Do("SET", "result", tc.name)
			got := c.Do("EXEC")
			want := "*1\r\n+OK\r\n"
			if tc.aborted {
				want = "*-1\r\n"
			}
			if got != want {
				t.Fatalf("EXEC = %q, want %q", got, want)
			}
			// EXEC unwatches: a second transaction goes through whatever happened.
			other.Set(ctx, "k", "again", 0)
			c.Do("MULTI")
			c.Do("PING")
			if got := c.Do("EXEC"); got != "*1\r\n+PONG\r\n" {
				t.Fatalf("EXEC after EXEC = %q, want PONG (keys are unwatched by EXEC)", got)
			}
		})
	}
	t.Run("unwatch", func(t *testing.T) {
		c := srv.Dial()
		c.Do("WATCH", "k")
		other.Set(ctx, "k", "changed", 0)
		if got := c.Do("UNWATCH"); got != "+OK\r\n" {
			t.Fatalf("UNWATCH = %q", got)
		}
		c.Do("MULTI")
		c.Do("PING")
		if got := c.Do("EXEC"); got != "*1\r\n+PONG\r\n" {
			t.Fatalf("EXEC after UNWATCH = %q", got)
		}
	})
}

// Optimistic increments with WATCH from many clients: no update is lost.
func TestWatchRaces(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	const clients, each = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb := srv.Client()
			for n := 0; n < each; {
				err := rdb.Watch(ctx, func(tx *redis.Tx) error {
					v, err := tx.Get(ctx, "counter").Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "counter", strconv.Itoa(v+1), 0)
						return nil
					})
					return err
				}, "counter")
				if errors.Is(err, redis.TxFailedErr) {
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				n++
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if got := srv.Client().Get(ctx, "counter").Val(); got != strconv.Itoa(clients*each) {
		t.Fatalf("counter = %s, want %d: a WATCH race lost an update", got, clients*each)
	}
}

// Transactions are isolated: a reader never sees one half of a MULTI applied.
func TestMultiAtomicUnderConcurrency(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const writers, rounds = 4, 100
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb := srv.Client()
			for r := 0; r < rounds; r++ {
				if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Incr(ctx, "a")
					p.Incr(ctx, "b")
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reader := srv.Client()
	for {
		vals, err := reader.MGet(ctx, "a", "b").Result()
		if err != nil {
			t.Fatal(err)
		}
		if vals[0] != vals[1] {
			t.Fatalf("MGET a b = %v: saw half of a transaction", vals)
		}
		select {
		case <-done:
			if got := reader.Get(ctx, "a").Val(); got != strconv.Itoa(writers*rounds) {
				t.Fatalf("a = %s, want %d", got, writers*rounds)
			}
			return
		default:
		}
	}
}
