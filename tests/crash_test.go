package tests

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// acked records the writes the server acknowledged before it died.
type acked struct {
	mu      sync.Mutex
	sets    map[string]string
	incrs   map[string]int64 // last value INCR returned
	appends map[string]int64 // length APPEND returned
	n       atomic.Int64
}

// writeUntilDead runs one writer until its writes fail (the server was killed).
func writeUntilDead(srv *servertest.Server, id int, a *acked, wg *sync.WaitGroup) {
	defer wg.Done()
	rdb := srv.Client()
	ctx := context.Background()
	ctr, app := "ctr"+strconv.Itoa(id), "app"+strconv.Itoa(id)
	for i := 0; ; i++ {
		k := "k" + strconv.Itoa(id) + ":" + strconv.Itoa(i)
		v := "v" + strconv.Itoa(i)
		if err := rdb.Set(ctx, k, v, 0).Err(); err != nil {
			return
		}
		a.mu.Lock()
		a.sets[k] = v
		a.mu.Unlock()
		n, err := rdb.Incr(ctx, ctr).Result()
		if err != nil {
			return
		}
		a.mu.Lock()
		a.incrs[ctr] = n
		a.mu.Unlock()
		l, err := rdb.Append(ctx, app, "x").Result()
		if err != nil {
			return
		}
		a.mu.Lock()
		a.appends[app] = l
		a.mu.Unlock()
		a.n.Add(3)
	}
}

// TestCrashKeepsAcknowledgedWrites kills the server with SIGKILL while clients write under
// appendfsync always, restarts it on the same directory, and checks that every acknowledged
// write survived.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	for round := 0; round < 3; round++ {
		t.Run("round"+strconv.Itoa(round), func(t *testing.T) {
			srv := servertest.Start(t, "--appendfsync", "always")
			a := &acked{sets: map[string]string{}, incrs: map[string]int64{}, appends: map[string]int64{}}
			var wg sync.WaitGroup
			for id := 0; id < 4; id++ {
				wg.Add(1)
				go writeUntilDead(srv, id, a, &wg)
			}
			target := int64(1500 + 500*round)
			deadline := time.Now().Add(60 * time.Second)
			for a.n.Load() < target {
				if time.Now().After(deadline) {
					t.Fatalf("only %d writes acknowledged in 60s", a.n.Load())
				}
				time.Sleep(5 * time.Millisecond)
			}
			srv.Kill()
			wg.Wait()
			srv.Restart()
			rdb := srv.Client()
			ctx := servertest.Ctx(t)
			a.mu.Lock()
			defer a.mu.Unlock()
			t.Logf("checking %d SETs, %d counters, %d appends", len(a.sets), len(a.incrs), len(a.appends))
			for k, v := range a.sets {
				got, err := rdb.Get(ctx, k).Result()
				if err != nil || got != v {
					t.Fatalf("after the crash GET %s = %q, %v; the write %q was acknowledged", k, got, err, v)
				}
			}
			for k, n := range a.incrs {
				got, err := rdb.Get(ctx, k).Int64()
				if err != nil || got < n {
					t.Fatalf("after the crash %s = %d, %v; INCR had acknowledged %d", k, got, err, n)
				}
			}
			for k, n := range a.appends {
				got, err := rdb.StrLen(ctx, k).Result()
				if err != nil || got < n {
					t.Fatalf("after the crash STRLEN %s = %d, %v; APPEND had acknowledged %d", k, got, err, n)
				}
			}
		})
	}
}

// TestCleanShutdownKeepsEverysecWrites stops the server with SIGTERM under appendfsync everysec:
// a clean shutdown syncs, so nothing acknowledged is lost.
func TestCleanShutdownKeepsEverysecWrites(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "everysec")
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	const n = 3000
	pipe := rdb.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, "e"+strconv.Itoa(i), strconv.Itoa(i), 0)
	}
	pipe.IncrBy(ctx, "total", n)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	srv.Restart()
	rdb = srv.Client()
	if got, err := rdb.DBSize(ctx).Result(); err != nil || got != n+1 {
		t.Fatalf("DBSIZE after restart = %d, %v; want %d", got, err, n+1)
	}
	for i := 0; i < n; i += 97 {
		if got, err := rdb.Get(ctx, "e"+strconv.Itoa(i)).Result(); err != nil || got != strconv.Itoa(i) {
			t.Fatalf("GET e%d after restart = %q, %v", i, got, err)
		}
	}
	if got, err := rdb.Get(ctx, "total").Int(); err != nil || got != n {
		t.Fatalf("total after restart = %d, %v", got, err)
	}
}
