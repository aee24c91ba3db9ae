// Command search measures cairn's secondary indexes on one server (run.sh starts it):
//
//	go run ./bench/search -addr 127.0.0.1:6379 -n 100000
//
// It reports, in order:
//   - build: -n hashes written first, then FT.CREATE; keys/s until FT.INFO reports the build done;
//   - write: HSET throughput (-clients clients, pipelines of -pipe) on a prefix an index covers
//     against one no index covers;
//   - query: FT.SEARCH latency (p50, p99 over -queries runs) of a tag lookup and of a numeric
//     range over the -n hashes, LIMIT 0 10, with the number of matches each has;
//   - keyrange: KEYRANGE read throughput in keys/s, paging through the -n keys 1000 at a time.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	n := flag.Int("n", 100000, "hashes to index")
	writes := flag.Int("writes", 50000, "HSETs per prefix in the write test")
	clients := flag.Int("clients", 8, "concurrent writers")
	pipe := flag.Int("pipe", 32, "commands per pipeline")
	queries := flag.Int("queries", 500, "runs of each query")
	flag.Parse()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: *addr, Protocol: 2, PoolSize: *clients + 2, ReadTimeout: time.Minute})
	defer rdb.Close()
	check := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}

	// Load: tags t0..t999 (n/1000 hashes each), n uniform in 0..999999.
	start := time.Now()
	check(parallel(*n, *clients, *pipe, func(p redis.Pipeliner, i int) {
		p.HSet(ctx, "doc:"+strconv.Itoa(i), "tag", "t"+strconv.Itoa(i%1000), "n", strconv.Itoa((i*7919)%1000000), "title", "item number "+strconv.Itoa(i))
	}))
	load := time.Since(start)
	fmt.Printf("load      %d hashes in %.1fs: %.0f HSET/s (no index yet)\n", *n, load.Seconds(), float64(*n)/load.Seconds())

	start = time.Now()
	check(rdb.Do(ctx, "FT.CREATE", "docs", "ON", "HASH", "PREFIX", "1", "doc:", "SCHEMA",
		"tag", "TAG", "n", "NUMERIC", "SORTABLE", "title", "TEXT").Err())
	for {
		info, err := rdb.Do(ctx, "FT.INFO", "docs").Slice()
		check(err)
		if field(info, "indexing") == "0" {
			fmt.Printf("build     %s documents in %.1fs: %.0f keys/s\n", field(info, "num_docs"), time.Since(start).Seconds(), float64(*n)/time.Since(start).Seconds())
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	check(rdb.Do(ctx, "FT.CREATE", "hot", "ON", "HASH", "PREFIX", "1", "hot:", "SCHEMA",
		"tag", "TAG", "n", "NUMERIC", "SORTABLE", "title", "TEXT").Err())
	for _, prefix := range []string{"cold:", "hot:", "cold:", "hot:"} {
		start = time.Now()
		check(parallel(*writes, *clients, *pipe, func(p redis.Pipeliner, i int) {
			p.HSet(ctx, prefix+strconv.Itoa(i), "tag", "t"+strconv.Itoa(i%1000), "n", strconv.Itoa(i), "title", "item number "+strconv.Itoa(i))
		}))
		what := "unindexed"
		if prefix == "hot:" {
			what = "indexed  "
		}
		fmt.Printf("write     %s prefix: %.0f HSET/s (%d writes, %d clients, pipeline %d)\n", what, float64(*writes)/time.Since(start).Seconds(), *writes, *clients, *pipe)
	}

	for _, q := range []struct{ name, query string }{
		{"tag", "@tag:{t%d}"},
		{"numeric", "@n:[%d (%d]"},
	} {
		var lat []time.Duration
		matches := int64(0)
		for i := 0; i < *queries; i++ {
			var query string
			if q.name == "tag" {
				query = fmt.Sprintf(q.query, i%1000)
			} else {
				lo := (i * 1237) % 999000
				query = fmt.Sprintf(q.query, lo, lo+1000)
			}
			t0 := time.Now()
			v, err := rdb.Do(ctx, "FT.SEARCH", "docs", query, "LIMIT", "0", "10").Slice()
			lat = append(lat, time.Since(t0))
			check(err)
			matches += v[0].(int64)
		}
		slices.Sort(lat)
		fmt.Printf("search    %-7s p50 %v p99 %v over %d queries (%d matches each on average)\n", q.name,
			lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), *queries, matches/int64(*queries))
	}

	start = time.Now()
	read, from := 0, "doc:"
	for {
		keys, err := rdb.Do(ctx, "KEYRANGE", from, "doc;", "LIMIT", "1000").StringSlice()
		check(err)
		read += len(keys)
		if len(keys) < 1000 {
			break
		}
		from = "(" + keys[len(keys)-1]
	}
	fmt.Printf("keyrange  %d keys in %.2fs: %.0f keys/s (pages of 1000)\n", read, time.Since(start).Seconds(), float64(read)/time.Since(start).Seconds())
}

// parallel runs fn for 0..n-1 over clients goroutines, pipe commands per round trip.
func parallel(n, clients, pipe int, fn func(p redis.Pipeliner, i int)) error {
	rdb := redis.NewClient(&redis.Options{Addr: flag.Lookup("addr").Value.String(), Protocol: 2, PoolSize: clients, ReadTimeout: time.Minute})
	defer rdb.Close()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for lo := c * pipe; lo < n; lo += clients * pipe {
				p := rdb.Pipeline()
				for i := lo; i < min(lo+pipe, n); i++ {
					fn(p, i)
				}
				if _, err := p.Exec(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// field is a field of a RESP2 FT.INFO reply, as text.
func field(info []any, name string) string {
	for i := 0; i+1 < len(info); i += 2 {
		if info[i] == name {
			return fmt.Sprint(info[i+1])
		}
	}
	return ""
}
