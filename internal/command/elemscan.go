package command

import (
	"bytes"
	"math"
	"strconv"

	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// HSCAN and SSCAN. Elements are stored in byte order, so a scan's position is the element it
// resumes at, kept in the server's cursor table (cursors.go) as SCAN keeps keys, scoped to the
// collection's version: a cursor the table does not know for it starts the scan over, which may
// return elements again — SCAN allows that — but never skips one. A collection Redis would keep
// in a compact encoding (listpack, intset) is returned whole in one call, as Redis does.

func init() {
	Register(
		&Command{Name: "hscan", Run: runHScan},
		&Command{Name: "sscan", Run: runSScan},
	)
}

// parseElemCursor reads HSCAN's and SSCAN's cursor, writing the error reply if it is invalid.
func (c *Ctx) parseElemCursor(arg []byte) (uint64, bool) {
	cursor, ok := parseCursor(arg)
	if !ok {
		c.Err("ERR invalid cursor")
	}
	return cursor, ok
}

// fallbackCursors serves contexts built without the server's table (tests of single commands).
var fallbackCursors = NewScanCursors(0, 0)

func (c *Ctx) cursorTable() *ScanCursors {
	if c.Cursors != nil {
		return c.Cursors
	}
	return fallbackCursors
}

// resumeAt is where a scan of scope continues for cursor: the element the table holds, or the
// start.
func (c *Ctx) resumeAt(scope string, cursor uint64) []byte {
	if cursor == 0 {
		return nil
	}
	elem, _ := c.cursorTable().Get(cursor, scope)
	return elem
}

// cursorFor stores a resume element and returns its cursor.
func (c *Ctx) cursorFor(scope string, elem []byte) uint64 {
	return c.cursorTable().Put(scope, append([]byte(nil), elem...))
}

// scanOptions are the options of HSCAN and SSCAN.
type scanOptions struct {
	match    []byte
	count    int
	noValues bool
}

func (c *Ctx) parseScanOptions(args [][]byte, isHash bool) (scanOptions, bool) {
	o := scanOptions{count: 10}
	for i := 0; i < len(args); i++ {
		a := args[i]
		more := i+1 < len(args)
		switch {
		case EqualFold(a, "count") && more:
			n, ok := ParseInt(args[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return o, false
			}
			if n < 1 {
				c.Syntax()
				return o, false
			}
			o.count = int(min(n, 1<<20))
			i++
		case EqualFold(a, "match") && more:
			o.match = args[i+1]
			if len(o.match) == 1 && o.match[0] == '*' {
				o.match = nil
			}
			i++
		case EqualFold(a, "novalues"):
			if !isHash {
				c.Err("ERR NOVALUES option can only be used in HSCAN")
				return o, false
			}
			o.noValues = true
		default:
			c.Syntax()
			return o, false
		}
	}
	return o, true
}

// scanElems visits up to COUNT element records of the collection e at key (all of them if whole)
// from the cursor's position, passing those whose element matches to emit, which writes them and
// returns how many items it wrote, and writes the SCAN reply: the next cursor, then the items.
func (c *Ctx) scanElems(key []byte, e *keyspace.Entry, whole bool, cursor uint64, o scanOptions, emit func(w *resp.Writer, elem, raw []byte) int) {
	scope := c.Cmd.Name + ":" + strconv.FormatUint(e.Version, 10)
	var start []byte
	if !whole {
		start = c.resumeAt(scope, cursor)
	} else {
		o.count = math.MaxInt
	}
	version := e.Version
	var prefix []byte
	if o.match != nil {
		prefix = glob.LiteralPrefix(o.match)
		if bytes.Compare(start, prefix) < 0 {
			start = prefix
		}
	}
	it, err := c.Tx.Elems(key, version)
	if err != nil {
		c.Fail(err)
		return
	}
	items := resp.Writer{Proto: c.W.Proto} // aside: the header needs their count
	n, visited := 0, 0
	var next []byte
	for valid := it.SeekGE(start); valid; valid = it.Next() {
		elem := it.Elem()
		if !bytes.HasPrefix(elem, prefix) {
			break
		}
		if visited >= o.count {
			next = elem
			break
		}
		visited++
		if o.match != nil && !glob.Match(o.match, elem, false) {
			continue
		}
		raw, err := it.Value()
		if err != nil {
			it.Close()
			c.Fail(err)
			return
		}
		n += emit(&items, elem, raw)
	}
	var nextCursor uint64
	if next != nil {
		nextCursor = c.cursorFor(scope, next)
	}
	if err := it.Close(); err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(2)
	var tmp [20]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], nextCursor, 10))
	c.W.Array(n)
	c.W.Raw(items.Buf)
}

func emptyScan(c *Ctx) {
	c.W.Array(2)
	c.W.BulkString("0")
	c.W.Array(0)
}

func runSScan(c *Ctx) {
	cursor, ok := c.parseElemCursor(c.Args[2])
	if !ok {
		return
	}
	key := c.Args[1]
	s, ok := c.openSet(key)
	if !ok {
		return
	}
	if !s.Exists() {
		emptyScan(c)
		return
	}
	o, ok := c.parseScanOptions(c.Args[3:], false)
	if !ok {
		return
	}
	whole := c.collectionEncoding(s.Entry()) != "hashtable"
	c.scanElems(key, s.Entry(), whole, cursor, o, func(w *resp.Writer, elem, _ []byte) int {
		w.Bulk(elem)
		return 1
	})
}

func runHScan(c *Ctx) {
	cursor, ok := c.parseElemCursor(c.Args[2])
	if !ok {
		return
	}
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	if !h.Exists() {
		emptyScan(c)
		return
	}
	o, ok := c.parseScanOptions(c.Args[3:], true)
	if !ok {
		return
	}
	now := c.Now
	whole := c.collectionEncoding(h.Entry()) != "hashtable"
	c.scanElems(key, h.Entry(), whole, cursor, o, func(w *resp.Writer, field, raw []byte) int {
		value, at, err := keyspace.DecodeFieldValue(raw)
		if err != nil || (at != 0 && at <= now) {
			return 0
		}
		w.Bulk(field)
		if o.noValues {
			return 1
		}
		w.Bulk(value)
		return 2
	})
}
