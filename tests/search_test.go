package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestSearchGoRedis drives FT.* through go-redis against a model of the hashes: every query
// runs right after the acknowledged writes before it, on another connection, and must see them.
func TestSearchGoRedis(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	w, r := srv.Client(), srv.Client()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	for i := 0; i < 150; i++ {
		w.HSet(ctx, fmt.Sprintf("u:%d", i), "name", "user"+strconv.Itoa(i), "age", strconv.Itoa(i%50), "city", []string{"paris", "rome", "oslo"}[i%3])
	}
	err := w.FTCreate(ctx, "users", &redis.FTCreateOptions{OnHash: true, Prefix: []interface{}{"u:"}},
		&redis.FieldSchema{FieldName: "name", FieldType: redis.SearchFieldTypeText},
		&redis.FieldSchema{FieldName: "age", FieldType: redis.SearchFieldTypeNumeric, Sortable: true},
		&redis.FieldSchema{FieldName: "city", FieldType: redis.SearchFieldTypeTag},
	).Err()
	if err != nil {
		t.Fatal(err)
	}
	model := map[string][2]string{} // key → age, city
	for i := 0; i < 150; i++ {
		model[fmt.Sprintf("u:%d", i)] = [2]string{strconv.Itoa(i % 50), []string{"paris", "rome", "oslo"}[i%3]}
	}
	cities := []string{"paris", "rome", "oslo", "lima"}
	for round := 0; round < 25; round++ {
		for j := 0; j < 10; j++ {
			k := fmt.Sprintf("u:%d", rng.IntN(400))
			if rng.IntN(5) == 0 {
				if err := w.Del(ctx, k).Err(); err != nil {
					t.Fatal(err)
				}
				delete(model, k)
				continue
			}
			age, city := strconv.Itoa(rng.IntN(60)), cities[rng.IntN(len(cities))]
			if err := w.HSet(ctx, k, "age", age, "city", city, "name", "x").Err(); err != nil {
				t.Fatal(err)
			}
			model[k] = [2]string{age, city}
		}
		city := cities[rng.IntN(len(cities))]
		lo := rng.IntN(60)
		q := fmt.Sprintf("@city:{%s} @age:[%d +inf]", city, lo)
		res, err := r.FTSearchWithArgs(ctx, "users", q, &redis.FTSearchOptions{
			Limit: 10000, SortBy: []redis.FTSearchSortBy{{FieldName: "age", Asc: true}}, Return: []redis.FTSearchReturn{{FieldName: "age"}}}).Result()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var want []int
		for _, v := range model {
			if a, _ := strconv.Atoi(v[0]); v[1] == city && a >= lo {
				want = append(want, a)
			}
		}
		slices.Sort(want)
		var got []int
		for _, d := range res.Docs {
			a, _ := strconv.Atoi(d.Fields["age"])
			got = append(got, a)
		}
		if res.Total != len(want) || !slices.Equal(got, want) {
			t.Fatalf("round %d %s: got %d %v, want %d %v", round, q, res.Total, got, len(want), want)
		}
	}

	agg, err := r.FTAggregateWithArgs(ctx, "users", "*", &redis.FTAggregateOptions{
		GroupBy: []redis.FTAggregateGroupBy{{Fields: []interface{}{"@city"},
			Reduce: []redis.FTAggregateReducer{{Reducer: redis.SearchCount, As: "n"}}}},
	}).Result()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, v := range model {
		counts[v[1]]++
	}
	for _, row := range agg.Rows {
		n, _ := strconv.Atoi(fmt.Sprint(row.Fields["n"]))
		if counts[fmt.Sprint(row.Fields["city"])] != n {
			t.Fatalf("aggregate row %v, model %v", row.Fields, counts)
		}
	}
	if len(agg.Rows) != len(counts) {
		t.Fatalf("aggregate rows %d, model %v", len(agg.Rows), counts)
	}
	info, err := r.FTInfo(ctx, "users").Result()
	if err != nil || info.NumDocs != len(model) || info.Indexing != 0 {
		t.Fatalf("FT.INFO num_docs %d indexing %d (%v), model %d", info.NumDocs, info.Indexing, err, len(model))
	}
	if l, err := r.FT_List(ctx).Result(); err != nil || !slices.Equal(l, []string{"users"}) {
		t.Fatalf("FT._LIST = %v, %v", l, err)
	}
	if vals, err := r.FTTagVals(ctx, "users", "city").Result(); err != nil || len(vals) == 0 {
		t.Fatalf("FT.TAGVALS = %v, %v", vals, err)
	}
	if err := w.FTDropIndex(ctx, "users").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.FTSearch(ctx, "users", "*").Err(); err == nil || !strings.Contains(err.Error(), "no such index") {
		t.Fatalf("search after drop: %v", err)
	}
}

// TestSearchBuildInBackground creates an index over more keys than one build step indexes and
// waits for FT.INFO to report the build done, with every key found.
func TestSearchBuildInBackground(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	pipe := rdb.Pipeline()
	for i := 0; i < 5000; i++ {
		pipe.HSet(ctx, fmt.Sprintf("b:%05d", i), "n", i)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "FT.CREATE", "b", "PREFIX", "1", "b:", "SCHEMA", "n", "NUMERIC").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := rdb.FTInfo(ctx, "b").Result()
		if err != nil {
			t.Fatal(err)
		}
		if info.Indexing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still indexing: %+v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := rdb.FTSearchWithArgs(ctx, "b", "@n:[1000 (2000]", &redis.FTSearchOptions{NoContent: true, Limit: 0, CountOnly: true}).Result()
	if err != nil || res.Total != 1000 {
		t.Fatalf("count = %d, %v", res.Total, err)
	}
}

// TestKeyRangeServer reads ordered key ranges through the server, paging with an exclusive
// bound, and checks a hash-tagged range in a cluster is served and a cross-slot one refused.
func TestKeyRangeServer(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	var want []string
	for i := 0; i < 500; i++ {
		k := fmt.Sprintf("k:%04d", i)
		rdb.Set(ctx, k, i, 0)
		want = append(want, k)
	}
	rdb.Set(ctx, "k:gone", 1, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	var got []string
	from := "k:"
	for {
		page, err := rdb.Do(ctx, "KEYRANGE", from, "k;", "LIMIT", 64).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 64 {
			break
		}
		from = "(" + page[len(page)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("KEYRANGE pages: got %d keys, want %d", len(got), len(want))
	}
}

func TestKeyRangeCluster(t *testing.T) {
	c := servertest.StartCluster(t, 3)
	c.WaitReady()
	ctx := servertest.Ctx(t)
	rdb := c.Client()
	for i := 0; i < 20; i++ {
		rdb.Set(ctx, fmt.Sprintf("{t}:%02d", i), i, 0)
	}
	got, err := rdb.Do(ctx, "KEYRANGE", "{t}:05", "{t}:09").StringSlice()
	if err != nil || !slices.Equal(got, []string{"{t}:05", "{t}:06", "{t}:07", "{t}:08", "{t}:09"}) {
		t.Fatalf("KEYRANGE in one hash tag = %v, %v", got, err)
	}
	if err := rdb.Do(ctx, "KEYRANGE", "a", "b").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("KEYRANGE across slots: %v", err)
	}
}

// TestSearchRedisOM runs redis-om for Node (tests/testdata/redis-om) with HASH entities: it saves
// entities and searches them by tag, numeric range, text and sort against its own model.
func TestSearchRedisOM(t *testing.T) {
	node := lookTool(t, "node")
	srv := servertest.Start(t)
	dir := npmInstall(t, "redis-om", "redis-om")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "search.mjs", srv.Addr)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "redis-om ok") {
		t.Fatalf("redis-om: %v\n%s", err, out)
	}
}

// TestSearchNodeRedis runs node-redis's client.ft (tests/testdata/redis-om/noderedis.mjs):
// FT.CREATE with TEXT, TAG, NUMERIC and GEO fields, FT.SEARCH by tag, numeric range, text,
// radius and parameters, FT.AGGREGATE, each compared with the script's own model.
func TestSearchNodeRedis(t *testing.T) {
	node := lookTool(t, "node")
	srv := servertest.Start(t)
	dir := npmInstall(t, "redis-om", "redis")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "noderedis.mjs", srv.Addr)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "node-redis ft ok") {
		t.Fatalf("node-redis: %v\n%s", err, out)
	}
}
