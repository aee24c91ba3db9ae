package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestMultiServerCommands: PUBLISH, PUBSUB, WAIT, LASTSAVE and other server commands are queued in
// MULTI and run by EXEC, their replies in their places in EXEC's array.
func TestMultiServerCommands(t *testing.T) {
	srv := servertest.Start(t)
	sub := srv.Dial()
	sub.Send(encode("SUBSCRIBE", "results"))
	if got := sub.ReadReply(); got != pushReply('*', "subscribe", "results", 1) {
		t.Fatalf("SUBSCRIBE = %q", got)
	}
	c := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"SET", "task", "done"}, "+QUEUED\r\n"},
		{[]string{"PUBLISH", "results", "task"}, "+QUEUED\r\n"},
		{[]string{"PUBSUB", "NUMSUB", "results", "none"}, "+QUEUED\r\n"},
		{[]string{"INCR", "n"}, "+QUEUED\r\n"},
		{[]string{"WAIT", "1", "0"}, "+QUEUED\r\n"}, // does not block in a transaction
		{[]string{"PUBLISH", "results", "second"}, "+QUEUED\r\n"},
		{[]string{"GET", "task"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*7\r\n+OK\r\n:1\r\n*4\r\n$7\r\nresults\r\n:1\r\n$4\r\nnone\r\n:0\r\n:1\r\n:0\r\n:1\r\n$4\r\ndone\r\n"},
		// An aborted transaction publishes nothing.
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"PUBLISH", "results", "never"}, "+QUEUED\r\n"},
		{[]string{"SET", "x"}, "-ERR wrong number of arguments for 'set' command\r\n"},
		{[]string{"EXEC"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		// Server commands only.
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"PUBLISH", "results", "third"}, "+QUEUED\r\n"},
		{[]string{"PUBSUB", "NUMPAT"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*2\r\n:1\r\n:0\r\n"},
		// Still refused: those that change how later replies are delivered.
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"CLIENT", "REPLY", "OFF"}, "-ERR 'CLIENT|REPLY' inside MULTI is not supported by cairn\r\n"},
		{[]string{"DISCARD"}, "+OK\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	if got := readN(sub, 3); got != message('*', "results", "task")+message('*', "results", "second")+message('*', "results", "third") {
		t.Fatalf("subscriber got %q", got)
	}

	// LASTSAVE, INFO and CONFIG GET reply in place.
	c.Do("MULTI")
	c.Do("LASTSAVE")
	c.Do("CONFIG", "GET", "maxmemory")
	c.Do("SET", "k", "v")
	got := c.Do("EXEC")
	if !strings.HasPrefix(got, "*3\r\n:") || !strings.HasSuffix(got, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n+OK\r\n") {
		t.Fatalf("EXEC = %q", got)
	}
}

// TestMultiPublishAfterWrites: a subscriber that reads on receiving a message published in a
// transaction sees the transaction's writes (Celery's result backend does SET and PUBLISH in
// MULTI), and a WATCH abort publishes nothing.
func TestMultiPublishAfterWrites(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	ps := rdb.Subscribe(ctx, "celery-task-meta")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	ch := ps.Channel()
	reader := srv.Client()
	const n = 200
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			key := "result:" + strconv.Itoa(i)
			_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, "SUCCESS", 0)
				p.Publish(ctx, "celery-task-meta", key)
				return nil
			})
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < n; i++ {
		select {
		case m := <-ch:
			v, err := reader.Get(ctx, m.Payload).Result()
			if err != nil || v != "SUCCESS" {
				t.Fatalf("message %d for %q: GET = %q, %v; the write must be applied before the message goes out", i, m.Payload, v, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d did not arrive", i)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A transaction aborted by WATCH publishes nothing.
	c := srv.Dial()
	c.Do("WATCH", "w")
	rdb.Set(ctx, "w", "changed", 0)
	c.Do("MULTI")
	c.Do("PUBLISH", "celery-task-meta", "aborted")
	if got := c.Do("EXEC"); got != "*-1\r\n" {
		t.Fatalf("EXEC = %q, want an abort", got)
	}
	rdb.Publish(ctx, "celery-task-meta", "marker")
	select {
	case m := <-ch:
		if m.Payload != "marker" {
			t.Fatalf("got %q after an aborted transaction, want the marker", m.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("marker did not arrive")
	}
}
