package command

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Ranges over sorted sets. Score and lex ranges seek to their first member; rank ranges walk
// from the nearer end of the set (keyspace.ZRankRange), since nothing on disk counts members.
// Counts (ZCOUNT, ZLEXCOUNT) walk the range or its complement, whichever is shorter.

func init() {
	Register(
		&Command{Name: "zrange", Run: runZRange},
		&Command{Name: "zrangestore", Run: runZRangeStore},
		&Command{Name: "zrevrange", Run: runZRange},
		&Command{Name: "zrangebyscore", Run: runZRange},
		&Command{Name: "zrevrangebyscore", Run: runZRange},
		&Command{Name: "zrangebylex", Run: runZRange},
		&Command{Name: "zrevrangebylex", Run: runZRange},
		&Command{Name: "zcount", Run: runZCount},
		&Command{Name: "zlexcount", Run: runZLexCount},
		&Command{Name: "zremrangebyrank", Run: runZRemRange},
		&Command{Name: "zremrangebyscore", Run: runZRemRange},
		&Command{Name: "zremrangebylex", Run: runZRemRange},
		&Command{Name: "zrank", Run: runZRank},
		&Command{Name: "zrevrank", Run: runZRank},
	)
}

// zrangeKind is what a range is over.
type zrangeKind int

const (
	zrangeAuto zrangeKind = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

// zrangeSpec is a parsed range request.
type zrangeSpec struct {
	kind          zrangeKind
	reverse       bool
	withScores    bool
	offset, limit int64 // limit < 0: no limit
	start, stop   int64
	score         keyspace.ScoreRange
	lex           keyspace.LexRange
}

// strtod parses a range bound as C's strtod parses it for Redis: white space may lead, the rest
// must be a number (decimal, hexadecimal, inf, infinity), and an empty argument is 0 since
// strtod then converts nothing and stops at the terminator. Values out of range become ±Inf or
// 0, as Redis does not look at errno here. NaN is refused.
func strtod(b []byte) (float64, bool) {
	f, _, ok := strtodRange(b)
	return f, ok
}

// strtodRange is strtod that also reports ERANGE: a finite number too large for a double, or a
// nonzero one too small.
func strtodRange(b []byte) (f float64, rangeErr, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // C sees a string up to its first NUL
	}
	if len(b) == 0 {
		return 0, false, true
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	s := string(b)
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, false, false
	}
	body := strings.ToLower(strings.TrimLeft(s, "+-"))
	if len(s)-len(body) > 1 {
		return 0, false, false
	}
	hex := strings.HasPrefix(body, "0x")
	if hex && !strings.ContainsRune(body, 'p') {
		s += "p0" // strtod reads hexadecimal without an exponent; Go wants one
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, false
	}
	rangeErr = err != nil || (f == 0 && nonzeroMantissa(body, hex))
	return f, rangeErr, f == f
}

// nonzeroMantissa reports whether a number's digits before its exponent are not all zero.
func nonzeroMantissa(s string, hex bool) bool {
	exp := "e"
	if hex {
		s, exp = s[2:], "p"
	}
	if i := strings.Index(s, exp); i >= 0 {
		s = s[:i]
	}
	return strings.ContainsAny(s, "123456789abcdef")
}

// parseScoreRange parses min and max as ZRANGEBYSCORE does: a leading '(' opens the end.
func parseScoreRange(min, max []byte) (keyspace.ScoreRange, bool) {
	var r keyspace.ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, false
	}
	r.Max, r.MaxEx, ok = parseScoreBound(max)
	return r, ok
}

func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := len(b) > 0 && b[0] == '('
	if ex {
		b = b[1:]
	}
	v, ok := strtod(b)
	return v, ex, ok
}

// parseLexRange parses min and max as ZRANGEBYLEX does: "[x" closed, "(x" open, "-" and "+"
// the infinite strings.
func parseLexRange(min, max []byte) (keyspace.LexRange, bool) {
	var r keyspace.LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return r, false
	}
	r.Max, ok = parseLexBound(max)
	return r, ok
}

func parseLexBound(b []byte) (keyspace.LexBound, bool) {
	if len(b) == 0 {
		return keyspace.LexBound{}, false
	}
	switch b[0] {
	case '+':
		return keyspace.LexBound{Inf: 1}, len(b) == 1
	case '-':
		return keyspace.LexBound{Inf: -1}, len(b) == 1
	case '(':
		return keyspace.LexBound{Value: b[1:], Ex: true}, true
	case '[':
		return keyspace.LexBound{Value: b[1:]}, true
	}
	return keyspace.LexBound{}, false
}

// parseZRange parses args = <src> <min> <max> [options] as Redis's zrangeGenericCommand: the
// options first, then the range. kind and reverse are fixed by the legacy commands; ZRANGE and
// ZRANGESTORE pass zrangeAuto and let BYSCORE, BYLEX and REV choose. store refuses WITHSCORES.
func (c *Ctx) parseZRange(args [][]byte, store bool, kind zrangeKind, reverse, fixedDir bool) (zrangeSpec, bool) {
	sp := zrangeSpec{kind: kind, reverse: reverse, limit: -1}
	dirAuto := !fixedDir
	for j := 3; j < len(args); j++ {
		a := args[j]
		switch {
		case !store && EqualFold(a, "withscores"):
			sp.withScores = true
		case EqualFold(a, "limit") && len(args)-j-1 >= 2:
			off, ok1 := ParseInt(args[j+1])
			lim, ok2 := ParseInt(args[j+2])
			if !ok1 || !ok2 {
				c.Err(ErrNotInt)
				return sp, false
			}
			sp.offset, sp.limit = off, lim
			j += 2
		case dirAuto && EqualFold(a, "rev"):
			sp.reverse, dirAuto = true, false
		case sp.kind == zrangeAuto && EqualFold(a, "bylex"):
			sp.kind = zrangeLex
		case sp.kind == zrangeAuto && EqualFold(a, "byscore"):
			sp.kind = zrangeScore
		default:
			c.Syntax()
			return sp, false
		}
	}
	if sp.kind == zrangeAuto {
		sp.kind = zrangeRank
	}
	if sp.limit != -1 && sp.kind == zrangeRank {
		c.Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return sp, false
	}
	if sp.withScores && sp.kind == zrangeLex {
		c.Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return sp, false
	}
	min, max := args[1], args[2]
	if sp.reverse && sp.kind != zrangeRank {
		min, max = max, min
	}
	var ok bool
	switch sp.kind {
	case zrangeRank:
		var ok2 bool
		sp.start, ok = ParseInt(min)
		sp.stop, ok2 = ParseInt(max)
		if !ok || !ok2 {
			c.Err(ErrNotInt)
			return sp, false
		}
	case zrangeScore:
		if sp.score, ok = parseScoreRange(min, max); !ok {
			c.Err(errZMinMax)
			return sp, false
		}
	case zrangeLex:
		if sp.lex, ok = parseLexRange(min, max); !ok {
			c.Err(errZLexRange)
			return sp, false
		}
	}
	return sp, true
}

// zrangeCommandSpec gives the fixed kind and direction of each range command.
func zrangeCommandSpec(name string) (kind zrangeKind, reverse, fixedDir bool) {
	switch name {
	case "zrevrange":
		return zrangeRank, true, true
	case "zrangebyscore":
		return zrangeScore, false, true
	case "zrevrangebyscore":
		return zrangeScore, true, true
	case "zrangebylex":
		return zrangeLex, false, true
	case "zrevrangebylex":
		return zrangeLex, true, true
	}
	return zrangeAuto, false, false
}

// normalizeRank turns Redis's start and stop (negative counts from the end) into ranks with
// 0 <= start <= stop < n, or reports the range empty.
func normalizeRank(start, stop, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// zrangeVisit visits the members of the sorted set e that sp selects, in reply order.
func (c *Ctx) zrangeVisit(e *keyspace.Entry, sp *zrangeSpec, fn keyspace.ZVisitor) error {
	if sp.kind == zrangeRank {
		start, stop, ok := normalizeRank(sp.start, sp.stop, e.Count)
		if !ok {
			return nil
		}
		return c.Tx.ZRankRange(e, start, stop, sp.reverse, fn)
	}
	if sp.offset < 0 || (sp.offset > 0 && sp.offset >= e.Count) || sp.limit == 0 {
		return nil
	}
	left := sp.limit
	limited := func(m []byte, s float64) bool {
		if !fn(m, s) {
			return false
		}
		left--
		return left != 0 // a negative limit never reaches 0
	}
	if sp.kind == zrangeScore {
		return c.Tx.ZScoreRangeSkip(e, &sp.score, sp.reverse, sp.offset, limited)
	}
	return c.Tx.ZLexRangeSkip(e, &sp.lex, sp.reverse, sp.offset, limited)
}

func runZRange(c *Ctx) {
	kind, reverse, fixedDir := zrangeCommandSpec(c.Cmd.Name)
	sp, ok := c.parseZRange(c.Args[1:], false, kind, reverse, fixedDir)
	if !ok {
		return
	}
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Array(0)
		return
	}
	mark := c.W.Len()
	n := 0
	emit := func(m []byte, s float64) bool {
		c.zreplyEntry(m, s, sp.withScores)
		n++
		return true
	}
	if sp.kind != zrangeRank {
		if err := c.zrangeVisit(&e, &sp, emit); err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		c.insertHeader(mark, func() { c.zreplyHeader(n, sp.withScores) })
		return
	}
	// A rank range's length is known before it is read, so the header goes first.
	start, stop, ok := normalizeRank(sp.start, sp.stop, e.Count)
	want := 0
	if ok {
		want = int(stop - start + 1)
	}
	c.zreplyHeader(want, sp.withScores)
	if want == 0 {
		return
	}
	err := c.Tx.ZRankRange(&e, start, stop, sp.reverse, emit)
	if err == nil && n != want {
		err = errZCorrupt // the count in the metadata disagrees with the records
	}
	if err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
	}
}

// insertHeader writes an aggregate's header at mark, in front of the elements already written
// after it, for replies whose length is known only at the end.
func (c *Ctx) insertHeader(mark int, header func()) {
	tail := append([]byte(nil), c.W.Buf[mark:]...)
	c.W.Truncate(mark)
	header()
	c.W.Raw(tail)
}

func runZRangeStore(c *Ctx) {
	dst := c.Args[1]
	sp, ok := c.parseZRange(c.Args[2:], true, zrangeAuto, false, false)
	if !ok {
		return
	}
	e, ok := c.lookupZSet(c.Args[2])
	if !ok {
		return
	}
	var got []zentry
	if e.Exists() {
		err := c.zrangeVisit(&e, &sp, func(m []byte, s float64) bool {
			got = append(got, zentry{append([]byte(nil), m...), s})
			return true
		})
		if err != nil {
			c.Fail(err)
			return
		}
	}
	c.zstore(dst, got, "zrangestore")
}

// zstore replaces dst with a sorted set of es (distinct members), or deletes it when es is
// empty, fires event (or del), and replies with the new cardinality.
func (c *Ctx) zstore(dst []byte, es []zentry, event string) {
	e, ok := c.lookup(dst)
	if !ok {
		return
	}
	if len(es) == 0 {
		removed, err := c.Tx.Delete(dst, &e)
		if err != nil {
			c.Fail(err)
			return
		}
		if removed {
			c.Tx.Notify('g', "del", dst)
		}
		c.W.Int(0)
		return
	}
	c.newZSet(dst, &e)
	longest := 0
	for _, z := range es {
		if err := c.Tx.ZPut(&e, z.member, z.score, 0, false); err != nil {
			c.Fail(err)
			return
		}
		longest = max(longest, len(z.member))
	}
	if c.zsetOverListpack(e.Count, longest) {
		zsetMarkSkiplist(&e)
	}
	if !c.put(dst, &e) {
		return
	}
	c.Tx.Notify('z', event, dst)
	c.W.Int(e.Count)
}

func runZCount(c *Ctx) {
	r, ok := parseScoreRange(c.Args[2], c.Args[3])
	if !ok {
		c.Err(errZMinMax)
		return
	}
	c.zcount(func(e *keyspace.Entry) (int64, error) { return c.Tx.ZScoreCount(e, &r) })
}

func runZLexCount(c *Ctx) {
	r, ok := parseLexRange(c.Args[2], c.Args[3])
	if !ok {
		c.Err(errZLexRange)
		return
	}
	c.zcount(func(e *keyspace.Entry) (int64, error) { return c.Tx.ZLexCount(e, &r) })
}

// zcount replies with what count says of the sorted set at Args[1] (0 when it is missing).
func (c *Ctx) zcount(count func(*keyspace.Entry) (int64, error)) {
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	var n int64
	if e.Exists() {
		var err error
		if n, err = count(&e); err != nil {
			c.Fail(err)
			return
		}
	}
	c.W.Int(n)
}

func runZRemRange(c *Ctx) {
	key := c.Args[1]
	sp := zrangeSpec{limit: -1}
	var event string
	switch c.Cmd.Name {
	case "zremrangebyrank":
		event, sp.kind = "zremrangebyrank", zrangeRank
		var ok1, ok2 bool
		sp.start, ok1 = ParseInt(c.Args[2])
		sp.stop, ok2 = ParseInt(c.Args[3])
		if !ok1 || !ok2 {
			c.Err(ErrNotInt)
			return
		}
	case "zremrangebyscore":
		event, sp.kind = "zremrangebyscore", zrangeScore
		var ok bool
		if sp.score, ok = parseScoreRange(c.Args[2], c.Args[3]); !ok {
			c.Err(errZMinMax)
			return
		}
	default:
		event, sp.kind = "zremrangebylex", zrangeLex
		var ok bool
		if sp.lex, ok = parseLexRange(c.Args[2], c.Args[3]); !ok {
			c.Err(errZLexRange)
			return
		}
	}
	e, ok := c.lookupZSet(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Int(0)
		return
	}
	before := e.Count
	var removed int64
	var werr error
	// Removing while walking is safe: a batch iterator does not see the batch's later writes.
	err := c.zrangeVisit(&e, &sp, func(m []byte, s float64) bool {
		if werr = c.Tx.ZRemove(&e, m, s); werr != nil {
			return false
		}
		removed++
		return true
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		c.Fail(err)
		return
	}
	if removed > 0 && !c.zremoved(key, &e, before, event) {
		return
	}
	c.W.Int(removed)
}

func runZRank(c *Ctx) {
	if len(c.Args) > 4 {
		c.Err(ErrWrongArgs(c.Cmd.Name))
		return
	}
	withScore := false
	if len(c.Args) == 4 {
		if !EqualFold(c.Args[3], "withscore") {
			c.Syntax()
			return
		}
		withScore = true
	}
	e, ok := c.peekZSet(c.Args[1])
	if !ok {
		return
	}
	var score float64
	found := false
	if e.Exists() {
		var err error
		if score, found, err = c.Tx.ZScore(&e, c.Args[2]); err != nil {
			c.Fail(err)
			return
		}
	}
	if !found {
		if withScore {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	rank, err := c.Tx.ZRank(&e, c.Args[2], score)
	if err != nil {
		c.Fail(err)
		return
	}
	if c.Cmd.Name == "zrevrank" {
		rank = e.Count - 1 - rank
	}
	if withScore {
		c.W.Array(2)
		c.W.Int(rank)
		c.W.Double(score)
		return
	}
	c.W.Int(rank)
}
