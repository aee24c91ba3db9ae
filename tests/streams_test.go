package tests

import (
	"testing"
)

// Stream tests: replies compared byte for byte with what Redis sends (checked against
// redis-server 7.0 where the command existed there, Redis 8 documentation otherwise), in RESP2
// and RESP3.

// xentry is one stream entry as replied: [id, [field, value, ...]].
func xentry(id string, fv ...string) string { return colArr(colBulk(id), colBulks(fv...)) }

// xentries is an array of entries.
func xentries(entries ...string) string { return colArr(entries...) }

// xread2 and xread3 are XREAD's reply for one stream in RESP2 (array of [key, entries]) and
// RESP3 (map key → entries).
func xread2(key string, entries ...string) string {
	return colArr(colArr(colBulk(key), xentries(entries...)))
}

func xread3(key string, entries ...string) string {
	return colAgg('%', 1, []string{colBulk(key), xentries(entries...)})
}

const errBadID = "ERR Invalid stream ID specified as stream command argument"

func TestStreamsAddAndLen(t *testing.T) {
	colRun(t, []colStep{
		colDo(colBulk("1-1"), "XADD", "s", "1-1", "a", "1"),
		colDo(colErr("ERR The ID specified in XADD is equal or smaller than the target stream top item"), "XADD", "s", "1-1", "a", "1"),
		colDo(colErr("ERR The ID specified in XADD is equal or smaller than the target stream top item"), "XADD", "s", "1", "a", "1"),
		colDo(colErr("ERR The ID specified in XADD must be greater than 0-0"), "XADD", "s", "0-0", "a", "1"),
		colDo(colBulk("1-2"), "XADD", "s", "1-*", "a", "1"),
		colDo(colBulk("5-0"), "XADD", "s", "5-*", "a", "1"),
		colDo(colBulk("6-0"), "XADD", "s", "6", "a", "1"),
		colDo(colErr(errBadID), "XADD", "s", "abc", "a", "1"),
		colDo(colErr(errBadID), "XADD", "s", "-1", "a", "1"),
		colDo(colErr(errBadID), "XADD", "s", "1-", "a", "1"),
		colDo(colErr(errBadID), "XADD", "s", "18446744073709551616", "a", "1"),
		colDo(colErr("ERR The ID specified in XADD is equal or smaller than the target stream top item"), "XADD", "s", "+1-2", "a", "1"),
		colDo(colWrongArgs("xadd"), "XADD", "s", "7-0", "a"),
		colDo(colWrongArgs("xadd"), "XADD", "s", "7-0", "a", "1", "b"),
		colDo(colWrongArgs("xadd"), "XADD", "s", "MAXLEN"),
		colDo(colInt(4), "XLEN", "s"),
		colDo(colInt(0), "XLEN", "nokey"),
		colDo23(colNull2, colNull3, "XADD", "nos", "NOMKSTREAM", "*", "a", "1"),
		colDo(colInt(0), "EXISTS", "nos"),
		colDo(colBulk("0-1"), "XADD", "s2", "0-*", "a", "1"),
		colDo(colBulk("18446744073709551615-18446744073709551615"), "XADD", "s2", "18446744073709551615-18446744073709551615", "a", "1"),
		colDo(colErr("ERR The stream has exhausted the last possible ID, unable to add more items"), "XADD", "s2", "*", "a", "1"),
		colDo(colBulk("18446744073709551615-0"), "XADD", "s3", "18446744073709551615-*", "a", "1"),
		colDo(colBulk("18446744073709551615-1"), "XADD", "s3", "18446744073709551615-*", "a", "1"),
		colDo(colStatus("OK"), "SET", "str", "x"),
		colDo(colWrongType, "XADD", "str", "*", "a", "1"),
		colDo(colWrongType, "XLEN", "str"),
		colDo(colStatus("stream"), "TYPE", "s"),
		colDo(colBulk("stream"), "OBJECT", "ENCODING", "s"),
	})
}

func TestStreamsAddOptions(t *testing.T) {
	colRun(t, []colStep{
		colDo(colBulk("1-0"), "XADD", "s", "1", "a", "1"),
		colDo(colErr("ERR syntax error, LIMIT cannot be used without the special ~ option"), "XADD", "s", "MAXLEN", "=", "1", "LIMIT", "10", "*", "a", "1"),
		colDo(colErr("ERR value is not an integer or out of range"), "XADD", "s", "MAXLEN", "abc", "*", "a", "1"),
		colDo(colErr("ERR The MAXLEN argument must be >= 0."), "XADD", "s", "MAXLEN", "-1", "*", "a", "1"),
		colDo(colErr(errBadID), "XADD", "s", "MINID", "abc", "*", "a", "1"),
		colDo(colErr("ERR The LIMIT argument must be >= 0."), "XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "*", "a", "1"),
		colDo(colErr("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"), "XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "1"),
		colDo(colErr("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"), "XADD", "s", "LIMIT", "10", "*", "a", "1"),
		colDo(colBulk("2-0"), "XADD", "s", "NOMKSTREAM", "NOMKSTREAM", "2", "a", "1"),
		colDo(colBulk("3-0"), "XADD", "s", "MAXLEN", "2", "3", "a", "1"),
		colDo(colInt(2), "XLEN", "s"),
		colDo(colBulk("4-0"), "XADD", "s", "MAXLEN", "=", "1", "4", "a", "1"),
		colDo(xentries(xentry("4-0", "a", "1")), "XRANGE", "s", "-", "+"),
		colDo(colBulk("5-0"), "XADD", "s", "MINID", "5", "5", "b", "2"),
		colDo(xentries(xentry("5-0", "b", "2")), "XRANGE", "s", "-", "+"),
		// "~" trims whole nodes only: the one node of the six entries ever added (four of them
		// trimmed) goes whole, as redis-server removes it.
		colDo(colBulk("6-0"), "XADD", "s", "MAXLEN", "~", "0", "6", "c", "3"),
		colDo(colInt(0), "XLEN", "s"),
	})
}

func TestStreamsRange(t *testing.T) {
	e1, e2, e3 := xentry("1-1", "a", "1"), xentry("2-1", "b", "2", "c", "3"), xentry("3-1", "d", "4")
	colRun(t, []colStep{
		colDo(colBulk("1-1"), "XADD", "s", "1-1", "a", "1"),
		colDo(colBulk("2-1"), "XADD", "s", "2-1", "b", "2", "c", "3"),
		colDo(colBulk("3-1"), "XADD", "s", "3-1", "d", "4"),
		colDo(xentries(e1, e2, e3), "XRANGE", "s", "-", "+"),
		colDo(xentries(e1), "XRANGE", "s", "-", "+", "COUNT", "1"),
		colDo(xentries(e3, e2), "XREVRANGE", "s", "+", "-", "COUNT", "2"),
		colDo(xentries(e2, e3), "XRANGE", "s", "(1-1", "+"),
		colDo(xentries(e2, e1), "XREVRANGE", "s", "(3-1", "-"),
		colDo(xentries(e2), "XRANGE", "s", "2", "2"),
		colDo(xentries(), "XRANGE", "s", "3", "1"),
		colDo23("*-1\r\n", "_\r\n", "XRANGE", "s", "-", "+", "COUNT", "0"),
		colDo23("*-1\r\n", "_\r\n", "XRANGE", "s", "-", "+", "COUNT", "-1"),
		colDo(xentries(), "XRANGE", "nokey", "-", "+"),
		colDo(colErr("ERR value is not an integer or out of range"), "XRANGE", "s", "-", "+", "COUNT", "abc"),
		colDo(colErr("ERR syntax error"), "XRANGE", "s", "-", "+", "COUNT", "1", "extra"),
		colDo(colErr("ERR syntax error"), "XRANGE", "s", "-", "+", "LIMIT", "1"),
		colDo(colErr(errBadID), "XRANGE", "s", "(-", "+"),
		colDo(colErr(errBadID), "XRANGE", "s", "-", "(+"),
		colDo(colErr(errBadID), "XRANGE", "s", "abc", "+"),
		colDo(colErr("ERR invalid start ID for the interval"), "XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
		colDo(colErr("ERR invalid end ID for the interval"), "XRANGE", "s", "-", "(0-0"),
		colDo(colWrongArgs("xrange"), "XRANGE", "s", "-"),
	})
}

func TestStreamsDelTrimSetID(t *testing.T) {
	colRun(t, []colStep{
		colDo(colBulk("1-1"), "XADD", "s", "1-1", "a", "1"),
		colDo(colBulk("2-1"), "XADD", "s", "2-1", "b", "2"),
		colDo(colBulk("3-1"), "XADD", "s", "3-1", "c", "3"),
		colDo(colInt(1), "XDEL", "s", "1-1", "9-9"),
		colDo(colErr(errBadID), "XDEL", "s", "abc"),
		colDo(colInt(0), "XDEL", "nokey", "abc"),
		colDo(colInt(2), "XLEN", "s"),
		colDo(colWrongArgs("xtrim"), "XTRIM", "s", "MAXLEN"),
		colDo(colErr("ERR syntax error"), "XTRIM", "s", "MAXLEN", "1", "extra"),
		colDo(colErr("ERR syntax error"), "XTRIM", "s", "NOMKSTREAM", "MAXLEN", "1"),
		colDo(colErr("ERR value is not an integer or out of range"), "XTRIM", "nokey", "MAXLEN", "abc"),
		colDo(colInt(0), "XTRIM", "nokey", "MAXLEN", "1"),
		colDo(colErr("ERR syntax error, XTRIM must be called with a trimming strategy"), "XTRIM", "s", "KEEPREF", "ACKED"),
		colDo(colInt(1), "XTRIM", "s", "MAXLEN", "1"),
		colDo(colInt(0), "XTRIM", "s", "MINID", "3"),
		colDo(colErr(errBadID), "XTRIM", "s", "MINID", "(4"),
		colDo(colInt(1), "XTRIM", "s", "MINID", "4"),
		colDo(colInt(0), "XLEN", "s"),
		colDo(colInt(1), "EXISTS", "s"), // an emptied stream stays
		colDo(colBulk("4-1"), "XADD", "s", "4-1", "d", "4"),
		colDo(colErr("ERR The ID specified in XSETID is smaller than the target stream top item"), "XSETID", "s", "4-0"),
		colDo(colOK, "XSETID", "s", "5-5"),
		colDo(colErr("ERR The entries_added specified in XSETID is smaller than the target stream length"), "XSETID", "s", "5-5", "ENTRIESADDED", "0"),
		colDo(colErr("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"), "XSETID", "s", "5-5", "ENTRIESADDED", "10", "MAXDELETEDID", "6-6"),
		colDo(colOK, "XSETID", "s", "5-5", "ENTRIESADDED", "10", "MAXDELETEDID", "2-2"),
		colDo(colErr("ERR entries_added must be positive"), "XSETID", "s", "5-5", "ENTRIESADDED", "-1"),
		colDo(colErr("ERR no such key"), "XSETID", "nokey", "1-1"),
		colDo(colErr("ERR syntax error"), "XSETID", "s", "5-5", "FOO"),
		colDo(colErr("ERR The ID specified in XADD is equal or smaller than the target stream top item"), "XADD", "s", "5-5", "a", "1"),
		colDo(colOK, "XSETID", "s", "99999999999999-5"),
		colDo(colBulk("99999999999999-6"), "XADD", "s", "*", "a", "1"),
	})
}

func TestStreamsRead(t *testing.T) {
	e1, e2 := xentry("1-1", "a", "1"), xentry("2-1", "b", "2")
	colRun(t, []colStep{
		colDo(colBulk("1-1"), "XADD", "s", "1-1", "a", "1"),
		colDo(colBulk("2-1"), "XADD", "s", "2-1", "b", "2"),
		colDo23(xread2("s", e1, e2), xread3("s", e1, e2), "XREAD", "STREAMS", "s", "0"),
		colDo23(xread2("s", e1), xread3("s", e1), "XREAD", "COUNT", "1", "STREAMS", "s", "0"),
		colDo23(xread2("s", e1, e2), xread3("s", e1, e2), "XREAD", "COUNT", "0", "STREAMS", "s", "nokey", "0", "0"),
		colDo23(xread2("s", e2), xread3("s", e2), "XREAD", "STREAMS", "s", "+"),
		colDo23("*-1\r\n", "_\r\n", "XREAD", "STREAMS", "s", "$"),
		colDo23("*-1\r\n", "_\r\n", "XREAD", "STREAMS", "nokey", "0"),
		colDo23("*-1\r\n", "_\r\n", "XREAD", "STREAMS", "s", "2-1"),
		colDo23("*-1\r\n", "_\r\n", "XREAD", "BLOCK", "10", "STREAMS", "s", "$"),
		colDo(colErr("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."), "XREAD", "STREAMS", "s", ">"),
		colDo(colErr("ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified."), "XREAD", "STREAMS", "s", "t", "0"),
		colDo(colWrongArgs("xread"), "XREAD", "STREAMS", "s"),
		colDo(colErr("ERR value is not an integer or out of range"), "XREAD", "COUNT", "abc", "STREAMS", "s", "0"),
		colDo(colErr("ERR timeout is not an integer or out of range"), "XREAD", "BLOCK", "abc", "STREAMS", "s", "0"),
		colDo(colErr("ERR timeout is negative"), "XREAD", "BLOCK", "-1", "STREAMS", "s", "0"),
		colDo(colErr("ERR syntax error"), "XREAD", "FOO", "1", "STREAMS", "s", "0"),
		colDo(colErr(errBadID), "XREAD", "STREAMS", "s", "abc"),
		colDo(colErr("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."), "XREAD", "NOACK", "STREAMS", "s", "0"),
		colDo(colErr("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."), "XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"),
		colDo(colStatus("OK"), "SET", "str", "x"),
		colDo(colWrongType, "XREAD", "STREAMS", "s", "str", "0", "0"),
	})
}

func TestStreamsInfo(t *testing.T) {
	e1, e3 := xentry("1-1", "a", "1"), xentry("3-1", "c", "3")
	head := func(length, keys, nodes int64, last, maxDel string, added int64, first string) []string {
		return []string{
			colBulk("length"), colInt(length), colBulk("radix-tree-keys"), colInt(keys),
			colBulk("radix-tree-nodes"), colInt(nodes), colBulk("last-generated-id"), colBulk(last),
			colBulk("max-deleted-entry-id"), colBulk(maxDel), colBulk("entries-added"), colInt(added),
			colBulk("recorded-first-entry-id"), colBulk(first),
		}
	}
	summary := append(head(2, 1, 2, "3-1", "2-1", 3, "1-1"),
		colBulk("groups"), colInt(0), colBulk("first-entry"), e1, colBulk("last-entry"), e3)
	full := append(head(2, 1, 2, "3-1", "2-1", 3, "1-1"),
		colBulk("entries"), xentries(e1), colBulk("groups"), colArr())
	empty := append(head(0, 0, 1, "0-0", "0-0", 0, "0-0"),
		colBulk("groups"), colInt(1), colBulk("first-entry"), colNull2, colBulk("last-entry"), colNull2)
	empty3 := append(head(0, 0, 1, "0-0", "0-0", 0, "0-0"),
		colBulk("groups"), colInt(1), colBulk("first-entry"), colNull3, colBulk("last-entry"), colNull3)
	colRun(t, []colStep{
		colDo(colBulk("1-1"), "XADD", "s", "1-1", "a", "1"),
		colDo(colBulk("2-1"), "XADD", "s", "2-1", "b", "2"),
		colDo(colBulk("3-1"), "XADD", "s", "3-1", "c", "3"),
		colDo(colInt(1), "XDEL", "s", "2-1"),
		colDo23(colArr(summary...), colAgg('%', 10, summary), "XINFO", "STREAM", "s"),
		colDo23(colArr(full...), colAgg('%', 9, full), "XINFO", "STREAM", "s", "FULL", "COUNT", "1"),
		colDo(colErr("ERR value is not an integer or out of range"), "XINFO", "STREAM", "s", "FULL", "COUNT", "abc"),
		colDo(colErr("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."), "XINFO", "STREAM", "s", "FOO"),
		colDo(colErr("ERR no such key"), "XINFO", "STREAM", "nokey"),
		colDo(colErr("ERR no such key"), "XINFO", "GROUPS", "nokey"),
		colDo(colErr("ERR no such key"), "XINFO", "CONSUMERS", "nokey", "g"),
		colDo(colErr("NOGROUP No such consumer group 'g' for key name 's'"), "XINFO", "CONSUMERS", "s", "g"),
		colDo(colArr(), "XINFO", "GROUPS", "s"),
		colDo(colOK, "XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"),
		colDo23(colArr(empty...), colAgg('%', 10, empty3), "XINFO", "STREAM", "e"),
	})
}
