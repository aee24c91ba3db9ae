package tests

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// A pattern that made the recursive matcher take exponential time (CVE-2022-36021) returns
// at once, and a client on the same event loop is served meanwhile.
func TestKeysPathologicalPattern(t *testing.T) {
	t.Setenv("CAIRN_EVENT_LOOPS", "1") // both clients on one loop
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	long := strings.Repeat("a", 5000)
	for i := 0; i < 50; i++ {
		if err := rdb.Set(ctx, long+strconv.Itoa(i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	pattern := strings.Repeat("a*", 60) + "b"

	done := make(chan error, 1)
	go func() {
		keys, err := rdb.Keys(ctx, pattern).Result()
		if err == nil && len(keys) != 0 {
			err = fmt.Errorf("KEYS matched %d keys", len(keys))
		}
		done <- err
	}()
	other := srv.Client()
	pings := 0
	deadline := time.After(30 * time.Second) // a hang, not a speed limit
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			waiting = false
		case <-deadline:
			t.Fatal("KEYS with a pathological pattern did not return")
		default:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := other.Ping(pctx).Err()
			cancel()
			if err != nil {
				t.Fatalf("a client on the same loop was not served: %v", err)
			}
			pings++
		}
	}
	// SCAN MATCH, and a pattern subscriber, use the same matcher.
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil || len(keys) != 0 {
			t.Fatalf("SCAN MATCH = %d keys, %v", len(keys), err)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if err := other.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pings served while KEYS ran", pings)
}
