package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// OBJECT: what Redis would say about a value's in-memory representation. Cairn keeps values on
// disk in its own layout (keyspace), so ENCODING reports the encoding Redis would use for the
// same value under its default thresholds, which is what tools that read it want to know.

func init() {
	Register(
		&Command{Name: "object|encoding", Run: runObjectEncoding, Flags: FlagPoint},
		&Command{Name: "object|refcount", Run: runObjectRefcount, Flags: FlagPoint},
		&Command{Name: "object|freq", Run: runObjectFreq, Flags: FlagPoint},
		&Command{Name: "object|idletime", Run: runObjectIdletime, Flags: FlagPoint},
		&Command{Name: "object|help", Run: runObjectHelp},
	)
}

// Redis's defaults for the compact encodings (redis.conf): past these a collection is converted
// to its general encoding.
const (
	embstrLimit         = 44 // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
	sharedIntegers      = 10000
	listpackMaxEntries  = 128 // hash-, set-, zset-max-listpack-entries
	listListpackEntries = 128 // lists convert by size (8 KB); cairn estimates by count
)

// lookupObject reads the key OBJECT's subcommands describe, replying null if it is missing.
func (c *Ctx) lookupObject() (*keyspace.Entry, bool) {
	e, err := c.Tx.Peek(c.Args[2])
	if err != nil {
		c.Fail(err)
		return nil, false
	}
	if !e.Exists() {
		c.W.Null()
		return nil, false
	}
	return e, true
}

func runObjectEncoding(c *Ctx) {
	if e, ok := c.lookupObject(); ok {
		if enc := c.collectionEncoding(e); enc != "" {
			c.W.BulkString(enc) // hashes and sets follow their history
			return
		}
		c.W.BulkString(encodingOf(e))
	}
}

// encodingOf is the encoding Redis would report for e's value. Strings are exact (except that
// Redis also reports "raw" for any string modified in place, such as by APPEND). Collections are
// judged by their element count alone against Redis's default thresholds: Redis also converts
// when one element is too long, and never converts back when a collection shrinks.
func encodingOf(e *keyspace.Entry) string {
	switch e.Type {
	case keyspace.TypeString:
		if e.Chunked {
			return "raw" // long past embstr, and no number
		}
		return stringEncoding(e.Value)
	case keyspace.TypeList:
		return keyspace.ListEncoding(&e.Meta) // tracks Redis's 8 KB listpack rule
	case keyspace.TypeHash:
		if e.Count <= listpackMaxEntries {
			return "listpack"
		}
		return "hashtable"
	case keyspace.TypeSet:
		if e.Count <= listpackMaxEntries {
			return "listpack"
		}
		return "hashtable"
	case keyspace.TypeZSet:
		return zsetEncoding(e)
	case keyspace.TypeStream:
		return "stream"
	}
	return "unknown"
}

// stringEncoding is Redis's encoding of a string value: "int" for a 64-bit integer in canonical
// form, "embstr" up to 44 bytes, "raw" beyond, and "raw" for a HyperLogLog, which PFADD and
// PFMERGE build as raw strings whatever their length.
func stringEncoding(v []byte) string {
	if _, ok := stringInt(v); ok {
		return "int"
	}
	if len(v) <= embstrLimit && !isHLL(v) {
		return "embstr"
	}
	return "raw"
}

// stringInt reports whether Redis would store v as an integer (string2l: canonical decimal,
// at most 20 characters, within int64).
func stringInt(v []byte) (int64, bool) {
	if len(v) > 20 {
		return 0, false
	}
	return ParseInt(v)
}

// runObjectRefcount replies as Redis 7 does: values are not shared, except the integers 0 to
// 9999, which Redis keeps as shared objects with the "never freed" count.
func runObjectRefcount(c *Ctx) {
	e, ok := c.lookupObject()
	if !ok {
		return
	}
	if e.Type == keyspace.TypeString {
		if n, ok := stringInt(e.Value); ok && n >= 0 && n < sharedIntegers {
			c.W.Int(math.MaxInt32)
			return
		}
	}
	c.W.Int(1)
}

// runObjectFreq replies with the key's LFU counter under an LFU maxmemory-policy, and with
// Redis's error otherwise.
func runObjectFreq(c *Ctx) {
	c.Tx.NoTouch = true
	if _, ok := c.lookupObject(); !ok {
		return
	}
	a := c.Tx.Access()
	if a == nil || !c.lfuPolicy() {
		c.Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
			"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.W.Int(int64(a.Freq(keyspace.MetaKey(nil, c.Tx.DB(), c.Args[2]), c.Now)))
}

// runObjectIdletime replies with the seconds since the key was last read or written, and with
// Redis's error under an LFU policy, which counts accesses instead.
func runObjectIdletime(c *Ctx) {
	c.Tx.NoTouch = true
	if _, ok := c.lookupObject(); !ok {
		return
	}
	a := c.Tx.Access()
	if a == nil || c.lfuPolicy() {
		c.Err("ERR An LFU maxmemory policy is selected, idle time not tracked. " +
			"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.W.Int(a.Idle(keyspace.MetaKey(nil, c.Tx.DB(), c.Args[2]), c.Now) / 1000)
}

func (c *Ctx) lfuPolicy() bool {
	return c.Limits != nil && c.Limits.Access != nil && c.Limits.Access.LFU.Load()
}

// noteAccess records RESTORE's IDLETIME (seconds) and FREQ for key, each -1 when not given.
func (c *Ctx) noteAccess(key []byte, idle, freq int64) {
	a := c.Tx.Access()
	if a == nil || (idle < 0 && freq < 0) {
		return
	}
	if idle >= 0 {
		idle = min(idle, math.MaxInt64/1000) * 1000
	}
	a.Set(c.Tx.Overlay(), keyspace.MetaKey(nil, c.Tx.DB(), key), c.Now, idle, int(freq))
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func runObjectHelp(c *Ctx) {
	c.W.Array(len(objectHelp))
	for _, line := range objectHelp {
		c.W.Status(line)
	}
}
