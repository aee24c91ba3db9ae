package command

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// Iterating the keyspace: SCAN, KEYS, RANDOMKEY. Keys are ordered bytes, so a pattern with a
// literal prefix seeks to it instead of visiting every key.

func init() {
	Register(
		&Command{Name: "scan", Run: runScan},
		&Command{Name: "keys", Run: runKeys},
		&Command{Name: "randomkey", Run: runRandomKey},
	)
}

// scanCount is SCAN's default COUNT.
const scanCount = 10

// keysScope is the cursor scope of SCAN. It is not tied to a database: as in Redis, a cursor
// may be continued after SELECT, resuming at the same position in the other database.
const keysScope = "keys"

// parseCursor reads a SCAN cursor as Redis's string2ull does: an unsigned 64-bit decimal.
func parseCursor(b []byte) (uint64, bool) {
	if n, ok := ParseInt(b); ok {
		return uint64(n), n >= 0
	}
	s := string(b)
	if strings.HasPrefix(s, "+") {
		s = s[1:]
		if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// keyFilter is what SCAN and KEYS keep of the keys they visit.
type keyFilter struct {
	pattern    []byte // glob pattern, when usePattern
	usePattern bool
	prefix     []byte // the pattern's literal prefix, which every match starts with
	typ        keyspace.Type
	anyType    bool
}

// newKeyFilter keeps the keys matching pattern, or every key when has is false.
func newKeyFilter(pattern []byte, has bool) keyFilter {
	f := keyFilter{anyType: true}
	if has && !(len(pattern) == 1 && pattern[0] == '*') {
		f.pattern, f.usePattern = pattern, true
		f.prefix = glob.LiteralPrefix(pattern)
	}
	return f
}

func (f *keyFilter) match(key []byte, t keyspace.Type) bool {
	if !f.anyType && t != f.typ {
		return false
	}
	return !f.usePattern || glob.Match(f.pattern, key, false)
}

// literal reports whether the pattern names exactly one key, which a point lookup finds.
func (f *keyFilter) literal() bool { return f.usePattern && glob.IsLiteral(f.pattern) }

// literalKey is the one key a pattern without wildcards matches: escapes removed, and a lone
// backslash at the end standing for itself, as in Redis's matcher.
func literalKey(pattern []byte) []byte {
	out := make([]byte, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '\\' && i+1 < len(pattern) {
			i++
		}
		out = append(out, pattern[i])
	}
	return out
}

// lookupLiteral finds the one key a literal pattern names, returning it if it is live and of
// the wanted type.
func (c *Ctx) lookupLiteral(f *keyFilter) (key []byte, found, ok bool) {
	key = literalKey(f.pattern)
	e, err := c.Tx.Peek(key)
	if err != nil {
		c.Fail(err)
		return nil, false, false
	}
	return key, e.Exists() && (f.anyType || e.Type == f.typ), true
}

// runScan iterates the keys of the database a few at a time. COUNT bounds how many live keys one
// call visits (matching or not), as in Redis, so a call may return nothing while the scan goes
// on. The returned cursor names the key the next call resumes at (see ScanCursors).
func runScan(c *Ctx) {
	cur, ok := parseCursor(c.Args[1])
	if !ok {
		c.Err("ERR invalid cursor")
		return
	}
	count := int64(scanCount)
	var pattern, typeName []byte
	hasPattern, hasType := false, false
	for i := 2; i < len(c.Args); i += 2 {
		a := c.Args[i]
		if i+1 >= len(c.Args) {
			c.Syntax()
			return
		}
		switch {
		case EqualFold(a, "count"):
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			if n < 1 {
				c.Syntax()
				return
			}
			count = n
		case EqualFold(a, "match"):
			pattern, hasPattern = c.Args[i+1], true
		case EqualFold(a, "type"):
			typeName, hasType = c.Args[i+1], true
		default:
			c.Syntax()
			return
		}
	}
	f := newKeyFilter(pattern, hasPattern)
	if hasType {
		// An unknown type matches no key, as in Redis 8 (which keeps this rather than erroring).
		f.anyType = false
		f.typ, _ = keyspace.ParseType(strings.ToLower(string(typeName)))
		if f.typ == keyspace.TypeNone {
			f.typ = 0xff
		}
	}
	if f.literal() {
		key, found, ok := c.lookupLiteral(&f)
		if !ok {
			return
		}
		c.W.Array(2)
		c.W.BulkString("0")
		if found {
			c.W.Array(1)
			c.W.Bulk(key)
		} else {
			c.W.Array(0)
		}
		return
	}
	if c.Cursors == nil {
		// Every context the server builds has the table; without one a scan could not go on
		// past its first page, and a cursor of 0 would claim it was complete.
		c.Err("ERR SCAN is not available here: no cursor table")
		return
	}
	var start []byte
	if cur != 0 {
		start, _ = c.Cursors.Get(cur, keysScope) // unknown: start over (see ScanCursors)
	}
	var keys [][]byte
	visited := int64(0)
	// Bound the records read, live or expired, so a call over a run of expired keys not yet
	// swept still returns promptly.
	visitLimit := int(min(count, 1<<20))*4 + 64
	next, err := c.Tx.ScanKeys(f.prefix, start, visitLimit, func(key []byte, t keyspace.Type, _ int64) bool {
		if f.match(key, t) {
			keys = append(keys, append([]byte(nil), key...))
		}
		visited++
		return visited < count
	})
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(2)
	if next == nil {
		c.W.BulkString("0")
	} else {
		c.W.BulkString(strconv.FormatUint(c.Cursors.Put(keysScope, next), 10))
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// runKeys returns every live key matching the pattern, seeking to its literal prefix.
func runKeys(c *Ctx) {
	f := newKeyFilter(c.Args[1], true)
	if f.literal() {
		key, found, ok := c.lookupLiteral(&f)
		if !ok {
			return
		}
		if found {
			c.W.Array(1)
			c.W.Bulk(key)
		} else {
			c.W.Array(0)
		}
		return
	}
	var keys [][]byte
	_, err := c.Tx.ScanKeys(f.prefix, nil, 0, func(key []byte, t keyspace.Type, _ int64) bool {
		if f.match(key, t) {
			keys = append(keys, append([]byte(nil), key...))
		}
		return true
	})
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// runRandomKey returns a live key picked at random, not quite uniformly (keyspace.RandomKey).
// In apply (RANDOMKEY queued in MULTI) it draws from the operation's seeded source like every
// write; on the event loop from its own.
func runRandomKey(c *Ctx) {
	var seed uint64
	if c.Rand != nil {
		seed = c.Rand.Uint64()
	} else {
		seed = rand.Uint64()
	}
	key, err := c.Tx.RandomKey(seed)
	switch {
	case err != nil:
		c.Fail(err)
	case key == nil:
		c.W.Null()
	default:
		c.W.Bulk(key)
	}
}
