package command

import (
	"errors"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Sorted sets. The layout is keyspace's (zset.go there): one element record per member for
// score lookups and one score record per member for order, so every single-member command is a
// few point reads and writes whatever the size of the set.

func init() {
	Register(
		&Command{Name: "zadd", Run: runZAdd},
		&Command{Name: "zincrby", Run: runZIncrBy},
		&Command{Name: "zrem", Run: runZRem},
		&Command{Name: "zcard", Run: runZCard, Flags: FlagPoint},
		&Command{Name: "zscore", Run: runZScore},
		&Command{Name: "zmscore", Run: runZMScore},
		&Command{Name: "zscan", Run: runZScan},
	)
}

// Error texts of the sorted-set commands.
const (
	errZNaN        = "ERR resulting score is not a number (NaN)"
	errZMinMax     = "ERR min or max is not a float"
	errZLexRange   = "ERR min or max not valid string range item"
	errZXXNX       = "ERR XX and NX options at the same time are not compatible"
	errZGTLTNX     = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZIncrPairs  = "ERR INCR option supports a single increment-element pair"
	errZInvalidCur = "ERR invalid cursor"
)

var errZCorrupt = errors.New("corrupt sorted-set record")

// zsetFlagSkiplist, in the first byte of a sorted set's Meta.Extra, records that Redis would
// have converted the set to a skiplist by now: it was created with or grew past
// zset-max-listpack-entries members, or took a member longer than zset-max-listpack-value bytes,
// as those were configured then. Redis never converts back, so the flag stays for the life of
// the set. OBJECT ENCODING and ZSCAN (which returns a listpack whole) read it.
const zsetFlagSkiplist = 1

func zsetIsSkiplist(e *keyspace.Entry) bool {
	return len(e.Extra) > 0 && e.Extra[0]&zsetFlagSkiplist != 0
}

// zsetMarkSkiplist sets the skiplist flag, reporting whether it was not set.
func zsetMarkSkiplist(e *keyspace.Entry) bool {
	if zsetIsSkiplist(e) {
		return false
	}
	e.Extra = []byte{zsetFlagSkiplist}
	return true
}

// zsetEncoding is the encoding OBJECT ENCODING reports for a sorted set.
func zsetEncoding(e *keyspace.Entry) string {
	if zsetIsSkiplist(e) {
		return "skiplist"
	}
	return "listpack"
}

// zsetOverListpack reports whether Redis would not keep n members, the longest maxLen bytes,
// in a listpack.
func (c *Ctx) zsetOverListpack(n int64, maxLen int) bool {
	l := c.encodingLimits()
	return n > l.ZsetMaxListpackEntries.Load() || int64(maxLen) > l.ZsetMaxListpackValue.Load()
}

// errCorruptZSet is err, or errZCorrupt when a record was malformed without an error.
func errCorruptZSet(err error) error {
	if err != nil {
		return err
	}
	return errZCorrupt
}

// lookupZSet reads key, which must hold a sorted set or nothing; another type writes WRONGTYPE
// and returns ok=false.
func (c *Ctx) lookupZSet(key []byte) (keyspace.Entry, bool) {
	e, ok := c.lookup(key)
	if !ok {
		return e, false
	}
	if e.Exists() && e.Type != keyspace.TypeZSet {
		c.WrongType()
		return e, false
	}
	return e, true
}

// peekZSet is lookupZSet for reads that only need the count and version: it does not copy the
// record (its Extra stays valid only until the next lookup).
func (c *Ctx) peekZSet(key []byte) (keyspace.Entry, bool) {
	e, err := c.Tx.Peek(key)
	if err != nil {
		c.Fail(err)
		return keyspace.Entry{}, false
	}
	if e.Exists() && e.Type != keyspace.TypeZSet {
		c.WrongType()
		return keyspace.Entry{}, false
	}
	return *e, true
}

// newZSet turns e (looked up at a key that holds nothing live) into an empty sorted set.
func (c *Ctx) newZSet(key []byte, e *keyspace.Entry) {
	e.Type = keyspace.TypeZSet
	e.Version = c.Tx.NewVersion(key)
	e.Count, e.ExpireAt, e.Extra, e.Value = 0, 0, nil, nil
}

// commitZSet records the changes made to the members of the sorted set e at key: an emptied set
// is deleted (and reports deleted), a new set or one whose metadata changed (count, encoding
// flags) has its metadata written, and one whose scores alone changed is only marked modified.
func (c *Ctx) commitZSet(key []byte, e *keyspace.Entry, metaChanged, created bool) (deleted, ok bool) {
	switch {
	case e.Count == 0:
		if created {
			return false, true
		}
		if _, err := c.Tx.Delete(key, e); err != nil {
			c.Fail(err)
			return false, false
		}
		return true, true
	case created || metaChanged:
		return false, c.put(key, e)
	}
	c.Tx.Touch(key)
	return false, true
}

// zaddFlags are ZADD's options.
type zaddFlags struct {
	nx, xx, gt, lt, ch, incr bool
}

func runZAdd(c *Ctx) {
	var f zaddFlags
	i := 2
	for ; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case EqualFold(a, "nx"):
			f.nx = true
		case EqualFold(a, "xx"):
			f.xx = true
		case EqualFold(a, "gt"):
			f.gt = true
		case EqualFold(a, "lt"):
			f.lt = true
		case EqualFold(a, "ch"):
			f.ch = true
		case EqualFold(a, "incr"):
			f.incr = true
		default:
			goto pairs
		}
	}
pairs:
	n := len(c.Args) - i
	switch {
	case n == 0 || n%2 != 0:
		c.Syntax()
		return
	case f.nx && f.xx:
		c.Err(errZXXNX)
		return
	case (f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt):
		c.Err(errZGTLTNX)
		return
	case f.incr && n > 2:
		c.Err(errZIncrPairs)
		return
	}
	var buf [8]float64
	scores := buf[:0]
	if n/2 > len(buf) {
		scores = make([]float64, 0, n/2)
	}
	scores = scores[:n/2]
	for j := range scores {
		s, ok := ParseFloat(c.Args[i+2*j])
		if !ok {
			c.Err(ErrNotFloat)
			return
		}
		scores[j] = s
	}
	c.zadd(c.Args[1], f, scores, c.Args[i:])
}

func runZIncrBy(c *Ctx) {
	incr, ok := ParseFloat(c.Args[2])
	if !ok {
		c.Err(ErrNotFloat)
		return
	}
	c.zadd(c.Args[1], zaddFlags{incr: true}, []float64{incr}, c.Args[2:])
}

// zadd applies ZADD's pairs (pairs alternates score and member arguments; the scores are
// already parsed) and replies.
func (c *Ctx) zadd(key []byte, f zaddFlags, scores []float64, pairs [][]byte) {
	e, ok := c.lookupZSet(key)
	if !ok {
		return
	}
	created := false
	if !e.Exists() {
		if f.xx {
			c.zaddReply(f, 0, 0, false, 0)
			return
		}
		c.newZSet(key, &e)
		created = true
	}
	before := e.Count
	// Redis sizes a new set by the number of pairs and the first member, converts an existing
	// listpack when the pairs alone exceed it, and converts on inserting past its limits.
	marked := false
	if created && c.zsetOverListpack(int64(len(scores)), len(pairs[1])) || c.zsetOverListpack(int64(len(scores)), 0) {
		marked = zsetMarkSkiplist(&e)
	}
	var added, updated int64
	bounded := keyspace.ZHasBounds(&e)
	processed := false
	var last float64
	for j, score := range scores {
		member := pairs[2*j+1]
		old, had, err := c.Tx.ZScore(&e, member)
		if err != nil {
			c.Fail(err)
			return
		}
		if !had {
			if f.xx {
				continue
			}
			if err := c.Tx.ZPut(&e, member, score, 0, false); err != nil {
				c.Fail(err)
				return
			}
			if c.zsetOverListpack(e.Count, len(member)) && zsetMarkSkiplist(&e) {
				marked = true
			}
			added++
			processed, last = true, score
			continue
		}
		if f.nx {
			continue
		}
		if f.incr {
			score += old
			if score != score {
				c.Err(errZNaN)
				return
			}
		}
		if (f.lt && score >= old) || (f.gt && score <= old) {
			continue
		}
		processed, last = true, score
		if score != old {
			if err := c.Tx.ZPut(&e, member, score, old, true); err != nil {
				c.Fail(err)
				return
			}
			updated++
		}
	}
	if added+updated > 0 {
		reopened := bounded && !keyspace.ZHasBounds(&e)
		if _, ok := c.commitZSet(key, &e, e.Count != before || marked || reopened, created); !ok {
			return
		}
		event := "zadd"
		if f.incr {
			event = "zincr"
		}
		c.Tx.Notify('z', event, key)
	}
	c.zaddReply(f, added, updated, processed, last)
}

func (c *Ctx) zaddReply(f zaddFlags, added, updated int64, processed bool, score float64) {
	switch {
	case f.incr && processed:
		c.W.Double(score)
	case f.incr:
		c.W.Null()
	case f.ch:
		c.W.Int(added + updated)
	default:
		c.W.Int(added)
	}
}

func runZRem(c *Ctx) {
	key := c.Args[1]
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
	for _, member := range c.Args[2:] {
		score, had, err := c.Tx.ZScore(&e, member)
		if err != nil {
			c.Fail(err)
			return
		}
		if !had {
			continue
		}
		if err := c.Tx.ZRemove(&e, member, score); err != nil {
			c.Fail(err)
			return
		}
		removed++
		if e.Count == 0 {
			break
		}
	}
	if removed > 0 && !c.zremoved(key, &e, before, "zrem") {
		return
	}
	c.W.Int(removed)
}

// zremoved commits a sorted set some of whose members a command removed and fires its events:
// event on the key, and del when it was emptied. It reports false after writing an error.
func (c *Ctx) zremoved(key []byte, e *keyspace.Entry, before int64, event string) bool {
	deleted, ok := c.commitZSet(key, e, e.Count != before, false)
	if !ok {
		return false
	}
	c.Tx.Notify('z', event, key)
	if deleted {
		c.Tx.Notify('g', "del", key)
	}
	return true
}

func runZCard(c *Ctx) {
	e, ok := c.peekZSet(c.Args[1])
	if ok {
		c.W.Int(e.Count)
	}
}

func runZScore(c *Ctx) {
	e, ok := c.peekZSet(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	score, found, err := c.Tx.ZScore(&e, c.Args[2])
	switch {
	case err != nil:
		c.Fail(err)
	case !found:
		c.W.Null()
	default:
		c.W.Double(score)
	}
}

func runZMScore(c *Ctx) {
	e, ok := c.peekZSet(c.Args[1])
	if !ok {
		return
	}
	members := c.Args[2:]
	mark := c.W.Len()
	c.W.Array(len(members))
	for _, m := range members {
		if !e.Exists() {
			c.W.Null()
			continue
		}
		score, found, err := c.Tx.ZScore(&e, m)
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		if found {
			c.W.Double(score)
		} else {
			c.W.Null()
		}
	}
}

// zentry is a member and its score, owned by the holder.
type zentry struct {
	member []byte
	score  float64
}

// zreplyHeader begins a reply of n members, with their scores if withScores: a flat array in
// RESP2, an array of [member, score] pairs in RESP3.
func (c *Ctx) zreplyHeader(n int, withScores bool) {
	if withScores && !c.W.RESP3() {
		n *= 2
	}
	c.W.Array(n)
}

// zreplyEntry writes one member of a reply begun by zreplyHeader.
func (c *Ctx) zreplyEntry(member []byte, score float64, withScores bool) {
	if !withScores {
		c.W.Bulk(member)
		return
	}
	if c.W.RESP3() {
		c.W.Array(2)
	}
	c.W.Bulk(member)
	c.W.Double(score)
}

// zreplyEntries writes a whole reply of members.
func (c *Ctx) zreplyEntries(es []zentry, withScores bool) {
	c.zreplyHeader(len(es), withScores)
	for _, z := range es {
		c.zreplyEntry(z.member, z.score, withScores)
	}
}
