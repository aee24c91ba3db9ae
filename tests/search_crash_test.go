package tests

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// indexedKey is what a writer knows of one of its hashes: its fields as last acknowledged (nil:
// no key), or unknown when the server died with a write to it in flight.
type indexedKey struct {
	fields  map[string]string
	unknown bool
}

var crashTags = []string{"red", "green", "blue", "cyan", "gold"}
var crashWords = []string{"alpha", "bravo", "charlie", "delta", "echo"}

// writeIndexedUntilDead changes hashes only this writer owns (d:id:*) until the server dies,
// recording each acknowledged outcome in keys.
func writeIndexedUntilDead(srv *servertest.Server, id int, seed uint64, keys map[string]*indexedKey, n *atomic.Int64, wg *sync.WaitGroup) {
	defer wg.Done()
	rdb := srv.Client(func(o *redis.Options) { o.MaxRetries = -1 })
	defer rdb.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	for {
		k := fmt.Sprintf("d:%d:%d", id, rng.IntN(300))
		st := keys[k]
		if st == nil {
			st = &indexedKey{}
			keys[k] = st
		}
		var err error
		next := map[string]string{}
		for f, v := range st.fields {
			next[f] = v
		}
		switch op := rng.IntN(20); {
		case op < 12:
			fv := map[string]string{
				"n":    strconv.Itoa(rng.IntN(100)),
				"t":    crashTags[rng.IntN(len(crashTags))],
				"name": crashWords[rng.IntN(len(crashWords))],
			}
			err = rdb.HSet(ctx, k, fv).Err()
			for f, v := range fv {
				next[f] = v
			}
		case op < 15:
			v := strconv.Itoa(rng.IntN(100))
			err = rdb.HSet(ctx, k, "n", v).Err()
			next["n"] = v
		case op < 17:
			err = rdb.HDel(ctx, k, "t").Err()
			delete(next, "t")
		default:
			err = rdb.Del(ctx, k).Err()
			next = nil
		}
		if len(next) == 0 {
			next = nil
		}
		if err != nil {
			st.unknown = true
			return
		}
		st.fields = next
		n.Add(1)
	}
}

// TestSearchCrashIndexAgrees kills the server with SIGKILL while clients change indexed hashes
// under appendfsync always (an index build may still be running), restarts it, and checks that
// every acknowledged write survived and that the index agrees with the hashes: each query's
// results equal what a scan of the hashes finds, whatever became of the writes in flight.
func TestSearchCrashIndexAgrees(t *testing.T) {
	seed := *scanSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed)", seed)
	for round := 0; round < 2; round++ {
		t.Run("round"+strconv.Itoa(round), func(t *testing.T) {
			srv := servertest.Start(t, "--appendfsync", "always")
			ctx := servertest.Ctx(t)
			rdb := srv.Client()
			// Hashes the index's initial build walks, kept apart from the writers' keys.
			pipe := rdb.Pipeline()
			for i := 0; i < 3000; i++ {
				pipe.HSet(ctx, fmt.Sprintf("d:old:%d", i), "n", i%100, "t", crashTags[i%len(crashTags)], "name", crashWords[i%len(crashWords)])
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if err := rdb.Do(ctx, "FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "d:", "SCHEMA",
				"n", "NUMERIC", "SORTABLE", "t", "TAG", "name", "TEXT").Err(); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var n atomic.Int64
			models := make([]map[string]*indexedKey, 4)
			for id := range models {
				models[id] = map[string]*indexedKey{}
				wg.Add(1)
				go writeIndexedUntilDead(srv, id, seed+uint64(round), models[id], &n, &wg)
			}
			target := int64(1000 + 500*round)
			deadline := time.Now().Add(60 * time.Second)
			for n.Load() < target {
				if time.Now().After(deadline) {
					t.Fatalf("only %d writes acknowledged in 60s", n.Load())
				}
				time.Sleep(5 * time.Millisecond)
			}
			srv.Kill()
			wg.Wait()
			srv.Restart()
			rdb = srv.Client()
			waitIndexed(t, rdb, "idx")

			// The hashes as they are now, by a scan of the keyspace.
			data := map[string]map[string]string{}
			var cursor uint64
			for {
				keys, next, err := rdb.Scan(ctx, cursor, "d:*", 1000).Result()
				if err != nil {
					t.Fatal(err)
				}
				pipe := rdb.Pipeline()
				cmds := make([]*redis.MapStringStringCmd, len(keys))
				for i, k := range keys {
					cmds[i] = pipe.HGetAll(ctx, k)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					t.Fatal(err)
				}
				for i, k := range keys {
					data[k] = cmds[i].Val()
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			unknown := 0
			for _, m := range models {
				for k, st := range m {
					if st.unknown {
						unknown++
						continue
					}
					if !maps.Equal(data[k], st.fields) {
						t.Fatalf("after the crash %s = %v; acknowledged %v", k, data[k], st.fields)
					}
				}
			}
			t.Logf("%d writes acknowledged, %d hashes, %d writes of unknown outcome", n.Load(), len(data), unknown)

			search := func(q string) []string {
				t.Helper()
				v, err := rdb.Do(ctx, "FT.SEARCH", "idx", q, "NOCONTENT", "LIMIT", 0, 1000000).Slice()
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				var out []string
				for _, k := range v[1:] {
					out = append(out, k.(string))
				}
				slices.Sort(out)
				if int(v[0].(int64)) != len(out) {
					t.Fatalf("%s: total %d, %d keys", q, v[0], len(out))
				}
				return out
			}
			scan := func(keep func(h map[string]string) bool) []string {
				var out []string
				for k, h := range data {
					if keep(h) {
						out = append(out, k)
					}
				}
				slices.Sort(out)
				return out
			}
			check := func(q string, keep func(h map[string]string) bool) {
				t.Helper()
				if got, want := search(q), scan(keep); !slices.Equal(got, want) {
					t.Fatalf("%s: index finds %d keys, the hashes %d\n got %v\nwant %v", q, len(got), len(want), got, want)
				}
			}
			check("*", func(map[string]string) bool { return true })
			for _, tag := range crashTags {
				check("@t:{"+tag+"}", func(h map[string]string) bool { return h["t"] == tag })
			}
			for _, w := range crashWords {
				check("@name:"+w, func(h map[string]string) bool { return h["name"] == w })
			}
			for lo := 0; lo < 100; lo += 17 {
				check(fmt.Sprintf("@n:[%d (%d]", lo, lo+25), func(h map[string]string) bool {
					v, err := strconv.Atoi(h["n"])
					return err == nil && v >= lo && v < lo+25
				})
			}
			info, err := rdb.FTInfo(ctx, "idx").Result()
			if err != nil || info.NumDocs != len(data) {
				t.Fatalf("FT.INFO num_docs %d (%v), %d hashes", info.NumDocs, err, len(data))
			}
		})
	}
}
