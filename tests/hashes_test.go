package tests

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestHashCommands(t *testing.T) {
	n2, n3 := colNull2, colNull3
	colRun(t, []colStep{
		colDo(colInt(2), "HSET", "h", "f1", "v1", "f2", "v2"),
		colDo(colInt(1), "HSET", "h", "f1", "x", "f3", "v3", "f3", "v3b"),
		colDo(colBulk("x"), "HGET", "h", "f1"),
		colDo(colBulk("v3b"), "HGET", "h", "f3"),
		colDo23(n2, n3, "HGET", "h", "nope"),
		colDo23(n2, n3, "HGET", "nokey", "f"),
		colDo23(colArr(colBulk("x"), n2, colBulk("v2")), colArr(colBulk("x"), n3, colBulk("v2")), "HMGET", "h", "f1", "nope", "f2"),
		colDo23(colArr(n2, n2), colArr(n3, n3), "HMGET", "nokey", "a", "b"),
		colDo(colInt(0), "HSETNX", "h", "f1", "y"),
		colDo(colInt(1), "HSETNX", "h", "f4", "v4"),
		colDo(colInt(1), "HSETNX", "new", "f", "v"),
		colDo(colInt(4), "HLEN", "h"),
		colDo(colInt(0), "HLEN", "nokey"),
		colDo(colInt(3), "HSTRLEN", "h", "f3"),
		colDo(colInt(0), "HSTRLEN", "h", "nope"),
		colDo(colInt(0), "HSTRLEN", "nokey", "f"),
		colDo(colInt(1), "HEXISTS", "h", "f2"),
		colDo(colInt(0), "HEXISTS", "h", "nope"),
		colDo(colInt(0), "HEXISTS", "nokey", "f"),
		colDo(colBulks("f1", "f2", "f3", "f4"), "HKEYS", "h"),
		colDo(colBulks("x", "v2", "v3b", "v4"), "HVALS", "h"),
		colDo23(colBulks("f1", "x", "f2", "v2", "f3", "v3b", "f4", "v4"), colMap3("f1", "x", "f2", "v2", "f3", "v3b", "f4", "v4"), "HGETALL", "h"),
		colDo23("*0\r\n", "%0\r\n", "HGETALL", "nokey"),
		colDo("*0\r\n", "HKEYS", "nokey"),
		colDo("*0\r\n", "HVALS", "nokey"),
		colDo(colOK, "HMSET", "h", "f5", "v5", "f6", "v6"),
		colDo(colInt(6), "HLEN", "h"),
		colDo(colInt(2), "HDEL", "h", "f5", "nope", "f6", "f6"),
		colDo(colInt(0), "HDEL", "nokey", "f"),
		colDo(colInt(4), "HDEL", "h", "f1", "f2", "f3", "f4"),
		colDo(colInt(0), "EXISTS", "h"),
		colDo(colInt(0), "HLEN", "h"),
		colDo(colStatus("none"), "TYPE", "h"),
		colDo(colInt(1), "HSET", "h", "", ""),
		colDo(colBulk(""), "HGET", "h", ""),
		colDo(colStatus("hash"), "TYPE", "h"),
		colDo(colInt(1), "DEL", "h"),
		colDo(colInt(0), "HLEN", "h"),
	})
}

func TestHashIncr(t *testing.T) {
	colRun(t, []colStep{
		colDo(colInt(5), "HINCRBY", "c", "n", "5"),
		colDo(colInt(-5), "HINCRBY", "c", "n", "-10"),
		colDo(colInt(9223372036854775807), "HINCRBY", "c", "m", "9223372036854775807"),
		colDo(colErr("ERR increment or decrement would overflow"), "HINCRBY", "c", "m", "1"),
		colDo(colInt(-9223372036854775808), "HINCRBY", "c", "o", "-9223372036854775808"),
		colDo(colErr("ERR increment or decrement would overflow"), "HINCRBY", "c", "o", "-1"),
		colDo(colErr("ERR value is not an integer or out of range"), "HINCRBY", "c", "n", "x"),
		colDo(colErr("ERR value is not an integer or out of range"), "HINCRBY", "c", "n", "1.5"),
		colDo(colErr("ERR value is not an integer or out of range"), "HINCRBY", "c", "n", "9223372036854775808"),
		colDo(colInt(1), "HSET", "c", "s", " 1"),
		colDo(colErr("ERR hash value is not an integer"), "HINCRBY", "c", "s", "1"),
		colDo(colErr("ERR hash value is not a float"), "HINCRBYFLOAT", "c", "s", "1"),
		colDo(colBulk("0.1"), "HINCRBYFLOAT", "c", "x", "0.1"),
		colDo(colBulk("0.3"), "HINCRBYFLOAT", "c", "x", "0.2"),
		colDo(colBulk("100.3"), "HINCRBYFLOAT", "c", "x", "1e2"),
		colDo(colBulk("5000"), "HINCRBYFLOAT", "c", "y", "5.0e3"),
		colDo(colBulk("0"), "HINCRBYFLOAT", "c", "y", "-5000"),
		colDo(colBulk("-4.5"), "HINCRBYFLOAT", "c", "n", "0.5"),
		colDo(colErr("ERR hash value is not an integer"), "HINCRBY", "c", "x", "1"),
		colDo(colErr("ERR value is not a valid float"), "HINCRBYFLOAT", "c", "x", "abc"),
		colDo(colErr("ERR value is not a valid float"), "HINCRBYFLOAT", "c", "x", "nan"),
		colDo(colErr("ERR value is not a valid float"), "HINCRBYFLOAT", "c", "x", "1e5000"),
		colDo(colErr("ERR value is not a valid float"), "HINCRBYFLOAT", "c", "x", " 1"),
		colDo(colErr("ERR value is NaN or Infinity"), "HINCRBYFLOAT", "c", "x", "inf"),
		colDo(colErr("ERR value is NaN or Infinity"), "HINCRBYFLOAT", "c", "x", "-Infinity"),
		colDo(colInt(1), "HSET", "c", "big", "1.1e4932"),
		colDo(colErr("ERR increment would produce NaN or Infinity"), "HINCRBYFLOAT", "c", "big", "1.1e4932"),
		colDo(colErr("ERR value is not a valid float"), "HINCRBYFLOAT", "c", "big", "1.2e4932"),
		colDo(colBulk("100.3"), "HGET", "c", "x"),
	})
}

func TestHashErrors(t *testing.T) {
	steps := []colStep{
		colDo(colOK, "SET", "str", "v"),
		colDo(colWrongArgs("hset"), "HSET", "h"),
		colDo(colWrongArgs("hset"), "HSET", "h", "f"),
		colDo(colWrongArgs("hset"), "HSET", "h", "a", "1", "b"),
		colDo(colWrongArgs("hmset"), "HMSET", "h", "a"),
		colDo(colWrongArgs("hget"), "HGET", "h"),
		colDo(colWrongArgs("hgetall"), "HGETALL", "h", "x"),
		colDo(colWrongArgs("hdel"), "HDEL", "h"),
		colDo(colWrongArgs("hincrby"), "HINCRBY", "h", "f"),
		colDo(colWrongArgs("hrandfield"), "HRANDFIELD"),
		colDo(colWrongArgs("hscan"), "HSCAN", "h"),
		colDo(colWrongArgs("hexpire"), "HEXPIRE", "h", "10", "FIELDS", "1"),
		colDo(colWrongArgs("httl"), "HTTL", "h", "FIELDS", "1"),
		colDo(colWrongArgs("hpersist"), "HPERSIST", "h", "FIELDS", "1"),
		colDo(colWrongArgs("hgetex"), "HGETEX", "h", "FIELDS", "1"),
		colDo(colWrongArgs("hsetex"), "HSETEX", "h", "FIELDS", "1", "f"),
		colDo(colWrongArgs("hgetdel"), "HGETDEL", "h", "FIELDS", "1"),
	}
	for _, args := range [][]string{
		{"HSET", "str", "f", "v"}, {"HMSET", "str", "f", "v"}, {"HSETNX", "str", "f", "v"},
		{"HGET", "str", "f"}, {"HMGET", "str", "f"}, {"HDEL", "str", "f"}, {"HLEN", "str"},
		{"HSTRLEN", "str", "f"}, {"HEXISTS", "str", "f"}, {"HKEYS", "str"}, {"HVALS", "str"},
		{"HGETALL", "str"}, {"HINCRBY", "str", "f", "1"}, {"HINCRBYFLOAT", "str", "f", "1"},
		{"HRANDFIELD", "str"}, {"HRANDFIELD", "str", "2"}, {"HSCAN", "str", "0"},
		{"HEXPIRE", "str", "10", "FIELDS", "1", "f"}, {"HPEXPIREAT", "str", "10", "FIELDS", "1", "f"},
		{"HTTL", "str", "FIELDS", "1", "f"}, {"HPEXPIRETIME", "str", "FIELDS", "1", "f"},
		{"HPERSIST", "str", "FIELDS", "1", "f"}, {"HGETEX", "str", "FIELDS", "1", "f"},
		{"HSETEX", "str", "FIELDS", "1", "f", "v"}, {"HGETDEL", "str", "FIELDS", "1", "f"},
		// Redis checks the type before the arguments of these.
		{"HEXPIRE", "str", "x", "FIELDS", "1", "f"}, {"HTTL", "str", "BAD", "1", "f"},
	} {
		steps = append(steps, colDo(colWrongType, args...))
	}
	colRun(t, steps)
}

func TestHashLargeValues(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	big := strings.Repeat("v", 1<<20)
	if got := c.Do("HSET", "h", "f", big, strings.Repeat("k", 100000), "x"); got != colInt(2) {
		t.Fatalf("HSET with a 1 MB value = %q", got)
	}
	if got := c.Do("HGET", "h", "f"); got != colBulk(big) {
		t.Fatalf("HGET of a 1 MB value returned %d bytes", len(got))
	}
	if got := c.Do("HSTRLEN", "h", "f"); got != colInt(1<<20) {
		t.Fatalf("HSTRLEN = %q", got)
	}
	if got := c.Do("HGET", "h", strings.Repeat("k", 100000)); got != colBulk("x") {
		t.Fatalf("HGET with a 100 KB field name = %q", got)
	}
}

func TestHashFieldExpire(t *testing.T) {
	colRun(t, []colStep{
		colDo(colInt(3), "HSET", "h", "a", "1", "b", "2", "c", "3"),
		colDo(colInts(1, -2), "HEXPIRE", "h", "100", "FIELDS", "2", "a", "nofield"),
		colDo(colInts(-2), "HEXPIRE", "nokey", "100", "FIELDS", "1", "a"),
		colDo(colInts(0, 1), "HEXPIRE", "h", "100", "NX", "FIELDS", "2", "a", "b"),
		colDo(colInts(1, 0), "HEXPIRE", "h", "50", "xx", "FIELDS", "2", "a", "c"),
		colDo(colInts(1, 1, 0), "HEXPIRE", "h", "200", "GT", "FIELDS", "3", "a", "b", "c"),
		colDo(colInts(0, 0), "HEXPIRE", "h", "150", "GT", "FIELDS", "2", "a", "b"),
		colDo(colInts(1, 1), "HEXPIRE", "h", "10", "LT", "FIELDS", "2", "a", "c"),
		colDo(colInts(0), "HEXPIRE", "h", "20", "LT", "FIELDS", "1", "a"),
		colDo(colInts(10, 200, 10, -2), "HTTL", "h", "FIELDS", "4", "a", "b", "c", "nofield"),
		colDo(colInts(-2, -2), "HTTL", "nokey", "FIELDS", "2", "a", "b"),
		colDo(colInts(1, -2), "HPERSIST", "h", "FIELDS", "2", "c", "nofield"),
		colDo(colInts(-1), "HPERSIST", "h", "FIELDS", "1", "c"),
		colDo(colInts(-2), "HPERSIST", "nokey", "FIELDS", "1", "c"),
		colDo(colInts(-1), "HTTL", "h", "FIELDS", "1", "c"),
		colDo(colInts(-1), "HEXPIRETIME", "h", "FIELDS", "1", "c"),
		colDo(colInts(-1), "HPTTL", "h", "FIELDS", "1", "c"),
		colDo(colInts(-1), "HPEXPIRETIME", "h", "FIELDS", "1", "c"),
		colDo(colInts(1), "HPEXPIREAT", "h", "4102444800000", "FIELDS", "1", "c"),
		colDo(colInts(4102444800000), "HPEXPIRETIME", "h", "FIELDS", "1", "c"),
		colDo(colInts(4102444800), "HEXPIRETIME", "h", "FIELDS", "1", "c"),
		colDo(colInts(1), "HEXPIREAT", "h", "4102444801", "FIELDS", "1", "c"),
		colDo(colInts(4102444801000), "HPEXPIRETIME", "h", "FIELDS", "1", "c"),
		// HINCRBY keeps a field's expiry, HSET drops it.
		colDo(colInt(4), "HINCRBY", "h", "c", "1"),
		colDo(colInts(4102444801000), "HPEXPIRETIME", "h", "FIELDS", "1", "c"),
		colDo(colInt(0), "HSET", "h", "c", "5"),
		colDo(colInts(-1), "HTTL", "h", "FIELDS", "1", "c"),
		// An expiry not in the future deletes the field.
		colDo(colInts(2), "HEXPIRE", "h", "0", "FIELDS", "1", "a"),
		colDo(colInts(2, -2), "HPEXPIREAT", "h", "1", "FIELDS", "2", "b", "b"),
		colDo(colInt(0), "HEXISTS", "h", "a"),
		colDo(colInt(1), "HLEN", "h"),
		colDo(colInts(2), "HEXPIRE", "h", "0", "FIELDS", "1", "c"),
		colDo(colInt(0), "EXISTS", "h"),
		// Argument errors.
		colDo(colInt(1), "HSET", "h", "a", "1"),
		colDo(colErr("ERR Parameter `numFields` should be greater than 0"), "HEXPIRE", "h", "10", "FIELDS", "0", "a"),
		colDo(colErr("ERR Parameter `numFields` should be greater than 0"), "HEXPIRE", "h", "10", "FIELDS", "x", "a"),
		colDo(colErr("ERR The `numfields` parameter must match the number of arguments"), "HEXPIRE", "h", "10", "FIELDS", "2", "a"),
		colDo(colErr("ERR The `numfields` parameter must match the number of arguments"), "HEXPIRE", "h", "10", "FIELDS", "1", "a", "b"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HEXPIRE", "h", "10", "FOO", "1", "a"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HEXPIRE", "h", "10", "NX", "XX", "FIELDS", "1", "a"),
		colDo(colErr("ERR invalid expire time, must be >= 0"), "HEXPIRE", "h", "-1", "FIELDS", "1", "a"),
		colDo(colErr("ERR value is not an integer or out of range"), "HEXPIRE", "h", "1.5", "FIELDS", "1", "a"),
		colDo(colErr("ERR invalid expire time in 'hexpire' command"), "HEXPIRE", "h", "70368744178", "FIELDS", "1", "a"),
		colDo(colErr("ERR invalid expire time in 'hpexpireat' command"), "HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"),
		colDo(colErr("ERR Number of fields must be a positive integer"), "HTTL", "h", "FIELDS", "0", "a"),
		colDo(colErr("ERR The `numfields` parameter must match the number of arguments"), "HTTL", "h", "FIELDS", "2", "a"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HTTL", "h", "FIELD", "1", "a"),
		colDo(colErr("ERR Number of fields must be a positive integer"), "HPERSIST", "h", "FIELDS", "-1", "a"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HPERSIST", "h", "X", "1", "a"),
	})
}

// TestHashFieldExpiryVisibility: an expired field is gone for every command at once, and the
// sweeper reclaims it — and the key with the last field — without any read.
func TestHashFieldExpiryVisibility(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("HSET", "h", "a", "1", "b", "2", "c", "3")
	c.Do("HSET", "other", "x", "1")
	if got := c.Do("HPEXPIRE", "h", "100", "FIELDS", "2", "a", "b"); got != colInts(1, 1) {
		t.Fatalf("HPEXPIRE = %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Do("HEXISTS", "h", "a") != colInt(0) {
		if time.Now().After(deadline) {
			t.Fatal("field with a 100 ms expiry still visible after 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"HGET", "h", "a"}, colNull2},
		{[]string{"HMGET", "h", "a", "b", "c"}, colArr(colNull2, colNull2, colBulk("3"))},
		{[]string{"HGETALL", "h"}, colBulks("c", "3")},
		{[]string{"HKEYS", "h"}, colBulks("c")},
		{[]string{"HVALS", "h"}, colBulks("3")},
		{[]string{"HSTRLEN", "h", "a"}, colInt(0)},
		{[]string{"HTTL", "h", "FIELDS", "2", "a", "c"}, colInts(-2, -1)},
		{[]string{"HPERSIST", "h", "FIELDS", "1", "a"}, colInts(-2)},
		{[]string{"HEXPIRE", "h", "10", "FIELDS", "1", "a"}, colInts(-2)},
		{[]string{"HLEN", "h"}, colInt(1)},
		{[]string{"HRANDFIELD", "h", "5"}, colBulks("c")},
		{[]string{"HSCAN", "h", "0"}, colArr(colBulk("0"), colBulks("c", "3"))},
		{[]string{"HGETDEL", "h", "FIELDS", "1", "a"}, colArr(colNull2)},
		{[]string{"HDEL", "h", "b"}, colInt(0)},
		{[]string{"HSETNX", "h", "a", "new"}, colInt(1)},
		{[]string{"HGET", "h", "a"}, colBulk("new")},
		{[]string{"HLEN", "h"}, colInt(2)},
	}
	for _, ch := range checks {
		if got := c.Do(ch.args...); got != ch.want {
			t.Fatalf("%v = %q, want %q", ch.args, got, ch.want)
		}
	}
	// The last fields expire: the sweeper deletes the key.
	if got := c.Do("HPEXPIRE", "h", "50", "FIELDS", "2", "a", "c"); got != colInts(1, 1) {
		t.Fatalf("HPEXPIRE = %q", got)
	}
	deadline = time.Now().Add(5 * time.Second)
	for c.Do("EXISTS", "h") != colInt(0) {
		if time.Now().After(deadline) {
			t.Fatal("hash whose fields all expired still exists after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := c.Do("HGET", "other", "x"); got != colBulk("1") {
		t.Fatalf("unrelated hash: HGET = %q", got)
	}
}

// TestHashFieldExpirySurvivesRestart: field expiries are stored with the data.
func TestHashFieldExpirySurvivesRestart(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "always")
	c := srv.Dial()
	c.Do("HSET", "h", "a", "1", "b", "2")
	c.Do("HEXPIREAT", "h", "4102444800", "FIELDS", "1", "a")
	c.Do("HPEXPIRE", "h", "300", "FIELDS", "1", "b")
	srv.Kill()
	srv.Restart()
	c = srv.Dial()
	if got := c.Do("HEXPIRETIME", "h", "FIELDS", "1", "a"); got != colInts(4102444800) {
		t.Fatalf("HEXPIRETIME after restart = %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Do("HLEN", "h") != colInt(1) {
		if time.Now().After(deadline) {
			t.Fatal("field with a 300 ms expiry still counted 5 s after a restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHashGetExSetExGetDel(t *testing.T) {
	n2, n3 := colNull2, colNull3
	colRun(t, []colStep{
		colDo(colInt(1), "HSETEX", "h", "EX", "100", "FIELDS", "2", "a", "1", "b", "2"),
		colDo(colInts(100, 100), "HTTL", "h", "FIELDS", "2", "a", "b"),
		colDo(colInt(0), "HSETEX", "h", "FNX", "FIELDS", "1", "a", "5"),
		colDo(colInt(0), "HSETEX", "h", "FXX", "FIELDS", "2", "a", "5", "c", "6"),
		colDo(colInt(1), "HSETEX", "h", "FXX", "KEEPTTL", "FIELDS", "1", "a", "7"),
		colDo(colInts(100), "HTTL", "h", "FIELDS", "1", "a"),
		colDo(colBulk("7"), "HGET", "h", "a"),
		colDo(colInt(1), "HSETEX", "h", "FIELDS", "1", "a", "8"),
		colDo(colInts(-1), "HTTL", "h", "FIELDS", "1", "a"),
		colDo(colInt(1), "HSETEX", "h", "FNX", "PXAT", "4102444800000", "FIELDS", "1", "c", "9"),
		colDo(colInts(4102444800000), "HPEXPIRETIME", "h", "FIELDS", "1", "c"),
		colDo(colInt(1), "HSETEX", "h", "PX", "0", "FIELDS", "1", "z", "1"),
		colDo(colInt(0), "HEXISTS", "h", "z"),
		colDo(colInt(0), "HSETEX", "nokey", "FXX", "FIELDS", "1", "a", "1"),
		colDo(colInt(0), "EXISTS", "nokey"),
		colDo(colErr("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"), "HSETEX", "h", "EX", "10", "PX", "10", "FIELDS", "1", "a", "1"),
		colDo(colErr("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"), "HSETEX", "h", "KEEPTTL", "EX", "10", "FIELDS", "1", "a", "1"),
		colDo(colErr("ERR Only one of FXX or FNX arguments can be specified"), "HSETEX", "h", "FNX", "FXX", "FIELDS", "1", "a", "1"),
		colDo(colWrongArgs("hsetex"), "HSETEX", "h", "FIELDS", "2", "a", "1"),
		colDo(colWrongArgs("hsetex"), "HSETEX", "h", "FIELDS", "1", "a", "1", "b"),
		colDo(colErr("ERR invalid number of fields"), "HSETEX", "h", "FIELDS", "0", "a", "1"),
		colDo(colErr("ERR unknown argument: BOGUS"), "HSETEX", "h", "BOGUS", "FIELDS", "1", "a", "1"),
		colDo(colErr("ERR invalid expire time, must be >= 0"), "HSETEX", "h", "EX", "-5", "FIELDS", "1", "a", "1"),
		colDo(colErr("ERR value is not an integer or out of range"), "HSETEX", "h", "EX", "FIELDS", "1", "a", "1"),
		// HGETEX
		colDo23(colArr(colBulk("8"), n2), colArr(colBulk("8"), n3), "HGETEX", "h", "EX", "50", "FIELDS", "2", "a", "nofield"),
		colDo(colInts(50), "HTTL", "h", "FIELDS", "1", "a"),
		colDo(colBulks("8"), "HGETEX", "h", "PERSIST", "FIELDS", "1", "a"),
		colDo(colInts(-1), "HTTL", "h", "FIELDS", "1", "a"),
		colDo(colBulks("8", "2"), "HGETEX", "h", "FIELDS", "2", "a", "b"),
		colDo(colBulks("8"), "HGETEX", "h", "PXAT", "4102444800000", "FIELDS", "1", "a"),
		colDo(colInts(4102444800000), "HPEXPIRETIME", "h", "FIELDS", "1", "a"),
		colDo(colBulks("8"), "HGETEX", "h", "EXAT", "1", "FIELDS", "1", "a"),
		colDo(colInt(0), "HEXISTS", "h", "a"),
		colDo23(colArr(n2, n2), colArr(n3, n3), "HGETEX", "nokey", "FIELDS", "2", "a", "b"),
		colDo(colErr("ERR Number of fields must be a positive integer"), "HGETEX", "h", "FIELDS", "0", "a"),
		colDo(colErr("ERR The `numfields` parameter must match the number of arguments"), "HGETEX", "h", "EX", "10", "FIELDS", "2", "a"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HGETEX", "h", "BOGUS", "1", "a"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HGETEX", "h", "PERSIST", "EX", "1", "a"),
		colDo(colErr("ERR invalid expire time, must be >= 0"), "HGETEX", "h", "PX", "-1", "FIELDS", "1", "a"),
		// HGETDEL
		colDo(colInt(2), "HSET", "g", "a", "1", "b", "2"),
		colDo23(colArr(colBulk("1"), n2, n2), colArr(colBulk("1"), n3, n3), "HGETDEL", "g", "FIELDS", "3", "a", "nofield", "a"),
		colDo(colInt(0), "HEXISTS", "g", "a"),
		colDo(colBulks("2"), "HGETDEL", "g", "FIELDS", "1", "b"),
		colDo(colInt(0), "EXISTS", "g"),
		colDo23(colArr(n2), colArr(n3), "HGETDEL", "g", "FIELDS", "1", "b"),
		colDo(colErr("ERR Number of fields must be a positive integer"), "HGETDEL", "g", "FIELDS", "0", "b"),
		colDo(colErr("ERR The `numfields` parameter must match the number of arguments"), "HGETDEL", "g", "FIELDS", "2", "b"),
		colDo(colErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "HGETDEL", "g", "FIELD", "1", "b"),
	})
}

// colFillHash writes n fields f000000..=v000000.. in pipelined HSETs.
func colFillHash(t *testing.T, c *servertest.Conn, key string, n int) {
	t.Helper()
	for start := 0; start < n; start += 500 {
		args := []string{"HSET", key}
		for i := start; i < min(n, start+500); i++ {
			args = append(args, fmt.Sprintf("f%06d", i), fmt.Sprintf("v%06d", i))
		}
		if got := c.Do(args...); !strings.HasPrefix(got, ":") {
			t.Fatalf("HSET = %q", got)
		}
	}
}

func TestHRandField(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := colDial(t, servertest.Start(t), proto)
			for _, n := range []int{5, 3000} { // read whole, then sampled by seeks
				key := fmt.Sprintf("h%d", n)
				colFillHash(t, c, key, n)
				colCheckRandFields(t, c, key, n, proto)
			}
			null := colNull2
			if proto == 3 {
				null = colNull3
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"HRANDFIELD", "nokey"}, null},
				{[]string{"HRANDFIELD", "nokey", "5"}, "*0\r\n"},
				{[]string{"HRANDFIELD", "nokey", "-5", "WITHVALUES"}, "*0\r\n"},
				{[]string{"HRANDFIELD", "h5", "0"}, "*0\r\n"},
				{[]string{"HRANDFIELD", "h5", "0", "WITHVALUES"}, "*0\r\n"},
				{[]string{"HRANDFIELD", "h5", "1", "WITHVALUES", "x"}, colErr("ERR syntax error")},
				{[]string{"HRANDFIELD", "h5", "1", "WITHVALUE"}, colErr("ERR syntax error")},
				{[]string{"HRANDFIELD", "h5", "x"}, colErr("ERR value is not an integer or out of range")},
				{[]string{"HRANDFIELD", "h5", "-9223372036854775808"}, colErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
				{[]string{"HRANDFIELD", "h5", "4611686018427387904", "WITHVALUES"}, colErr("ERR value is out of range")},
				{[]string{"HRANDFIELD", "h5", "-4611686018427387904", "WITHVALUES"}, colErr("ERR value is out of range")},
			} {
				if got := c.Do(tc.args...); got != tc.want {
					t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
				}
			}
		})
	}
}

func colCheckRandFields(t *testing.T, c *servertest.Conn, key string, n, proto int) {
	t.Helper()
	valid := func(f string) bool {
		i, err := strconv.Atoi(strings.TrimPrefix(f, "f"))
		return err == nil && strings.HasPrefix(f, "f") && i >= 0 && i < n
	}
	one := colParse(t, c.Do("HRANDFIELD", key))
	if one.kind != '$' || !valid(one.str) {
		t.Fatalf("HRANDFIELD %s = %+v", key, one)
	}
	for _, count := range []int{3, n - 1, n, n + 10, -7, -(n + 10)} {
		r := colParse(t, c.Do("HRANDFIELD", key, strconv.Itoa(count)))
		fields := r.strs(t)
		wantLen := min(count, n)
		if count < 0 {
			wantLen = -count
		}
		if len(fields) != wantLen {
			t.Fatalf("HRANDFIELD %s %d returned %d fields, want %d", key, count, len(fields), wantLen)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			if !valid(f) {
				t.Fatalf("HRANDFIELD %s %d returned %q", key, count, f)
			}
			if count > 0 && seen[f] {
				t.Fatalf("HRANDFIELD %s %d returned %q twice", key, count, f)
			}
			seen[f] = true
		}
		// WITHVALUES: pairs, flat in RESP2, nested in RESP3.
		r = colParse(t, c.Do("HRANDFIELD", key, strconv.Itoa(count), "WITHVALUES"))
		var pairs [][2]string
		if proto == 2 {
			flat := r.strs(t)
			for i := 0; i+1 < len(flat); i += 2 {
				pairs = append(pairs, [2]string{flat[i], flat[i+1]})
			}
			if len(flat) != 2*wantLen {
				t.Fatalf("HRANDFIELD %s %d WITHVALUES returned %d items, want %d", key, count, len(flat), 2*wantLen)
			}
		} else {
			for _, p := range r.items {
				kv := p.strs(t)
				if p.kind != '*' || len(kv) != 2 {
					t.Fatalf("RESP3 HRANDFIELD WITHVALUES item %+v is not a pair", p)
				}
				pairs = append(pairs, [2]string{kv[0], kv[1]})
			}
		}
		if len(pairs) != wantLen {
			t.Fatalf("HRANDFIELD %s %d WITHVALUES returned %d pairs, want %d", key, count, len(pairs), wantLen)
		}
		for _, p := range pairs {
			if !valid(p[0]) || p[1] != "v"+p[0][1:] {
				t.Fatalf("HRANDFIELD WITHVALUES pair %v", p)
			}
		}
	}
}

// TestHScan iterates hashes small and large, with MATCH, COUNT and NOVALUES, and while fields
// are added and removed: every field present from start to end is returned.
func TestHScan(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	colFillHash(t, c, "h", 2000)
	scan := func(extra ...string) (fields, values []string) {
		t.Helper()
		cursor := "0"
		for i := 0; ; i++ {
			if i > 10000 {
				t.Fatal("HSCAN did not finish")
			}
			r := colParse(t, c.Do(append([]string{"HSCAN", "h", cursor}, extra...)...))
			if r.kind != '*' || len(r.items) != 2 {
				t.Fatalf("HSCAN reply %+v", r)
			}
			cursor = r.items[0].str
			items := r.items[1].strs(t)
			if slices.Contains(extra, "NOVALUES") {
				fields = append(fields, items...)
			} else {
				for j := 0; j+1 < len(items); j += 2 {
					fields = append(fields, items[j])
					values = append(values, items[j+1])
				}
			}
			if cursor == "0" {
				return fields, values
			}
		}
	}
	fields, values := scan("COUNT", "17")
	if len(fields) != 2000 || !sort.StringsAreSorted(fields) {
		t.Fatalf("HSCAN COUNT 17 returned %d fields (sorted %v), want 2000 distinct", len(fields), sort.StringsAreSorted(fields))
	}
	for i, f := range fields {
		if f != fmt.Sprintf("f%06d", i) || values[i] != fmt.Sprintf("v%06d", i) {
			t.Fatalf("HSCAN item %d = %s=%s", i, f, values[i])
		}
	}
	fields, _ = scan("MATCH", "f0001*", "COUNT", "3")
	if len(fields) != 100 || fields[0] != "f000100" || fields[99] != "f000199" {
		t.Fatalf("HSCAN MATCH f0001* returned %d fields: %v...", len(fields), fields[:min(3, len(fields))])
	}
	fields, values = scan("NOVALUES", "MATCH", "*99")
	if len(fields) != 20 || values != nil {
		t.Fatalf("HSCAN NOVALUES MATCH *99 returned %d fields and %d values", len(fields), len(values))
	}
	// Changes during a scan.
	seen := map[string]bool{}
	cursor := "0"
	for i := 0; ; i++ {
		r := colParse(t, c.Do("HSCAN", "h", cursor, "COUNT", "50", "NOVALUES"))
		cursor = r.items[0].str
		for _, f := range r.items[1].strs(t) {
			seen[f] = true
		}
		c.Do("HSET", "h", fmt.Sprintf("g%d", i), "x", fmt.Sprintf("a%d", i), "x")
		c.Do("HDEL", "h", fmt.Sprintf("f%06d", 1999-i))
		if cursor == "0" {
			break
		}
	}
	for i := 0; i < 1999-60; i++ {
		if f := fmt.Sprintf("f%06d", i); !seen[f] {
			t.Fatalf("HSCAN with concurrent changes missed %s", f)
		}
	}
	// A hash Redis keeps as a listpack comes back whole, whatever COUNT says.
	c.Do("HSET", "small", "a", "1", "b", "2", "c", "3")
	if got := c.Do("HSCAN", "small", "0", "COUNT", "1"); got != colArr(colBulk("0"), colBulks("a", "1", "b", "2", "c", "3")) {
		t.Fatalf("HSCAN of a small hash = %q", got)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"HSCAN", "h", "x"}, colErr("ERR invalid cursor")},
		{[]string{"HSCAN", "h", "-1"}, colErr("ERR invalid cursor")},
		{[]string{"HSCAN", "h", "18446744073709551616"}, colErr("ERR invalid cursor")},
		{[]string{"HSCAN", "h", "0", "COUNT", "0"}, colErr("ERR syntax error")},
		{[]string{"HSCAN", "h", "0", "COUNT", "x"}, colErr("ERR value is not an integer or out of range")},
		{[]string{"HSCAN", "h", "0", "MATCH"}, colErr("ERR syntax error")},
		{[]string{"HSCAN", "h", "0", "BOGUS"}, colErr("ERR syntax error")},
		{[]string{"HSCAN", "nokey", "0", "BOGUS"}, colArr(colBulk("0"), "*0\r\n")},
		{[]string{"HSCAN", "h", "0", "MATCH", "nomatch*"}, colArr(colBulk("0"), "*0\r\n")},
	} {
		if got := c.Do(tc.args...); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestHScanUnknownCursor: a cursor the server does not know (issued before a restart, or made
// up) starts the scan over, so nothing is skipped.
func TestHScanUnknownCursor(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("HSET", "h", "aaa1", "1", "bbb1", "2", "bbb2", "3", "ccc", "4")
	r := colParse(t, c.Do("HSCAN", "h", "123456789", "NOVALUES"))
	got := r.items[1].strs(t)
	if strings.Join(got, ",") != "aaa1,bbb1,bbb2,ccc" || r.items[0].str != "0" {
		t.Fatalf("HSCAN from an unknown cursor = %v, cursor %s; want every field and 0", got, r.items[0].str)
	}
}

// TestHashObjectEncoding: OBJECT ENCODING names what Redis would use for a hash with the same
// history, following CONFIG SET of the thresholds.
func TestHashObjectEncoding(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	enc := func(key, want string) {
		t.Helper()
		if got := c.Do("OBJECT", "ENCODING", key); got != colBulk(want) {
			t.Fatalf("OBJECT ENCODING %s = %q, want %s", key, got, want)
		}
	}
	colFillHash(t, c, "small", 128)
	enc("small", "listpack")
	c.Do("HSET", "small", "one", "more")
	enc("small", "hashtable")
	c.Do("HDEL", "small", "one", "f000000", "f000001")
	enc("small", "hashtable") // Redis never converts back
	c.Do("HSET", "long", "f", strings.Repeat("v", 64))
	enc("long", "listpack")
	c.Do("HSET", "long", "g", strings.Repeat("v", 65))
	enc("long", "hashtable")
	c.Do("HSET", "ttl", "f", "v")
	c.Do("HEXPIRE", "ttl", "100", "FIELDS", "1", "f")
	enc("ttl", "listpackex")
	c.Do("CONFIG", "SET", "hash-max-listpack-entries", "1")
	c.Do("HSET", "two", "a", "1", "b", "2")
	enc("two", "hashtable")
}
