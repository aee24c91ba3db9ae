package command

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// searchKeys reads an FT.SEARCH ... NOCONTENT reply (RESP2): the total and the keys.
func searchKeys(t *testing.T, reply string) (int, []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(reply, "\r\n"), "\r\n")
	if len(lines) < 2 || lines[0][0] != '*' || lines[1][0] != ':' {
		t.Fatalf("not a search reply: %q", reply)
	}
	total, _ := strconv.Atoi(lines[1][1:])
	var keys []string
	for i := 3; i < len(lines); i += 2 {
		keys = append(keys, lines[i])
	}
	return total, keys
}

// searchModel is the test's own account of the hashes under the indexed prefix.
type searchModel struct {
	docs    map[string]map[string]string
	expires map[string]int64
}

func (m *searchModel) live(now int64) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, d := range m.docs {
		if at, ok := m.expires[k]; ok && at <= now {
			continue
		}
		if strings.HasPrefix(k, "d:") && len(d) > 0 {
			out[k] = d
		}
	}
	return out
}

var searchWords = []string{"red", "blue", "green", "fox", "cat", "dog", "sky"}

// TestSearchIndexModel drives random hash writes (HSET, HDEL, DEL, expiry, RENAME, FLUSHDB)
// around an index built over existing keys in several steps, and compares tag, numeric, text
// and combined queries with a model after each round.
func TestSearchIndexModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	h := newHarness(t)
	m := &searchModel{docs: map[string]map[string]string{}, expires: map[string]int64{}}
	randKey := func() string {
		if rng.IntN(8) == 0 {
			return fmt.Sprintf("other:%d", rng.IntN(20))
		}
		return fmt.Sprintf("d:%d", rng.IntN(1500))
	}
	hset := func(k string) {
		d := m.docs[k]
		if d == nil {
			d = map[string]string{}
			m.docs[k] = d
		}
		args := []string{"HSET", k}
		if rng.IntN(3) > 0 {
			tags := []string{}
			for _, tg := range []string{"a", "b", "c", "D"} {
				if rng.IntN(3) == 0 {
					tags = append(tags, tg)
				}
			}
			d["tag"] = strings.Join(tags, ",")
			args = append(args, "tag", d["tag"])
		}
		if rng.IntN(3) > 0 {
			d["n"] = strconv.Itoa(rng.IntN(21) - 10)
			args = append(args, "n", d["n"])
		}
		if rng.IntN(3) > 0 {
			var ws []string
			for j := rng.IntN(4); j >= 0; j-- {
				ws = append(ws, searchWords[rng.IntN(len(searchWords))])
			}
			d["txt"] = strings.Join(ws, " ")
			args = append(args, "txt", d["txt"])
		}
		if len(args) == 2 {
			d["x"] = "1"
			args = append(args, "x", "1")
		}
		h.do(args...)
	}
	step := func() {
		k := randKey()
		if at, ok := m.expires[k]; ok && at <= h.now {
			delete(m.docs, k)
			delete(m.expires, k)
		}
		switch r := rng.IntN(100); {
		case r < 60:
			hset(k)
		case r < 70:
			if d := m.docs[k]; d != nil {
				f := []string{"tag", "n", "txt", "x"}[rng.IntN(4)]
				h.do("HDEL", k, f)
				delete(d, f)
				if len(d) == 0 {
					delete(m.docs, k)
					delete(m.expires, k)
				}
			}
		case r < 78:
			h.do("DEL", k)
			delete(m.docs, k)
			delete(m.expires, k)
		case r < 85:
			if m.docs[k] != nil {
				ttl := 1 + rng.IntN(20)
				h.do("PEXPIRE", k, strconv.Itoa(ttl))
				m.expires[k] = h.now + int64(ttl)
			}
		case r < 95:
			dst := randKey()
			if m.docs[k] != nil && dst != k {
				h.do("RENAME", k, dst)
				m.docs[dst] = m.docs[k]
				delete(m.docs, k)
				delete(m.expires, dst)
				if at, ok := m.expires[k]; ok {
					m.expires[dst] = at
					delete(m.expires, k)
				}
			}
		case r < 96 && rng.IntN(4) == 0:
			h.do("FLUSHDB")
			m.docs = map[string]map[string]string{}
			m.expires = map[string]int64{}
		default:
			h.now += int64(rng.IntN(10))
		}
	}
	for i := 0; i < 1400; i++ {
		hset(fmt.Sprintf("d:%d", i))
	}
	h.check("+OK\r\n", "FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "d:", "SCHEMA",
		"tag", "TAG", "n", "NUMERIC", "SORTABLE", "txt", "TEXT", "NOSTEM")
	if !strings.Contains(h.do("FT.INFO", "idx"), "indexing\r\n:1") {
		t.Fatalf("FT.INFO should show the build in progress: %q", h.do("FT.INFO", "idx"))
	}
	for i := 0; i < 3 && strings.Contains(h.do("FT.INFO", "idx"), "indexing\r\n:1"); i++ {
		hset(randKey()) // writes go on while the build runs
		h.check("+OK\r\n", BuildName, "idx")
	}
	if strings.Contains(h.do("FT.INFO", "idx"), "indexing\r\n:1") {
		t.Fatal("the build did not finish")
	}
	queries := []struct {
		q    string
		want func(d map[string]string) bool
	}{
		{"*", func(map[string]string) bool { return true }},
		{"@tag:{a}", func(d map[string]string) bool { return hasTag(d, "a") }},
		{"@tag:{b | d}", func(d map[string]string) bool { return hasTag(d, "b") || hasTag(d, "d") }},
		{"@n:[-3 (4]", func(d map[string]string) bool { n, ok := num(d); return ok && n >= -3 && n < 4 }},
		{"@n:[(0 +inf]", func(d map[string]string) bool { n, ok := num(d); return ok && n > 0 }},
		{"fox", func(d map[string]string) bool { return hasWord(d, "fox") }},
		{"@txt:(fox cat)", func(d map[string]string) bool { return hasWord(d, "fox") && hasWord(d, "cat") }},
		{"fox | @tag:{c}", func(d map[string]string) bool { return hasWord(d, "fox") || hasTag(d, "c") }},
		{"-@tag:{a} @n:[-inf 0]", func(d map[string]string) bool { n, ok := num(d); return !hasTag(d, "a") && ok && n <= 0 }},
		{"gre*", func(d map[string]string) bool { return hasWord(d, "green") }},
	}
	for round := 0; round < 8; round++ {
		for i := 0; i < 150; i++ {
			step()
		}
		live := m.live(h.now)
		for _, q := range queries {
			var want []string
			for k, d := range live {
				if q.want(d) {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			total, got := searchKeys(t, h.do("FT.SEARCH", "idx", q.q, "NOCONTENT", "LIMIT", "0", "100000"))
			slices.Sort(got)
			if total != len(want) || !slices.Equal(got, want) {
				t.Fatalf("round %d %q: got %d %v\nwant %d %v", round, q.q, total, got, len(want), want)
			}
		}
	}
}

func hasTag(d map[string]string, tag string) bool {
	for _, t := range strings.Split(d["tag"], ",") {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

func num(d map[string]string) (int, bool) {
	s, ok := d["n"]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func hasWord(d map[string]string, w string) bool {
	return slices.Contains(strings.Fields(d["txt"]), w)
}

func TestSearchReplies(t *testing.T) {
	h := newHarness(t)
	h.do("HSET", "p:1", "name", "Alice", "age", "30")
	h.do("HSET", "p:2", "name", "Bob", "age", "40")
	h.check("+OK\r\n", "FT.CREATE", "idx", "PREFIX", "1", "p:", "SCHEMA", "name", "TEXT", "age", "NUMERIC", "SORTABLE")
	h.check("-Index already exists\r\n", "FT.CREATE", "idx", "SCHEMA", "x", "TEXT")
	h.check("-nope: no such index\r\n", "FT.SEARCH", "nope", "*")
	h.check("*5\r\n:2\r\n$3\r\np:2\r\n*2\r\n$3\r\nage\r\n$2\r\n40\r\n$3\r\np:1\r\n*2\r\n$3\r\nage\r\n$2\r\n30\r\n",
		"FT.SEARCH", "idx", "*", "SORTBY", "age", "DESC", "RETURN", "1", "age")
	h.check("*2\r\n:1\r\n$3\r\np:1\r\n", "FT.SEARCH", "idx", "@age:[$lo $hi]", "PARAMS", "4", "lo", "20", "hi", "35", "DIALECT", "2", "NOCONTENT")
	h.check("-No such parameter `hi`\r\n", "FT.SEARCH", "idx", "@age:[$lo $hi]", "PARAMS", "2", "lo", "20", "DIALECT", "2")
	h.check("*2\r\n:1\r\n*4\r\n$3\r\nage\r\n$2\r\n35\r\n$1\r\nn\r\n$1\r\n2\r\n",
		"FT.AGGREGATE", "idx", "*", "GROUPBY", "0", "REDUCE", "AVG", "1", "@age", "AS", "age", "REDUCE", "COUNT", "0", "AS", "n")
	h.check("*2\r\n:1\r\n*4\r\n$4\r\nname\r\n$3\r\nBob\r\n$2\r\nx2\r\n$2\r\n80\r\n",
		"FT.AGGREGATE", "idx", "*", "LOAD", "1", "@name", "APPLY", "@age*2", "AS", "x2", "FILTER", "@x2 > 70")
	h.check("+OK\r\n", "FT.ALIASADD", "people", "idx")
	h.check("*2\r\n:1\r\n$3\r\np:2\r\n", "FT.SEARCH", "people", "bob", "NOCONTENT")
	h.check("+OK\r\n", "FT.DROPINDEX", "idx", "DD")
	h.check("*0\r\n", "FT._LIST")
	h.check(":0\r\n", "EXISTS", "p:1", "p:2")
	h.proto = 3
	h.do("HSET", "p:3", "name", "Carol")
	h.check("+OK\r\n", "FT.CREATE", "idx", "PREFIX", "1", "p:", "SCHEMA", "name", "TEXT")
	h.check("%5\r\n$10\r\nattributes\r\n*0\r\n$7\r\nwarning\r\n*0\r\n$13\r\ntotal_results\r\n:1\r\n$6\r\nformat\r\n$6\r\nSTRING\r\n$7\r\nresults\r\n*1\r\n%3\r\n$2\r\nid\r\n$3\r\np:3\r\n$16\r\nextra_attributes\r\n%1\r\n$4\r\nname\r\n$5\r\nCarol\r\n$6\r\nvalues\r\n*0\r\n",
		"FT.SEARCH", "idx", "carol")
}
