package command

import (
	"bytes"
)

// Commands that pop from one of several lists or move between lists, and their blocking forms.
//
// A blocking command parses and validates everything first, then tries to serve at once with the
// same code as its non-blocking twin (popFromKeys, moveElement). When there is nothing to serve
// it writes no reply and calls c.WouldBlock with the keys that could serve it; apply then runs
// the whole command again each time one of them changes, exactly as Redis 7+ re-executes a
// blocked command, until it is served. Where it may not block (MULTI) it answers with its null
// reply instead.

func init() {
	Register(
		&Command{Name: "lmove", Run: runLMove},
		&Command{Name: "rpoplpush", Run: runLMove},
		&Command{Name: "lmpop", Run: runLMPop, Keys: lmpopKeys},
		&Command{Name: "blpop", Run: runBPop},
		&Command{Name: "brpop", Run: runBPop},
		&Command{Name: "blmove", Run: runBLMove},
		&Command{Name: "brpoplpush", Run: runBLMove},
		&Command{Name: "blmpop", Run: runBLMPop, Keys: blmpopKeys},
	)
}

// popFromKeys pops from the first of keys that holds a list and reports whether it replied
// (with the elements, or with an error such as WRONGTYPE); when no key holds a list it writes
// nothing. With count < 0 it pops one element and replies [key, element] (BLPOP, BRPOP);
// otherwise up to count elements, replying [key, [element ...]] (LMPOP, BLMPOP).
func popFromKeys(c *Ctx, keys [][]byte, left bool, count int64) bool {
	for _, key := range keys {
		e, ok := c.lookupList(key)
		if !ok {
			return true
		}
		if !e.Exists() {
			continue
		}
		mark := c.W.Len()
		c.W.Array(2)
		c.W.Bulk(key)
		n := count
		if count < 0 {
			n = 1
		} else {
			c.W.Array(int(min(count, e.Count)))
		}
		if _, err := c.Tx.ListPop(key, &e, left, n, c.W.Bulk); err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return true
		}
		c.popped(key, &e, left)
		return true
	}
	return false
}

// moveElement moves the element at one end of src to one end of dst and replies with it, as
// LMOVE does, reporting whether it replied; when src holds nothing it writes nothing. The
// destination's type is checked before anything changes. Events follow Redis: the push on
// dst, then the pop on src (and del if src was emptied).
func moveElement(c *Ctx, src, dst []byte, fromLeft, toLeft bool) bool {
	se, ok := c.lookupList(src)
	if !ok {
		return true
	}
	if !se.Exists() {
		return false
	}
	if bytes.Equal(src, dst) {
		mark := c.W.Len()
		if err := c.Tx.ListRotate(src, &se, fromLeft, toLeft, c.W.Bulk); err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return true
		}
		c.Tx.Notify('l', pushEvent(toLeft), dst)
		c.popped(src, &se, fromLeft)
		return true
	}
	de, ok := c.lookupList(dst)
	if !ok {
		return true
	}
	var value []byte
	if _, err := c.Tx.ListPop(src, &se, fromLeft, 1, func(v []byte) { value = append(value, v...) }); err != nil {
		c.Fail(err)
		return true
	}
	if err := c.Tx.ListPush(dst, &de, toLeft, value); err != nil {
		c.Fail(err)
		return true
	}
	c.Tx.Notify('l', pushEvent(toLeft), dst)
	c.popped(src, &se, fromLeft)
	c.W.Bulk(value)
	return true
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT; RPOPLPUSH source destination
func runLMove(c *Ctx) {
	fromLeft, toLeft, ok := moveEnds(c)
	if ok && !moveElement(c, c.Args[1], c.Args[2], fromLeft, toLeft) {
		c.W.Null()
	}
}

// moveEnds reads the ends of LMOVE/BLMOVE, or RPOPLPUSH's fixed ones.
func moveEnds(c *Ctx) (fromLeft, toLeft, ok bool) {
	if c.Cmd.Name == "rpoplpush" || c.Cmd.Name == "brpoplpush" {
		return false, true, true
	}
	if fromLeft, ok = c.parseEnd(c.Args[3]); !ok {
		return
	}
	toLeft, ok = c.parseEnd(c.Args[4])
	return
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout; BRPOPLPUSH source destination timeout
func runBLMove(c *Ctx) {
	fromLeft, toLeft, ok := moveEnds(c)
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok || moveElement(c, c.Args[1], c.Args[2], fromLeft, toLeft) {
		return
	}
	if c.CanBlock() {
		c.WouldBlock(timeout, c.Args[1])
		return
	}
	c.W.Null() // Redis answers a null bulk, not a null array, when it may not block
}

// BLPOP, BRPOP key [key ...] timeout
func runBPop(c *Ctx) {
	keys := c.Args[1 : len(c.Args)-1]
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok || popFromKeys(c, keys, c.Cmd.Name == "blpop", -1) {
		return
	}
	if c.CanBlock() {
		c.WouldBlock(timeout, keys...)
		return
	}
	c.W.NullArray()
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
func runLMPop(c *Ctx) {
	keys, left, count, ok := parseMPop(c, 1)
	if ok && !popFromKeys(c, keys, left, count) {
		c.W.NullArray()
	}
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]. The timeout is checked after
// the other arguments, as in Redis.
func runBLMPop(c *Ctx) {
	keys, left, count, ok := parseMPop(c, 2)
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[1])
	if !ok || popFromKeys(c, keys, left, count) {
		return
	}
	if c.CanBlock() {
		c.WouldBlock(timeout, keys...)
		return
	}
	c.W.NullArray()
}

// parseMPop parses LMPOP's arguments from numkeys at c.Args[at] on.
func parseMPop(c *Ctx, at int) (keys [][]byte, left bool, count int64, ok bool) {
	numkeys, ok := c.parseLongRange(c.Args[at], 1, 1<<63-1, "ERR numkeys should be greater than 0")
	if !ok {
		return nil, false, 0, false
	}
	if numkeys >= int64(len(c.Args)-at-1) {
		c.Syntax() // no room for LEFT|RIGHT after the keys
		return nil, false, 0, false
	}
	where := at + 1 + int(numkeys)
	if left, ok = c.parseEnd(c.Args[where]); !ok {
		return nil, false, 0, false
	}
	count = -1
	for j := where + 1; j < len(c.Args); j++ {
		if count == -1 && EqualFold(c.Args[j], "count") && j+1 < len(c.Args) {
			j++
			if count, ok = c.parseLongRange(c.Args[j], 1, 1<<63-1, "ERR count should be greater than 0"); !ok {
				return nil, false, 0, false
			}
			continue
		}
		c.Syntax()
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return c.Args[at+1 : where], left, count, true
}

func lmpopKeys(args [][]byte) []int  { return numkeysPositions(args, 1) }
func blmpopKeys(args [][]byte) []int { return numkeysPositions(args, 2) }

// numkeysPositions lists the key positions of a command whose keys follow a numkeys argument
// at args[at].
func numkeysPositions(args [][]byte, at int) []int {
	if len(args) <= at {
		return nil
	}
	n, ok := ParseInt(args[at])
	if !ok || n < 1 || n > int64(len(args)-at-1) {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = at + 1 + i
	}
	return out
}
