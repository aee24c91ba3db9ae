package command

import (
	"bytes"
	"math"
	"strconv"

	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// zscanOptions are the MATCH and COUNT options of the SCAN family.
type zscanOptions struct {
	match []byte // nil: everything
	count int64
}

// parseZScanOptions reads MATCH and COUNT from args.
func (c *Ctx) parseZScanOptions(args [][]byte) (zscanOptions, bool) {
	o := zscanOptions{count: 10}
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.Syntax()
			return o, false
		}
		switch {
		case EqualFold(args[i], "count"):
			n, ok := ParseInt(args[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return o, false
			}
			if n < 1 {
				c.Syntax()
				return o, false
			}
			o.count = n
		case EqualFold(args[i], "match"):
			o.match = args[i+1]
			if len(o.match) == 1 && o.match[0] == '*' {
				o.match = nil
			}
		default:
			c.Syntax()
			return o, false
		}
	}
	return o, true
}

func runZScan(c *Ctx) {
	cursor, ok := parseCursor(c.Args[2])
	if !ok {
		c.Err(errZInvalidCur)
		return
	}
	o, ok := c.parseZScanOptions(c.Args[3:])
	if !ok {
		return
	}
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Array(2)
		c.W.BulkString("0")
		c.W.Array(0)
		return
	}
	var found []zentry
	var next uint64
	var err error
	// A set Redis would hold as a listpack comes whole, as Redis returns one.
	whole := !zsetIsSkiplist(&e)
	if c.Cursors == nil && !whole {
		// As SCAN: without the table a scan could not go on past its first page.
		c.Err("ERR ZSCAN is not available here: no cursor table")
		return
	}
	if whole {
		found, err = c.zscanWhole(&e, &o)
	} else {
		found, next, err = c.zscanPage(&e, cursor, &o)
	}
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.Array(2 * len(found))
	var buf [32]byte
	for _, z := range found {
		c.W.Bulk(z.member)
		c.W.Bulk(resp.AppendDouble(buf[:0], z.score))
	}
}

// zscanWhole returns every member of a small set that matches, in score order, as Redis returns
// a listpack-encoded set in one call.
func (c *Ctx) zscanWhole(e *keyspace.Entry, o *zscanOptions) ([]zentry, error) {
	var found []zentry
	r := keyspace.ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}
	err := c.Tx.ZScoreRange(e, &r, false, func(m []byte, s float64) bool {
		if o.match == nil || glob.Match(o.match, m, false) {
			found = append(found, zentry{append([]byte(nil), m...), s})
		}
		return true
	})
	return found, err
}

// zscanPage visits up to COUNT members of a large set in member order from where cursor left
// off, and returns those that match and the cursor to continue with (0 at the end).
func (c *Ctx) zscanPage(e *keyspace.Entry, cursor uint64, o *zscanOptions) ([]zentry, uint64, error) {
	// Versions are unique, so a cursor can only resume the set it came from.
	scope := "zscan:" + strconv.FormatUint(e.Version, 10)
	var resume []byte
	if cursor != 0 {
		resume, _ = c.Cursors.Get(cursor, scope) // unknown: start over (see ScanCursors)
	}
	it, err := c.Tx.Elems(c.Args[1], e.Version)
	if err != nil {
		return nil, 0, err
	}
	// Members are in byte order, so a pattern's literal prefix bounds where matches can be.
	prefix := glob.LiteralPrefix(o.match)
	if bytes.Compare(resume, prefix) < 0 {
		resume = prefix
	}
	var found []zentry
	ok := it.SeekGE(resume)
	for visited := int64(0); ok && visited < o.count; ok = it.Next() {
		visited++
		m := it.Elem()
		if !bytes.HasPrefix(m, prefix) {
			ok = false // past every member the pattern can match
			break
		}
		if o.match != nil && !glob.Match(o.match, m, false) {
			continue
		}
		v, err := it.Value()
		if err != nil || len(v) != 8 {
			it.Close()
			return nil, 0, errCorruptZSet(err)
		}
		found = append(found, zentry{append([]byte(nil), m...), keyspace.DecodeScore(v)})
	}
	var next uint64
	if ok {
		next = c.Cursors.Put(scope, append([]byte(nil), it.Elem()...))
	}
	return found, next, it.Close()
}
