package command

import (
	"bytes"
	"strconv"

	"github.com/zeebo/xxh3"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Compare-and-swap on strings, as Redis 8.4: SET ... IFEQ|IFNE|IFDEQ|IFDNE, DELEX, DIGEST, and
// Valkey's DELIFEQ. A digest is the XXH3 64-bit hash of the value as 16 hex digits.

func init() {
	Register(
		&Command{Name: "digest", Arity: 2, Flags: FlagReadOnly | FlagFast | FlagPoint, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"read", "string", "fast"}, Group: "string", Since: "8.4.0",
			KeySpecs: []KeySpec{{Flags: []string{"RO", "ACCESS"}, BeginIndex: 1, Range: true, LastKey: 0, KeyStep: 1}},
			Args:     []Arg{{Name: "key", Type: "key", KeySpecIndex: 0}},
			Run:      runDigest},
		&Command{Name: "delex", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "string", "fast"}, Group: "string", Since: "8.4.0",
			KeySpecs: []KeySpec{{Flags: []string{"RW", "DELETE"}, BeginIndex: 1, Range: true, LastKey: 0, KeyStep: 1}},
			Args: []Arg{{Name: "key", Type: "key", KeySpecIndex: 0},
				{Name: "condition", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
					{Name: "ifeq-value", Type: "string", Token: "IFEQ", KeySpecIndex: -1},
					{Name: "ifne-value", Type: "string", Token: "IFNE", KeySpecIndex: -1},
					{Name: "ifdeq-digest", Type: "integer", Token: "IFDEQ", KeySpecIndex: -1},
					{Name: "ifdne-digest", Type: "integer", Token: "IFDNE", KeySpecIndex: -1},
				}}},
			Run: runDelex},
		&Command{Name: "delifeq", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"keyspace", "write", "string", "fast"}, Group: "string", Since: "9.0.0",
			KeySpecs: []KeySpec{{Flags: []string{"RM", "DELETE"}, BeginIndex: 1, Range: true, LastKey: 0, KeyStep: 1}},
			Args:     []Arg{{Name: "key", Type: "key", KeySpecIndex: 0}, {Name: "value", Type: "string", KeySpecIndex: -1}},
			Run:      runDelIfEq},
	)
}

// digestOf is the digest of a value.
func digestOf(v []byte) uint64 { return xxh3.Hash(v) }

// appendDigest formats a digest as Redis does: 16 lower-case hex digits.
func appendDigest(dst []byte, d uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, hex[(d>>uint(i))&0xf])
	}
	return dst
}

// casCondition is an IFEQ/IFNE/IFDEQ/IFDNE condition.
type casCondition struct {
	kind   string // "ifeq", "ifne", "ifdeq", "ifdne"; "" for none
	value  []byte
	digest []byte // the argument as given, for digest conditions
}

// parseCASCondition reads a condition token at args[0] (with its argument at args[1]).
func parseCASCondition(args [][]byte) (casCondition, bool) {
	for _, k := range []string{"ifeq", "ifne", "ifdeq", "ifdne"} {
		if EqualFold(args[0], k) && len(args) > 1 {
			c := casCondition{kind: k}
			if k == "ifeq" || k == "ifne" {
				c.value = args[1]
			} else {
				c.digest = args[1]
			}
			return c, true
		}
	}
	return casCondition{}, false
}

// validDigest reports whether a digest argument has the shape Redis accepts: 16 hex digits.
func validDigest(d []byte) bool {
	if len(d) != 16 {
		return false
	}
	_, err := strconv.ParseUint(string(d), 16, 64)
	return err == nil
}

const errDigest = "ERR The digest must be exactly 16 hexadecimal characters"

// holds reports whether the condition holds for the current entry (which is a string or absent).
// A missing key equals nothing: IFEQ and IFDEQ fail on it, IFNE and IFDNE pass.
func (cc casCondition) holds(e *keyspace.Entry) bool {
	exists := e.Exists()
	switch cc.kind {
	case "ifeq":
		return exists && bytes.Equal(e.Value, cc.value)
	case "ifne":
		return !exists || !bytes.Equal(e.Value, cc.value)
	case "ifdeq", "ifdne":
		d, _ := strconv.ParseUint(string(cc.digest), 16, 64)
		eq := exists && digestOf(e.Value) == d
		if cc.kind == "ifdeq" {
			return eq
		}
		return !eq
	}
	return true
}

func runDigest(c *Ctx) {
	e, err := c.peekLoaded(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
	case !e.Exists():
		c.W.Null()
	case e.Type != keyspace.TypeString:
		c.WrongType()
	default:
		var buf [16]byte
		c.W.Bulk(appendDigest(buf[:0], digestOf(e.Value)))
	}
}

func runDelex(c *Ctx) {
	key := c.Args[1]
	var cond casCondition
	switch len(c.Args) {
	case 2:
	case 4:
		var ok bool
		if cond, ok = parseCASCondition(c.Args[2:]); !ok {
			c.Syntax()
			return
		}
	default:
		c.Syntax()
		return
	}
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Int(0)
		return
	}
	if cond.kind != "" {
		if e.Type != keyspace.TypeString {
			c.WrongType()
			return
		}
		if cond.digest != nil && !validDigest(cond.digest) {
			c.Err(errDigest)
			return
		}
		if !c.loadValue(&e) {
			return
		}
		if !cond.holds(&e) {
			c.W.Int(0)
			return
		}
	}
	if _, err := c.Tx.Delete(key, &e); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('g', "del", key)
	c.W.Int(1)
}

func runDelIfEq(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	if !c.loadValue(&e) {
		return
	}
	if !e.Exists() || !bytes.Equal(e.Value, c.Args[2]) {
		c.W.Int(0)
		return
	}
	if _, err := c.Tx.Delete(key, &e); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('g', "del", key)
	c.W.Int(1)
}
