package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
)

// Pops: ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms. A pop reads the members at one end of
// the score order and removes them: O(count) seeks and writes. A blocking pop that finds nothing
// waits (Ctx.WouldBlock); apply runs it again when one of its keys changes.

func init() {
	Register(
		&Command{Name: "zpopmin", Run: runZPop},
		&Command{Name: "zpopmax", Run: runZPop},
		&Command{Name: "zmpop", Run: runZMPop},
		&Command{Name: "bzpopmin", Run: runBZPop},
		&Command{Name: "bzpopmax", Run: runBZPop},
		&Command{Name: "bzmpop", Run: runBZMPop},
	)
}

// zpopShape is the shape of a pop's reply.
type zpopShape int

const (
	zpopFlat  zpopShape = iota // ZPOPMIN/ZPOPMAX: [member, score, ...]
	zpopPairs                  // ZPOPMIN/ZPOPMAX with a count, in RESP3: [[member, score], ...]
	zpopKeyed                  // BZPOPMIN/BZPOPMAX: [key, member, score]
	zpopMulti                  // ZMPOP/BZMPOP: [key, [[member, score], ...]]
)

func runZPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.Syntax()
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Err(ErrPositive)
			return
		}
		count = n
	}
	shape := zpopFlat
	if c.W.RESP3() && count != -1 {
		shape = zpopPairs
	}
	key := c.Args[1]
	e, ok := c.lookupZSet(key)
	if !ok {
		return
	}
	if !e.Exists() || count == 0 {
		c.W.Array(0)
		return
	}
	if count < 0 {
		count = 1
	}
	c.zpopKey(key, &e, c.Cmd.Name == "zpopmax", count, shape)
}

// zpopFirst pops from the first of keys that holds a sorted set: up to count members from the
// low end of the score order, or the high end if max, replying in shape. It reports served=false,
// having written nothing, when none of the keys exists; a key of another type met first writes
// WRONGTYPE and counts as served.
func (c *Ctx) zpopFirst(keys [][]byte, max bool, count int64, shape zpopShape) (served bool) {
	for _, key := range keys {
		e, ok := c.lookupZSet(key)
		if !ok {
			return true
		}
		if !e.Exists() {
			continue
		}
		c.zpopKey(key, &e, max, count, shape)
		return true
	}
	return false
}

// zpopKey pops up to count members from the sorted set e at key and replies.
func (c *Ctx) zpopKey(key []byte, e *keyspace.Entry, max bool, count int64, shape zpopShape) {
	if count > e.Count {
		count = e.Count
	}
	popped := make([]zentry, 0, count)
	it, err := c.Tx.ZOrder(e)
	if err != nil {
		c.Fail(err)
		return
	}
	ok := it.First()
	if max {
		ok = it.Last()
	}
	for ; ok && int64(len(popped)) < count; ok = it.Step(max) {
		popped = append(popped, zentry{append([]byte(nil), it.Member()...), it.Score()})
	}
	if err := it.Close(); err != nil {
		c.Fail(err)
		return
	}
	before := e.Count
	for _, z := range popped {
		if err := c.Tx.ZRemove(e, z.member, z.score); err != nil {
			c.Fail(err)
			return
		}
	}
	if n := len(popped); n > 0 && e.Count > 0 {
		last := keyspace.EncodeScore(nil, popped[n-1].score)
		keyspace.ZPopped(e, append(last, popped[n-1].member...), max)
	}
	event := "zpopmin"
	if max {
		event = "zpopmax"
	}
	if !c.zremoved(key, e, before, event) {
		return
	}
	c.zpopReply(key, popped, shape)
}

func (c *Ctx) zpopReply(key []byte, popped []zentry, shape zpopShape) {
	switch shape {
	case zpopFlat:
		c.W.Array(2 * len(popped))
	case zpopPairs:
		c.W.Array(len(popped))
	case zpopKeyed:
		c.W.Array(2*len(popped) + 1)
		c.W.Bulk(key)
	case zpopMulti:
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(len(popped))
	}
	for _, z := range popped {
		if shape == zpopPairs || shape == zpopMulti {
			c.W.Array(2)
		}
		c.W.Bulk(z.member)
		c.W.Double(z.score)
	}
}

// zmpopArgs parses ZMPOP's (numIdx 1) or BZMPOP's (numIdx 2) arguments after the timeout.
func (c *Ctx) zmpopArgs(numIdx int) (keys [][]byte, max bool, count int64, ok bool) {
	n, ok := ParseInt(c.Args[numIdx])
	if !ok || n < 1 {
		c.Err("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if n >= int64(len(c.Args)) { // also keeps whereIdx from overflowing
		c.Syntax()
		return nil, false, 0, false
	}
	whereIdx := int64(numIdx) + n + 1
	if whereIdx >= int64(len(c.Args)) {
		c.Syntax()
		return nil, false, 0, false
	}
	switch where := c.Args[whereIdx]; {
	case EqualFold(where, "min"):
	case EqualFold(where, "max"):
		max = true
	default:
		c.Syntax()
		return nil, false, 0, false
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		if count != -1 || !EqualFold(c.Args[j], "count") || j+1 >= len(c.Args) {
			c.Syntax()
			return nil, false, 0, false
		}
		j++
		v, ok := ParseInt(c.Args[j])
		if !ok || v < 1 {
			c.Err("ERR count should be greater than 0")
			return nil, false, 0, false
		}
		count = v
	}
	if count == -1 {
		count = 1
	}
	return c.Args[numIdx+1 : whereIdx], max, count, true
}

func runZMPop(c *Ctx) {
	keys, max, count, ok := c.zmpopArgs(1)
	if !ok {
		return
	}
	if !c.zpopFirst(keys, max, count, zpopMulti) {
		c.W.NullArray()
	}
}

func runBZPop(c *Ctx) {
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	if !c.zpopFirst(keys, c.Cmd.Name == "bzpopmax", 1, zpopKeyed) {
		c.zblock(timeout, keys)
	}
}

func runBZMPop(c *Ctx) {
	keys, max, count, ok := c.zmpopArgs(2)
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[1])
	if !ok {
		return
	}
	if !c.zpopFirst(keys, max, count, zpopMulti) {
		c.zblock(timeout, keys)
	}
}

// zblock waits for one of keys to get members, or replies with the timeout's null array where
// the command may not block (MULTI).
func (c *Ctx) zblock(timeout int64, keys [][]byte) {
	if c.CanBlock() {
		c.WouldBlock(timeout, keys...)
		return
	}
	c.W.NullArray()
}
