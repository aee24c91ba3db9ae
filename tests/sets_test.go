package tests

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// colMembers is a set reply of bulk strings: an array in RESP2, a set in RESP3.
func colMembers(items ...string) (string, string) { return colBulks(items...), colSet3(items...) }

func colSetStep(args []string, items ...string) colStep {
	w2, w3 := colMembers(items...)
	return colDo23(w2, w3, args...)
}

func TestSetCommands(t *testing.T) {
	colRun(t, []colStep{
		colDo(colInt(3), "SADD", "s", "a", "b", "c"),
		colDo(colInt(1), "SADD", "s", "a", "d"),
		colDo(colInt(1), "SADD", "s", "x", "x", "x"),
		colDo(colInt(5), "SCARD", "s"),
		colDo(colInt(0), "SCARD", "nokey"),
		colDo(colInt(1), "SISMEMBER", "s", "a"),
		colDo(colInt(0), "SISMEMBER", "s", "zz"),
		colDo(colInt(0), "SISMEMBER", "nokey", "a"),
		colDo(colInts(1, 0, 1), "SMISMEMBER", "s", "a", "zz", "d"),
		colDo(colInts(0), "SMISMEMBER", "nokey", "a"),
		colSetStep([]string{"SMEMBERS", "s"}, "a", "b", "c", "d", "x"),
		colSetStep([]string{"SMEMBERS", "nokey"}),
		colDo(colInt(1), "SREM", "s", "a", "zz"),
		colDo(colInt(0), "SREM", "nokey", "a"),
		colDo(colInt(4), "SREM", "s", "b", "c", "d", "x", "x"),
		colDo(colInt(0), "EXISTS", "s"),
		colDo(colInt(0), "SCARD", "s"),
		colDo(colInt(1), "SADD", "e", ""),
		colDo(colInt(1), "SISMEMBER", "e", ""),
		colDo(colStatus("set"), "TYPE", "e"),
		// SMOVE
		colDo(colInt(2), "SADD", "src", "a", "b"),
		colDo(colInt(1), "SADD", "dst", "c"),
		colDo(colInt(1), "SMOVE", "src", "dst", "a"),
		colSetStep([]string{"SMEMBERS", "src"}, "b"),
		colSetStep([]string{"SMEMBERS", "dst"}, "a", "c"),
		colDo(colInt(0), "SMOVE", "src", "dst", "zz"),
		colDo(colInt(0), "SMOVE", "nokey", "dst", "a"),
		colDo(colInt(1), "SMOVE", "src", "src", "b"),
		colDo(colInt(0), "SMOVE", "src", "src", "zz"),
		colDo(colInt(1), "SADD", "dst", "b"),
		colDo(colInt(1), "SMOVE", "src", "dst", "b"), // already in dst: still moved
		colDo(colInt(0), "EXISTS", "src"),
		colSetStep([]string{"SMEMBERS", "dst"}, "a", "b", "c"),
		colDo(colInt(1), "SMOVE", "dst", "fresh", "c"),
		colSetStep([]string{"SMEMBERS", "fresh"}, "c"),
	})
}

func TestSetErrors(t *testing.T) {
	steps := []colStep{
		colDo(colOK, "SET", "str", "v"),
		colDo(colInt(2), "SADD", "s", "a", "b"),
		colDo(colWrongArgs("sadd"), "SADD", "s"),
		colDo(colWrongArgs("srem"), "SREM", "s"),
		colDo(colWrongArgs("smove"), "SMOVE", "s", "d"),
		colDo(colWrongArgs("sinterstore"), "SINTERSTORE", "d"),
		colDo(colWrongArgs("sintercard"), "SINTERCARD", "1"),
		colDo(colWrongArgs("smismember"), "SMISMEMBER", "s"),
		colDo(colWrongArgs("sscan"), "SSCAN", "s"),
		colDo(colErr("ERR syntax error"), "SPOP", "s", "1", "2"),
		colDo(colErr("ERR syntax error"), "SRANDMEMBER", "s", "1", "2"),
		colDo(colInt(0), "SMOVE", "nokey", "str", "a"),
		colDo(colWrongType, "SMOVE", "s", "str", "a"),
		colDo(colWrongType, "SMOVE", "str", "s", "a"),
		colDo(colWrongType, "SDIFF", "nokey", "str"),
		colDo(colWrongType, "SINTER", "nokey", "str"),
		colDo(colWrongType, "SINTERSTORE", "d", "s", "str"),
		colDo(colInt(0), "EXISTS", "d"),
	}
	for _, args := range [][]string{
		{"SADD", "str", "a"}, {"SREM", "str", "a"}, {"SCARD", "str"}, {"SISMEMBER", "str", "a"},
		{"SMISMEMBER", "str", "a"}, {"SMEMBERS", "str"}, {"SPOP", "str"}, {"SPOP", "str", "2"},
		{"SRANDMEMBER", "str"}, {"SRANDMEMBER", "str", "2"}, {"SINTER", "s", "str"}, {"SUNION", "str"},
		{"SDIFF", "s", "str"}, {"SUNIONSTORE", "d", "s", "str"}, {"SDIFFSTORE", "d", "str"},
		{"SINTERCARD", "1", "str"}, {"SSCAN", "str", "0"},
	} {
		steps = append(steps, colDo(colWrongType, args...))
	}
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"ERR numkeys should be greater than 0", []string{"SINTERCARD", "0", "s"}},
		{"ERR numkeys should be greater than 0", []string{"SINTERCARD", "x", "s"}},
		{"ERR Number of keys can't be greater than number of args", []string{"SINTERCARD", "3", "s", "t"}},
		{"ERR LIMIT can't be negative", []string{"SINTERCARD", "1", "s", "LIMIT", "-1"}},
		{"ERR LIMIT can't be negative", []string{"SINTERCARD", "1", "s", "LIMIT", "x"}},
		{"ERR LIMIT can't be negative", []string{"SINTERCARD", "1", "s", "LIMIT", "9223372036854775808"}},
		{"ERR syntax error", []string{"SINTERCARD", "1", "s", "FOO"}},
		{"ERR syntax error", []string{"SINTERCARD", "1", "s", "LIMIT"}},
		{"ERR value is out of range, must be positive", []string{"SPOP", "s", "-1"}},
		{"ERR value is out of range, must be positive", []string{"SPOP", "s", "x"}},
		{"ERR value is out of range, must be positive", []string{"SPOP", "s", "9223372036854775808"}},
		{"ERR value is not an integer or out of range", []string{"SRANDMEMBER", "s", "x"}},
		{"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", []string{"SRANDMEMBER", "s", "-9223372036854775808"}},
		{"ERR invalid cursor", []string{"SSCAN", "s", "x"}},
		{"ERR syntax error", []string{"SSCAN", "s", "0", "COUNT", "0"}},
		{"ERR NOVALUES option can only be used in HSCAN", []string{"SSCAN", "s", "0", "NOVALUES"}},
	} {
		steps = append(steps, colDo(colErr(tc.want), tc.args...))
	}
	colRun(t, steps)
}

func TestSetAlgebra(t *testing.T) {
	colRun(t, []colStep{
		colDo(colInt(4), "SADD", "a", "1", "2", "3", "4"),
		colDo(colInt(3), "SADD", "b", "2", "3", "5"),
		colDo(colInt(3), "SADD", "c", "3", "4", "6"),
		colSetStep([]string{"SINTER", "a", "b"}, "2", "3"),
		colSetStep([]string{"SINTER", "a", "b", "c"}, "3"),
		colSetStep([]string{"SINTER", "c", "a", "a"}, "3", "4"),
		colSetStep([]string{"SINTER", "a", "nokey"}),
		colSetStep([]string{"SINTER", "nokey"}),
		colSetStep([]string{"SUNION", "a", "b"}, "1", "2", "3", "4", "5"),
		colSetStep([]string{"SUNION", "a", "b", "c", "nokey"}, "1", "2", "3", "4", "5", "6"),
		colSetStep([]string{"SUNION", "nokey"}),
		colSetStep([]string{"SDIFF", "a", "b"}, "1", "4"),
		colSetStep([]string{"SDIFF", "a", "b", "c"}, "1"),
		colSetStep([]string{"SDIFF", "nokey", "a"}),
		colSetStep([]string{"SDIFF", "a", "nokey"}, "1", "2", "3", "4"),
		colSetStep([]string{"SDIFF", "a", "a"}),
		colDo(colInt(2), "SINTERSTORE", "d", "a", "b"),
		colSetStep([]string{"SMEMBERS", "d"}, "2", "3"),
		colDo(colInt(4), "SUNIONSTORE", "d", "d", "c"), // the destination is a source
		colSetStep([]string{"SMEMBERS", "d"}, "2", "3", "4", "6"),
		colDo(colInt(1), "SDIFFSTORE", "d", "d", "a"),
		colSetStep([]string{"SMEMBERS", "d"}, "6"),
		colDo(colInt(0), "SINTERSTORE", "d", "a", "nokey"),
		colDo(colInt(0), "EXISTS", "d"),
		colDo(colInt(0), "SUNIONSTORE", "d", "nokey"),
		colDo(colInt(0), "EXISTS", "d"),
		// A destination of another type, or with a TTL, is replaced.
		colDo(colOK, "SET", "str", "v"),
		colDo(colInt(5), "SUNIONSTORE", "str", "a", "b"),
		colDo(colStatus("set"), "TYPE", "str"),
		colDo(colInt(1), "HSET", "h", "f", "v"),
		colDo(colInt(1), "SDIFFSTORE", "h", "b", "a"),
		colSetStep([]string{"SMEMBERS", "h"}, "5"),
		colDo(colInt(1), "SADD", "t", "x"),
		colDo(colInt(1), "EXPIRE", "t", "100"),
		colDo(colInt(2), "SINTERSTORE", "t", "a", "b"),
		colDo(colInt(-1), "TTL", "t"),
		// SINTERCARD
		colDo(colInt(2), "SINTERCARD", "2", "a", "b"),
		colDo(colInt(1), "SINTERCARD", "3", "a", "b", "c"),
		colDo(colInt(1), "SINTERCARD", "2", "a", "b", "LIMIT", "1"),
		colDo(colInt(2), "SINTERCARD", "2", "a", "b", "limit", "0"),
		colDo(colInt(2), "SINTERCARD", "2", "a", "b", "LIMIT", "100"),
		colDo(colInt(4), "SINTERCARD", "1", "a"),
		colDo(colInt(0), "SINTERCARD", "2", "a", "nokey"),
	})
}

// TestSetAlgebraLarge checks set algebra on sets of thousands of members against a model.
func TestSetAlgebraLarge(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	sets := map[string]map[string]bool{"x": {}, "y": {}, "z": {}}
	for i := 0; i < 6000; i++ {
		m := strconv.Itoa(i)
		if i%2 == 0 {
			sets["x"][m] = true
		}
		if i%3 == 0 {
			sets["y"][m] = true
		}
		if i%5 == 0 && i < 3000 {
			sets["z"][m] = true
		}
	}
	for key, s := range sets {
		args := []string{"SADD", key}
		for m := range s {
			args = append(args, m)
		}
		c.Do(args...)
	}
	expect := func(op string, keys ...string) []string {
		var out []string
		for m := range sets[keys[0]] {
			keep := true
			for _, k := range keys[1:] {
				if (op == "inter") != sets[k][m] {
					keep = false
				}
			}
			if keep {
				out = append(out, m)
			}
		}
		if op == "union" {
			all := map[string]bool{}
			for _, k := range keys {
				for m := range sets[k] {
					all[m] = true
				}
			}
			out = out[:0]
			for m := range all {
				out = append(out, m)
			}
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		cmd, op string
		keys    []string
	}{
		{"SINTER", "inter", []string{"x", "y", "z"}},
		{"SINTER", "inter", []string{"z", "x"}},
		{"SUNION", "union", []string{"x", "y", "z"}},
		{"SDIFF", "diff", []string{"x", "y", "z"}},
		{"SDIFF", "diff", []string{"z", "x"}},
	} {
		want := expect(tc.op, tc.keys...)
		got := colParse(t, c.Do(append([]string{tc.cmd}, tc.keys...)...)).strs(t)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s %v returned %d members, want %d", tc.cmd, tc.keys, len(got), len(want))
		}
		if got := c.Do(append([]string{tc.cmd + "STORE", "dst"}, tc.keys...)...); got != colInt(int64(len(want))) {
			t.Fatalf("%sSTORE %v = %q, want %d", tc.cmd, tc.keys, got, len(want))
		}
		if tc.op == "inter" {
			if got := c.Do(append([]string{"SINTERCARD", strconv.Itoa(len(tc.keys))}, tc.keys...)...); got != colInt(int64(len(want))) {
				t.Fatalf("SINTERCARD %v = %q, want %d", tc.keys, got, len(want))
			}
		}
	}
}

// colFillSet adds members m0..m<n-1> in pipelined SADDs.
func colFillSet(t *testing.T, c *servertest.Conn, key string, n int) {
	t.Helper()
	for start := 0; start < n; start += 500 {
		args := []string{"SADD", key}
		for i := start; i < min(n, start+500); i++ {
			args = append(args, fmt.Sprintf("m%06d", i))
		}
		if got := c.Do(args...); !strings.HasPrefix(got, ":") {
			t.Fatalf("SADD = %q", got)
		}
	}
}

func TestSRandMemberAndSPop(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := colDial(t, servertest.Start(t), proto)
			for _, n := range []int{6, 3000} {
				key := fmt.Sprintf("s%d", n)
				colFillSet(t, c, key, n)
				colCheckRandMembers(t, c, key, n, proto)
			}
			null := colNull2
			if proto == 3 {
				null = colNull3
			}
			emptySet := "*0\r\n"
			if proto == 3 {
				emptySet = "~0\r\n"
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"SRANDMEMBER", "nokey"}, null},
				{[]string{"SRANDMEMBER", "nokey", "3"}, "*0\r\n"},
				{[]string{"SRANDMEMBER", "s6", "0"}, "*0\r\n"},
				{[]string{"SPOP", "nokey"}, null},
				{[]string{"SPOP", "nokey", "3"}, emptySet},
				{[]string{"SPOP", "s6", "0"}, emptySet},
			} {
				if got := c.Do(tc.args...); got != tc.want {
					t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
				}
			}
		})
	}
}

func colCheckRandMembers(t *testing.T, c *servertest.Conn, key string, n, proto int) {
	t.Helper()
	valid := func(m string) bool {
		i, err := strconv.Atoi(strings.TrimPrefix(m, "m"))
		return err == nil && strings.HasPrefix(m, "m") && i >= 0 && i < n
	}
	if one := colParse(t, c.Do("SRANDMEMBER", key)); one.kind != '$' || !valid(one.str) {
		t.Fatalf("SRANDMEMBER %s = %+v", key, one)
	}
	for _, count := range []int{2, n / 2, n - 1, n, n + 5, -3, -(n + 5)} {
		r := colParse(t, c.Do("SRANDMEMBER", key, strconv.Itoa(count)))
		if r.kind != '*' {
			t.Fatalf("SRANDMEMBER %s %d replied %q, want an array", key, count, r.kind)
		}
		got := r.strs(t)
		want := min(count, n)
		if count < 0 {
			want = -count
		}
		if len(got) != want {
			t.Fatalf("SRANDMEMBER %s %d returned %d members, want %d", key, count, len(got), want)
		}
		seen := map[string]bool{}
		for _, m := range got {
			if !valid(m) || (count > 0 && seen[m]) {
				t.Fatalf("SRANDMEMBER %s %d returned %q (seen before: %v)", key, count, m, seen[m])
			}
			seen[m] = true
		}
	}
	// SPOP removes what it returns, and the key when it returns everything.
	popped := map[string]bool{}
	one := colParse(t, c.Do("SPOP", key))
	if one.kind != '$' || !valid(one.str) {
		t.Fatalf("SPOP %s = %+v", key, one)
	}
	popped[one.str] = true
	for _, count := range []int{3, (n - 1) / 2} {
		r := colParse(t, c.Do("SPOP", key, strconv.Itoa(count)))
		wantKind := byte('*')
		if proto == 3 {
			wantKind = '~'
		}
		if r.kind != wantKind || len(r.items) != count {
			t.Fatalf("SPOP %s %d = %q with %d items", key, count, r.kind, len(r.items))
		}
		for _, m := range r.strs(t) {
			if !valid(m) || popped[m] {
				t.Fatalf("SPOP %s %d returned %q (popped before: %v)", key, count, m, popped[m])
			}
			popped[m] = true
		}
	}
	left := n - len(popped)
	if got := c.Do("SCARD", key); got != colInt(int64(left)) {
		t.Fatalf("SCARD %s after popping %d = %q, want %d", key, len(popped), got, left)
	}
	for m := range popped {
		if got := c.Do("SISMEMBER", key, m); got != colInt(0) {
			t.Fatalf("popped member %s still in %s", m, key)
		}
	}
	rest := colParse(t, c.Do("SPOP", key, strconv.Itoa(n))).strs(t)
	if len(rest) != left {
		t.Fatalf("SPOP %s %d returned %d members, want the %d left", key, n, len(rest), left)
	}
	if got := c.Do("EXISTS", key); got != colInt(0) {
		t.Fatalf("EXISTS %s after popping everything = %q", key, got)
	}
}

// TestSPopInMulti: inside MULTI, SPOP and SRANDMEMBER run in apply with the log's deterministic
// source; what SPOP returns is what it removed.
func TestSPopInMulti(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	colFillSet(t, c, "s", 50)
	c.Do("MULTI")
	c.Do("SPOP", "s", "5")
	c.Do("SRANDMEMBER", "s", "-3")
	c.Do("SCARD", "s")
	r := colParse(t, c.Do("EXEC"))
	if len(r.items) != 3 || len(r.items[0].items) != 5 || len(r.items[1].items) != 3 || r.items[2].n != 45 {
		t.Fatalf("MULTI SPOP/SRANDMEMBER/SCARD = %+v", r)
	}
	for _, m := range r.items[0].strs(t) {
		if got := c.Do("SISMEMBER", "s", m); got != colInt(0) {
			t.Fatalf("member %s popped inside MULTI is still there", m)
		}
	}
}

func TestSScan(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	colFillSet(t, c, "s", 1500)
	var got []string
	cursor := "0"
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("SSCAN did not finish")
		}
		r := colParse(t, c.Do("SSCAN", "s", cursor, "COUNT", "33"))
		cursor = r.items[0].str
		got = append(got, r.items[1].strs(t)...)
		if cursor == "0" {
			break
		}
	}
	if len(got) != 1500 {
		t.Fatalf("SSCAN returned %d members, want 1500", len(got))
	}
	for i, m := range got {
		if m != fmt.Sprintf("m%06d", i) {
			t.Fatalf("SSCAN member %d = %s", i, m)
		}
	}
	r := colParse(t, c.Do("SSCAN", "s", "0", "MATCH", "m0014*", "COUNT", "1000"))
	if ms := r.items[1].strs(t); len(ms) != 100 || r.items[0].str != "0" {
		t.Fatalf("SSCAN MATCH m0014* = %d members, cursor %s", len(ms), r.items[0].str)
	}
	ints := []string{"SADD", "ints"}
	for i := 0; i < 300; i++ {
		ints = append(ints, strconv.Itoa(i))
	}
	c.Do(ints...)
	r = colParse(t, c.Do("SSCAN", "ints", "0", "COUNT", "10"))
	if ms := r.items[1].strs(t); len(ms) != 300 || r.items[0].str != "0" {
		t.Fatalf("SSCAN of an intset = %d members, cursor %s; want all 300 at once", len(ms), r.items[0].str)
	}
	if got := c.Do("SSCAN", "nokey", "0"); got != colArr(colBulk("0"), "*0\r\n") {
		t.Fatalf("SSCAN of a missing key = %q", got)
	}
}

// TestSetObjectEncoding: OBJECT ENCODING follows Redis 7.2+'s intset, listpack and hashtable
// conversions for a set with the same history.
func TestSetObjectEncoding(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	enc := func(key, want string) {
		t.Helper()
		if got := c.Do("OBJECT", "ENCODING", key); got != colBulk(want) {
			t.Fatalf("OBJECT ENCODING %s = %q, want %s", key, got, want)
		}
	}
	c.Do("SADD", "ints", "1", "2", "-3")
	enc("ints", "intset")
	c.Do("SADD", "ints", "a")
	enc("ints", "listpack")
	c.Do("SREM", "ints", "a")
	enc("ints", "listpack")
	many := []string{"SADD", "many"}
	for i := 0; i < 513; i++ {
		many = append(many, strconv.Itoa(i))
	}
	c.Do(many[:len(many)-1]...)
	enc("many", "intset")
	c.Do("SADD", "many", "512")
	enc("many", "hashtable")
	colFillSet(t, c, "strs", 128)
	enc("strs", "listpack")
	c.Do("SADD", "strs", "x")
	enc("strs", "hashtable")
	c.Do("SADD", "long", strings.Repeat("m", 65))
	enc("long", "hashtable")
	c.Do("SADD", "zero", "007")
	enc("zero", "listpack")
	c.Do("SUNIONSTORE", "dst", "ints")
	enc("dst", "intset")
}

// TestCollectionsGoRedis drives hashes and sets through go-redis in RESP2 and RESP3, whose
// parsers check reply types (maps, sets, pairs) that raw comparisons only spell out.
func TestCollectionsGoRedis(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	for _, proto := range []int{2, 3} {
		rdb := srv.Client(func(o *redis.Options) { o.Protocol = proto })
		h, s := fmt.Sprintf("h%d", proto), fmt.Sprintf("s%d", proto)
		if err := rdb.HSet(ctx, h, "a", "1", "b", "2").Err(); err != nil {
			t.Fatal(err)
		}
		all, err := rdb.HGetAll(ctx, h).Result()
		if err != nil || len(all) != 2 || all["a"] != "1" || all["b"] != "2" {
			t.Fatalf("RESP%d HGETALL = %v, %v", proto, all, err)
		}
		kv, err := rdb.HRandFieldWithValues(ctx, h, 5).Result()
		if err != nil || len(kv) != 2 || all[kv[0].Key] != kv[0].Value {
			t.Fatalf("RESP%d HRANDFIELD WITHVALUES = %v, %v", proto, kv, err)
		}
		if got, err := rdb.HExpire(ctx, h, time.Minute, "a", "zz").Result(); err != nil || !slices.Equal(got, []int64{1, -2}) {
			t.Fatalf("RESP%d HEXPIRE = %v, %v", proto, got, err)
		}
		if got, err := rdb.HTTL(ctx, h, "a", "b").Result(); err != nil || !slices.Equal(got, []int64{60, -1}) {
			t.Fatalf("RESP%d HTTL = %v, %v", proto, got, err)
		}
		if got, err := rdb.HPersist(ctx, h, "a").Result(); err != nil || !slices.Equal(got, []int64{1}) {
			t.Fatalf("RESP%d HPERSIST = %v, %v", proto, got, err)
		}
		if got, err := rdb.HSetEXWithArgs(ctx, h, &redis.HSetEXOptions{Condition: redis.HSetEXFXX, ExpirationType: redis.HSetEXExpirationEX, ExpirationVal: 30}, "a", "9").Result(); err != nil || got != 1 {
			t.Fatalf("RESP%d HSETEX = %v, %v", proto, got, err)
		}
		if got, err := rdb.HGetEXWithArgs(ctx, h, &redis.HGetEXOptions{ExpirationType: redis.HGetEXExpirationPERSIST}, "a").Result(); err != nil || !slices.Equal(got, []string{"9"}) {
			t.Fatalf("RESP%d HGETEX = %v, %v", proto, got, err)
		}
		keys, cursor, err := rdb.HScanNoValues(ctx, h, 0, "*", 10).Result()
		if err != nil || cursor != 0 || !slices.Equal(keys, []string{"a", "b"}) {
			t.Fatalf("RESP%d HSCAN NOVALUES = %v, %d, %v", proto, keys, cursor, err)
		}
		if got, err := rdb.HGetDel(ctx, h, "b").Result(); err != nil || !slices.Equal(got, []string{"2"}) {
			t.Fatalf("RESP%d HGETDEL = %v, %v", proto, got, err)
		}
		if err := rdb.SAdd(ctx, s, "x", "y", "z").Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := rdb.SMembers(ctx, s).Result(); err != nil || len(got) != 3 {
			t.Fatalf("RESP%d SMEMBERS = %v, %v", proto, got, err)
		}
		if got, err := rdb.SMembersMap(ctx, s).Result(); err != nil || len(got) != 3 {
			t.Fatalf("RESP%d SMEMBERS as a map = %v, %v", proto, got, err)
		}
		if got, err := rdb.SMIsMember(ctx, s, "x", "q").Result(); err != nil || !slices.Equal(got, []bool{true, false}) {
			t.Fatalf("RESP%d SMISMEMBER = %v, %v", proto, got, err)
		}
		if got, err := rdb.SInterCard(ctx, 0, s, s).Result(); err != nil || got != 3 {
			t.Fatalf("RESP%d SINTERCARD = %v, %v", proto, got, err)
		}
		if got, err := rdb.SRandMemberN(ctx, s, -5).Result(); err != nil || len(got) != 5 {
			t.Fatalf("RESP%d SRANDMEMBER -5 = %v, %v", proto, got, err)
		}
		if got, err := rdb.SPopN(ctx, s, 2).Result(); err != nil || len(got) != 2 {
			t.Fatalf("RESP%d SPOP 2 = %v, %v", proto, got, err)
		}
		if got, err := rdb.SCard(ctx, s).Result(); err != nil || got != 1 {
			t.Fatalf("RESP%d SCARD after SPOP 2 = %v, %v", proto, got, err)
		}
	}
}
