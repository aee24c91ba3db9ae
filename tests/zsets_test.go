package tests

import (
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"

func TestZAdd(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c"), ":3", ""},
		{zcmd("ZADD z 1 a"), ":0", ""},
		{zcmd("ZADD z CH 5 a 2 b 7 d"), ":2", ""},
		{zcmd("ZADD z NX 9 a 8 e"), ":1", ""},
		{zcmd("ZSCORE z a"), `"5"`, ",5"},
		{zcmd("ZADD z XX CH 10 a 1 never"), ":1", ""},
		{zcmd("ZSCORE z never"), "nil", ""},
		{zcmd("ZADD z GT CH 1 a 11 a"), ":1", ""},
		{zcmd("ZSCORE z a"), `"11"`, ",11"},
		{zcmd("ZADD z LT CH 20 a 3 a"), ":1", ""},
		{zcmd("ZADD z GT 1 fresh"), ":1", ""},
		{zcmd("ZADD z XX GT 100 fresh"), ":0", ""},
		{zcmd("ZSCORE z fresh"), `"100"`, ",100"},
		{zcmd("ZADD z INCR 2.5 a"), `"5.5"`, ",5.5"},
		{zcmd("ZADD z INCR GT -1 a"), "nil", ""},
		{zcmd("ZADD z INCR NX 1 a"), "nil", ""},
		{zcmd("ZADD z INCR XX 1 missing"), "nil", ""},
		{zcmd("ZADD nokey XX 1 a"), ":0", ""},
		{zcmd("ZADD nokey XX INCR 1 a"), "nil", ""},
		{zcmd("EXISTS nokey"), ":0", ""},
		{zcmd("ZADD z 1 dup 2 dup"), ":1", ""},
		{zcmd("ZSCORE z dup"), `"2"`, ",2"},
		{zcmd("ZADD z -0 negzero"), ":1", ""},
		{zcmd("ZSCORE z negzero"), `"0"`, ",0"},
		{zcmd("ZADD z +inf i -inf j"), ":2", ""},
		{zcmd("ZSCORE z i"), `"inf"`, ",inf"},
		{zcmd("ZSCORE z j"), `"-inf"`, ",-inf"},
		{zcmd("ZADD z INCR -inf i"), "-ERR resulting score is not a number (NaN)", ""},
		{zcmd("ZSCORE z i"), `"inf"`, ",inf"},
		{zcmd("ZADD z 0.1 tenth 1e20 big 1.5e-7 small"), ":3", ""},
		{zcmd("ZMSCORE z tenth big small"), `["0.1" "1e+20" "1.5e-7"]`, "[,0.1 ,1e+20 ,1.5e-7]"},
		// Errors, checked before anything changes.
		{zcmd("ZADD z NX XX 1 a"), "-ERR XX and NX options at the same time are not compatible", ""},
		{zcmd("ZADD z GT LT 1 a"), "-ERR GT, LT, and/or NX options at the same time are not compatible", ""},
		{zcmd("ZADD z NX GT 1 a"), "-ERR GT, LT, and/or NX options at the same time are not compatible", ""},
		{zcmd("ZADD z INCR 1 a 2 b"), "-ERR INCR option supports a single increment-element pair", ""},
		{zcmd("ZADD z 1"), "-ERR wrong number of arguments for 'zadd' command", ""},
		{zcmd("ZADD z 1 a 2"), "-ERR syntax error", ""},
		{zcmd("ZADD z NX 1"), "-ERR syntax error", ""},
		{zcmd("ZADD z NX CH"), "-ERR syntax error", ""},
		{zcmd("ZADD z 1 a x b"), "-ERR value is not a valid float", ""},
		{zcmd("ZADD z nan a"), "-ERR value is not a valid float", ""},
		{zcmd("ZADD z 1e400 a"), "-ERR value is not a valid float", ""},
		{[]string{"ZADD", "z", " 1", "a"}, "-ERR value is not a valid float", ""},
		{zcmd("ZSCORE z x"), "nil", ""},
		{zcmd("ZADD"), "-ERR wrong number of arguments for 'zadd' command", ""},
		{zcmd("ZADD z"), "-ERR wrong number of arguments for 'zadd' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZADD s 1 a"), wrongType, ""},
		{zcmd("ZINCRBY s 1 a"), wrongType, ""},
	})
}

func TestZIncrByRemCardScore(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZINCRBY z 1.5 a"), `"1.5"`, ",1.5"},
		{zcmd("ZINCRBY z -3 a"), `"-1.5"`, ",-1.5"},
		{zcmd("ZINCRBY z x a"), "-ERR value is not a valid float", ""},
		{zcmd("ZINCRBY z 1 a b"), "-ERR wrong number of arguments for 'zincrby' command", ""},
		{zcmd("ZINCRBY z +inf a"), `"inf"`, ",inf"},
		{zcmd("ZINCRBY z -inf a"), "-ERR resulting score is not a number (NaN)", ""},
		{zcmd("ZADD z 1 b 2 c"), ":2", ""},
		{zcmd("ZCARD z"), ":3", ""},
		{zcmd("ZCARD nokey"), ":0", ""},
		{zcmd("ZSCORE nokey a"), "nil", ""},
		{zcmd("ZMSCORE z b nope c"), `["1" nil "2"]`, "[,1 nil ,2]"},
		{zcmd("ZMSCORE nokey a b"), "[nil nil]", ""},
		{zcmd("ZMSCORE z"), "-ERR wrong number of arguments for 'zmscore' command", ""},
		{zcmd("ZREM z b nope"), ":1", ""},
		{zcmd("ZREM nokey a"), ":0", ""},
		{zcmd("ZREM z a c a"), ":2", ""},
		{zcmd("EXISTS z"), ":0", ""},
		{zcmd("ZREM z"), "-ERR wrong number of arguments for 'zrem' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZCARD s"), wrongType, ""},
		{zcmd("ZSCORE s a"), wrongType, ""},
		{zcmd("ZMSCORE s a"), wrongType, ""},
		{zcmd("ZREM s a"), wrongType, ""},
	})
}

func TestZRank(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c 3 d"), ":4", ""},
		{zcmd("ZRANK z a"), ":0", ""},
		{zcmd("ZRANK z d"), ":3", ""},
		{zcmd("ZREVRANK z a"), ":3", ""},
		{zcmd("ZREVRANK z d"), ":0", ""},
		{zcmd("ZRANK z c WITHSCORE"), `[:2 "3"]`, "[:2 ,3]"},
		{zcmd("ZREVRANK z c withscore"), `[:1 "3"]`, "[:1 ,3]"},
		{zcmd("ZRANK z nope"), "nil", ""},
		{zcmd("ZRANK z nope WITHSCORE"), "nil*", "nil"},
		{zcmd("ZRANK nokey a"), "nil", ""},
		{zcmd("ZRANK nokey a WITHSCORE"), "nil*", "nil"},
		{zcmd("ZRANK z a WITHSCORES"), "-ERR syntax error", ""},
		{zcmd("ZRANK z a WITHSCORE x"), "-ERR wrong number of arguments for 'zrank' command", ""},
		{zcmd("ZRANK z"), "-ERR wrong number of arguments for 'zrank' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZRANK s a"), wrongType, ""},
	})
}

func TestZRangeByRank(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c 4 d"), ":4", ""},
		{zcmd("ZRANGE z 0 -1"), `["a" "b" "c" "d"]`, ""},
		{zcmd("ZRANGE z 1 2 WITHSCORES"), `["b" "2" "c" "3"]`, `[["b" ,2] ["c" ,3]]`},
		{zcmd("ZRANGE z -2 -1"), `["c" "d"]`, ""},
		{zcmd("ZRANGE z -100 1"), `["a" "b"]`, ""},
		{zcmd("ZRANGE z 2 100"), `["c" "d"]`, ""},
		{zcmd("ZRANGE z 3 1"), "[]", ""},
		{zcmd("ZRANGE z 4 10"), "[]", ""},
		{zcmd("ZRANGE z 0 1 REV"), `["d" "c"]`, ""},
		{zcmd("ZREVRANGE z 0 1 WITHSCORES"), `["d" "4" "c" "3"]`, `[["d" ,4] ["c" ,3]]`},
		{zcmd("ZREVRANGE z -1 -1"), `["a"]`, ""},
		{zcmd("ZRANGE nokey 0 -1"), "[]", ""},
		{zcmd("ZRANGE z x 1"), "-ERR value is not an integer or out of range", ""},
		{zcmd("ZRANGE z 0 1 LIMIT 0 1"), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX", ""},
		{zcmd("ZRANGE z 0 1 REV REV"), "-ERR syntax error", ""},
		{zcmd("ZRANGE z 0 1 BYSCORE BYLEX"), "-ERR syntax error", ""},
		{zcmd("ZRANGE z 0 1 LIMIT 1"), "-ERR syntax error", ""},
		{zcmd("ZRANGE z 0 1 LIMIT x 1"), "-ERR value is not an integer or out of range", ""},
		{zcmd("ZREVRANGE z 0 1 REV"), "-ERR syntax error", ""},
		{zcmd("ZRANGE z 0"), "-ERR wrong number of arguments for 'zrange' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZRANGE s 0 -1"), wrongType, ""},
	})
}

func TestZRangeByScore(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z -inf ninf 1 a 2 b 2 bb 3 c +inf pinf"), ":6", ""},
		{zcmd("ZRANGEBYSCORE z -inf +inf"), `["ninf" "a" "b" "bb" "c" "pinf"]`, ""},
		{zcmd("ZRANGEBYSCORE z (1 3"), `["b" "bb" "c"]`, ""},
		{zcmd("ZRANGEBYSCORE z (1 (3 WITHSCORES"), `["b" "2" "bb" "2"]`, `[["b" ,2] ["bb" ,2]]`},
		{zcmd("ZRANGEBYSCORE z 2 2"), `["b" "bb"]`, ""},
		{zcmd("ZRANGEBYSCORE z (2 2"), "[]", ""},
		{zcmd("ZRANGEBYSCORE z 3 1"), "[]", ""},
		{zcmd("ZRANGEBYSCORE z -inf +inf LIMIT 1 2"), `["a" "b"]`, ""},
		{zcmd("ZRANGEBYSCORE z -inf +inf LIMIT 4 -1"), `["c" "pinf"]`, ""},
		{zcmd("ZRANGEBYSCORE z -inf +inf LIMIT -1 2"), "[]", ""},
		{zcmd("ZRANGEBYSCORE z -inf +inf LIMIT 6 2"), "[]", ""},
		{zcmd("ZRANGEBYSCORE z -inf +inf LIMIT 0 0"), "[]", ""},
		{zcmd("ZREVRANGEBYSCORE z +inf -inf LIMIT 0 2 WITHSCORES"), `["pinf" "inf" "c" "3"]`, `[["pinf" ,inf] ["c" ,3]]`},
		{zcmd("ZREVRANGEBYSCORE z (3 (1"), `["bb" "b"]`, ""},
		{zcmd("ZRANGE z (1 3 BYSCORE"), `["b" "bb" "c"]`, ""},
		{zcmd("ZRANGE z 3 (1 BYSCORE REV LIMIT 1 5"), `["bb" "b"]`, ""},
		{zcmd("ZRANGE z +inf +inf BYSCORE"), `["pinf"]`, ""},
		{zcmd("ZRANGE z (+inf +inf BYSCORE"), "[]", ""},
		{zcmd("ZRANGE z -infinity (infinity BYSCORE"), `["ninf" "a" "b" "bb" "c"]`, ""},
		// Bounds are read as strtod reads them, as Redis does.
		{[]string{"ZRANGEBYSCORE", "z", " 1", "1"}, `["a"]`, ""},
		{[]string{"ZRANGEBYSCORE", "z", "", "1"}, `["a"]`, ""},
		{[]string{"ZRANGEBYSCORE", "z", "", "(1"}, "[]", ""},
		{[]string{"ZRANGEBYSCORE", "z", "(", "1"}, `["a"]`, ""},
		{zcmd("ZRANGEBYSCORE z 0x2 0x2"), `["b" "bb"]`, ""},
		{[]string{"ZRANGEBYSCORE", "z", "1 ", "1"}, "-ERR min or max is not a float", ""},
		{zcmd("ZRANGEBYSCORE z nan 1"), "-ERR min or max is not a float", ""},
		{zcmd("ZRANGEBYSCORE z 1 (nan"), "-ERR min or max is not a float", ""},
		{zcmd("ZRANGEBYSCORE z x 1"), "-ERR min or max is not a float", ""},
		{zcmd("ZRANGEBYSCORE z 0 1 LIMIT 0"), "-ERR syntax error", ""},
		{zcmd("ZRANGEBYSCORE z 0 1 BYSCORE"), "-ERR syntax error", ""},
		{zcmd("ZRANGEBYSCORE nokey 0 1"), "[]", ""},
		{zcmd("ZCOUNT z -inf +inf"), ":6", ""},
		{zcmd("ZCOUNT z (1 3"), ":3", ""},
		{zcmd("ZCOUNT z 5 1"), ":0", ""},
		{zcmd("ZCOUNT nokey 0 1"), ":0", ""},
		{zcmd("ZCOUNT z x 1"), "-ERR min or max is not a float", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZRANGEBYSCORE s 0 1"), wrongType, ""},
		{zcmd("ZCOUNT s 0 1"), wrongType, ""},
	})
}

func TestZRangeByLex(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 0 a 0 b 0 ba 0 c 0 d"), ":5", ""},
		{zcmd("ZRANGEBYLEX z - +"), `["a" "b" "ba" "c" "d"]`, ""},
		{zcmd("ZRANGEBYLEX z [b (c"), `["b" "ba"]`, ""},
		{zcmd("ZRANGEBYLEX z (b [c"), `["ba" "c"]`, ""},
		{zcmd("ZRANGEBYLEX z ( +"), `["a" "b" "ba" "c" "d"]`, ""},
		{zcmd("ZRANGEBYLEX z [ +"), `["a" "b" "ba" "c" "d"]`, ""},
		{zcmd("ZRANGEBYLEX z + -"), "[]", ""},
		{zcmd("ZRANGEBYLEX z - -"), "[]", ""},
		{zcmd("ZRANGEBYLEX z - + LIMIT 1 2"), `["b" "ba"]`, ""},
		{zcmd("ZREVRANGEBYLEX z + - LIMIT 0 2"), `["d" "c"]`, ""},
		{zcmd("ZREVRANGEBYLEX z (c [b"), `["ba" "b"]`, ""},
		{zcmd("ZRANGE z [b [c BYLEX"), `["b" "ba" "c"]`, ""},
		{zcmd("ZRANGE z [c [b BYLEX REV"), `["c" "ba" "b"]`, ""},
		{zcmd("ZLEXCOUNT z - +"), ":5", ""},
		{zcmd("ZLEXCOUNT z [b (c"), ":2", ""},
		{zcmd("ZLEXCOUNT nokey - +"), ":0", ""},
		{zcmd("ZRANGEBYLEX z a +"), "-ERR min or max not valid string range item", ""},
		{zcmd("ZRANGEBYLEX z - +a"), "-ERR min or max not valid string range item", ""},
		{[]string{"ZRANGEBYLEX", "z", "", "+"}, "-ERR min or max not valid string range item", ""},
		{zcmd("ZLEXCOUNT z b +"), "-ERR min or max not valid string range item", ""},
		{zcmd("ZRANGEBYLEX z - + WITHSCORES"), "-ERR syntax error, WITHSCORES not supported in combination with BYLEX", ""},
		{zcmd("ZRANGE z - + BYLEX WITHSCORES"), "-ERR syntax error, WITHSCORES not supported in combination with BYLEX", ""},
		// With mixed scores, a walk in score order as Redis walks a small set.
		{zcmd("ZADD m 1 b 2 a 3 d 4 c"), ":4", ""},
		{zcmd("ZRANGEBYLEX m [b [c"), `["b" "a"]`, ""},
		{zcmd("ZRANGEBYLEX m - [c"), `["b" "a"]`, ""},
		{zcmd("ZREVRANGEBYLEX m + [b"), `["c" "d"]`, ""},
		{zcmd("ZLEXCOUNT m [b [c"), ":2", ""},
		{zcmd("ZREMRANGEBYLEX m [b [c"), ":2", ""},
		{zcmd("ZRANGE m 0 -1"), `["d" "c"]`, ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZRANGEBYLEX s - +"), wrongType, ""},
		{zcmd("ZLEXCOUNT s - +"), wrongType, ""},
	})
}

func TestZRangeStore(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c 4 d"), ":4", ""},
		{zcmd("SET dst v EX 100"), "+OK", ""},
		{zcmd("ZRANGESTORE dst z 1 2"), ":2", ""},
		{zcmd("TTL dst"), ":-1", ""},
		{zcmd("ZRANGE dst 0 -1 WITHSCORES"), `["b" "2" "c" "3"]`, `[["b" ,2] ["c" ,3]]`},
		{zcmd("ZRANGESTORE dst z +inf (1 BYSCORE REV LIMIT 0 2"), ":2", ""},
		{zcmd("ZRANGESTORE dst z (1 +inf BYSCORE REV"), ":0", ""},
		{zcmd("ZRANGESTORE dst z +inf (1 BYSCORE REV LIMIT 0 2"), ":2", ""},
		{zcmd("ZRANGE dst 0 -1"), `["c" "d"]`, ""},
		{zcmd("ZRANGESTORE dst z [a [b BYLEX"), ":2", ""},
		{zcmd("ZRANGESTORE z z 0 0"), ":1", ""},
		{zcmd("ZRANGE z 0 -1"), `["a"]`, ""},
		{zcmd("ZRANGESTORE dst z 5 6"), ":0", ""},
		{zcmd("EXISTS dst"), ":0", ""},
		{zcmd("ZRANGESTORE dst nokey 0 -1"), ":0", ""},
		{zcmd("ZRANGESTORE dst z 0 -1 WITHSCORES"), "-ERR syntax error", ""},
		{zcmd("ZRANGESTORE dst z 0"), "-ERR wrong number of arguments for 'zrangestore' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZRANGESTORE dst s 0 -1"), wrongType, ""},
		{zcmd("ZRANGESTORE s z 0 -1"), ":1", ""},
		{zcmd("TYPE s"), "+zset", ""},
	})
}

func TestZRemRange(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c 4 d 5 e"), ":5", ""},
		{zcmd("ZREMRANGEBYRANK z 1 2"), ":2", ""},
		{zcmd("ZRANGE z 0 -1"), `["a" "d" "e"]`, ""},
		{zcmd("ZREMRANGEBYRANK z 5 10"), ":0", ""},
		{zcmd("ZREMRANGEBYRANK z -1 -1"), ":1", ""},
		{zcmd("ZREMRANGEBYSCORE z (1 4"), ":1", ""},
		{zcmd("ZREMRANGEBYSCORE z 2 1"), ":0", ""},
		{zcmd("ZREMRANGEBYSCORE z -inf +inf"), ":1", ""},
		{zcmd("EXISTS z"), ":0", ""},
		{zcmd("ZADD l 0 a 0 b 0 c 0 d"), ":4", ""},
		{zcmd("ZREMRANGEBYLEX l (a [c"), ":2", ""},
		{zcmd("ZRANGE l 0 -1"), `["a" "d"]`, ""},
		{zcmd("ZREMRANGEBYLEX l - +"), ":2", ""},
		{zcmd("EXISTS l"), ":0", ""},
		{zcmd("ZREMRANGEBYRANK nokey 0 -1"), ":0", ""},
		{zcmd("ZREMRANGEBYRANK z x 1"), "-ERR value is not an integer or out of range", ""},
		{zcmd("ZREMRANGEBYSCORE z x 1"), "-ERR min or max is not a float", ""},
		{zcmd("ZREMRANGEBYLEX z x +"), "-ERR min or max not valid string range item", ""},
		{zcmd("ZREMRANGEBYRANK z 0"), "-ERR wrong number of arguments for 'zremrangebyrank' command", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZREMRANGEBYRANK s 0 -1"), wrongType, ""},
		{zcmd("ZREMRANGEBYSCORE s 0 1"), wrongType, ""},
		{zcmd("ZREMRANGEBYLEX s - +"), wrongType, ""},
	})
}

func TestZPop(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c 4 d 5 e"), ":5", ""},
		{zcmd("ZPOPMIN z"), `["a" "1"]`, `["a" ,1]`},
		{zcmd("ZPOPMAX z"), `["e" "5"]`, `["e" ,5]`},
		{zcmd("ZPOPMIN z 1"), `["b" "2"]`, `[["b" ,2]]`},
		{zcmd("ZPOPMAX z 0"), "[]", ""},
		{zcmd("ZPOPMAX z 10"), `["d" "4" "c" "3"]`, `[["d" ,4] ["c" ,3]]`},
		{zcmd("EXISTS z"), ":0", ""},
		{zcmd("ZPOPMIN z"), "[]", ""},
		{zcmd("ZPOPMIN z 3"), "[]", ""},
		{zcmd("ZPOPMIN z -1"), "-ERR value is out of range, must be positive", ""},
		{zcmd("ZPOPMIN z x"), "-ERR value is out of range, must be positive", ""},
		{zcmd("ZPOPMIN z 1 2"), "-ERR syntax error", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZPOPMIN s"), wrongType, ""},
		{zcmd("ZPOPMAX s 0"), wrongType, ""},
	})
}

func TestZMPop(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c"), ":3", ""},
		{zcmd("ZADD z2 10 x"), ":1", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZMPOP 2 nokey z MAX COUNT 2"), `["z" [["c" "3"] ["b" "2"]]]`, `["z" [["c" ,3] ["b" ,2]]]`},
		{zcmd("ZMPOP 2 nokey z min"), `["z" [["a" "1"]]]`, `["z" [["a" ,1]]]`},
		{zcmd("EXISTS z"), ":0", ""},
		{zcmd("ZMPOP 1 nokey MIN"), "nil*", "nil"},
		{zcmd("ZMPOP 2 s z2 MIN"), wrongType, ""},
		{zcmd("ZMPOP 2 z2 s MIN COUNT 5"), `["z2" [["x" "10"]]]`, `["z2" [["x" ,10]]]`},
		{zcmd("ZMPOP abc z MIN"), "-ERR numkeys should be greater than 0", ""},
		{zcmd("ZMPOP 0 z MIN"), "-ERR numkeys should be greater than 0", ""},
		{zcmd("ZMPOP 5 z MIN"), "-ERR syntax error", ""},
		{zcmd("ZMPOP 1 z MID"), "-ERR syntax error", ""},
		{zcmd("ZMPOP 1 z MIN COUNT 0"), "-ERR count should be greater than 0", ""},
		{zcmd("ZMPOP 1 z MIN COUNT x"), "-ERR count should be greater than 0", ""},
		{zcmd("ZMPOP 1 z MIN COUNT 1 COUNT 2"), "-ERR syntax error", ""},
		{zcmd("ZMPOP 1 z MIN COUNT"), "-ERR syntax error", ""},
		{zcmd("ZMPOP 1 z"), "-ERR wrong number of arguments for 'zmpop' command", ""},
	})
}

// The blocking pops behave as the plain ones when a key has members; the waiting itself is the
// blocking machinery's (tests/blocking_test.go).
func TestBZPopWithData(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c"), ":3", ""},
		{zcmd("BZPOPMIN nokey z 0"), `["z" "a" "1"]`, `["z" "a" ,1]`},
		{zcmd("BZPOPMAX nokey z 1.5"), `["z" "c" "3"]`, `["z" "c" ,3]`},
		{zcmd("BZMPOP 0 2 nokey z MIN COUNT 5"), `["z" [["b" "2"]]]`, `["z" [["b" ,2]]]`},
		{zcmd("EXISTS z"), ":0", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("BZPOPMIN s 0"), wrongType, ""},
		{zcmd("BZPOPMIN z x"), "-ERR timeout is not a float or out of range", ""},
		{zcmd("BZPOPMIN z -1"), "-ERR timeout is negative", ""},
		{zcmd("BZMPOP x 1 z MIN"), "-ERR timeout is not a float or out of range", ""},
		{zcmd("BZMPOP 0 x z MIN"), "-ERR numkeys should be greater than 0", ""},
		{zcmd("BZPOPMIN z"), "-ERR wrong number of arguments for 'bzpopmin' command", ""},
	})
}

func TestZRandMember(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 1 a 2 b 3 c"), ":3", ""},
		{zcmd("ZRANDMEMBER z 0"), "[]", ""},
		{zcmd("ZRANDMEMBER z 10 WITHSCORES"), `["c" "3" "b" "2" "a" "1"]`, `[["c" ,3] ["b" ,2] ["a" ,1]]`},
		{zcmd("ZRANDMEMBER z 3"), `["c" "b" "a"]`, ""},
		{zcmd("ZRANDMEMBER nokey"), "nil", ""},
		{zcmd("ZRANDMEMBER nokey 3"), "[]", ""},
		{zcmd("ZRANDMEMBER nokey -3 WITHSCORES"), "[]", ""},
		{zcmd("ZRANDMEMBER z -9223372036854775808"), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", ""},
		{zcmd("ZRANDMEMBER z -9223372036854770000 WITHSCORES"), "-ERR value is out of range", ""},
		{zcmd("ZRANDMEMBER z -9223372036854775807"), "-ERR reply of ZRANDMEMBER would exceed proto-max-bulk-len", ""},
		{zcmd("ZRANDMEMBER z 5 x"), "-ERR syntax error", ""},
		{zcmd("ZRANDMEMBER z 5 WITHSCORES x"), "-ERR syntax error", ""},
		{zcmd("ZRANDMEMBER z x"), "-ERR value is not an integer or out of range", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZRANDMEMBER s"), wrongType, ""},
		{zcmd("ZRANDMEMBER s 1"), wrongType, ""},
	})
}

// TestZRandMemberSampling checks the random replies by their properties: members of the set,
// distinct when the count is positive, the asked number of them.
func TestZRandMemberSampling(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	for _, n := range []int{5, 2000} { // a set read whole, and one sampled by seeks
		key := "z" + strconv.Itoa(n)
		members := make([]redis.Z, n)
		for i := range members {
			members[i] = redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)}
		}
		if err := rdb.ZAdd(ctx, key, members...).Err(); err != nil {
			t.Fatal(err)
		}
		in := func(m string) bool {
			i, err := strconv.Atoi(strings.TrimPrefix(m, "m"))
			return err == nil && i >= 0 && i < n && m == "m"+strconv.Itoa(i)
		}
		one, err := rdb.ZRandMember(ctx, key, 1).Result()
		if err != nil || len(one) != 1 || !in(one[0]) {
			t.Fatalf("n=%d ZRANDMEMBER 1 = %v, %v", n, one, err)
		}
		for _, count := range []int{3, n - 1, -3, -(2 * n)} {
			got, err := rdb.ZRandMember(ctx, key, count).Result()
			if err != nil {
				t.Fatal(err)
			}
			want := count
			if count < 0 {
				want = -count
			}
			if len(got) != want {
				t.Fatalf("n=%d ZRANDMEMBER %d: %d members, want %d", n, count, len(got), want)
			}
			seen := map[string]bool{}
			for _, m := range got {
				if !in(m) {
					t.Fatalf("n=%d ZRANDMEMBER %d: %q is not a member", n, count, m)
				}
				if count > 0 && seen[m] {
					t.Fatalf("n=%d ZRANDMEMBER %d: %q twice", n, count, m)
				}
				seen[m] = true
			}
		}
		withScores, err := rdb.ZRandMemberWithScores(ctx, key, 4).Result()
		if err != nil || len(withScores) != 4 {
			t.Fatalf("n=%d WITHSCORES = %v, %v", n, withScores, err)
		}
		for _, z := range withScores {
			if "m"+strconv.Itoa(int(z.Score)) != z.Member {
				t.Fatalf("n=%d WITHSCORES pair %v", n, z)
			}
		}
	}
}

func TestZScan(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD z 3 c 1 a 2 b 1.5 ab"), ":4", ""},
		// A small set comes whole, in score order, as Redis returns a listpack.
		{zcmd("ZSCAN z 0"), `["0" ["a" "1" "ab" "1.5" "b" "2" "c" "3"]]`, ""},
		{zcmd("ZSCAN z 0 MATCH a*"), `["0" ["a" "1" "ab" "1.5"]]`, ""},
		{zcmd("ZSCAN z 0 COUNT 1"), `["0" ["a" "1" "ab" "1.5" "b" "2" "c" "3"]]`, ""},
		{zcmd("ZSCAN nokey 0"), `["0" []]`, ""},
		{zcmd("ZSCAN z x"), "-ERR invalid cursor", ""},
		{zcmd("ZSCAN z 0 COUNT 0"), "-ERR syntax error", ""},
		{zcmd("ZSCAN z 0 COUNT x"), "-ERR value is not an integer or out of range", ""},
		{zcmd("ZSCAN z 0 MATCH"), "-ERR syntax error", ""},
		{zcmd("ZSCAN z 0 NOVALUES"), "-ERR syntax error", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZSCAN s 0"), wrongType, ""},
	})
	// A large set is paged by COUNT; a full scan sees every member exactly once when nothing
	// changes.
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	const n = 1000
	members := make([]redis.Z, n)
	for i := range members {
		members[i] = redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)}
	}
	if err := rdb.ZAdd(ctx, "big", members...).Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var cursor uint64
	calls := 0
	for {
		keys, next, err := rdb.ZScan(ctx, "big", cursor, "", 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for i := 0; i < len(keys); i += 2 {
			if seen[keys[i]] {
				t.Fatalf("%s returned twice", keys[i])
			}
			seen[keys[i]] = true
			if want := strings.TrimPrefix(keys[i], "m"); keys[i+1] != want {
				t.Fatalf("score of %s = %s, want %s", keys[i], keys[i+1], want)
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(seen) != n || calls < n/100 {
		t.Fatalf("scan saw %d members in %d calls", len(seen), calls)
	}
}

func TestZSetOps(t *testing.T) {
	srv := servertest.Start(t)
	zrunBoth(t, srv, []zstep{
		{zcmd("ZADD a 1 x 2 y 3 z"), ":3", ""},
		{zcmd("ZADD b 10 y 20 z 30 w"), ":3", ""},
		{zcmd("ZUNION 2 a b WITHSCORES"), `["x" "1" "y" "12" "z" "23" "w" "30"]`,
			`[["x" ,1] ["y" ,12] ["z" ,23] ["w" ,30]]`},
		{zcmd("ZUNION 2 a b"), `["x" "y" "z" "w"]`, ""},
		{zcmd("ZUNION 2 a b WEIGHTS 2 3 WITHSCORES"), `["x" "2" "y" "34" "z" "66" "w" "90"]`,
			`[["x" ,2] ["y" ,34] ["z" ,66] ["w" ,90]]`},
		{zcmd("ZUNION 2 a b AGGREGATE MIN WITHSCORES"), `["x" "1" "y" "2" "z" "3" "w" "30"]`,
			`[["x" ,1] ["y" ,2] ["z" ,3] ["w" ,30]]`},
		{zcmd("ZUNION 2 a b AGGREGATE max"), `["x" "y" "z" "w"]`, ""},
		{zcmd("ZINTER 2 a b WITHSCORES"), `["y" "12" "z" "23"]`, `[["y" ,12] ["z" ,23]]`},
		{zcmd("ZINTER 2 a a WEIGHTS 1 2 AGGREGATE MAX WITHSCORES"), `["x" "2" "y" "4" "z" "6"]`,
			`[["x" ,2] ["y" ,4] ["z" ,6]]`},
		{zcmd("ZINTER 2 a nokey"), "[]", ""},
		{zcmd("ZDIFF 2 a b WITHSCORES"), `["x" "1"]`, `[["x" ,1]]`},
		{zcmd("ZDIFF 2 a a"), "[]", ""},
		{zcmd("ZDIFF 2 nokey a"), "[]", ""},
		{zcmd("ZDIFF 1 b"), `["y" "z" "w"]`, ""},
		{zcmd("ZINTERCARD 2 a b"), ":2", ""},
		{zcmd("ZINTERCARD 2 a b LIMIT 1"), ":1", ""},
		{zcmd("ZINTERCARD 2 a b LIMIT 0"), ":2", ""},
		{zcmd("ZINTERCARD 2 a nokey"), ":0", ""},
		// Plain sets take part with every member scored 1.
		{zcmd("SADD set x w q"), ":3", ""},
		{zcmd("ZUNION 3 a b set WITHSCORES"), `["q" "1" "x" "2" "y" "12" "z" "23" "w" "31"]`,
			`[["q" ,1] ["x" ,2] ["y" ,12] ["z" ,23] ["w" ,31]]`},
		{zcmd("ZINTER 2 a set WEIGHTS 1 5 WITHSCORES"), `["x" "6"]`, `[["x" ,6]]`},
		{zcmd("ZDIFF 2 a set"), `["y" "z"]`, ""},
		{zcmd("ZINTERCARD 2 set b"), ":1", ""},
		{zcmd("ZINTERSTORE d 2 set set"), ":3", ""},
		{zcmd("ZRANGE d 0 -1 WITHSCORES"), `["q" "2" "w" "2" "x" "2"]`, `[["q" ,2] ["w" ,2] ["x" ,2]]`},
		{zcmd("ZADD pinf +inf p"), ":1", ""},
		{zcmd("ZADD ninf -inf p"), ":1", ""},
		{zcmd("ZUNION 2 pinf ninf WITHSCORES"), `["p" "0"]`, `[["p" ,0]]`},
		{zcmd("ZUNION 2 pinf ninf WEIGHTS 0 1 WITHSCORES"), `["p" "-inf"]`, `[["p" ,-inf]]`},
		{zcmd("ZUNIONSTORE d 2 a b WEIGHTS 1 0"), ":4", ""},
		{zcmd("ZRANGE d 0 -1 WITHSCORES"), `["w" "0" "x" "1" "y" "2" "z" "3"]`,
			`[["w" ,0] ["x" ,1] ["y" ,2] ["z" ,3]]`},
		{zcmd("ZINTERSTORE d 2 a b AGGREGATE MIN"), ":2", ""},
		{zcmd("ZRANGE d 0 -1 WITHSCORES"), `["y" "2" "z" "3"]`, `[["y" ,2] ["z" ,3]]`},
		{zcmd("ZDIFFSTORE d 2 a b"), ":1", ""},
		{zcmd("ZDIFFSTORE d 2 a a"), ":0", ""},
		{zcmd("EXISTS d"), ":0", ""},
		{zcmd("ZUNIONSTORE a 2 a b"), ":4", ""},
		{zcmd("ZRANGE a 0 -1"), `["x" "y" "z" "w"]`, ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZUNIONSTORE s 1 b"), ":3", ""},
		{zcmd("TYPE s"), "+zset", ""},
		{zcmd("SET s v"), "+OK", ""},
		{zcmd("ZUNION 2 a s"), wrongType, ""},
		{zcmd("ZINTER 2 s nokey"), wrongType, ""},
		{zcmd("ZDIFFSTORE d 2 a s"), wrongType, ""},
		{zcmd("ZINTERCARD 1 s"), wrongType, ""},
		{zcmd("ZUNION 2 s nokey WEIGHTS x"), wrongType, ""},
		{zcmd("ZUNION 0 a"), "-ERR at least 1 input key is needed for 'zunion' command", ""},
		{zcmd("ZUNIONSTORE d 0 a"), "-ERR at least 1 input key is needed for 'zunionstore' command", ""},
		{zcmd("ZINTERCARD 0 a"), "-ERR at least 1 input key is needed for 'zintercard' command", ""},
		{zcmd("ZUNION x a"), "-ERR value is not an integer or out of range", ""},
		{zcmd("ZUNION 3 a"), "-ERR syntax error", ""},
		{zcmd("ZUNION 1 a WEIGHTS x"), "-ERR weight value is not a float", ""},
		{zcmd("ZUNION 1 a WEIGHTS 1 2"), "-ERR syntax error", ""},
		{zcmd("ZUNION 1 a AGGREGATE avg"), "-ERR syntax error", ""},
		{zcmd("ZDIFF 1 a WEIGHTS 1"), "-ERR syntax error", ""},
		{zcmd("ZUNIONSTORE d 1 a WITHSCORES"), "-ERR syntax error", ""},
		{zcmd("ZINTERCARD 1 a WITHSCORES"), "-ERR syntax error", ""},
		{zcmd("ZINTERCARD 1 a LIMIT -1"), "-ERR LIMIT can't be negative", ""},
		{zcmd("ZINTERCARD 1 a LIMIT x"), "-ERR LIMIT can't be negative", ""},
		{zcmd("ZUNION 1"), "-ERR wrong number of arguments for 'zunion' command", ""},
	})
}

func TestZSetExpiry(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	zrunSteps(t, srv, 2, []zstep{
		{zcmd("ZADD z 1 a 2 b"), ":2", ""},
		{zcmd("PEXPIRE z 1"), ":1", ""},
	})
	deadline := time.Now().Add(5 * time.Second)
	for conn.Do("EXISTS", "z") != ":0\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("sorted set with a 1 ms TTL still exists after 5s")
		}
		time.Sleep(time.Millisecond)
	}
	// A set recreated where an expired one was starts empty: the old members never reappear.
	zrunSteps(t, srv, 2, []zstep{
		{zcmd("ZCARD z"), ":0", ""},
		{zcmd("ZSCORE z a"), "nil", ""},
		{zcmd("ZADD z 5 c"), ":1", ""},
		{zcmd("ZRANGE z 0 -1 WITHSCORES"), `["c" "5"]`, ""},
		{zcmd("TTL z"), ":-1", ""},
	})
}

// zawait reads one reply from a connection that sent a blocking command, failing after d.
func zawait(t *testing.T, c *servertest.Conn, d time.Duration) string {
	t.Helper()
	done := make(chan string, 1)
	go func() { done <- c.ReadReply() }()
	select {
	case r := <-done:
		return zrender(r)
	case <-time.After(d):
		t.Fatalf("no reply within %v", d)
		return ""
	}
}

// zwaitBlocked polls until the server reports n blocked clients.
func zwaitBlocked(t *testing.T, c *servertest.Conn, n int) {
	t.Helper()
	want := "blocked_clients:" + strconv.Itoa(n) + "\r\n"
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(c.Do("INFO", "clients"), want) {
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients never reached %d", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBZPopBlocks(t *testing.T) {
	srv := servertest.Start(t)
	ctl := srv.Dial()
	for _, tc := range []struct {
		cmd  []string
		push []string
		want string
	}{
		{zcmd("BZPOPMIN a z 0"), zcmd("ZADD z 2 m 1 l"), `["z" "l" "1"]`},
		{zcmd("BZPOPMAX a z 0"), zcmd("ZADD a 2 m 1 l"), `["a" "m" "2"]`},
		{zcmd("BZMPOP 0 2 a z MAX COUNT 5"), zcmd("ZADD z 2 m 1 l"), `["z" [["m" "2"] ["l" "1"]]]`},
	} {
		ctl.Do("FLUSHALL")
		waiter := srv.Dial()
		waiter.Send(zrespArray(tc.cmd))
		zwaitBlocked(t, ctl, 1)
		if got := ctl.Do(tc.push...); !strings.HasPrefix(got, ":") {
			t.Fatalf("%v = %q", tc.push, got)
		}
		if got := zawait(t, waiter, 5*time.Second); got != tc.want {
			t.Fatalf("%v served %s, want %s", tc.cmd, got, tc.want)
		}
		zwaitBlocked(t, ctl, 0)
	}
	// A timeout answers with the null array; inside MULTI the pop never blocks.
	waiter := srv.Dial()
	start := time.Now()
	waiter.Send(zrespArray(zcmd("BZPOPMIN nokey 0.1")))
	if got := zawait(t, waiter, 5*time.Second); got != "nil*" {
		t.Fatalf("timed-out BZPOPMIN = %s", got)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatalf("BZPOPMIN 0.1 answered after %v", time.Since(start))
	}
	zrunSteps(t, srv, 2, []zstep{
		{zcmd("MULTI"), "+OK", ""},
		{zcmd("BZPOPMIN nokey 0"), "+QUEUED", ""},
		{zcmd("BZMPOP 0 1 nokey MIN"), "+QUEUED", ""},
		{zcmd("EXEC"), "[nil* nil*]", ""},
	})
}

func zrespArray(args []string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

func TestZSetObjectEncoding(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	encoding := func(key string) string {
		t.Helper()
		enc, err := rdb.ObjectEncoding(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	many := func(n int, prefix string) []redis.Z {
		zs := make([]redis.Z, n)
		for i := range zs {
			zs[i] = redis.Z{Score: float64(i), Member: prefix + strconv.Itoa(i)}
		}
		return zs
	}
	rdb.ZAdd(ctx, "small", many(128, "m")...)
	if got := encoding("small"); got != "listpack" {
		t.Fatalf("128 members: %s", got)
	}
	rdb.ZAdd(ctx, "small", redis.Z{Score: 1, Member: "one-more"})
	if got := encoding("small"); got != "skiplist" {
		t.Fatalf("129 members: %s", got)
	}
	rdb.ZPopMin(ctx, "small", 120)
	if got := encoding("small"); got != "skiplist" {
		t.Fatalf("shrunk to 9 members: %s, want skiplist (Redis never converts back)", got)
	}
	rdb.ZAdd(ctx, "long", redis.Z{Score: 1, Member: strings.Repeat("x", 65)})
	if got := encoding("long"); got != "skiplist" {
		t.Fatalf("a 65-byte member: %s", got)
	}
	rdb.ZAdd(ctx, "edge", redis.Z{Score: 1, Member: strings.Repeat("x", 64)})
	if got := encoding("edge"); got != "listpack" {
		t.Fatalf("a 64-byte member: %s", got)
	}
	// A stored result is encoded for what it holds, as Redis converts it.
	rdb.ZRangeStore(ctx, "copy", redis.ZRangeArgs{Key: "small", Start: 0, Stop: -1})
	if got := encoding("copy"); got != "listpack" {
		t.Fatalf("ZRANGESTORE of 9 members: %s", got)
	}
	rdb.ZUnionStore(ctx, "union", &redis.ZStore{Keys: []string{"small", "long"}})
	if got := encoding("union"); got != "skiplist" {
		t.Fatalf("ZUNIONSTORE with a 65-byte member: %s", got)
	}
	// The thresholds are the configured ones, at the time of the write.
	if err := rdb.ConfigSet(ctx, "zset-max-listpack-entries", "4").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.ZAdd(ctx, "four", many(4, "m")...)
	if got := encoding("four"); got != "listpack" {
		t.Fatalf("4 members with zset-max-listpack-entries 4: %s", got)
	}
	rdb.ZAdd(ctx, "four", redis.Z{Score: 9, Member: "fifth"})
	if got := encoding("four"); got != "skiplist" {
		t.Fatalf("5 members with zset-max-listpack-entries 4: %s", got)
	}
	rdb.ConfigSet(ctx, "zset-max-listpack-value", "3")
	rdb.ZAdd(ctx, "short", redis.Z{Score: 1, Member: "abcd"})
	if got := encoding("short"); got != "skiplist" {
		t.Fatalf("a 4-byte member with zset-max-listpack-value 3: %s", got)
	}
}

func TestZScanMatchLargeSet(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	var zs []redis.Z
	for i := 0; i < 500; i++ {
		zs = append(zs, redis.Z{Score: float64(i), Member: "a:" + strconv.Itoa(i)},
			redis.Z{Score: float64(i), Member: "b:" + strconv.Itoa(i)})
	}
	if err := rdb.ZAdd(ctx, "z", zs...).Err(); err != nil {
		t.Fatal(err)
	}
	for _, match := range []string{"b:1*", "*:42", "a:4?9"} {
		want := 0
		for _, z := range zs {
			if ok, _ := path.Match(match, z.Member.(string)); ok {
				want++
			}
		}
		seen := map[string]bool{}
		var cursor uint64
		for {
			page, next, err := rdb.ZScan(ctx, "z", cursor, match, 20).Result()
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(page); i += 2 {
				if ok, _ := path.Match(match, page[i]); !ok || seen[page[i]] {
					t.Fatalf("MATCH %s returned %q (seen before: %v)", match, page[i], seen[page[i]])
				}
				seen[page[i]] = true
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		if len(seen) != want {
			t.Fatalf("MATCH %s: %d members, want %d", match, len(seen), want)
		}
	}
}
