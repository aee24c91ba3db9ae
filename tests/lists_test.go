package tests

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// List commands against the real server. Expected replies were checked against Redis (7.0 on
// this machine, 7.4 source for what changed since); blocking is in lists_blocking_test.go.

func bulks(items ...string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = bulk(s)
	}
	return array(out...)
}

const (
	nullArray      = "*-1\r\n"
	emptyArr       = "*0\r\n"
	wrongTypeReply = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	syntaxErr      = "-ERR syntax error\r\n"
	notInt         = "-ERR value is not an integer or out of range\r\n"
)

func TestListsPushPopRange(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("LPUSH", "l", "c", "b", "a"), integer(3)},
		{cmd("RPUSH", "l", "d", "e"), integer(5)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("a", "b", "c", "d", "e")},
		{cmd("LLEN", "l"), integer(5)},
		{cmd("LPUSHX", "l", "z"), integer(6)},
		{cmd("RPUSHX", "l", "y", "x"), integer(8)},
		{cmd("LPUSHX", "missing", "a"), integer(0)},
		{cmd("RPUSHX", "missing", "a", "b"), integer(0)},
		{cmd("EXISTS", "missing"), integer(0)},
		{cmd("LPOP", "l"), bulk("z")},
		{cmd("RPOP", "l"), bulk("x")},
		{cmd("LPOP", "l", "2"), bulks("a", "b")},
		{cmd("RPOP", "l", "2"), bulks("y", "e")},
		{cmd("LPOP", "l", "0"), emptyArr},
		{cmd("LRANGE", "l", "0", "-1"), bulks("c", "d")},
		{cmd("RPOP", "l", "100"), bulks("d", "c")},
		{cmd("EXISTS", "l"), integer(0)},
		{cmd("LPOP", "l"), nilBulk},
		{cmd("LPOP", "l", "1"), nullArray},
		{cmd("LPOP", "l", "0"), nullArray},
		{cmd("RPOP", "l", "5"), nullArray},
		{cmd("LLEN", "l"), integer(0)},
		{cmd("LRANGE", "l", "0", "-1"), emptyArr},
		// Integers and empty strings are elements like any other.
		{cmd("RPUSH", "n", "1", "", "-0", "007", "9223372036854775808"), integer(5)},
		{cmd("LRANGE", "n", "0", "-1"), bulks("1", "", "-0", "007", "9223372036854775808")},
	})
}

func TestListsIndexes(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{{cmd("RPUSH", "l", "a", "b", "c", "d", "e"), integer(5)}})
	tests := []struct {
		start, stop string
		want        string
	}{
		{"0", "-1", bulks("a", "b", "c", "d", "e")},
		{"1", "3", bulks("b", "c", "d")},
		{"-2", "-1", bulks("d", "e")},
		{"-100", "1", bulks("a", "b")},
		{"3", "100", bulks("d", "e")},
		{"4", "4", bulks("e")},
		{"5", "10", emptyArr},
		{"3", "2", emptyArr},
		{"-1", "-2", emptyArr},
		{"0", "-6", emptyArr},
		{"-9223372036854775808", "9223372036854775807", bulks("a", "b", "c", "d", "e")},
		{"9223372036854775807", "-9223372036854775808", emptyArr},
	}
	for _, tt := range tests {
		runScript(t, c, []step{{cmd("LRANGE", "l", tt.start, tt.stop), tt.want}})
	}
	runScript(t, c, []step{
		{cmd("LINDEX", "l", "0"), bulk("a")},
		{cmd("LINDEX", "l", "4"), bulk("e")},
		{cmd("LINDEX", "l", "-1"), bulk("e")},
		{cmd("LINDEX", "l", "-5"), bulk("a")},
		{cmd("LINDEX", "l", "5"), nilBulk},
		{cmd("LINDEX", "l", "-6"), nilBulk},
		{cmd("LINDEX", "l", "9223372036854775807"), nilBulk},
		{cmd("LINDEX", "l", "-9223372036854775808"), nilBulk},
		{cmd("LINDEX", "l", "x"), notInt},
		{cmd("LINDEX", "l", "1.0"), notInt},
		{cmd("LINDEX", "missing", "x"), nilBulk}, // the key is looked up first
		{cmd("LSET", "l", "0", "A"), ok},
		{cmd("LSET", "l", "-1", "E"), ok},
		{cmd("LSET", "l", "2", ""), ok},
		{cmd("LRANGE", "l", "0", "-1"), bulks("A", "b", "", "d", "E")},
		{cmd("LSET", "l", "5", "x"), "-ERR index out of range\r\n"},
		{cmd("LSET", "l", "-6", "x"), "-ERR index out of range\r\n"},
		{cmd("LSET", "l", "9223372036854775807", "x"), "-ERR index out of range\r\n"},
		{cmd("LSET", "l", "x", "x"), notInt},
		{cmd("LSET", "missing", "0", "x"), "-ERR no such key\r\n"},
		{cmd("LSET", "missing", "x", "x"), "-ERR no such key\r\n"},
		{cmd("LRANGE", "l", "x", "1"), notInt},
		{cmd("LRANGE", "l", "0", "1.5"), notInt},
		{cmd("LRANGE", "missing", "x", "1"), notInt}, // the indexes are parsed first
	})
}

func TestListsInsertRemTrim(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RPUSH", "l", "a", "b", "c", "b", "a"), integer(5)},
		{cmd("LINSERT", "l", "BEFORE", "b", "x"), integer(6)},
		{cmd("LINSERT", "l", "after", "b", "y"), integer(7)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("a", "x", "b", "y", "c", "b", "a")},
		{cmd("LINSERT", "l", "before", "a", "head"), integer(8)},
		{cmd("LINSERT", "l", "after", "a", "second"), integer(9)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("head", "a", "second", "x", "b", "y", "c", "b", "a")},
		{cmd("LINSERT", "l", "before", "zz", "x"), integer(-1)},
		{cmd("LINSERT", "missing", "before", "a", "x"), integer(0)},
		{cmd("LINSERT", "l", "middle", "a", "x"), syntaxErr},
		{cmd("LINSERT", "missing", "middle", "a", "x"), syntaxErr},
		// LREM from the head, from the tail, all.
		{cmd("DEL", "l"), integer(1)},
		{cmd("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"), integer(7)},
		{cmd("LREM", "l", "1", "a"), integer(1)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("b", "a", "c", "a", "b", "a")},
		{cmd("LREM", "l", "-2", "a"), integer(2)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("b", "a", "c", "b")},
		{cmd("LREM", "l", "0", "b"), integer(2)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("a", "c")},
		{cmd("LREM", "l", "5", "zz"), integer(0)},
		{cmd("LREM", "l", "0", "a"), integer(1)},
		{cmd("LREM", "l", "-1", "c"), integer(1)},
		{cmd("EXISTS", "l"), integer(0)},
		{cmd("LREM", "l", "0", "a"), integer(0)},
		{cmd("LREM", "l", "x", "a"), notInt},
		{cmd("LREM", "l", "-9223372036854775808", "a"), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
		{cmd("LREM", "l", "9223372036854775807", "a"), integer(0)},
		// LTRIM keeps a range; out-of-range bounds empty the list.
		{cmd("RPUSH", "t", "a", "b", "c", "d", "e", "f"), integer(6)},
		{cmd("LTRIM", "t", "1", "-2"), ok},
		{cmd("LRANGE", "t", "0", "-1"), bulks("b", "c", "d", "e")},
		{cmd("LTRIM", "t", "-100", "100"), ok},
		{cmd("LRANGE", "t", "0", "-1"), bulks("b", "c", "d", "e")},
		{cmd("LTRIM", "t", "0", "0"), ok},
		{cmd("LRANGE", "t", "0", "-1"), bulks("b")},
		{cmd("LTRIM", "t", "1", "0"), ok},
		{cmd("EXISTS", "t"), integer(0)},
		{cmd("LTRIM", "t", "0", "1"), ok},
		{cmd("RPUSH", "t", "a", "b"), integer(2)},
		{cmd("LTRIM", "t", "5", "10"), ok},
		{cmd("EXISTS", "t"), integer(0)},
		{cmd("LTRIM", "t", "x", "1"), notInt},
		{cmd("LTRIM", "t", "0", "9223372036854775808"), notInt},
	})
}

func TestListsLPos(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	rankZero := "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
	ints := func(ns ...int64) string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = integer(n)
		}
		return array(out...)
	}
	runScript(t, c, []step{
		{cmd("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"), integer(8)},
		{cmd("LPOS", "l", "c"), integer(2)},
		{cmd("LPOS", "l", "zz"), nilBulk},
		{cmd("LPOS", "l", "c", "RANK", "2"), integer(6)},
		{cmd("LPOS", "l", "c", "RANK", "-1"), integer(7)},
		{cmd("LPOS", "l", "c", "RANK", "-3"), integer(2)},
		{cmd("LPOS", "l", "c", "RANK", "4"), nilBulk},
		{cmd("LPOS", "l", "c", "COUNT", "0"), ints(2, 6, 7)},
		{cmd("LPOS", "l", "c", "COUNT", "2"), ints(2, 6)},
		{cmd("LPOS", "l", "c", "COUNT", "2", "RANK", "-1"), ints(7, 6)},
		{cmd("LPOS", "l", "c", "RANK", "2", "COUNT", "0"), ints(6, 7)},
		{cmd("LPOS", "l", "zz", "COUNT", "0"), emptyArr},
		{cmd("LPOS", "l", "c", "MAXLEN", "3"), integer(2)},
		{cmd("LPOS", "l", "c", "MAXLEN", "2"), nilBulk},
		{cmd("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"), integer(7)},
		{cmd("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"), ints(2, 6)},
		{cmd("LPOS", "l", "c", "COUNT", "0", "RANK", "-1", "MAXLEN", "2"), ints(7, 6)},
		{cmd("LPOS", "l", "c", "rank", "1", "rank", "2"), integer(6)}, // the last one wins
		{cmd("LPOS", "missing", "c"), nilBulk},
		{cmd("LPOS", "missing", "c", "COUNT", "1"), emptyArr},
		{cmd("LPOS", "l", "c", "RANK", "0"), rankZero},
		{cmd("LPOS", "l", "c", "RANK", "x"), notInt},
		{cmd("LPOS", "l", "c", "RANK", "-9223372036854775808"), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
		{cmd("LPOS", "l", "c", "COUNT", "-1"), "-ERR COUNT can't be negative\r\n"},
		{cmd("LPOS", "l", "c", "COUNT", "x"), "-ERR COUNT can't be negative\r\n"},
		{cmd("LPOS", "l", "c", "MAXLEN", "-1"), "-ERR MAXLEN can't be negative\r\n"},
		{cmd("LPOS", "l", "c", "MAXLEN", "x"), "-ERR MAXLEN can't be negative\r\n"},
		{cmd("LPOS", "l", "c", "FOO"), syntaxErr},
		{cmd("LPOS", "l", "c", "RANK"), syntaxErr},
		{cmd("LPOS", "missing", "c", "RANK", "0"), rankZero}, // options are checked first
	})
	c.Do("HELLO", "3")
	runScript(t, c, []step{
		{cmd("LPOS", "missing", "c"), null3},
		{cmd("LPOS", "l", "zz"), null3},
		{cmd("LPOS", "missing", "c", "COUNT", "1"), emptyArr},
	})
}

func TestListsMove(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RPUSH", "s", "1", "2", "3", "4"), integer(4)},
		{cmd("LMOVE", "s", "d", "LEFT", "LEFT"), bulk("1")},
		{cmd("LMOVE", "s", "d", "right", "left"), bulk("4")},
		{cmd("LMOVE", "s", "d", "LEFT", "RIGHT"), bulk("2")},
		{cmd("RPOPLPUSH", "s", "d"), bulk("3")},
		{cmd("EXISTS", "s"), integer(0)},
		{cmd("LRANGE", "d", "0", "-1"), bulks("3", "4", "1", "2")},
		{cmd("LMOVE", "d", "s", "RIGHT", "RIGHT"), bulk("2")},
		{cmd("LRANGE", "s", "0", "-1"), bulks("2")},
		{cmd("LMOVE", "missing", "d", "LEFT", "LEFT"), nilBulk},
		{cmd("RPOPLPUSH", "missing", "d"), nilBulk},
		{cmd("EXISTS", "missing"), integer(0)},
		{cmd("LMOVE", "s", "d", "UP", "LEFT"), syntaxErr},
		{cmd("LMOVE", "s", "d", "LEFT", "DOWN"), syntaxErr},
		{cmd("LMOVE", "missing", "d", "UP", "LEFT"), syntaxErr},
		// Rotation: the same list as source and destination.
		{cmd("DEL", "d", "s"), integer(2)},
		{cmd("RPUSH", "r", "a", "b", "c"), integer(3)},
		{cmd("RPOPLPUSH", "r", "r"), bulk("c")},
		{cmd("LRANGE", "r", "0", "-1"), bulks("c", "a", "b")},
		{cmd("LMOVE", "r", "r", "LEFT", "RIGHT"), bulk("c")},
		{cmd("LRANGE", "r", "0", "-1"), bulks("a", "b", "c")},
		{cmd("LMOVE", "r", "r", "LEFT", "LEFT"), bulk("a")},
		{cmd("LMOVE", "r", "r", "RIGHT", "RIGHT"), bulk("c")},
		{cmd("LRANGE", "r", "0", "-1"), bulks("a", "b", "c")},
		{cmd("RPUSH", "one", "x"), integer(1)},
		{cmd("RPOPLPUSH", "one", "one"), bulk("x")},
		{cmd("LRANGE", "one", "0", "-1"), bulks("x")},
		// The destination's type is checked before anything moves.
		{cmd("SET", "str", "v"), ok},
		{cmd("LMOVE", "r", "str", "LEFT", "LEFT"), wrongTypeReply},
		{cmd("RPOPLPUSH", "r", "str"), wrongTypeReply},
		{cmd("LRANGE", "r", "0", "-1"), bulks("a", "b", "c")},
		{cmd("RPOPLPUSH", "str", "r"), wrongTypeReply},
		{cmd("RPOPLPUSH", "missing", "str"), nilBulk}, // a missing source ends it first
	})
}

func TestListsLMPop(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RPUSH", "b", "1", "2", "3"), integer(3)},
		{cmd("LMPOP", "2", "a", "b", "LEFT"), array(bulk("b"), bulks("1"))},
		{cmd("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"), array(bulk("b"), bulks("3", "2"))},
		{cmd("EXISTS", "b"), integer(0)},
		{cmd("LMPOP", "2", "a", "b", "LEFT"), nullArray},
		{cmd("RPUSH", "a", "x", "y"), integer(2)},
		{cmd("LMPOP", "1", "a", "left", "count", "1"), array(bulk("a"), bulks("x"))},
		{cmd("LMPOP", "0", "a", "LEFT"), "-ERR numkeys should be greater than 0\r\n"},
		{cmd("LMPOP", "x", "a", "LEFT"), "-ERR numkeys should be greater than 0\r\n"},
		{cmd("LMPOP", "2", "a", "LEFT"), syntaxErr},
		{cmd("LMPOP", "9223372036854775807", "a", "LEFT"), syntaxErr},
		{cmd("LMPOP", "1", "a", "MIDDLE"), syntaxErr},
		{cmd("LMPOP", "1", "a", "LEFT", "COUNT"), syntaxErr},
		{cmd("LMPOP", "1", "a", "LEFT", "COUNT", "0"), "-ERR count should be greater than 0\r\n"},
		{cmd("LMPOP", "1", "a", "LEFT", "COUNT", "x"), "-ERR count should be greater than 0\r\n"},
		{cmd("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"), syntaxErr},
		{cmd("LMPOP", "1", "a", "LEFT", "FOO"), syntaxErr},
		{cmd("SET", "s", "v"), ok},
		{cmd("LMPOP", "2", "missing", "s", "LEFT"), wrongTypeReply},
		{cmd("LMPOP", "2", "a", "s", "LEFT"), array(bulk("a"), bulks("y"))}, // a list before it: served
	})
	c.Do("HELLO", "3")
	runScript(t, c, []step{{cmd("LMPOP", "1", "missing", "LEFT"), null3}})
}

func TestListsErrors(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	arity := func(name string) string { return errReply("ERR wrong number of arguments for '" + name + "' command") }
	runScript(t, c, []step{
		{cmd("LPUSH", "l"), arity("lpush")},
		{cmd("RPUSH", "l"), arity("rpush")},
		{cmd("LPUSHX", "l"), arity("lpushx")},
		{cmd("RPUSHX", "l"), arity("rpushx")},
		{cmd("LPOP"), arity("lpop")},
		{cmd("LPOP", "l", "1", "2"), arity("lpop")},
		{cmd("RPOP", "l", "1", "2"), arity("rpop")},
		{cmd("LLEN"), arity("llen")},
		{cmd("LLEN", "a", "b"), arity("llen")},
		{cmd("LINDEX", "l"), arity("lindex")},
		{cmd("LSET", "l", "0"), arity("lset")},
		{cmd("LRANGE", "l", "0"), arity("lrange")},
		{cmd("LTRIM", "l", "0"), arity("ltrim")},
		{cmd("LINSERT", "l", "before", "a"), arity("linsert")},
		{cmd("LREM", "l", "0"), arity("lrem")},
		{cmd("LPOS", "l"), arity("lpos")},
		{cmd("LMOVE", "a", "b", "left"), arity("lmove")},
		{cmd("RPOPLPUSH", "a"), arity("rpoplpush")},
		{cmd("LMPOP", "1", "a"), arity("lmpop")},
		{cmd("BLPOP", "a"), arity("blpop")},
		{cmd("BRPOP", "a"), arity("brpop")},
		{cmd("BLMOVE", "a", "b", "left", "left"), arity("blmove")},
		{cmd("BRPOPLPUSH", "a", "b"), arity("brpoplpush")},
		{cmd("BLMPOP", "0", "1", "a"), arity("blmpop")},
		{cmd("LPOP", "l", "-1"), "-ERR value is out of range, must be positive\r\n"},
		{cmd("LPOP", "l", "x"), "-ERR value is out of range, must be positive\r\n"},
		{cmd("RPOP", "l", "9223372036854775808"), "-ERR value is out of range, must be positive\r\n"},
	})
	// Every list command on a key of another type.
	runScript(t, c, []step{{cmd("SET", "s", "v"), ok}})
	for _, args := range [][]string{
		{"LPUSH", "s", "a"}, {"RPUSH", "s", "a"}, {"LPUSHX", "s", "a"}, {"RPUSHX", "s", "a"},
		{"LPOP", "s"}, {"RPOP", "s"}, {"LPOP", "s", "2"}, {"RPOP", "s", "0"}, {"LLEN", "s"},
		{"LINDEX", "s", "0"}, {"LINDEX", "s", "x"}, {"LSET", "s", "0", "a"}, {"LSET", "s", "x", "a"},
		{"LRANGE", "s", "0", "1"}, {"LTRIM", "s", "0", "1"}, {"LINSERT", "s", "before", "a", "b"},
		{"LREM", "s", "0", "a"}, {"LPOS", "s", "a"}, {"LPOS", "s", "a", "COUNT", "0"},
		{"LMOVE", "s", "d", "left", "left"}, {"RPOPLPUSH", "s", "d"}, {"LMPOP", "1", "s", "left"},
		{"BLPOP", "s", "0"}, {"BRPOP", "missing", "s", "0"}, {"BLMOVE", "s", "d", "left", "left", "0"},
		{"BRPOPLPUSH", "s", "d", "0"}, {"BLMPOP", "0", "1", "s", "left"},
	} {
		runScript(t, c, []step{{args, wrongTypeReply}})
	}
	runScript(t, c, []step{{cmd("GET", "s"), bulk("v")}})
}

// TestListsTimeoutErrors: blocking commands parse their timeout as Redis does, and in Redis's
// order relative to the other arguments.
func TestListsTimeoutErrors(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	notFloat := "-ERR timeout is not a float or out of range\r\n"
	negative := "-ERR timeout is negative\r\n"
	outOfRange := "-ERR timeout is out of range\r\n"
	runScript(t, c, []step{
		{cmd("BLPOP", "k", "x"), notFloat},
		{cmd("BLPOP", "k", ""), notFloat},
		{cmd("BLPOP", "k", " 1"), notFloat},
		{cmd("BLPOP", "k", "nan"), notFloat},
		{cmd("BRPOP", "k", "-1"), negative},
		{cmd("BRPOP", "k", "-0.5"), negative},
		{cmd("BRPOP", "k", "-inf"), negative},
		{cmd("BLPOP", "k", "inf"), outOfRange},
		{cmd("BLPOP", "k", "1e300"), outOfRange},
		{cmd("BLMOVE", "a", "b", "left", "left", "x"), notFloat},
		{cmd("BLMOVE", "a", "b", "up", "left", "x"), syntaxErr}, // directions first
		{cmd("BRPOPLPUSH", "a", "b", "-1"), negative},
		{cmd("BLMPOP", "x", "1", "a", "left"), notFloat},
		{cmd("BLMPOP", "-1", "1", "a", "left"), negative},
		{cmd("BLMPOP", "x", "0", "a", "left"), "-ERR numkeys should be greater than 0\r\n"}, // numkeys first
		{cmd("BLMPOP", "x", "1", "a", "up"), syntaxErr},
		{cmd("BLMPOP", "x", "1", "a", "left", "count", "0"), "-ERR count should be greater than 0\r\n"},
		{cmd("SET", "s", "v"), ok},
		{cmd("BLPOP", "s", "x"), notFloat}, // the timeout before the key
	})
}

func TestListsRESP3(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("HELLO", "3")
	runScript(t, c, []step{
		{cmd("LPOP", "missing"), null3},
		{cmd("LPOP", "missing", "1"), null3},
		{cmd("RPOP", "missing", "0"), null3},
		{cmd("LINDEX", "missing", "0"), null3},
		{cmd("LMOVE", "missing", "d", "left", "left"), null3},
		{cmd("RPUSH", "l", "a", "b"), integer(2)},
		{cmd("LINDEX", "l", "5"), null3},
		{cmd("LPOP", "l", "0"), emptyArr},
		{cmd("LPOP", "l", "1"), bulks("a")},
		{cmd("BLPOP", "l", "0"), array(bulk("l"), bulk("b"))},
	})
}

func TestListsEncoding(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	x80 := strings.Repeat("x", 80)
	enc := func(want string) step { return step{cmd("OBJECT", "ENCODING", "l"), bulk(want)} }
	for i := 0; i < 98; i++ {
		c.Do("RPUSH", "l", x80)
	}
	// A listpack holds 8 KB: 98 elements of 80 bytes take 7 + 98*83 = 8141 bytes.
	runScript(t, c, []step{
		enc("listpack"),
		{cmd("RPUSH", "l", x80), integer(99)},
		enc("quicklist"),
		// Back to a listpack only under 4 KB: 49 elements take 4074 bytes.
		{cmd("LTRIM", "l", "0", "49"), ok},
		enc("quicklist"),
		{cmd("RPOP", "l"), bulk(x80)},
		enc("listpack"),
		{cmd("LPUSH", "big", strings.Repeat("y", 9000)), integer(1)},
		{cmd("OBJECT", "ENCODING", "big"), bulk("quicklist")},
		{cmd("RPUSH", "small", "1", "2", "3"), integer(3)},
		{cmd("OBJECT", "ENCODING", "small"), bulk("listpack")},
	})
}

// TestListsLong: a long list stays cheap to change at the ends and in place, and correct in the
// middle.
func TestListsLong(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	const n = 100_000
	model := make([]string, 0, n)
	pipe := rdb.Pipeline()
	for i := 0; i < n; i += 1000 {
		vals := make([]any, 0, 1000)
		for j := i; j < i+1000; j++ {
			vals = append(vals, strconv.Itoa(j))
			model = append(model, strconv.Itoa(j))
		}
		pipe.RPush(ctx, "long", vals...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		if got := rdb.LLen(ctx, "long").Val(); got != int64(len(model)) {
			t.Fatalf("%s: LLEN = %d, want %d", what, got, len(model))
		}
		for _, i := range []int{0, 1, len(model) / 2, len(model) - 2, len(model) - 1} {
			if got := rdb.LIndex(ctx, "long", int64(i)).Val(); got != model[i] {
				t.Fatalf("%s: LINDEX %d = %q, want %q", what, i, got, model[i])
			}
		}
		got := rdb.LRange(ctx, "long", 49_990, 50_010).Val()
		if !slices.Equal(got, model[49_990:50_011]) {
			t.Fatalf("%s: LRANGE 49990 50010 = %v, want %v", what, got, model[49_990:50_011])
		}
	}
	check("after RPUSH")
	if err := rdb.LSet(ctx, "long", 50_000, "set").Err(); err != nil {
		t.Fatal(err)
	}
	model[50_000] = "set"
	if got := rdb.LInsertBefore(ctx, "long", "99990", "ins").Val(); got != n+1 {
		t.Fatalf("LINSERT = %d", got)
	}
	model = slices.Insert(model, 99_990, "ins")
	if got := rdb.LInsertAfter(ctx, "long", "10", "ins2").Val(); got != n+2 {
		t.Fatalf("LINSERT = %d", got)
	}
	model = slices.Insert(model, 11, "ins2")
	check("after LSET and LINSERT")
	if got := rdb.LRem(ctx, "long", 1, "20").Val(); got != 1 {
		t.Fatalf("LREM = %d", got)
	}
	model = slices.Delete(model, 21, 22)
	if got := rdb.LRem(ctx, "long", -1, "99000").Val(); got != 1 {
		t.Fatalf("LREM = %d", got)
	}
	model = slices.Delete(model, 99_001, 99_002)
	check("after LREM")
	if err := rdb.LTrim(ctx, "long", 100, -101).Err(); err != nil {
		t.Fatal(err)
	}
	model = model[100 : len(model)-100]
	check("after LTRIM")
	if got := rdb.LPos(ctx, "long", "77777", redis.LPosArgs{}).Val(); model[got] != "77777" {
		t.Fatalf("LPOS = %d (%q)", got, model[got])
	}
}

// TestListsSort: SORT reads a list (in its own order with BY nosort) and STORE writes one.
func TestListsSort(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RPUSH", "l", "3", "1", "2", "10"), integer(4)},
		{cmd("SORT", "l"), bulks("1", "2", "3", "10")},
		{cmd("SORT", "l", "DESC"), bulks("10", "3", "2", "1")},
		{cmd("SORT", "l", "ALPHA"), bulks("1", "10", "2", "3")},
		{cmd("SORT", "l", "BY", "nosort"), bulks("3", "1", "2", "10")},
		{cmd("SORT", "l", "BY", "nosort", "DESC"), bulks("10", "2", "1", "3")},
		{cmd("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"), bulks("2", "1")},
		{cmd("SORT", "l", "BY", "nosort", "LIMIT", "1", "2"), bulks("1", "2")},
		{cmd("SORT_RO", "l", "LIMIT", "0", "2"), bulks("1", "2")},
		{cmd("SET", "dst", "a string"), ok},
		{cmd("EXPIRE", "dst", "100"), integer(1)},
		{cmd("SORT", "l", "STORE", "dst"), integer(4)},
		{cmd("TYPE", "dst"), "+list\r\n"},
		{cmd("TTL", "dst"), integer(-1)},
		{cmd("LRANGE", "dst", "0", "-1"), bulks("1", "2", "3", "10")},
		{cmd("RPUSH", "dst", "x"), integer(5)},
		{cmd("SORT", "missing", "STORE", "dst"), integer(0)},
		{cmd("EXISTS", "dst"), integer(0)},
	})
}

// TestListsExpiry: a list keeps its TTL through changes, and once expired it is gone for every
// command: a push makes a new, empty-based list.
func TestListsExpiry(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RPUSH", "l", "a", "b"), integer(2)},
		{cmd("EXPIRE", "l", "100"), integer(1)},
		{cmd("LPUSH", "l", "z"), integer(3)},
		{cmd("LSET", "l", "0", "y"), ok},
		{cmd("LPOP", "l"), bulk("y")},
		{cmd("TTL", "l"), integer(100)},
		{cmd("PEXPIRE", "l", "20"), integer(1)},
	})
	waitFor(t, "the list to expire", func() bool { return c.Do("LLEN", "l") == integer(0) })
	runScript(t, c, []step{
		{cmd("LRANGE", "l", "0", "-1"), emptyArr},
		{cmd("LINDEX", "l", "0"), nilBulk},
		{cmd("RPUSH", "l", "new"), integer(1)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("new")},
		{cmd("TTL", "l"), integer(-1)},
	})
}

// TestListsPersist: lists survive a restart, with their positions and encoding state.
func TestListsPersist(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "always")
	c := srv.Dial()
	runScript(t, c, []step{
		{cmd("RPUSH", "l", "b", "c"), integer(2)},
		{cmd("LPUSH", "l", "a"), integer(3)},
		{cmd("LINSERT", "l", "after", "b", "bb"), integer(4)},
	})
	srv.Stop()
	srv.Restart()
	c = srv.Dial()
	runScript(t, c, []step{
		{cmd("LRANGE", "l", "0", "-1"), bulks("a", "b", "bb", "c")},
		{cmd("LPUSH", "l", "z"), integer(5)},
		{cmd("LINDEX", "l", "-1"), bulk("c")},
		{cmd("OBJECT", "ENCODING", "l"), bulk("listpack")},
	})
}

// TestListsModel runs random list commands through go-redis against a slice model.
func TestListsModel(t *testing.T) {
	s := seed(t)
	r := rand.New(rand.NewPCG(s, s))
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	var model []string
	val := func() string {
		if r.IntN(20) == 0 {
			return strings.Repeat("v", 50+r.IntN(500))
		}
		return string(rune('a' + r.IntN(4)))
	}
	for step := 0; step < 1500; step++ {
		n := int64(len(model))
		var what string
		switch op := r.IntN(10); {
		case op < 3 || n == 0:
			v := []any{val(), val()}
			if r.IntN(2) == 0 {
				what = fmt.Sprint("LPUSH ", v)
				rdb.LPush(ctx, "k", v...)
				model = append([]string{v[1].(string), v[0].(string)}, model...)
			} else {
				what = fmt.Sprint("RPUSH ", v)
				rdb.RPush(ctx, "k", v...)
				model = append(model, v[0].(string), v[1].(string))
			}
		case op == 3:
			k := 1 + r.IntN(3)
			what = fmt.Sprint("LPOP ", k)
			got := rdb.LPopCount(ctx, "k", k).Val()
			want := model[:min(k, len(model))]
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: %s = %v, want %v", step, what, got, want)
			}
			model = model[len(want):]
		case op == 4:
			i := r.Int64N(2*n) - n
			v := val()
			what = fmt.Sprint("LSET ", i, v)
			rdb.LSet(ctx, "k", i, v)
			if i < 0 {
				i += n
			}
			model[i] = v
		case op == 5:
			pivot, v := val(), val()
			what = fmt.Sprint("LINSERT BEFORE ", pivot, v)
			got := rdb.LInsertBefore(ctx, "k", pivot, v).Val()
			if i := slices.Index(model, pivot); i >= 0 {
				model = slices.Insert(model, i, v)
			} else if got != -1 {
				t.Fatalf("step %d: %s = %d, want -1", step, what, got)
			}
		case op == 6:
			count, v := r.Int64N(5)-2, val()
			what = fmt.Sprint("LREM ", count, v)
			rdb.LRem(ctx, "k", count, v)
			model = lrem(model, count, v)
		case op == 7:
			start, stop := r.Int64N(n+2)-1, r.Int64N(2*n+2)-n
			what = fmt.Sprint("LTRIM ", start, stop)
			rdb.LTrim(ctx, "k", start, stop)
			model = ltrim(model, start, stop)
		case op == 8:
			what = "RPOPLPUSH k k"
			got := rdb.RPopLPush(ctx, "k", "k").Val()
			if got != model[n-1] {
				t.Fatalf("step %d: %s = %q, want %q", step, what, got, model[n-1])
			}
			model = append([]string{got}, model[:n-1]...)
		default:
			what = "LPOS"
			v := val()
			got, err := rdb.LPosCount(ctx, "k", v, 0, redis.LPosArgs{Rank: -1}).Result()
			var want []int64
			for i := len(model) - 1; i >= 0; i-- {
				if model[i] == v {
					want = append(want, int64(i))
				}
			}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("step %d: LPOS %q RANK -1 COUNT 0 = %v, %v; want %v", step, v, got, err, want)
			}
		}
		got := rdb.LRange(ctx, "k", 0, -1).Val()
		if !slices.Equal(got, model) {
			t.Fatalf("step %d after %s: LRANGE = %v, want %v", step, what, got, model)
		}
		if len(model) == 0 && rdb.Exists(ctx, "k").Val() != 0 {
			t.Fatalf("step %d after %s: the emptied list still exists", step, what)
		}
	}
}

func lrem(l []string, count int64, v string) []string {
	var out []string
	limit := count
	if limit < 0 {
		limit = -limit
	}
	removed := int64(0)
	keep := make([]bool, len(l))
	for j := range l {
		i := j
		if count < 0 {
			i = len(l) - 1 - j
		}
		keep[i] = l[i] != v || (limit > 0 && removed >= limit)
		if !keep[i] {
			removed++
		}
	}
	for i, x := range l {
		if keep[i] {
			out = append(out, x)
		}
	}
	return out
}

func ltrim(l []string, start, stop int64) []string {
	n := int64(len(l))
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return nil
	}
	return l[start : min(stop, n-1)+1]
}
