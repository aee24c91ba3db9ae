package command

import (
	"math"
	"strconv"
	"sync"

	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// zscanWhole is the size up to which ZSCAN returns a whole sorted set in one call, as Redis
// does for a listpack-encoded set (zset-max-listpack-entries).
const zscanWhole = zsetListpackEntries

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
	cursor, ok := zparseCursor(c.Args[2])
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
	if e.Count <= zscanWhole {
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
	scope := "z" + strconv.Itoa(int(c.Tx.DB())) + ":" + strconv.FormatUint(e.Version, 10)
	var resume []byte
	if cursor != 0 {
		resume, _ = zloadCursor(cursor, scope)
	}
	it, err := c.Tx.Elems(c.Args[1], e.Version)
	if err != nil {
		return nil, 0, err
	}
	var found []zentry
	ok := it.SeekGE(resume)
	for visited := int64(0); ok && visited < o.count; ok = it.Next() {
		visited++
		m := it.Elem()
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
		next = zsaveCursor(scope, it.Elem())
	}
	return found, next, it.Close()
}

// ZSCAN cursors. Redis's cursor is a position in a hash table that a client hands back as
// an integer; ours is a position in byte order (the next element or key to visit), which does not
// fit in 64 bits. So a cursor names an entry of a table that remembers where to resume: the
// entry's scope (the collection version or database it belongs to) and the resume bytes.
//
// The table is a ring; a cursor older than zcursorSlots later cursors, or one from before a
// restart or from another node, is not found, and the scan restarts from the beginning. Elements
// may then be returned again (SCAN allows duplicates), but none present throughout is missed.

const zcursorSlots = 1 << 14

type zcursorEntry struct {
	id     uint64
	scope  string
	resume []byte
}

type zcursorTable struct {
	mu    sync.Mutex
	next  uint64
	slots [zcursorSlots]zcursorEntry
}

var zcursors = zcursorTable{next: 1}

// zsaveCursor remembers that the scan of scope resumes at resume and returns the cursor for it.
func zsaveCursor(scope string, resume []byte) uint64 {
	t := &zcursors
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.next
	t.next++
	if t.next >= 1<<62 {
		t.next = 1
	}
	s := &t.slots[id%zcursorSlots]
	s.id, s.scope = id, scope
	s.resume = append(s.resume[:0], resume...)
	return id
}

// zloadCursor returns where the scan of scope named by id resumes; ok is false when the cursor
// is unknown, and the scan should start over.
func zloadCursor(id uint64, scope string) (resume []byte, ok bool) {
	t := &zcursors
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.slots[id%zcursorSlots]
	if s.id != id || s.scope != scope {
		return nil, false
	}
	return append([]byte(nil), s.resume...), true
}

// zparseCursor parses a SCAN cursor as Redis does (an unsigned 64-bit decimal).
func zparseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}
