package tests

import (
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestSortSortedSet(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 3 2 1 3 2 4 10"), ":4", ""},
		{zcmd("SORT z"), `["1" "2" "3" "10"]`, ""},
		{zcmd("SORT z DESC"), `["10" "3" "2" "1"]`, ""},
		{zcmd("SORT z ALPHA"), `["1" "10" "2" "3"]`, ""},
		{zcmd("SORT z ALPHA DESC"), `["3" "2" "10" "1"]`, ""},
		{zcmd("SORT z LIMIT 1 2"), `["2" "3"]`, ""},
		{zcmd("SORT z LIMIT -5 2"), `["1" "2"]`, ""},
		{zcmd("SORT z LIMIT 1 -1"), `["2" "3" "10"]`, ""},
		{zcmd("SORT z LIMIT 10 2"), "[]", ""},
		{zcmd("SORT z LIMIT 0 0"), "[]", ""},
		// BY a pattern without '*' keeps the sorted set's own order (by score).
		{zcmd("SORT z BY nosort"), `["3" "1" "2" "10"]`, ""},
		{zcmd("SORT z BY nosort DESC"), `["10" "2" "1" "3"]`, ""},
		{zcmd("SORT z BY nosort LIMIT 1 2"), `["1" "2"]`, ""},
		{zcmd("SORT z BY nosort DESC LIMIT 1 2"), `["2" "1"]`, ""},
		{zcmd("SORT z BY nosort LIMIT 5 2"), "[]", ""},
		{zcmd("SORT_RO z DESC LIMIT 0 1"), `["10"]`, ""},
		{zcmd("SORT nokey"), "[]", ""},
		{zcmd("SORT_RO nokey BY w_* GET #"), "[]", ""},
	})
}

func TestSortByAndGet(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 3 2 1 3 2 4 10"), ":4", ""},
		{zcmd("MSET w_1 30 w_2 20 w_3 10 w_10 x o_1 one o_3 three"), "+OK", ""},
		// Every weight is read before LIMIT applies, so a bad one fails the command.
		{zcmd("SORT z BY w_* LIMIT 0 3"), "-ERR One or more scores can't be converted into double", ""},
		{zcmd("SORT z BY w_*"), "-ERR One or more scores can't be converted into double", ""},
		{zcmd("SORT z BY w_* ALPHA"), `["3" "2" "1" "10"]`, ""},
		{zcmd("SORT z BY w_* ALPHA DESC"), `["10" "1" "2" "3"]`, ""},
		{zcmd("SORT z BY missing_* GET #"), `["1" "10" "2" "3"]`, ""},
		{zcmd("SORT z GET o_*"), `["one" nil "three" nil]`, ""},
		{zcmd("SORT z GET o_* GET # GET w_*"), `["one" "1" "30" nil "2" "20" "three" "3" "10" nil "10" "x"]`, ""},
		{zcmd("SORT z GET nostar"), "[nil nil nil nil]", ""},
		{zcmd("SORT z BY nosort GET o_* GET #"), `["three" "3" "one" "1" nil "2" nil "10"]`, ""},
		// A BY or GET key of another type reads as missing.
		{zcmd("ZADD o_2 1 x"), ":1", ""},
		{zcmd("SORT z GET o_*"), `["one" nil "three" nil]`, ""},
		// A pattern's '*' is replaced once; "->" before it is part of the key name.
		{zcmd("SET a->b_1 v"), "+OK", ""},
		{zcmd("SORT z LIMIT 0 1 GET a->b_*"), `["v"]`, ""},
	})
}

func TestSortNumbersAsStrtod(t *testing.T) {
	srv := servertest.Start(t)
	zrunSteps(t, srv, 2, []zstep{
		{zcmd("ZADD one 1 1"), ":1", ""},
		{zcmd("SET n_1 1e400"), "+OK", ""},
		{zcmd("SORT one BY n_*"), "-ERR One or more scores can't be converted into double", ""},
		{zcmd("SET n_1 1e-400"), "+OK", ""},
		{zcmd("SORT one BY n_*"), "-ERR One or more scores can't be converted into double", ""},
		{zcmd("SET n_1 inf"), "+OK", ""},
		{zcmd("SORT one BY n_*"), `["1"]`, ""},
		{[]string{"SET", "n_1", " 5"}, "+OK", ""},
		{zcmd("SORT one BY n_*"), `["1"]`, ""},
		{[]string{"SET", "n_1", ""}, "+OK", ""},
		{zcmd("SORT one BY n_*"), `["1"]`, ""},
		{zcmd("SET n_1 0x1A"), "+OK", ""},
		{zcmd("SORT one BY n_*"), `["1"]`, ""},
		{zcmd("ZADD f 0 1.5 0 -2 0 inf 0 0x10 0 -inf"), ":5", ""},
		{zcmd("SORT f"), `["-inf" "-2" "1.5" "0x10" "inf"]`, ""},
		{zcmd("ZADD w 0 a"), ":1", ""},
		{zcmd("SORT w"), "-ERR One or more scores can't be converted into double", ""},
	})
}

func TestSortErrors(t *testing.T) {
	srv := servertest.Start(t)
	zrunSteps(t, srv, 2, []zstep{
		{zcmd("ZADD z 1 a"), ":1", ""},
		{zcmd("SORT z foo"), "-ERR syntax error", ""},
		{zcmd("SORT z LIMIT 1"), "-ERR syntax error", ""},
		{zcmd("SORT z LIMIT x 1"), "-ERR value is not an integer or out of range", ""},
		{zcmd("SORT z BY"), "-ERR syntax error", ""},
		{zcmd("SORT z GET"), "-ERR syntax error", ""},
		{zcmd("SORT z STORE"), "-ERR syntax error", ""},
		{zcmd("SORT_RO z STORE d"), "-ERR syntax error", ""},
		{zcmd("SORT"), "-ERR wrong number of arguments for 'sort' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("SORT s"), wrongType, ""},
		{zcmd("SORT_RO s"), wrongType, ""},
		{zcmd("SORT s foo"), "-ERR syntax error", ""},
	})
}

func TestSortList(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("RPUSH l 3 1 2 10 1"), ":5", ""},
		{zcmd("SORT l"), `["1" "1" "2" "3" "10"]`, ""},
		{zcmd("SORT l DESC"), `["10" "3" "2" "1" "1"]`, ""},
		{zcmd("SORT l ALPHA"), `["1" "1" "10" "2" "3"]`, ""},
		{zcmd("SORT l LIMIT 1 2"), `["1" "2"]`, ""},
		{zcmd("SORT l BY nosort"), `["3" "1" "2" "10" "1"]`, ""},
		{zcmd("SORT l BY nosort DESC"), `["1" "10" "2" "1" "3"]`, ""},
		{zcmd("SORT l BY nosort LIMIT 1 2"), `["1" "2"]`, ""},
		{zcmd("SORT l BY nosort DESC LIMIT 1 2"), `["10" "2"]`, ""},
		{zcmd("SORT l BY nosort DESC LIMIT 4 5"), `["3"]`, ""},
		{zcmd("SORT l BY nosort LIMIT 5 5"), "[]", ""},
		{zcmd("SORT_RO l DESC LIMIT 0 2"), `["10" "3"]`, ""},
		{zcmd("RPUSH words b a c"), ":3", ""},
		{zcmd("SORT words"), "-ERR One or more scores can't be converted into double", ""},
		{zcmd("SORT words ALPHA DESC"), `["c" "b" "a"]`, ""},
		{zcmd("MSET w_a 3 w_b 2 w_c 1"), "+OK", ""},
		{zcmd("SORT words BY w_* GET # GET w_*"), `["c" "1" "b" "2" "a" "3"]`, ""},
	})
}

func TestSortStore(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("RPUSH l 3 1 2"), ":3", ""},
		{zcmd("SORT l STORE dst"), ":3", ""},
		{zcmd("LRANGE dst 0 -1"), `["1" "2" "3"]`, ""},
		{zcmd("TYPE dst"), "+list", ""},
		{zcmd("OBJECT ENCODING dst"), `"listpack"`, ""},
		{zcmd("SORT l DESC LIMIT 0 2 STORE dst"), ":2", ""},
		{zcmd("LRANGE dst 0 -1"), `["3" "2"]`, ""},
		{zcmd("SORT l STORE l"), ":3", ""},
		{zcmd("LRANGE l 0 -1"), `["1" "2" "3"]`, ""},
		{zcmd("ZADD z 1 3 2 1"), ":2", ""},
		{zcmd("SORT z STORE dst GET # GET nope_*"), ":4", ""},
		{zcmd("LRANGE dst 0 -1"), `["1" "" "3" ""]`, ""},
		{zcmd("SET dst x EX 100"), "+OK", ""},
		{zcmd("SORT z STORE dst"), ":2", ""},
		{zcmd("TYPE dst"), "+list", ""},
		{zcmd("TTL dst"), ":-1", ""},
		{zcmd("SORT l LIMIT 10 1 STORE dst"), ":0", ""},
		{zcmd("EXISTS dst"), ":0", ""},
		{zcmd("SORT nokey STORE dst"), ":0", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("SORT s STORE dst"), wrongType, ""},
	})
}

func TestSortSetAndHashWeights(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("SADD s 3 1 2 10"), ":4", ""},
		{zcmd("SORT s"), `["1" "2" "3" "10"]`, ""},
		{zcmd("SORT s DESC LIMIT 1 2"), `["3" "2"]`, ""},
		{zcmd("SORT s ALPHA"), `["1" "10" "2" "3"]`, ""},
		// A set has no order of its own, so a stored result is sorted (ALPHA) even BY nosort.
		{zcmd("SORT s BY nosort STORE d"), ":4", ""},
		{zcmd("LRANGE d 0 -1"), `["1" "10" "2" "3"]`, ""},
		{zcmd("HSET h_1 f 30 g x"), ":2", ""},
		{zcmd("HSET h_2 f 20"), ":1", ""},
		{zcmd("HSET h_3 f 10"), ":1", ""},
		{zcmd("SORT s BY h_*->f"), `["10" "3" "2" "1"]`, ""},
		{zcmd("SORT s BY h_*->f GET # GET h_*->f GET h_*->g"), `["10" nil nil "3" "10" nil "2" "20" nil "1" "30" "x"]`, ""},
		{zcmd("SORT s BY h_*-> GET h_*->"), "[nil nil nil nil]", ""},
		{zcmd("SET h_10 str"), "+OK", ""},
		{zcmd("SORT s GET h_*->f"), `["30" "20" "10" nil]`, ""},
		{zcmd("ZADD z 1 3 2 1"), ":2", ""},
		{zcmd("SORT z BY h_*->f GET h_*->f"), `["10" "30"]`, ""},
		{zcmd("SORT s BY h_*->f STORE d GET h_*->g"), ":4", ""},
		{zcmd("LRANGE d 0 -1"), `["" "" "" "x"]`, ""},
	})
}
