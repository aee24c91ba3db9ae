package tests

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Consumer group tests: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XDELEX, XACKDEL.

const errNeedsKey = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."

func TestStreamsGroupAdmin(t *testing.T) {
	colRun(t, []colStep{
		colDo(colErr(errNeedsKey), "XGROUP", "CREATE", "s", "g", "$"),
		colDo(colErr(errNeedsKey), "XGROUP", "SETID", "s", "g", "0"),
		colDo(colErr(errNeedsKey), "XGROUP", "DESTROY", "s", "g"),
		colDo(colErr(errNeedsKey), "XGROUP", "CREATECONSUMER", "s", "g", "c"),
		colDo(colErr(errNeedsKey), "XGROUP", "DELCONSUMER", "s", "g", "c"),
		colDo(colOK, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
		colDo(colErr("BUSYGROUP Consumer Group name already exists"), "XGROUP", "CREATE", "s", "g", "$"),
		colDo(colErr(errBadID), "XGROUP", "CREATE", "s", "g2", "abc"),
		colDo(colErr(errBadID), "XGROUP", "CREATE", "s", "g2", "-"),
		colDo(colErr("ERR value for ENTRIESREAD must be positive or -1"), "XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-3"),
		colDo(colErr("ERR value is not an integer or out of range"), "XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "abc"),
		colDo(colErr("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."), "XGROUP", "CREATE", "s", "g2", "0", "FOO"),
		colDo(colWrongArgs("xgroup|create"), "XGROUP", "CREATE", "s", "g2"),
		colDo(colErr("NOGROUP No such consumer group 'nog' for key name 's'"), "XGROUP", "SETID", "s", "nog", "0"),
		colDo(colErr("NOGROUP No such consumer group 'nog' for key name 's'"), "XGROUP", "CREATECONSUMER", "s", "nog", "c"),
		colDo(colErr("NOGROUP No such consumer group 'nog' for key name 's'"), "XGROUP", "DELCONSUMER", "s", "nog", "c"),
		colDo(colInt(0), "XGROUP", "DESTROY", "s", "nog"),
		colDo(colInt(1), "XGROUP", "CREATECONSUMER", "s", "g", "c1"),
		colDo(colInt(0), "XGROUP", "CREATECONSUMER", "s", "g", "c1"),
		colDo(colInt(0), "XGROUP", "DELCONSUMER", "s", "g", "c1"),
		colDo(colInt(0), "XGROUP", "DELCONSUMER", "s", "g", "c1"),
		colDo(colOK, "XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"),
		colDo(colErr("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."), "XGROUP", "SETID", "s", "g", "0", "FOO"),
		colDo(colInt(1), "XGROUP", "DESTROY", "s", "g"),
		colDo(colArr(), "XINFO", "GROUPS", "s"),
		colDo(colErr("ERR unknown subcommand 'FOO'. Try XGROUP HELP."), "XGROUP", "FOO", "s", "g"),
		colDo(colStatus("OK"), "SET", "str", "x"),
		colDo(colWrongType, "XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"),
	})
}

func TestStreamsReadGroup(t *testing.T) {
	e1, e2, e3 := xentry("1-1", "a", "1"), xentry("2-1", "b", "2"), xentry("3-1", "c", "3")
	deleted := colArr(colBulk("2-1"), "*-1\r\n")
	deleted3 := colArr(colBulk("2-1"), "_\r\n")
	colRun(t, []colStep{
		colDo(colBulk("1-1"), "XADD", "s", "1-1", "a", "1"),
		colDo(colBulk("2-1"), "XADD", "s", "2-1", "b", "2"),
		colDo(colBulk("3-1"), "XADD", "s", "3-1", "c", "3"),
		colDo(colOK, "XGROUP", "CREATE", "s", "g", "0"),
		colDo23(xread2("s", e1), xread3("s", e1), "XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"),
		colDo23(xread2("s", e2, e3), xread3("s", e2, e3), "XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"),
		colDo23("*-1\r\n", "_\r\n", "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"),
		colDo23(xread2("s", e1), xread3("s", e1), "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"),
		colDo23(xread2("s"), xread3("s"), "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "1-1"),
		colDo(colArr(colInt(3), colBulk("1-1"), colBulk("3-1"), colArr(colBulks("c1", "1"), colBulks("c2", "2"))), "XPENDING", "s", "g"),
		colDo(colInt(1), "XDEL", "s", "2-1"),
		colDo23(xread2("s", deleted, e3), xread3("s", deleted3, e3), "XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"),
		colDo(colInt(1), "XACK", "s", "g", "1-1", "9-9"),
		colDo(colInt(0), "XACK", "s", "g", "1-1"),
		colDo(colInt(0), "XACK", "s", "nog", "1-1"),
		colDo(colInt(0), "XACK", "nokey", "g", "1-1"),
		colDo(colErr(errBadID), "XACK", "s", "g", "3-1", "abc"),
		colDo(colInt(2), "XLEN", "s"),
		colDo(colErr("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"), "XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"),
		colDo(colErr("NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"), "XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"),
		colDo(colErr("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."), "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"),
		colDo(colErr("ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."), "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s"),
		colDo(colErr("ERR Missing GROUP option for XREADGROUP"), "XREADGROUP", "COUNT", "1", "BLOCK", "1", "STREAMS", "s", ">"),
		colDo(colErr("ERR syntax error"), "XREADGROUP", "GROUPS", "g", "c", "STREAMS", "s", ">"),
		colDo(colErr("ERR XREADGROUP CLAIM (Redis 8.4) is not supported by cairn"), "XREADGROUP", "GROUP", "g", "c", "CLAIM", "10", "STREAMS", "s", ">"),
		colDo(colStatus("OK"), "SET", "str", "x"),
		colDo(colWrongType, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
		// NOACK delivers without adding to the PEL.
		colDo(colBulk("4-1"), "XADD", "s", "4-1", "d", "4"),
		colDo23(xread2("s", xentry("4-1", "d", "4")), xread3("s", xentry("4-1", "d", "4")), "XREADGROUP", "GROUP", "g", "c3", "NOACK", "STREAMS", "s", ">"),
		colDo(colArr(colInt(2), colBulk("2-1"), colBulk("3-1"), colArr(colBulks("c2", "2"))), "XPENDING", "s", "g"),
	})
}

func TestStreamsPendingAndClaim(t *testing.T) {
	colRun(t, []colStep{
		colDo(colOK, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
		colDo23(colArr(colInt(0), colNull2, colNull2, "*-1\r\n"), colArr(colInt(0), colNull3, colNull3, colNull3), "XPENDING", "s", "g"),
		colDo(colArr(), "XPENDING", "s", "g", "-", "+", "10"),
		colDo(colErr("ERR syntax error"), "XPENDING", "s", "g", "-", "+"),
		colDo(colErr("ERR syntax error"), "XPENDING", "s", "g", "IDLE", "5"),
		colDo(colErr("ERR value is not an integer or out of range"), "XPENDING", "s", "g", "-", "+", "abc"),
		colDo(colErr("ERR value is not an integer or out of range"), "XPENDING", "s", "g", "IDLE", "abc", "-", "+", "10"),
		colDo(colErr("NOGROUP No such key 's' or consumer group 'nog'"), "XPENDING", "s", "nog"),
		colDo(colErr("NOGROUP No such key 'nokey' or consumer group 'g'"), "XPENDING", "nokey", "g"),
		colDo(colBulk("1-0"), "XADD", "s", "1", "f", "v"),
		colDo(colBulk("2-0"), "XADD", "s", "2", "f", "v"),
		colDo(colBulk("3-0"), "XADD", "s", "3", "f", "v"),
		colDo23(xread2("s", xentry("1-0", "f", "v"), xentry("2-0", "f", "v"), xentry("3-0", "f", "v")),
			xread3("s", xentry("1-0", "f", "v"), xentry("2-0", "f", "v"), xentry("3-0", "f", "v")),
			"XREADGROUP", "GROUP", "g", "Alice", "STREAMS", "s", ">"),
		colDo(colInt(1), "XDEL", "s", "2-0"),
		// XCLAIM drops deleted entries from the PEL and claims the others.
		colDo(xentries(xentry("1-0", "f", "v"), xentry("3-0", "f", "v")), "XCLAIM", "s", "g", "Bob", "0", "1-0", "2-0", "3-0"),
		colDo(colArr(), "XPENDING", "s", "g", "-", "+", "10", "Alice"),
		colDo(colArr(colInt(2), colBulk("1-0"), colBulk("3-0"), colArr(colBulks("Bob", "2"))), "XPENDING", "s", "g"),
		colDo(colArr(colBulk("1-0")), "XCLAIM", "s", "g", "Carol", "0", "1-0", "JUSTID"),
		colDo(colErr("ERR Unrecognized XCLAIM option 'FOO'"), "XCLAIM", "s", "g", "Carol", "0", "1-0", "FOO"),
		colDo(colErr("ERR Invalid min-idle-time argument for XCLAIM"), "XCLAIM", "s", "g", "Carol", "x", "1-0"),
		colDo(colErr("ERR Invalid IDLE option argument for XCLAIM"), "XCLAIM", "s", "g", "Carol", "0", "1-0", "IDLE", "x"),
		colDo(colErr("NOGROUP No such key 's' or consumer group 'nog'"), "XCLAIM", "s", "nog", "Carol", "0", "1-0"),
		// FORCE creates a PEL entry for an entry never delivered.
		colDo(colBulk("4-0"), "XADD", "s", "4", "f", "v"),
		colDo(colArr(), "XCLAIM", "s", "g", "Dan", "0", "4-0"),
		colDo(colArr(colBulk("4-0")), "XCLAIM", "s", "g", "Dan", "0", "4-0", "FORCE", "JUSTID", "LASTID", "4-0"),
		// XAUTOCLAIM as an iterator.
		colDo(colArr(colBulk("3-0"), colArr(colBulk("1-0")), colArr()), "XAUTOCLAIM", "s", "g", "Eve", "0", "0", "COUNT", "1", "JUSTID"),
		colDo(colArr(colBulk("0-0"), xentries(xentry("3-0", "f", "v"), xentry("4-0", "f", "v")), colArr()), "XAUTOCLAIM", "s", "g", "Eve", "0", "3-0"),
		colDo(colErr("ERR COUNT must be > 0"), "XAUTOCLAIM", "s", "g", "Eve", "0", "0", "COUNT", "0"),
		colDo(colErr("ERR COUNT must be > 0"), "XAUTOCLAIM", "s", "g", "Eve", "0", "0", "COUNT", "8070450532247928833"),
		colDo(colErr("ERR Invalid min-idle-time argument for XAUTOCLAIM"), "XAUTOCLAIM", "s", "g", "Eve", "x", "0"),
		colDo(colErr("ERR syntax error"), "XAUTOCLAIM", "s", "g", "Eve", "0", "0", "FOO"),
		colDo(colArr(colInt(3), colBulk("1-0"), colBulk("4-0"), colArr(colBulks("Eve", "3"))), "XPENDING", "s", "g"),
		colDo(colInt(1), "XGROUP", "CREATECONSUMER", "s", "g", "Zed"),
		colDo(colInt(3), "XGROUP", "DELCONSUMER", "s", "g", "Eve"),
		colDo23(colArr(colInt(0), colNull2, colNull2, "*-1\r\n"), colArr(colInt(0), colNull3, colNull3, colNull3), "XPENDING", "s", "g"),
	})
}

func TestStreamsXAutoClaimDeleted(t *testing.T) {
	// Redis's "XAUTOCLAIM with XDEL and count".
	colRun(t, []colStep{
		colDo(colBulk("1-0"), "XADD", "x", "1-0", "f", "v"),
		colDo(colBulk("2-0"), "XADD", "x", "2-0", "f", "v"),
		colDo(colBulk("3-0"), "XADD", "x", "3-0", "f", "v"),
		colDo(colOK, "XGROUP", "CREATE", "x", "grp", "0"),
		colDo23(xread2("x", xentry("1-0", "f", "v"), xentry("2-0", "f", "v"), xentry("3-0", "f", "v")),
			xread3("x", xentry("1-0", "f", "v"), xentry("2-0", "f", "v"), xentry("3-0", "f", "v")),
			"XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "x", ">"),
		colDo(colInt(2), "XDEL", "x", "1-0", "2-0"),
		colDo(colArr(colBulk("2-0"), colArr(), colBulks("1-0")), "XAUTOCLAIM", "x", "grp", "Bob", "0", "0-0", "COUNT", "1"),
		colDo(colArr(colBulk("3-0"), colArr(), colBulks("2-0")), "XAUTOCLAIM", "x", "grp", "Bob", "0", "2-0", "COUNT", "1"),
		colDo(colArr(colBulk("0-0"), xentries(xentry("3-0", "f", "v")), colArr()), "XAUTOCLAIM", "x", "grp", "Bob", "0", "3-0", "COUNT", "1"),
		colDo(colArr(), "XPENDING", "x", "grp", "-", "+", "10", "Alice"),
	})
}

func TestStreamsDeleteWithRefs(t *testing.T) {
	setup := []colStep{
		colDo(colBulk("1-0"), "XADD", "m", "1-0", "f", "v"),
		colDo(colBulk("2-0"), "XADD", "m", "2-0", "f", "v"),
		colDo(colOK, "XGROUP", "CREATE", "m", "group1", "0"),
		colDo(colOK, "XGROUP", "CREATE", "m", "group2", "0"),
		colDo23(xread2("m", xentry("1-0", "f", "v"), xentry("2-0", "f", "v")), xread3("m", xentry("1-0", "f", "v"), xentry("2-0", "f", "v")),
			"XREADGROUP", "GROUP", "group1", "consumer1", "STREAMS", "m", ">"),
		colDo23(xread2("m", xentry("1-0", "f", "v"), xentry("2-0", "f", "v")), xread3("m", xentry("1-0", "f", "v"), xentry("2-0", "f", "v")),
			"XREADGROUP", "GROUP", "group2", "consumer2", "STREAMS", "m", ">"),
	}
	noPending := colArr(colInt(0), colNull2, colNull2, "*-1\r\n")
	noPending3 := colArr(colInt(0), colNull3, colNull3, colNull3)
	twoPending := colArr(colInt(2), colBulk("1-0"), colBulk("2-0"), colArr(colBulks("consumer2", "2")))
	t.Run("acked", func(t *testing.T) {
		colRun(t, append(append([]colStep{}, setup...),
			colDo(colInts(2, 2), "XACKDEL", "m", "group1", "ACKED", "IDS", "2", "1-0", "2-0"),
			colDo(colInt(2), "XLEN", "m"),
			colDo23(noPending, noPending3, "XPENDING", "m", "group1"),
			colDo(twoPending, "XPENDING", "m", "group2"),
			colDo(colInts(1, 1), "XACKDEL", "m", "group2", "ACKED", "IDS", "2", "1-0", "2-0"),
			colDo(colInt(0), "XLEN", "m"),
		))
	})
	t.Run("delref", func(t *testing.T) {
		colRun(t, append(append([]colStep{}, setup...),
			colDo(colInts(1, 1), "XACKDEL", "m", "group1", "DELREF", "IDS", "2", "1-0", "2-0"),
			colDo(colInt(0), "XLEN", "m"),
			colDo23(noPending, noPending3, "XPENDING", "m", "group2"),
			colDo(colInts(-1, -1), "XACKDEL", "m", "group2", "DELREF", "IDS", "2", "1-0", "2-0"),
		))
	})
	t.Run("keepref", func(t *testing.T) {
		colRun(t, append(append([]colStep{}, setup...),
			colDo(colInts(1, 1), "XACKDEL", "m", "group1", "KEEPREF", "IDS", "2", "1-0", "2-0"),
			colDo(colInt(0), "XLEN", "m"),
			colDo(twoPending, "XPENDING", "m", "group2"),
			colDo(colInts(1, 1), "XACKDEL", "m", "group2", "IDS", "2", "1-0", "2-0"),
			colDo23(noPending, noPending3, "XPENDING", "m", "group2"),
		))
	})
	t.Run("xdelex", func(t *testing.T) {
		colRun(t, append(append([]colStep{}, setup...),
			colDo(colInts(2, 2, 2), "XDELEX", "m", "ACKED", "IDS", "3", "1-0", "2-0", "3-0"),
			colDo(colInt(2), "XGROUP", "DELCONSUMER", "m", "group1", "consumer1"),
			colDo(colInts(2), "XDELEX", "m", "ACKED", "IDS", "1", "1-0"),
			colDo(colInt(1), "XGROUP", "DESTROY", "m", "group2"),
			// 9-0 is after group1's position: a future entry it still needs.
			colDo(colInts(1, 2, -1), "XDELEX", "m", "ACKED", "IDS", "3", "1-0", "9-0", "1-5"),
			colDo(colInts(1), "XDELEX", "m", "IDS", "1", "2-0"),
			colDo(colInts(-1, -1), "XDELEX", "nokey", "IDS", "2", "1-0", "2-0"),
		))
	})
	t.Run("errors", func(t *testing.T) {
		colRun(t, []colStep{
			colDo(colWrongArgs("xackdel"), "XACKDEL", "s", "g"),
			colDo(colWrongArgs("xdelex"), "XDELEX", "s", "IDS", "1"),
			colDo(colInts(-1, -1), "XACKDEL", "s", "g", "IDS", "2", "1-1", "2-2"),
			colDo(colErr("ERR Number of IDs must be a positive integer"), "XACKDEL", "s", "g", "IDS", "abc", "1-1"),
			colDo(colErr("ERR Number of IDs must be a positive integer"), "XACKDEL", "s", "g", "IDS", "0", "1-1"),
			colDo(colErr("ERR Number of IDs must be a positive integer"), "XDELEX", "s", "IDS", "-5", "1-1"),
			colDo(colErr("ERR The `numids` parameter must match the number of arguments"), "XACKDEL", "s", "g", "IDS", "3", "1-1", "2-2"),
			colDo(colErr("ERR syntax error"), "XACKDEL", "s", "g", "IDS", "1", "1-1", "2-2"),
			colDo(colErr("ERR syntax error"), "XACKDEL", "s", "g", "KEEPREF", "DELREF", "IDS", "1", "1-1"),
			colDo(colErr("ERR syntax error"), "XDELEX", "s", "DELREF", "ACKED", "IDS", "1", "1-1"),
			colDo(colErr(errBadID), "XDELEX", "s", "IDS", "1", "abc"),
		})
	})
}

// TestStreamsEvents checks the keyspace events of the stream commands, as Redis names them.
func TestStreamsEvents(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	sub := srv.Dial()
	if got := c.Do("CONFIG", "SET", "notify-keyspace-events", "Et"); got != colOK {
		t.Fatalf("CONFIG SET = %q", got)
	}
	sub.Do("PSUBSCRIBE", "__keyevent@0__:*")
	for _, tc := range []struct {
		args  []string
		event string
	}{
		{cmd("XADD", "s", "1-0", "f", "v"), "xadd"},
		{cmd("XADD", "s", "MAXLEN", "1", "2-0", "f", "v"), "xadd"},
		{nil, "xtrim"},
		{cmd("XGROUP", "CREATE", "s", "g", "0"), "xgroup-create"},
		{cmd("XGROUP", "CREATECONSUMER", "s", "g", "c"), "xgroup-createconsumer"},
		{cmd("XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"), "xgroup-createconsumer"},
		{cmd("XGROUP", "DELCONSUMER", "s", "g", "c"), "xgroup-delconsumer"},
		{cmd("XGROUP", "SETID", "s", "g", "0"), "xgroup-setid"},
		{cmd("XSETID", "s", "5-0"), "xsetid"},
		{cmd("XDEL", "s", "2-0"), "xdel"},
		{cmd("XADD", "s", "6-0", "f", "v"), "xadd"},
		{cmd("XTRIM", "s", "MAXLEN", "0"), "xtrim"},
		{cmd("XGROUP", "DESTROY", "s", "g"), "xgroup-destroy"},
	} {
		if tc.args != nil {
			c.Do(tc.args...)
		}
		got := sub.ReadReply()
		if !strings.Contains(got, ":"+tc.event+"\r\n") {
			t.Fatalf("after %v: event %q, want %s", tc.args, got, tc.event)
		}
	}
}
