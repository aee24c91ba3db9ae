package command

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"sync"

	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// HSCAN and SSCAN. Elements are stored in byte order, so a scan's position is the element it
// resumes at — but Redis cursors are 64-bit integers and elements are arbitrary bytes. A cursor
// therefore names an entry of a server-side table that holds the exact resume element, and also
// carries the element's first bytes: if the entry is gone (evicted, another node, a restart), the
// scan resumes at those first bytes instead, which may return some elements again — SCAN allows
// that — but never skips one.
//
// Cursor layout: len(p) (8 bits) | p padded to 3 bytes (24 bits) | table id (32 bits, never 0),
// where p is the resume element's first bytes (at most 3).

func init() {
	Register(
		&Command{Name: "hscan", Run: runHScan},
		&Command{Name: "sscan", Run: runSScan},
	)
}

// scanCursors is the process-wide table of resume positions.
var scanCursors = newCursorTable(1 << 16)

type cursorEntry struct {
	db      byte
	key     string
	version uint64
	resume  []byte
}

type cursorTable struct {
	mu      sync.Mutex
	entries map[uint32]cursorEntry
	ring    []uint32 // ids in insertion order, for eviction
	next    int
	id      uint32
}

func newCursorTable(size int) *cursorTable {
	return &cursorTable{entries: make(map[uint32]cursorEntry, size), ring: make([]uint32, size)}
}

// maxCursorBytes bounds what one entry holds; a longer key or element gets no entry and its scan
// resumes from the cursor's prefix bytes.
const maxCursorBytes = 1024

// save records a resume position and returns its cursor.
func (t *cursorTable) save(db byte, key []byte, version uint64, resume []byte) uint64 {
	p := resume[:min(3, len(resume))]
	var hi [4]byte
	hi[0] = byte(len(p))
	copy(hi[1:], p)
	cursor := uint64(binary.BigEndian.Uint32(hi[:])) << 32
	t.mu.Lock()
	defer t.mu.Unlock()
	t.id++
	if t.id == 0 {
		t.id++
	}
	cursor |= uint64(t.id)
	if len(key)+len(resume) > maxCursorBytes {
		return cursor
	}
	if old := t.ring[t.next]; old != 0 {
		delete(t.entries, old)
	}
	t.ring[t.next] = t.id
	t.next = (t.next + 1) % len(t.ring)
	t.entries[t.id] = cursorEntry{db: db, key: string(key), version: version, resume: append([]byte(nil), resume...)}
	return cursor
}

// resume returns where a scan of (db, key) continues for cursor: the exact element if the table
// still has it, else the prefix the cursor carries.
func (t *cursorTable) resume(db byte, key []byte, cursor uint64) []byte {
	if cursor == 0 {
		return nil
	}
	t.mu.Lock()
	e, ok := t.entries[uint32(cursor)]
	t.mu.Unlock()
	if ok && e.db == db && e.key == string(key) {
		return e.resume
	}
	var hi [4]byte
	binary.BigEndian.PutUint32(hi[:], uint32(cursor>>32))
	n := min(int(hi[0]), 3)
	return append([]byte(nil), hi[1:1+n]...)
}

// parseScanCursor reads a cursor as Redis does (an unsigned 64-bit decimal).
func (c *Ctx) parseScanCursor(arg []byte) (uint64, bool) {
	v, err := strconv.ParseUint(string(arg), 10, 64)
	if err != nil {
		c.Err("ERR invalid cursor")
		return 0, false
	}
	return v, true
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

// scanElems visits up to count element records of (key, version) from the cursor's position,
// passing those whose element matches to fn (which may still skip them, returning false), and
// writes the SCAN reply: the next cursor, then what emit wrote.
func (c *Ctx) scanElems(key []byte, version uint64, cursor uint64, o scanOptions, emit func(w *resp.Writer, elem, raw []byte) int) {
	start := scanCursors.resume(c.Tx.DB(), key, cursor)
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
		nextCursor = scanCursors.save(c.Tx.DB(), key, version, next)
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
	cursor, ok := c.parseScanCursor(c.Args[2])
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
	c.scanElems(key, s.Version(), cursor, o, func(w *resp.Writer, elem, _ []byte) int {
		w.Bulk(elem)
		return 1
	})
}

func runHScan(c *Ctx) {
	cursor, ok := c.parseScanCursor(c.Args[2])
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
	c.scanElems(key, h.Entry().Version, cursor, o, func(w *resp.Writer, field, raw []byte) int {
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
