package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// HyperLogLog tests. The step tables were recorded from redis-server 7.0, whose HyperLogLog
// code Redis 8 keeps: cairn stores the same bytes, so GET replies are compared byte for byte.

func TestHLLScript(t *testing.T) {
	runSections(t, hllSections)
	runSections(t, hllForeignSections)
}

func TestHLLRESP3(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	conn.Do("hello", "3")
	runSteps(t, conn, []respStep{
		{[]string{"pfadd", "h", "a", "b"}, ":1\r\n"},
		{[]string{"pfcount", "h"}, ":2\r\n"},
		{[]string{"pfcount", "h", "nokey"}, ":2\r\n"},
		{[]string{"pfmerge", "m", "h"}, "+OK\r\n"},
		{[]string{"pfdebug", "encoding", "m"}, "+sparse\r\n"},
		{[]string{"object", "encoding", "m"}, "$3\r\nraw\r\n"},
		{[]string{"pfdebug", "decode", "nokey"}, "-ERR The specified key does not exist\r\n"},
		{[]string{"set", "s", "x"}, "+OK\r\n"},
		{[]string{"pfcount", "s"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
	})
}

// hllRedisValues are, for the elements "e0" ... "e<n-1>" added in batches of 1000, the SHA-256
// of the value redis-server stores (GET), its PFCOUNT and its encoding.
var hllRedisValues = []struct {
	n        int
	sha      string
	count    int64
	encoding string
}{
	{1, "b0e9338b711c718f8c660c838331c48590e4ecac97391cb8408bdd5bec28776d", 1, "sparse"},
	{10, "5e1f7c888c80593cadd16ec9156fe7ed6c8ab05d1380008868f6e43573ca045d", 10, "sparse"},
	{100, "53986fa020104b2d94c131f7d7b840674634568242921d84d01b767289a56a1d", 100, "sparse"},
	{500, "fdd072e10d5463ce86efc3f34c3589d3ce9200e38e8fa5b7ecfcbf996da4b2d5", 506, "sparse"},
	{1000, "519a7f0764d633e025ff9f8cdeb30cd2f452e2ad37f729f6b9ea7a4699791162", 1008, "sparse"},
	{2000, "2a070facb0df784f674c087a1d2148b97839b9438bfa5d08d0d4a858a0af5e4f", 2000, "dense"},
	{3000, "641370c2fb88649ba5bd4a85f456b3752a5cdc1ecd987b98bbfbe2b9b031ce3b", 2979, "dense"},
	{5000, "0a4b61a05c269540574e1293e6e18e69a4e9cb96ade9ecb5b7ff490debf31722", 4968, "dense"},
	{20000, "f491acb3b4a2b5308b23aba4dc292ccc3905e92ecc131f8f368334741fdc3dc7", 19901, "dense"},
	{100000, "db44442a96c3ca475b58a386c4e1263c33d76900a2a9f2a934e50769c36644f9", 100853, "dense"},
}

// TestHLLMatchesRedis adds the same elements redis-server was given and compares the stored
// bytes, the counts, a union, a merge and PFDEBUG GETREG's reply with what Redis produced.
func TestHLLMatchesRedis(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	for _, v := range hllRedisValues {
		key := "h" + strconv.Itoa(v.n)
		for j := 0; j < v.n; j += 1000 {
			args := []string{"pfadd", key}
			for i := j; i < min(v.n, j+1000); i++ {
				args = append(args, "e"+strconv.Itoa(i))
			}
			conn.Do(args...)
		}
		if got := hllValueSHA(t, conn, key); got != v.sha {
			t.Fatalf("GET %s: sha256 %s, want %s", key, got, v.sha)
		}
		if got, want := conn.Do("pfcount", key), ":"+strconv.FormatInt(v.count, 10)+"\r\n"; got != want {
			t.Fatalf("PFCOUNT %s = %q, want %q", key, got, want)
		}
		if got := conn.Do("pfdebug", "encoding", key); got != "+"+v.encoding+"\r\n" {
			t.Fatalf("PFDEBUG ENCODING %s = %q, want %s", key, got, v.encoding)
		}
	}
	if got := conn.Do("pfcount", "h500", "h3000", "h20000"); got != ":19901\r\n" {
		t.Fatalf("PFCOUNT of three = %q, want :19901", got)
	}
	conn.Do("pfmerge", "m", "h500", "h3000", "h20000")
	conn.Do("pfmerge", "ms", "h1", "h10", "h100")
	for _, c := range []struct{ key, sha string }{
		{"m", "f491acb3b4a2b5308b23aba4dc292ccc3905e92ecc131f8f368334741fdc3dc7"},
		{"ms", "53986fa020104b2d94c131f7d7b840674634568242921d84d01b767289a56a1d"},
	} {
		if got := hllValueSHA(t, conn, c.key); got != c.sha {
			t.Fatalf("PFMERGE into %s: sha256 %s, want %s", c.key, got, c.sha)
		}
	}
	reply := conn.Do("pfdebug", "getreg", "h100")
	if got, want := fmt.Sprintf("%x", sha256.Sum256([]byte(reply))), "c0691551f58c39d1b06cd9395928b1611567864218e7d0f7107535dca416da88"; got != want {
		t.Fatalf("PFDEBUG GETREG h100: sha256 %s, want %s (%d bytes)", got, want, len(reply))
	}
	if got := conn.Do("pfdebug", "encoding", "h100"); got != "+dense\r\n" {
		t.Fatalf("PFDEBUG ENCODING after GETREG = %q, want dense (GETREG converts)", got)
	}
}

// hllValueSHA returns the SHA-256 of the string at key, ignoring the cached cardinality (bytes
// 8-15 of the header), which depends on whether PFCOUNT ran before.
func hllValueSHA(t *testing.T, conn *servertest.Conn, key string) string {
	t.Helper()
	reply := conn.Do("get", key)
	_, body, ok := strings.Cut(reply, "\r\n")
	if !ok || !strings.HasSuffix(body, "\r\n") {
		t.Fatalf("GET %s = %.40q", key, reply)
	}
	return fmt.Sprintf("%x", sha256.Sum256([]byte(strings.TrimSuffix(body, "\r\n"))))
}

// TestHLLAccuracy adds random distinct elements and checks PFCOUNT stays within four standard
// errors (1.04/sqrt(16384) = 0.81%) of the truth, for one key, a union and a merge.
func TestHLLAccuracy(t *testing.T) {
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, 0))
	srv := servertest.Start(t)
	conn := srv.Dial()
	const stderr = 1.04 / 128
	check := func(what string, got string, truth int) {
		t.Helper()
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n"), 10, 64)
		if err != nil {
			t.Fatalf("%s = %q (seed %d)", what, got, s)
		}
		if rel := math.Abs(float64(n)-float64(truth)) / float64(truth); rel > 4*stderr+2/float64(truth) {
			t.Fatalf("%s = %d, truth %d: error %.4f over 4 standard errors (seed %d)", what, n, truth, rel, s)
		}
	}
	seen := map[string]bool{}
	var sizes []int
	for k := 0; k < 4; k++ {
		n := 1 + rng.IntN(60000)
		key := "r" + strconv.Itoa(k)
		added := 0
		for added < n {
			args := []string{"pfadd", key}
			for len(args) < 502 && added < n {
				e := strconv.FormatUint(rng.Uint64(), 36)
				if seen[e] {
					continue
				}
				seen[e] = true
				args = append(args, e)
				added++
			}
			conn.Do(args...)
		}
		sizes = append(sizes, n)
		check("PFCOUNT "+key, conn.Do("pfcount", key), n)
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	check("PFCOUNT of all", conn.Do("pfcount", "r0", "r1", "r2", "r3"), total)
	conn.Do("pfmerge", "all", "r0", "r1", "r2", "r3")
	check("PFCOUNT after PFMERGE", conn.Do("pfcount", "all"), total)
}

// TestPFCountCachesThroughTheLog checks that PFCOUNT stores the cardinality in the header as
// Redis does, through the log (it survives a restart), and that doing so is a change WATCH sees.
func TestPFCountCachesThroughTheLog(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "always")
	conn := srv.Dial()
	conn.Do("pfadd", "h", "a", "b", "c")
	if got := hllHeader(t, conn, "h"); got != "0000000000000080" {
		t.Fatalf("cache after PFADD = %s, want stale (top bit set)", got)
	}
	watcher := srv.Dial()
	watcher.Do("watch", "h")
	if got := conn.Do("pfcount", "h"); got != ":3\r\n" {
		t.Fatalf("PFCOUNT = %q, want :3", got)
	}
	if got := hllHeader(t, conn, "h"); got != "0300000000000000" {
		t.Fatalf("cache after PFCOUNT = %s, want 3", got)
	}
	watcher.Do("multi")
	watcher.Do("get", "h")
	if got := watcher.Do("exec"); got != "*-1\r\n" {
		t.Fatalf("EXEC after PFCOUNT changed a watched key = %q, want a null array", got)
	}
	// A valid cache is answered from the header without a write.
	watcher.Do("watch", "h")
	conn.Do("pfcount", "h")
	watcher.Do("multi")
	if got := watcher.Do("exec"); got != "*0\r\n" {
		t.Fatalf("EXEC after a cached PFCOUNT = %q, want an empty array", got)
	}
	srv.Restart()
	conn = srv.Dial()
	if got := hllHeader(t, conn, "h"); got != "0300000000000000" {
		t.Fatalf("cache after restart = %s, want 3", got)
	}
	// In a transaction PFCOUNT runs in apply and writes the cache there.
	conn.Do("pfadd", "h", "d")
	conn.Do("multi")
	conn.Do("pfcount", "h")
	if got := conn.Do("exec"); got != "*1\r\n:4\r\n" {
		t.Fatalf("EXEC [PFCOUNT] = %q", got)
	}
	if got := hllHeader(t, conn, "h"); got != "0400000000000000" {
		t.Fatalf("cache after PFCOUNT in MULTI = %s, want 4", got)
	}
}

// hllHeader returns the cached-cardinality bytes of the HyperLogLog at key, in hex.
func hllHeader(t *testing.T, conn *servertest.Conn, key string) string {
	t.Helper()
	reply := conn.Do("get", key)
	_, body, _ := strings.Cut(reply, "\r\n")
	if len(body) < 16 {
		t.Fatalf("GET %s = %q", key, reply)
	}
	return hex.EncodeToString([]byte(body[8:16]))
}

func TestPFSelfTest(t *testing.T) {
	srv := servertest.Start(t)
	if got := srv.Dial().Do("pfselftest"); got != "+OK\r\n" {
		t.Fatalf("PFSELFTEST = %q", got)
	}
}

// Recorded from redis-server 7.0.
var hllSections = []respSection{
	{"PFADD and PFCOUNT", []respStep{
		{[]string{"pfadd", "h", "a", "b", "c"}, ":1\r\n"},
		{[]string{"get", "h"}, "$27\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ\r\n"},
		{[]string{"type", "h"}, "+string\r\n"},
		{[]string{"pfadd", "h", "a"}, ":0\r\n"},
		{[]string{"pfadd", "h", "d"}, ":1\r\n"},
		{[]string{"pfcount", "h"}, ":4\r\n"},
		{[]string{"get", "h"}, "$30\r\nHYLL\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\\{\x80Dv\x80P\xb1\x84K\xfb\x80BZ\r\n"},
		{[]string{"pfcount", "h"}, ":4\r\n"},
		{[]string{"pfadd", "h"}, ":0\r\n"},
		{[]string{"pfadd", "e"}, ":1\r\n"},
		{[]string{"get", "e"}, "$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n"},
		{[]string{"pfcount", "e"}, ":0\r\n"},
		{[]string{"pfcount", "nokey"}, ":0\r\n"},
		{[]string{"exists", "nokey"}, ":0\r\n"},
		{[]string{"pfadd", "h", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"}, ":1\r\n"},
		{[]string{"pfcount", "h"}, ":16\r\n"},
		{[]string{"strlen", "h"}, ":65\r\n"},
		{[]string{"pfadd", "h", "\x00", "\xff\xfe", "a longer element of more than eight bytes"}, ":1\r\n"},
		{[]string{"pfcount", "h"}, ":19\r\n"},
		{[]string{"get", "h"}, "$74\r\nHYLL\x01\x00\x00\x00\x13\x00\x00\x00\x00\x00\x00\x00B\x8d\x84A\xb6\x8cB&\x80@\x89\x88H_\x84@\xfc\x80@\xc4\x84K\\\x80C\xc2\x84@x\x848\x80A\x92\x84@\xa9\x80K\x83\x80B\xed\x84A\xfc\x8cC\x93\x84C\xf9\x80Bm\x80BZ\r\n"},
		{[]string{"pfadd"}, "-ERR wrong number of arguments for 'pfadd' command\r\n"},
		{[]string{"pfcount"}, "-ERR wrong number of arguments for 'pfcount' command\r\n"},
	}},
	{"PFCOUNT of several keys", []respStep{
		{[]string{"pfadd", "a", "1", "2", "3", "4"}, ":1\r\n"},
		{[]string{"pfadd", "b", "3", "4", "5", "6", "7"}, ":1\r\n"},
		{[]string{"pfcount", "a", "b"}, ":7\r\n"},
		{[]string{"pfcount", "a", "b", "nokey"}, ":7\r\n"},
		{[]string{"pfcount", "nokey", "nokey2"}, ":0\r\n"},
		{[]string{"get", "a"}, "$30\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80A\xee\x84[v\x80Mt\x80Q,\x8cC\xf3\r\n"},
		{[]string{"pfcount", "a", "a"}, ":4\r\n"},
	}},
	{"PFMERGE", []respStep{
		{[]string{"pfadd", "a", "1", "2", "3", "4"}, ":1\r\n"},
		{[]string{"pfadd", "b", "3", "4", "5", "6", "7"}, ":1\r\n"},
		{[]string{"pfmerge", "m", "a", "b"}, "+OK\r\n"},
		{[]string{"get", "m"}, "$39\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80A\xee\x84H#\x80SQ\x80Mt\x80O\x18\x80B\x12\x8c@\xcf\x84C\"\r\n"},
		{[]string{"pfcount", "m"}, ":7\r\n"},
		{[]string{"pfmerge", "m"}, "+OK\r\n"},
		{[]string{"pfmerge", "new"}, "+OK\r\n"},
		{[]string{"get", "new"}, "$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n"},
		{[]string{"pfmerge", "a", "b"}, "+OK\r\n"},
		{[]string{"pfcount", "a"}, ":7\r\n"},
		{[]string{"pfmerge", "x", "nokey"}, "+OK\r\n"},
		{[]string{"get", "x"}, "$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n"},
		{[]string{"pfdebug", "todense", "b"}, ":1\r\n"},
		{[]string{"pfmerge", "m2", "a", "b"}, "+OK\r\n"},
		{[]string{"pfdebug", "encoding", "m2"}, "+dense\r\n"},
		{[]string{"pfcount", "m2"}, ":7\r\n"},
		{[]string{"pfmerge"}, "-ERR wrong number of arguments for 'pfmerge' command\r\n"},
	}},
	{"wrong types and invalid values", []respStep{
		{[]string{"lpush", "l", "x"}, ":1\r\n"},
		{[]string{"pfadd", "l", "a"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"pfcount", "l"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"pfcount", "l", "nokey"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"pfmerge", "l", "nokey"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"pfmerge", "d", "l"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"set", "s", "not an hll"}, "+OK\r\n"},
		{[]string{"pfadd", "s", "a"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"pfcount", "s"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"pfmerge", "d", "s"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"pfdebug", "encoding", "s"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"set", "short", "HYLL"}, "+OK\r\n"},
		{[]string{"pfcount", "short"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"set", "enc2", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"}, "+OK\r\n"},
		{[]string{"pfcount", "enc2"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"set", "badmagic", "HYLM\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"}, "+OK\r\n"},
		{[]string{"pfcount", "badmagic"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"set", "densebad", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}, "+OK\r\n"},
		{[]string{"pfcount", "densebad"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"pfadd", "densebad", "x"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"set", "int", "12345678901234567890"}, "+OK\r\n"},
		{[]string{"pfcount", "int"}, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{[]string{"exists", "d"}, ":0\r\n"},
	}},
	{"corrupt sparse values", []respStep{
		{[]string{"set", "short", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe"}, "+OK\r\n"},
		{[]string{"pfcount", "short"}, "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{[]string{"pfcount", "short", "nokey"}, "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{[]string{"pfmerge", "d", "short"}, "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{[]string{"pfdebug", "decode", "short"}, "$7\r\nZ:16383\r\n"},
		{[]string{"set", "over", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x00"}, "+OK\r\n"},
		{[]string{"pfcount", "over"}, "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{[]string{"pfdebug", "todense", "over"}, "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{[]string{"pfdebug", "getreg", "over"}, "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{[]string{"set", "trunc", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe@"}, "+OK\r\n"},
		{[]string{"pfcount", "trunc"}, ":0\r\n"},
		{[]string{"pfdebug", "decode", "trunc"}, "$11\r\nZ:16383 Z:1\r\n"},
		{[]string{"set", "ok", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe\x80"}, "+OK\r\n"},
		{[]string{"pfcount", "ok"}, ":1\r\n"},
		{[]string{"pfdebug", "decode", "ok"}, "$13\r\nZ:16383 v:1,1\r\n"},
		{[]string{"pfadd", "ok", "a"}, ":1\r\n"},
		{[]string{"pfdebug", "decode", "ok"}, "$26\r\nZ:12711 v:2,1 Z:3671 v:1,1\r\n"},
		{[]string{"set", "cached", "HYLL\x01\x00\x00\x00*\x00\x00\x00\x00\x00\x00\x00\x7f\xfe"}, "+OK\r\n"},
		{[]string{"pfcount", "cached"}, ":42\r\n"},
	}},
	{"PFDEBUG", []respStep{
		{[]string{"pfadd", "h", "a", "b", "c", "d", "e"}, ":1\r\n"},
		{[]string{"pfdebug", "encoding", "h"}, "+sparse\r\n"},
		{[]string{"pfdebug", "decode", "h"}, "$69\r\nZ:7292 v:1,1 Z:1143 v:1,1 Z:4274 v:2,1 Z:2445 v:1,1 Z:622 v:1,1 Z:603\r\n"},
		{[]string{"pfdebug", "ENCODING", "h"}, "+sparse\r\n"},
		{[]string{"pfdebug", "todense", "h"}, ":1\r\n"},
		{[]string{"pfdebug", "todense", "h"}, ":0\r\n"},
		{[]string{"pfdebug", "encoding", "h"}, "+dense\r\n"},
		{[]string{"pfdebug", "decode", "h"}, "-ERR HLL encoding is not sparse\r\n"},
		{[]string{"pfcount", "h"}, ":5\r\n"},
		{[]string{"pfdebug", "nosuch", "h"}, "-ERR Unknown PFDEBUG subcommand 'nosuch'\r\n"},
		{[]string{"pfdebug", "nosuch", "nokey"}, "-ERR The specified key does not exist\r\n"},
		{[]string{"pfdebug", "getreg", "nokey"}, "-ERR The specified key does not exist\r\n"},
		{[]string{"pfdebug", "encoding"}, "-ERR wrong number of arguments for 'pfdebug' command\r\n"},
		{[]string{"pfdebug", "encoding", "h", "x"}, "-ERR wrong number of arguments for 'pfdebug' command\r\n"},
		{[]string{"lpush", "l", "x"}, ":1\r\n"},
		{[]string{"pfdebug", "encoding", "l"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{"expiry is kept", []respStep{
		{[]string{"pfadd", "h", "a"}, ":1\r\n"},
		{[]string{"expire", "h", "1000"}, ":1\r\n"},
		{[]string{"pfadd", "h", "b"}, ":1\r\n"},
		{[]string{"ttl", "h"}, ":1000\r\n"},
		{[]string{"pfcount", "h"}, ":2\r\n"},
		{[]string{"ttl", "h"}, ":1000\r\n"},
		{[]string{"pfmerge", "h", "nokey"}, "+OK\r\n"},
		{[]string{"ttl", "h"}, ":1000\r\n"},
	}},
	{"hll-sparse-max-bytes", []respStep{
		{[]string{"config", "set", "hll-sparse-max-bytes", "40"}, "+OK\r\n"},
		{[]string{"pfadd", "h", "a", "b", "c"}, ":1\r\n"},
		{[]string{"pfdebug", "encoding", "h"}, "+sparse\r\n"},
		{[]string{"pfadd", "h", "d", "e", "f", "g", "h2", "i"}, ":1\r\n"},
		{[]string{"pfdebug", "encoding", "h"}, "+dense\r\n"},
		{[]string{"pfcount", "h"}, ":9\r\n"},
		{[]string{"config", "set", "hll-sparse-max-bytes", "3000"}, "+OK\r\n"},
		{[]string{"pfadd", "h3", "a", "b", "c"}, ":1\r\n"},
		{[]string{"pfadd", "h4", "x", "y", "z"}, ":1\r\n"},
		{[]string{"config", "set", "hll-sparse-max-bytes", "25"}, "+OK\r\n"},
		{[]string{"pfmerge", "h3", "h4"}, "+OK\r\n"},
		{[]string{"pfdebug", "encoding", "h3"}, "+dense\r\n"},
		{[]string{"pfcount", "h3"}, ":6\r\n"},
		{[]string{"config", "set", "hll-sparse-max-bytes", "3000"}, "+OK\r\n"},
	}},
}
var hllForeignSections = []respSection{
	{"values written by Redis", []respStep{
		{[]string{"set", "v", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80PG\x84Q;\x80X\xcd\x88E\xa0\x84\x08"}, "+OK\r\n"},
		{[]string{"pfcount", "v"}, ":4\r\n"},
		{[]string{"pfadd", "v", "x"}, ":0\r\n"},
		{[]string{"pfadd", "v", "q"}, ":1\r\n"},
		{[]string{"get", "v"}, "$32\r\nHYLL\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x80PG\x84Ef\x94K\xd3\x80X\xcd\x88E\xa0\x84\x08\r\n"},
		{[]string{"pfcount", "v"}, ":5\r\n"},
		{[]string{"pfdebug", "decode", "v"}, "$68\r\nZ:4168 v:2,1 Z:1383 v:6,1 Z:3028 v:1,1 Z:6350 v:3,1 Z:1441 v:2,1 z:9\r\n"},
	}},
}
