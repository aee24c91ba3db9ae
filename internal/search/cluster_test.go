package search

import (
	"encoding/json"
	"testing"

	"github.com/cairn-db/cairn/internal/resp"
)

// TestMergeSearchCountsAKeyOnce merges shard parts that both hold a key, as a query racing a
// slot move's batch can see: the key is one result, counted once.
func TestMergeSearchCountsAKeyOnce(t *testing.T) {
	part := func(total int64, keys ...string) []byte {
		p := shardSearch{Total: total}
		for _, k := range keys {
			p.Hits = append(p.Hits, shardHit{Key: []byte(k), Score: "1", Fields: [][]byte{[]byte("f"), []byte(k)}})
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name  string
		parts [][]byte
		want  string
	}{
		{"disjoint", [][]byte{part(2, "a", "c"), part(1, "b")},
			"*7\r\n:3\r\n$1\r\na\r\n*2\r\n$1\r\nf\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nf\r\n$1\r\nb\r\n$1\r\nc\r\n*2\r\n$1\r\nf\r\n$1\r\nc\r\n"},
		{"moved key on both shards", [][]byte{part(2, "a", "b"), part(1, "b")},
			"*5\r\n:2\r\n$1\r\na\r\n*2\r\n$1\r\nf\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nf\r\n$1\r\nb\r\n"},
	} {
		w := &resp.Writer{Proto: 2}
		MergeSearch([][]byte{[]byte("idx"), []byte("*")}, c.parts, nil, w)
		if got := string(w.Buf); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
