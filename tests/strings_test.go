package tests

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// A respStep is one command and the exact reply Redis sends for it. The tables of steps in
// this file and bits_test.go were recorded from redis-server (7.0) and checked against Redis 8's
// source where the two differ (noted beside the step).
type respStep struct {
	args []string
	want string
}

// A respSection is a run of steps that depend on each other.
type respSection struct {
	name  string
	steps []respStep
}

// runSections runs each section on its own fresh server over a raw connection.
func runSections(t *testing.T, sections []respSection, serverArgs ...string) {
	t.Helper()
	for _, sec := range sections {
		t.Run(sec.name, func(t *testing.T) {
			srv := servertest.Start(t, serverArgs...)
			conn := srv.Dial()
			runSteps(t, conn, sec.steps)
		})
	}
}

// runSteps sends each step's command and fails at the first reply that differs.
func runSteps(t *testing.T, conn *servertest.Conn, steps []respStep) {
	t.Helper()
	for _, s := range steps {
		if got := conn.Do(s.args...); got != s.want {
			t.Fatalf("%s = %q, want %q", strings.Join(s.args, " "), got, s.want)
		}
	}
}

func TestStringsScript(t *testing.T) { runSections(t, stringSections) }

// TestStringsRESP3 checks the replies whose type differs in RESP3: nulls and LCS's map.
func TestStringsRESP3(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	if got := conn.Do("hello", "3"); !strings.HasPrefix(got, "%") {
		t.Fatalf("HELLO 3 = %q, want a map", got)
	}
	runSteps(t, conn, []respStep{
		{[]string{"get", "k"}, "_\r\n"},
		{[]string{"set", "k", "v", "nx"}, "+OK\r\n"},
		{[]string{"set", "k", "w", "nx"}, "_\r\n"},
		{[]string{"set", "k2", "v", "xx", "get"}, "_\r\n"},
		{[]string{"set", "k2", "v", "get"}, "_\r\n"},
		{[]string{"getdel", "nokey"}, "_\r\n"},
		{[]string{"getex", "nokey"}, "_\r\n"},
		{[]string{"getset", "nokey", "x"}, "_\r\n"},
		{[]string{"mget", "k", "absent", "k2"}, "*3\r\n$1\r\nv\r\n_\r\n$1\r\nv\r\n"},
		{[]string{"getrange", "absent", "0", "1"}, "$0\r\n\r\n"},
		{[]string{"set", "la", "ohmytext"}, "+OK\r\n"},
		{[]string{"set", "lb", "mynewtext"}, "+OK\r\n"},
		{[]string{"lcs", "la", "lb", "idx"}, "%2\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "idx", "withmatchlen", "minmatchlen", "4"}, "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "len"}, ":6\r\n"},
		{[]string{"lcs", "la", "lb"}, "$6\r\nmytext\r\n"},
		{[]string{"bitfield", "bf", "overflow", "fail", "incrby", "u2", "0", "5", "get", "u2", "0"}, "*2\r\n_\r\n:0\r\n"},
		{[]string{"incrbyfloat", "f", "1.5"}, "$3\r\n1.5\r\n"},
		{[]string{"setnx", "k", "1"}, ":0\r\n"},
		{[]string{"bitpos", "absent", "1"}, ":-1\r\n"},
	})
}

var stringSections = []respSection{
	{"GET and SET", []respStep{
		{[]string{"get", "k"}, "$-1\r\n"},
		{[]string{"set", "k", "v"}, "+OK\r\n"},
		{[]string{"get", "k"}, "$1\r\nv\r\n"},
		{[]string{"set", "k", ""}, "+OK\r\n"},
		{[]string{"get", "k"}, "$0\r\n\r\n"},
		{[]string{"set", "k", "v", "nx"}, "$-1\r\n"},
		{[]string{"set", "k", "w", "xx"}, "+OK\r\n"},
		{[]string{"get", "k"}, "$1\r\nw\r\n"},
		{[]string{"set", "new", "v", "xx"}, "$-1\r\n"},
		{[]string{"get", "new"}, "$-1\r\n"},
		{[]string{"set", "k", "x", "get"}, "$1\r\nw\r\n"},
		{[]string{"set", "missing", "x", "get"}, "$-1\r\n"},
		{[]string{"set", "k", "y", "nx", "get"}, "$1\r\nx\r\n"},
		{[]string{"get", "k"}, "$1\r\nx\r\n"},
		{[]string{"set", "absent", "y", "xx", "get"}, "$-1\r\n"},
		{[]string{"exists", "absent"}, ":0\r\n"},
		{[]string{"set", "k", "z", "NX", "nx", "GET", "get"}, "$1\r\nx\r\n"},
		{[]string{"set", "k", "v", "nx", "xx"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "xx", "nx"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "ex", "10", "px", "100"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "ex", "10", "keepttl"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "keepttl", "pxat", "100"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "exat", "10", "pxat", "100"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "ex"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "persist"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "foo"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "ex", "abc", "foo"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "ex", "abc"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "k", "v", "ex", "1.5"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "k", "v", "ex", "0"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "px", "-1"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "exat", "0"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "pxat", "-5"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "ex", "9223372036854776"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "ex", "9223372036854775"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "px", "9223372036854775807"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"set", "k", "v", "ex", "99999999999999999999"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "k", "v", "exat", "9223372036854775"}, "+OK\r\n"},
		{[]string{"get", "k"}, "$1\r\nv\r\n"},
		{[]string{"set", "k", "v", "pxat", "1"}, "+OK\r\n"},
		{[]string{"exists", "k"}, ":0\r\n"},
		{[]string{"set", "k", "v", "exat", "1", "get"}, "$-1\r\n"},
		{[]string{"set", "k", "v", "ex", "10", "ex", "20", "px", "1"}, "-ERR syntax error\r\n"},
		{[]string{"set", "k", "v", "keepttl", "keepttl"}, "+OK\r\n"},
		{[]string{"set", "k"}, "-ERR wrong number of arguments for 'set' command\r\n"},
		{[]string{"set"}, "-ERR wrong number of arguments for 'set' command\r\n"},
	}},
	{"SETNX, SETEX, PSETEX", []respStep{
		{[]string{"setnx", "n", "1"}, ":1\r\n"},
		{[]string{"setnx", "n", "2"}, ":0\r\n"},
		{[]string{"get", "n"}, "$1\r\n1\r\n"},
		{[]string{"setex", "se", "100", "v"}, "+OK\r\n"},
		{[]string{"get", "se"}, "$1\r\nv\r\n"},
		{[]string{"setex", "se", "0", "v"}, "-ERR invalid expire time in 'setex' command\r\n"},
		{[]string{"setex", "se", "-1", "v"}, "-ERR invalid expire time in 'setex' command\r\n"},
		{[]string{"setex", "se", "abc", "v"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"setex", "se", "9223372036854776", "v"}, "-ERR invalid expire time in 'setex' command\r\n"},
		{[]string{"psetex", "se", "0", "v"}, "-ERR invalid expire time in 'psetex' command\r\n"},
		{[]string{"psetex", "se", "9223372036854775807", "v"}, "-ERR invalid expire time in 'psetex' command\r\n"},
		{[]string{"psetex", "se", "100000", "w"}, "+OK\r\n"},
		{[]string{"get", "se"}, "$1\r\nw\r\n"},
		{[]string{"setex", "se", "10"}, "-ERR wrong number of arguments for 'setex' command\r\n"},
	}},
	{"GETSET, GETDEL", []respStep{
		{[]string{"getset", "gs", "a"}, "$-1\r\n"},
		{[]string{"getset", "gs", "b"}, "$1\r\na\r\n"},
		{[]string{"get", "gs"}, "$1\r\nb\r\n"},
		{[]string{"getdel", "gs"}, "$1\r\nb\r\n"},
		{[]string{"getdel", "gs"}, "$-1\r\n"},
		{[]string{"exists", "gs"}, ":0\r\n"},
	}},
	{"GETEX", []respStep{
		{[]string{"getex", "nokey"}, "$-1\r\n"},
		{[]string{"getex", "nokey", "ex", "-1"}, "$-1\r\n"},
		{[]string{"getex", "nokey", "foo"}, "-ERR syntax error\r\n"},
		{[]string{"set", "ge", "val"}, "+OK\r\n"},
		{[]string{"getex", "ge"}, "$3\r\nval\r\n"},
		{[]string{"getex", "ge", "ex", "-1"}, "-ERR invalid expire time in 'getex' command\r\n"},
		{[]string{"getex", "ge", "ex", "0"}, "-ERR invalid expire time in 'getex' command\r\n"},
		{[]string{"getex", "ge", "ex", "abc"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"getex", "ge", "px", "9223372036854775807"}, "-ERR invalid expire time in 'getex' command\r\n"},
		{[]string{"getex", "ge", "persist"}, "$3\r\nval\r\n"},
		{[]string{"getex", "ge", "persist", "persist"}, "$3\r\nval\r\n"},
		{[]string{"getex", "ge", "ex", "10", "persist"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "persist", "ex", "10"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "keepttl"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "nx"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "get"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "ex", "10", "px", "10"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "ex"}, "-ERR syntax error\r\n"},
		{[]string{"getex", "ge", "ex", "10", "ex", "20"}, "$3\r\nval\r\n"},
		{[]string{"getex", "ge", "exat", "1"}, "$3\r\nval\r\n"},
		{[]string{"exists", "ge"}, ":0\r\n"},
	}},
	{"MGET, MSET, MSETNX", []respStep{
		{[]string{"mset", "a", "1", "b", "2"}, "+OK\r\n"},
		{[]string{"mget", "a", "b", "nokey"}, "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"},
		{[]string{"mset", "a"}, "-ERR wrong number of arguments for 'mset' command\r\n"},
		{[]string{"mset", "a", "1", "b"}, "-ERR wrong number of arguments for 'mset' command\r\n"},
		{[]string{"msetnx", "a", "1", "c", "3"}, ":0\r\n"},
		{[]string{"get", "c"}, "$-1\r\n"},
		{[]string{"msetnx", "c", "3", "d", "4"}, ":1\r\n"},
		{[]string{"mget", "c", "d"}, "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
		{[]string{"msetnx", "e", "1", "e", "2"}, ":1\r\n"},
		{[]string{"get", "e"}, "$1\r\n2\r\n"},
		{[]string{"msetnx", "x"}, "-ERR wrong number of arguments for 'msetnx' command\r\n"},
		{[]string{"mget"}, "-ERR wrong number of arguments for 'mget' command\r\n"},
	}},
	{"APPEND, STRLEN", []respStep{
		{[]string{"append", "ap", "hello"}, ":5\r\n"},
		{[]string{"append", "ap", " world"}, ":11\r\n"},
		{[]string{"get", "ap"}, "$11\r\nhello world\r\n"},
		{[]string{"strlen", "ap"}, ":11\r\n"},
		{[]string{"strlen", "nokey"}, ":0\r\n"},
		{[]string{"append", "ap", ""}, ":11\r\n"},
		{[]string{"append", "ap2", ""}, ":0\r\n"},
		{[]string{"exists", "ap2"}, ":1\r\n"},
	}},
	{"INCR and friends", []respStep{
		{[]string{"incr", "i"}, ":1\r\n"},
		{[]string{"incrby", "i", "10"}, ":11\r\n"},
		{[]string{"decr", "i"}, ":10\r\n"},
		{[]string{"decrby", "i", "5"}, ":5\r\n"},
		{[]string{"incrby", "i", "-100"}, ":-95\r\n"},
		{[]string{"decrby", "i", "-100"}, ":5\r\n"},
		{[]string{"get", "i"}, "$1\r\n5\r\n"},
		{[]string{"incrby", "i", "abc"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"incrby", "i", "1.5"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"incrby", "i", "9223372036854775808"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"incrby", "i", " 1"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"incrby", "i", "+1"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"incrby", "i", "01"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"incrby", "i", "-0"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", "9223372036854775807"}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR increment or decrement would overflow\r\n"},
		{[]string{"incrby", "i", "0"}, ":9223372036854775807\r\n"},
		{[]string{"decrby", "i", "-1"}, "-ERR increment or decrement would overflow\r\n"},
		{[]string{"set", "i", "-9223372036854775808"}, "+OK\r\n"},
		{[]string{"decr", "i"}, "-ERR increment or decrement would overflow\r\n"},
		{[]string{"incrby", "i", "-1"}, "-ERR increment or decrement would overflow\r\n"},
		{[]string{"decrby", "i", "1"}, "-ERR increment or decrement would overflow\r\n"},
		{[]string{"decrby", "i", "-9223372036854775808"}, "-ERR decrement would overflow\r\n"},
		{[]string{"incrby", "i", "9223372036854775807"}, ":-1\r\n"},
		{[]string{"set", "i", "abc"}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", "12 "}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", "007"}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", "-0"}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", "1e3"}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", ""}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"set", "i", "99999999999999999999"}, "+OK\r\n"},
		{[]string{"incr", "i"}, "-ERR value is not an integer or out of range\r\n"},
	}},
	{"INCRBYFLOAT", []respStep{
		{[]string{"incrbyfloat", "f", "10.5"}, "$4\r\n10.5\r\n"},
		{[]string{"incrbyfloat", "f", "0.1"}, "$4\r\n10.6\r\n"},
		{[]string{"incrbyfloat", "f", "-5"}, "$3\r\n5.6\r\n"},
		{[]string{"incrbyfloat", "f", "5.0e3"}, "$22\r\n5005.60000000000000009\r\n"},
		{[]string{"incrbyfloat", "f", "2.0e-3"}, "$22\r\n5005.60199999999999987\r\n"},
		{[]string{"set", "f", "0.1"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "0.2"}, "$3\r\n0.3\r\n"},
		{[]string{"set", "f", "1"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "1e17"}, "$18\r\n100000000000000001\r\n"},
		{[]string{"incrbyfloat", "f", "-1e17"}, "$1\r\n1\r\n"},
		{[]string{"set", "f", "3.0000"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "0"}, "$1\r\n3\r\n"},
		{[]string{"incrbyfloat", "f", "0x10"}, "$2\r\n19\r\n"},
		{[]string{"incrbyfloat", "f", "0X1P-2"}, "$5\r\n19.25\r\n"},
		{[]string{"incrbyfloat", "f", "-0x.8"}, "$5\r\n18.75\r\n"},
		{[]string{"incrbyfloat", "f", "abc"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", ""}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", " 1"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "1 "}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "1_0"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "inf"}, "-ERR increment would produce NaN or Infinity\r\n"},
		{[]string{"incrbyfloat", "f", "-Infinity"}, "-ERR increment would produce NaN or Infinity\r\n"},
		{[]string{"incrbyfloat", "f", "nan"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "1e5000"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "1e-5000"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "0x"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "1e"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "--1"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "+.5"}, "$5\r\n19.25\r\n"},
		{[]string{"incrbyfloat", "f", "5."}, "$5\r\n24.25\r\n"},
		{[]string{"set", "f", "-1"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "1"}, "$1\r\n0\r\n"},
		{[]string{"set", "f", "inf"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "1"}, "-ERR increment would produce NaN or Infinity\r\n"},
		{[]string{"incrbyfloat", "f", "abc"}, "-ERR value is not a valid float\r\n"},
		{[]string{"set", "f", "abc"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "inf"}, "-ERR value is not a valid float\r\n"},
		{[]string{"incrbyfloat", "f", "1"}, "-ERR value is not a valid float\r\n"},
		{[]string{"set", "f", "1e4000"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "1e4000"}, "$4001\r\n19999999999999999999930927746199247569864985167013915262603016666086523886612684710963643283731018559725528904146247347080435204434735184688344251763901055999922857164868709509003741916428581482602286029340890052521698886912550667484681645118292440881549005398294233636615551133547142412984072625926794737523652159076323224073449362055960837890143714667604039146368752815949475484201165926879162604949493211656142136324532190700498218721963863391884246507744724711441435735719863994233935647070350689772834871897654985336848449029863193930249856853114626014544007308363213275659297436052665246891929319198823377347224802434025196241114978577470668874236958691181654026320853268668072291943222588188998535860195290316633848484168888010092551578633708529397925075039209609296405117663626640398164549621357093933324212544994013992373058404093224395855930061326032107224111364121710341978042139996952609336333737596655698611089033917261091410872535736247926180839681441572590186595846466333978614370986936011927027112104547853049630129071726069902354231331971212343333416485512397924607723742709438362763922759343523877969409010147843237814288544899657831678167956075986560905119173931008398736512269300542937688494349647292557327134874265478613033886622570289137791635623042540468670046405619846878627074337371584628545543335694620804918906298366981385539076659032486485854210894351949913131899718519760514533246864863321973502517201632696641675455704704743637793296687401895705982117938867083410264690245048096869376650276645866170367443311344275730792716942070134428334721234239055210544709542894875121865817578710362082163957943524693115136461535148054604586921089937504163537313649759988752710327840600770191839377357341815521974375323586869434351520701302839075912206365820242729769274524204526408590658559240721072407522630389108106377868436818632492821477312407704277984984888808052684420999238281753711842555977557353895784305613709901570136029454251073479405313925223928802872375869771606841222573490269677330830731382818220928077389337798689759691645885526746079439377205620888879856074270937796549130707260118892512339957378131186841696912076548733134450599098705367301540321103816232023447760630352762781643488174382318029680932816844072926528365856869560362335493954797486084898826210430927768247603157453493935442669117449040942230671725032870566564787664281000519524741591814390836244520616662012060420209925023378917825738961042050860268094764456282701108788780420376653727077506166380659156299234785470650691214587608039579226214408879458110648213842252645342040133418634025671873851391189389820242583982266080704908058831790842661255849152136400941785073584870286158274765548880692392005187999367338706353107360108635843296847163279563328463432919079020913506530675996513329058401705878098937710838578195570606589892899504517583765909589117506677496470350347460146356932519367832874089778150565755833739255982579584367173699358582378148272811053977264209475226411918300947263199233185129685904879716066359404736399506613396724402803012958815398472793043039309323194264619474763947806283779096063426363543937931722720014111693582553425185222951225695949295797203171055332455477859378256425239362288819811177949887961855896863900196536692919298460611379957084059865584872972905793471850008389565175032946915248705278960180219014591470040920913451276291914044634795568418067997442509922121781833268189761967105501017763338698616695545669008776606174226683756208283224431576660413671962367791003331004040041281178421697804832006312723253746321672451132695500539025199493573720342653613662058175307320682329417617604908045763398098784279148033512292385288831641679181595794101103844669894812009477744664085688178570604668835811992762380343220337690632871066922471804172135871870010126002901044349163544886193076778399978257463358653090696557915576123524037614035205030373706411179751819821416158667210094020231476956210953501100300041259728715651086883913944380545459902413296552699802681344\r\n"},
		{[]string{"set", "f", "1.18e4932"}, "+OK\r\n"},
		{[]string{"incrbyfloat", "f", "1.18e4932"}, "-ERR increment would produce NaN or Infinity\r\n"},
	}},
	{"GETRANGE, SUBSTR", []respStep{
		{[]string{"set", "s", "This is a string"}, "+OK\r\n"},
		{[]string{"getrange", "s", "0", "3"}, "$4\r\nThis\r\n"},
		{[]string{"getrange", "s", "-3", "-1"}, "$3\r\ning\r\n"},
		{[]string{"getrange", "s", "0", "-1"}, "$16\r\nThis is a string\r\n"},
		{[]string{"getrange", "s", "10", "100"}, "$6\r\nstring\r\n"},
		{[]string{"getrange", "s", "5", "3"}, "$0\r\n\r\n"},
		{[]string{"getrange", "s", "-1", "-5"}, "$0\r\n\r\n"},
		{[]string{"getrange", "s", "-100", "-50"}, "$1\r\nT\r\n"},
		{[]string{"getrange", "s", "-100", "2"}, "$3\r\nThi\r\n"},
		{[]string{"getrange", "s", "100", "200"}, "$0\r\n\r\n"},
		{[]string{"getrange", "s", "0", "0"}, "$1\r\nT\r\n"},
		{[]string{"getrange", "s", "-9223372036854775808", "9223372036854775807"}, "$16\r\nThis is a string\r\n"},
		{[]string{"getrange", "s", "a", "1"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"getrange", "s", "0", "b"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"getrange", "nokey", "0", "10"}, "$0\r\n\r\n"},
		{[]string{"substr", "s", "0", "3"}, "$4\r\nThis\r\n"},
		{[]string{"substr", "s", "-6", "-1"}, "$6\r\nstring\r\n"},
		{[]string{"set", "empty", ""}, "+OK\r\n"},
		{[]string{"getrange", "empty", "0", "-1"}, "$0\r\n\r\n"},
		{[]string{"getrange", "empty", "-1", "0"}, "$0\r\n\r\n"},
	}},
	{"SETRANGE", []respStep{
		{[]string{"setrange", "sr", "0", "abc"}, ":3\r\n"},
		{[]string{"setrange", "sr", "5", "xyz"}, ":8\r\n"},
		{[]string{"get", "sr"}, "$8\r\nabc\x00\x00xyz\r\n"},
		{[]string{"setrange", "sr", "1", "B"}, ":8\r\n"},
		{[]string{"get", "sr"}, "$8\r\naBc\x00\x00xyz\r\n"},
		{[]string{"setrange", "sr", "0", ""}, ":8\r\n"},
		{[]string{"setrange", "sr2", "10", ""}, ":0\r\n"},
		{[]string{"exists", "sr2"}, ":0\r\n"},
		{[]string{"setrange", "sr", "-1", "x"}, "-ERR offset is out of range\r\n"},
		{[]string{"setrange", "sr", "abc", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"setrange", "sr", "536870911", ""}, ":8\r\n"},
		{[]string{"setrange", "sr", "536870912", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{[]string{"setrange", "sr3", "536870912", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{[]string{"setrange", "sr3", "9223372036854775807", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{[]string{"setrange", "sr3", "536870912", ""}, ":0\r\n"},
	}},
	{"LCS", []respStep{
		{[]string{"mset", "la", "ohmytext", "lb", "mynewtext"}, "+OK\r\n"},
		{[]string{"lcs", "la", "lb"}, "$6\r\nmytext\r\n"},
		{[]string{"lcs", "la", "lb", "len"}, ":6\r\n"},
		{[]string{"lcs", "la", "lb", "idx"}, "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "idx", "minmatchlen", "4"}, "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "idx", "minmatchlen", "4", "withmatchlen"}, "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "idx", "withmatchlen"}, "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "IDX", "MINMATCHLEN", "-3", "WITHMATCHLEN"}, "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"},
		{[]string{"lcs", "la", "lb", "len", "idx"}, "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
		{[]string{"lcs", "la", "lb", "foo"}, "-ERR syntax error\r\n"},
		{[]string{"lcs", "la", "lb", "minmatchlen"}, "-ERR syntax error\r\n"},
		{[]string{"lcs", "la", "lb", "minmatchlen", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"lcs", "la", "nokey"}, "$0\r\n\r\n"},
		{[]string{"lcs", "la", "nokey", "idx"}, "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"},
		{[]string{"lcs", "nokey", "nokey2", "len"}, ":0\r\n"},
		{[]string{"lcs", "la", "la"}, "$8\r\nohmytext\r\n"},
		{[]string{"mset", "lc", "ABCBDAB", "ld", "BDCABA"}, "+OK\r\n"},
		{[]string{"lcs", "lc", "ld"}, "$4\r\nBDAB\r\n"},
		{[]string{"lcs", "lc", "ld", "idx", "withmatchlen"}, "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n:2\r\n*3\r\n*2\r\n:3\r\n:4\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:4\r\n"},
		{[]string{"mset", "le", "aaaa", "lf", "aa"}, "+OK\r\n"},
		{[]string{"lcs", "le", "lf", "idx"}, "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:2\r\n"},
		{[]string{"lcs", "la"}, "-ERR wrong number of arguments for 'lcs' command\r\n"},
	}},
}
