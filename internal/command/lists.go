package command

import (
	"bytes"
	"math"
	"strconv"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// List commands. The layout and the cost of each operation are in keyspace/list.go; moving
// between lists and blocking are in lists_move.go.

func init() {
	Register(
		&Command{Name: "lpush", Run: runPush},
		&Command{Name: "rpush", Run: runPush},
		&Command{Name: "lpushx", Run: runPush},
		&Command{Name: "rpushx", Run: runPush},
		&Command{Name: "lpop", Run: runPop},
		&Command{Name: "rpop", Run: runPop},
		&Command{Name: "llen", Run: runLLen, Flags: FlagPoint},
		&Command{Name: "lindex", Run: runLIndex},
		&Command{Name: "lset", Run: runLSet},
		&Command{Name: "lrange", Run: runLRange},
		&Command{Name: "ltrim", Run: runLTrim},
		&Command{Name: "linsert", Run: runLInsert},
		&Command{Name: "lrem", Run: runLRem},
		&Command{Name: "lpos", Run: runLPos},
	)
}

const errRankZero = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"

// lookupList reads key for a list command that writes. A key of another type writes WRONGTYPE;
// ok is false whenever a reply was written.
func (c *Ctx) lookupList(key []byte) (keyspace.Entry, bool) {
	e, ok := c.lookup(key)
	if ok && e.Exists() && e.Type != keyspace.TypeList {
		c.WrongType()
		return e, false
	}
	return e, ok
}

// peekList is lookupList for reads: the entry is valid until the next call on c.Tx, which is
// enough for the keyspace list reads (they decode it first).
func (c *Ctx) peekList(key []byte) (*keyspace.Entry, bool) {
	e, err := c.Tx.Peek(key)
	if err != nil {
		c.Fail(err)
		return nil, false
	}
	if e.Exists() && e.Type != keyspace.TypeList {
		c.WrongType()
		return nil, false
	}
	return e, true
}

// parseLongRange parses an integer within [lo, hi] as Redis's getRangeLongFromObjectOrReply:
// msg, when given, replaces both the "not an integer" and the "out of range" error.
func (c *Ctx) parseLongRange(arg []byte, lo, hi int64, msg string) (int64, bool) {
	n, ok := ParseInt(arg)
	switch {
	case !ok && msg == "":
		c.Err(ErrNotInt)
	case !ok || (n < lo || n > hi) && msg != "":
		c.Err(msg)
	case n < lo || n > hi:
		c.Err("ERR value is out of range, value must between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10))
	default:
		return n, true
	}
	return 0, false
}

// parseIndex parses a list index argument.
func (c *Ctx) parseIndex(arg []byte) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Err(ErrNotInt)
	}
	return n, ok
}

// parseEnd parses LEFT or RIGHT.
func (c *Ctx) parseEnd(arg []byte) (left, ok bool) {
	switch {
	case EqualFold(arg, "left"):
		return true, true
	case EqualFold(arg, "right"):
		return false, true
	}
	c.Syntax()
	return false, false
}

func pushEvent(left bool) string {
	if left {
		return "lpush"
	}
	return "rpush"
}

// popped sends the events of a pop from key: lpop or rpop, and del if the list was emptied.
func (c *Ctx) popped(key []byte, e *keyspace.Entry, left bool) {
	if left {
		c.Tx.Notify('l', "lpop", key)
	} else {
		c.Tx.Notify('l', "rpop", key)
	}
	if !e.Exists() {
		c.Tx.Notify('g', "del", key)
	}
}

// LPUSH, RPUSH, LPUSHX, RPUSHX key element [element ...]
func runPush(c *Ctx) {
	name := c.Cmd.Name
	left, onlyExisting := name[0] == 'l', name[len(name)-1] == 'x'
	key := c.Args[1]
	e, ok := c.lookupList(key)
	if !ok {
		return
	}
	if onlyExisting && !e.Exists() {
		c.W.Int(0)
		return
	}
	if err := c.Tx.ListPush(key, &e, left, c.Args[2:]...); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('l', pushEvent(left), key)
	c.W.Int(e.Count)
}

// LPOP, RPOP key [count]. Without count the reply is the element (or null); with it, an array
// (or a null array when the key does not exist).
func runPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.Err(ErrWrongArgs(c.Cmd.Name))
		return
	}
	left, withCount := c.Cmd.Name == "lpop", len(c.Args) == 3
	var count int64
	if withCount {
		n, ok := c.parseLongRange(c.Args[2], 0, math.MaxInt64, ErrPositive)
		if !ok {
			return
		}
		count = n
	}
	key := c.Args[1]
	e, ok := c.lookupList(key)
	switch {
	case !ok:
		return
	case !e.Exists() && withCount:
		c.W.NullArray()
		return
	case !e.Exists():
		c.W.Null()
		return
	case withCount && count == 0:
		c.W.Array(0)
		return
	}
	mark := c.W.Len()
	if withCount {
		c.W.Array(int(min(count, e.Count)))
	} else {
		count = 1
	}
	if _, err := c.Tx.ListPop(key, &e, left, count, c.W.Bulk); err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
		return
	}
	c.popped(key, &e, left)
}

// LLEN key
func runLLen(c *Ctx) {
	e, ok := c.peekList(c.Args[1])
	if ok {
		c.W.Int(e.Count) // 0 when missing
	}
}

// LINDEX key index. The key is looked up before the index is parsed, as in Redis.
func runLIndex(c *Ctx) {
	e, ok := c.peekList(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	i, ok := c.parseIndex(c.Args[2])
	if !ok {
		return
	}
	if i < 0 {
		i += e.Count
	}
	if i < 0 || i >= e.Count {
		c.W.Null()
		return
	}
	mark := c.W.Len()
	if err := c.Tx.ListGet(e, i, c.W.Bulk); err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
	}
}

// LSET key index element
func runLSet(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupList(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.Err(ErrNoSuchKey)
		return
	}
	i, ok := c.parseIndex(c.Args[2])
	if !ok {
		return
	}
	if i < 0 {
		i += e.Count
	}
	if i < 0 || i >= e.Count {
		c.Err(ErrIndexRange)
		return
	}
	if err := c.Tx.ListSet(key, &e, i, c.Args[3]); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('l', "lset", key)
	c.W.OK()
}

// listRange turns Redis's start/stop (negative from the tail, clamped) into indexes of a list
// of n elements; ok is false when the range is empty.
func listRange(start, stop, n int64) (from, to int64, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return 0, 0, false
	}
	return start, min(stop, n-1), true
}

// LRANGE key start stop
func runLRange(c *Ctx) {
	start, ok := c.parseIndex(c.Args[2])
	if !ok {
		return
	}
	stop, ok := c.parseIndex(c.Args[3])
	if !ok {
		return
	}
	e, ok := c.peekList(c.Args[1])
	if !ok {
		return
	}
	from, to, ok := listRange(start, stop, e.Count)
	if !ok {
		c.W.Array(0)
		return
	}
	mark := c.W.Len()
	c.W.Array(int(to - from + 1))
	err := c.Tx.ListRange(e, from, to, false, func(_ int64, v []byte) bool {
		c.W.Bulk(v)
		return true
	})
	if err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
	}
}

// LTRIM key start stop. It sends the ltrim event and counts as a modification even when it
// drops nothing, as Redis does.
func runLTrim(c *Ctx) {
	start, ok := c.parseIndex(c.Args[2])
	if !ok {
		return
	}
	stop, ok := c.parseIndex(c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	e, ok := c.lookupList(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.OK()
		return
	}
	ltrim, rtrim := e.Count, int64(0)
	if from, to, ok := listRange(start, stop, e.Count); ok {
		ltrim, rtrim = from, e.Count-1-to
	}
	if err := c.Tx.ListTrim(key, &e, ltrim, rtrim); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('l', "ltrim", key)
	if !e.Exists() {
		c.Tx.Notify('g', "del", key)
	}
	c.W.OK()
}

// LINSERT key BEFORE|AFTER pivot element
func runLInsert(c *Ctx) {
	var after bool
	switch {
	case EqualFold(c.Args[2], "after"):
		after = true
	case EqualFold(c.Args[2], "before"):
	default:
		c.Syntax()
		return
	}
	key := c.Args[1]
	e, ok := c.lookupList(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Int(0)
		return
	}
	found, err := c.Tx.ListInsert(key, &e, c.Args[3], c.Args[4], after)
	switch {
	case err != nil:
		c.Fail(err)
	case !found:
		c.W.Int(-1)
	default:
		c.Tx.Notify('l', "linsert", key)
		c.W.Int(e.Count)
	}
}

// LREM key count element
func runLRem(c *Ctx) {
	count, ok := c.parseLongRange(c.Args[2], -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	key := c.Args[1]
	e, ok := c.lookupList(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Int(0)
		return
	}
	removed, err := c.Tx.ListRemove(key, &e, count, c.Args[3])
	if err != nil {
		c.Fail(err)
		return
	}
	if removed > 0 {
		c.Tx.Notify('l', "lrem", key)
		if !e.Exists() {
			c.Tx.Notify('g', "del", key)
		}
	}
	c.W.Int(removed)
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func runLPos(c *Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: not given
	for j := 3; j < len(c.Args); j++ {
		opt, more := c.Args[j], j+1 < len(c.Args)
		var ok bool
		switch {
		case EqualFold(opt, "rank") && more:
			j++
			if rank, ok = c.parseLongRange(c.Args[j], -math.MaxInt64, math.MaxInt64, ""); !ok {
				return
			}
			if rank == 0 {
				c.Err(errRankZero)
				return
			}
		case EqualFold(opt, "count") && more:
			j++
			if count, ok = c.parseLongRange(c.Args[j], 0, math.MaxInt64, "ERR COUNT can't be negative"); !ok {
				return
			}
		case EqualFold(opt, "maxlen") && more:
			j++
			if maxlen, ok = c.parseLongRange(c.Args[j], 0, math.MaxInt64, "ERR MAXLEN can't be negative"); !ok {
				return
			}
		default:
			c.Syntax()
			return
		}
	}
	e, ok := c.peekList(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() {
		if count != -1 {
			c.W.Array(0)
		} else {
			c.W.Null()
		}
		return
	}
	matches, err := listPositions(c.Tx, e, c.Args[2], rank, count, maxlen)
	switch {
	case err != nil:
		c.Fail(err)
	case count != -1:
		c.W.Array(len(matches))
		for _, i := range matches {
			c.W.Int(i)
		}
	case len(matches) == 0:
		c.W.Null()
	default:
		c.W.Int(matches[0])
	}
}

// listPositions finds the indexes LPOS reports: from the rank-th match (from the tail when rank
// is negative), up to count of them (all for 0; one when count is -1), looking at no more than
// maxlen elements (all for 0).
func listPositions(tx *keyspace.Tx, e *keyspace.Entry, elem []byte, rank, count, maxlen int64) ([]int64, error) {
	reverse := rank < 0
	if reverse {
		rank = -rank
	}
	want := count
	if count == -1 {
		want = 1
	}
	n := e.Count
	if maxlen > 0 {
		n = min(maxlen, e.Count)
	}
	from, to := int64(0), n-1
	if reverse {
		from, to = e.Count-n, e.Count-1
	}
	var out []int64
	var seen int64
	err := tx.ListRange(e, from, to, reverse, func(i int64, v []byte) bool {
		if !bytes.Equal(v, elem) {
			return true
		}
		if seen++; seen >= rank {
			out = append(out, i)
		}
		return want == 0 || int64(len(out)) < want
	})
	return out, err
}
