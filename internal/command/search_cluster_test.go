package command

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/search"
)

// TestSearchShardsMerge is metamorphic: random hashes go to one engine and, each to one of
// several others (shards); every query answered by the shards' parts merged (search/cluster.go,
// as a cluster's coordinator does) must be byte for byte the reply of the single engine, in
// RESP2 and RESP3.
func TestSearchShardsMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 14))
	single := newHarness(t)
	shards := make([]*harness, 2+rng.IntN(4))
	for i := range shards {
		shards[i] = newHarness(t)
	}
	all := append([]*harness{single}, shards...)
	create := []string{"FT.CREATE", "idx", "PREFIX", "1", "d:", "SCHEMA", "title", "TEXT", "body", "TEXT", "WEIGHT", "2",
		"n", "NUMERIC", "SORTABLE", "t", "TAG", "SORTABLE", "s", "TEXT", "SORTABLE", "NOSTEM"}
	words := []string{"alpha", "beta", "gamma", "delta", "running", "runner", "the", "quick", "fox"}
	tags := []string{"x", "y", "z", "w"}
	text := func(n int) string {
		s := ""
		for i := 0; i < n; i++ {
			if i > 0 {
				s += " "
			}
			s += words[rng.IntN(len(words))]
		}
		return s
	}
	write := func(i int) {
		k := "d:" + strconv.Itoa(i)
		args := []string{"HSET", k, "title", text(1 + rng.IntN(3)), "body", text(rng.IntN(6))}
		if rng.IntN(8) > 0 {
			args = append(args, "n", strconv.Itoa(rng.IntN(40)-10))
		}
		if rng.IntN(6) > 0 {
			args = append(args, "t", tags[rng.IntN(len(tags))])
		}
		if rng.IntN(2) == 0 {
			args = append(args, "s", text(1))
		}
		single.do(args...)
		shards[rng.IntN(len(shards))].do(args...)
	}
	n := 100 + rng.IntN(300)
	for i := 0; i < n/2; i++ {
		write(i)
	}
	for _, h := range all {
		h.check("+OK\r\n", create...)
		for isBuilding(h) {
			h.check("+OK\r\n", BuildName, "idx")
		}
	}
	for i := n / 2; i < n; i++ {
		write(i)
	}
	queries := [][]string{
		{"FT.SEARCH", "idx", "*", "LIMIT", "0", "0"},
		{"FT.SEARCH", "idx", "alpha", "WITHSCORES"},
		{"FT.SEARCH", "idx", "run*", "WITHSCORES", "LIMIT", "3", "12", "RETURN", "1", "n"},
		{"FT.SEARCH", "idx", "(alpha | gamma) -beta", "WITHSCORES", "NOCONTENT", "LIMIT", "0", "1000"},
		{"FT.SEARCH", "idx", "@title:running ~fox", "WITHSCORES", "LIMIT", "5", "5"},
		{"FT.SEARCH", "idx", `"quick fox"`, "WITHSCORES"},
		{"FT.SEARCH", "idx", "@t:{x|y}", "SORTBY", "n", "DESC", "LIMIT", "4", "9"},
		{"FT.SEARCH", "idx", "@n:[(0 20]", "SORTBY", "s", "ASC", "LIMIT", "0", "30", "RETURN", "2", "s", "n"},
		{"FT.SEARCH", "idx", "delta", "SORTBY", "t", "DESC", "WITHSCORES", "LIMIT", "1", "7"},
		{"FT.SEARCH", "idx", "-@t:{z}", "SORTBY", "n", "LIMIT", "1000000", "10"},
		{"FT.SEARCH", "idx", "@body:the", "INFIELDS", "1", "title", "WITHSCORES", "VERBATIM"},
		{"FT.SEARCH", "idx", "*", "INKEYS", "3", "d:1", "d:2", "d:3", "SORTBY", "n"},
		{"FT.SEARCH", "idx", "@nosuch:x"},
		{"FT.AGGREGATE", "idx", "*", "GROUPBY", "1", "@t", "REDUCE", "COUNT", "0", "AS", "c",
			"REDUCE", "COUNT_DISTINCT", "1", "@title", "AS", "titles", "REDUCE", "SUM", "1", "@n", "AS", "sum",
			"REDUCE", "AVG", "1", "@n", "AS", "avg", "REDUCE", "MIN", "1", "@n", "AS", "lo", "REDUCE", "MAX", "1", "@n", "AS", "hi"},
		{"FT.AGGREGATE", "idx", "alpha | beta", "LOAD", "1", "@s", "GROUPBY", "2", "@t", "@s", "REDUCE", "COUNT", "0", "AS", "c",
			"SORTBY", "2", "@c", "DESC", "LIMIT", "0", "5"},
		{"FT.AGGREGATE", "idx", "@n:[0 +inf]", "GROUPBY", "1", "@t", "REDUCE", "TOLIST", "1", "@n", "AS", "ns"},
		{"FT.AGGREGATE", "idx", "*", "APPLY", "@n*2", "AS", "n2", "FILTER", "@n2 > 10", "SORTBY", "2", "@n2", "ASC", "LIMIT", "2", "6"},
		{"FT.AGGREGATE", "idx", "gamma", "LOAD", "*", "LIMIT", "0", "4"},
	}
	for _, proto := range []int{2, 3} {
		for _, h := range all {
			h.proto = proto
		}
		for _, q := range queries {
			want := single.do(q...)
			got := merged(t, shards, q)
			if got != want {
				t.Fatalf("RESP%d %q over %d shards:\n got  %q\n want %q", proto, q, len(shards), got, want)
			}
		}
	}
}

// isBuilding reports whether h's index is still being built.
func isBuilding(h *harness) bool {
	proto := h.proto
	h.proto = 2
	defer func() { h.proto = proto }()
	r := h.do(ShardInfoName, "idx")
	return len(r) > 0 && r[0] == '$' && containsBuilding(r)
}

func containsBuilding(r string) bool {
	for i := 0; i+len(`"building":true`) <= len(r); i++ {
		if r[i:i+len(`"building":true`)] == `"building":true` {
			return true
		}
	}
	return false
}

// merged answers q as a coordinator does: each shard's part, then the merge.
func merged(t *testing.T, shards []*harness, q []string) string {
	t.Helper()
	args := make([][]byte, len(q)-1)
	for i, a := range q[1:] {
		args[i] = []byte(a)
	}
	proto := shards[0].proto
	parts := func(name string, pre ...string) ([][]byte, string) {
		var out [][]byte
		for _, h := range shards {
			h.proto = 2
			r := h.do(append(append([]string{name}, pre...), q[1:]...)...)
			h.proto = proto
			if r[0] == '-' {
				return nil, r
			}
			var rd resp.Reader
			items, _, _, err := rd.Parse([]byte("*1\r\n" + r))
			if err != nil || len(items) != 1 {
				t.Fatalf("shard part %q: %v", r, err)
			}
			out = append(out, items[0])
		}
		return out, ""
	}
	w := resp.Writer{Proto: proto}
	switch q[0] {
	case "FT.SEARCH":
		stats := ""
		if search.SearchNeedsStats(args) {
			ps, errReply := parts(ShardSearchName, search.ShardStats, "")
			if errReply != "" {
				return errReply
			}
			b, err := search.MergeStats(ps)
			if err != nil {
				t.Fatal(err)
			}
			stats = string(b)
		}
		ps, errReply := parts(ShardSearchName, search.SearchMode(args), stats)
		if errReply != "" {
			return errReply
		}
		fetch := func(need map[int][][]byte) (map[int][]byte, []byte) {
			out := map[int][]byte{}
			for i, keys := range need {
				b, _ := json.Marshal(keys)
				h := shards[i]
				h.proto = 2
				r := h.do(append([]string{ShardSearchName, search.ShardFields, string(b)}, q[1:]...)...)
				h.proto = proto
				var rd resp.Reader
				items, _, _, err := rd.Parse([]byte("*1\r\n" + r))
				if err != nil || len(items) != 1 {
					return nil, []byte(r)
				}
				out[i] = items[0]
			}
			return out, nil
		}
		search.MergeSearch(args, ps, fetch, &w)
	case "FT.AGGREGATE":
		ps, errReply := parts(ShardAggregateName)
		if errReply != "" {
			return errReply
		}
		search.MergeAggregate(args, ps, &w)
	default:
		panic(fmt.Sprint("no merge for ", q[0]))
	}
	return string(w.Buf)
}
