package tests

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestStreamsGoRedis drives the stream commands through go-redis's stream API, in RESP2 and
// RESP3, so that its reply parsers (XINFO maps, XPENDING, XAUTOCLAIM) accept what cairn sends.
func TestStreamsGoRedis(t *testing.T) {
	srv := servertest.Start(t)
	for _, proto := range []int{2, 3} {
		rdb := srv.Client(func(o *redis.Options) { o.Protocol = proto })
		ctx := servertest.Ctx(t)
		key := "gs" + string(rune('0'+proto))
		for i, v := range []string{"a", "b", "c"} {
			id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "1-" + string(rune('1'+i)), Values: []string{"f", v}}).Result()
			if err != nil || id != "1-"+string(rune('1'+i)) {
				t.Fatalf("resp%d XAdd = %q, %v", proto, id, err)
			}
		}
		if n, err := rdb.XLen(ctx, key).Result(); err != nil || n != 3 {
			t.Fatalf("XLen = %d, %v", n, err)
		}
		msgs, err := rdb.XRange(ctx, key, "-", "+").Result()
		if err != nil || len(msgs) != 3 || msgs[1].Values["f"] != "b" {
			t.Fatalf("XRange = %v, %v", msgs, err)
		}
		streams, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key, "1-1"}, Count: 1, Block: -1}).Result()
		if err != nil || len(streams) != 1 || streams[0].Stream != key || streams[0].Messages[0].ID != "1-2" {
			t.Fatalf("XRead = %v, %v", streams, err)
		}
		if _, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key, "$"}, Block: 20 * time.Millisecond}).Result(); err != redis.Nil {
			t.Fatalf("XRead timeout = %v, want redis.Nil", err)
		}
		if err := rdb.XGroupCreate(ctx, key, "g", "0").Err(); err != nil {
			t.Fatal(err)
		}
		streams, err = rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{key, ">"}, Count: 2, Block: -1}).Result()
		if err != nil || len(streams[0].Messages) != 2 {
			t.Fatalf("XReadGroup = %v, %v", streams, err)
		}
		pending, err := rdb.XPending(ctx, key, "g").Result()
		if err != nil || pending.Count != 2 || pending.Lower != "1-1" || pending.Higher != "1-2" || pending.Consumers["alice"] != 2 {
			t.Fatalf("XPending = %+v, %v", pending, err)
		}
		ext, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: "g", Start: "-", End: "+", Count: 10}).Result()
		if err != nil || len(ext) != 2 || ext[0].Consumer != "alice" || ext[0].RetryCount != 1 {
			t.Fatalf("XPendingExt = %+v, %v", ext, err)
		}
		claimed, err := rdb.XClaim(ctx, &redis.XClaimArgs{Stream: key, Group: "g", Consumer: "bob", Messages: []string{"1-1"}}).Result()
		if err != nil || len(claimed) != 1 || claimed[0].Values["f"] != "a" {
			t.Fatalf("XClaim = %v, %v", claimed, err)
		}
		auto, start, err := rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: key, Group: "g", Consumer: "carol", Start: "0", Count: 10}).Result()
		if err != nil || len(auto) != 2 || start != "0-0" {
			t.Fatalf("XAutoClaim = %v %q, %v", auto, start, err)
		}
		if n, err := rdb.XAck(ctx, key, "g", "1-1", "1-2").Result(); err != nil || n != 2 {
			t.Fatalf("XAck = %d, %v", n, err)
		}
		info, err := rdb.XInfoStream(ctx, key).Result()
		if err != nil || info.Length != 3 || info.Groups != 1 || info.LastGeneratedID != "1-3" || info.FirstEntry.ID != "1-1" || info.EntriesAdded != 3 {
			t.Fatalf("XInfoStream = %+v, %v", info, err)
		}
		full, err := rdb.XInfoStreamFull(ctx, key, 0).Result()
		if err != nil || len(full.Entries) != 3 || len(full.Groups) != 1 || len(full.Groups[0].Consumers) != 3 {
			t.Fatalf("XInfoStreamFull = %+v, %v", full, err)
		}
		groups, err := rdb.XInfoGroups(ctx, key).Result()
		if err != nil || len(groups) != 1 || groups[0].Name != "g" || groups[0].Consumers != 3 || groups[0].LastDeliveredID != "1-2" || groups[0].Lag != 1 {
			t.Fatalf("XInfoGroups = %+v, %v", groups, err)
		}
		consumers, err := rdb.XInfoConsumers(ctx, key, "g").Result()
		if err != nil || len(consumers) != 3 || consumers[0].Name != "alice" {
			t.Fatalf("XInfoConsumers = %+v, %v", consumers, err)
		}
		if n, err := rdb.XTrimMaxLen(ctx, key, 1).Result(); err != nil || n != 2 {
			t.Fatalf("XTrimMaxLen = %d, %v", n, err)
		}
		res, err := rdb.XDelEx(ctx, key, "KEEPREF", "1-3", "9-9").Result()
		if err != nil || len(res) != 2 || res[0] != int64(1) || res[1] != int64(-1) {
			t.Fatalf("XDelEx = %v, %v", res, err)
		}
	}
}
