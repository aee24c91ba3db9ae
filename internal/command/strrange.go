package command

import "github.com/cairn-db/cairn/internal/keyspace"

// Commands that read or write part of a string.

func init() {
	Register(
		&Command{Name: "getrange", Run: runGetRange, Flags: FlagPoint},
		&Command{Name: "substr", Run: runGetRange, Flags: FlagPoint},
		&Command{Name: "setrange", Run: runSetRange},
	)
}

func runGetRange(c *Ctx) {
	start, ok := ParseInt(c.Args[2])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	end, ok := ParseInt(c.Args[3])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	c.retryChanged(func() error {
		e, err := c.Tx.Peek(c.Args[1])
		switch {
		case err != nil:
			return err
		case !e.Exists():
			c.W.Bulk(nil)
			return nil
		case e.Type != keyspace.TypeString:
			c.WrongType()
			return nil
		}
		return c.getRange(e, start, end)
	})
}

// getRange replies with GETRANGE's bytes of e: of a chunked string only the chunks holding them
// are read.
func (c *Ctx) getRange(e *keyspace.Entry, start, end int64) error {
	n := e.StrLen()
	if start < 0 && end < 0 && start > end {
		c.W.Bulk(nil)
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	end = min(end, n-1)
	if start > end || n == 0 {
		c.W.Bulk(nil)
		return nil
	}
	return c.writeStringRange(e, start, end+1)
}

func runSetRange(c *Ctx) {
	offset, ok := ParseInt(c.Args[2])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	if offset < 0 {
		c.Err("ERR offset is out of range")
		return
	}
	key, patch := c.Args[1], c.Args[3]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	if len(patch) == 0 {
		// Nothing to write: the length as it is (0 for a missing key, which stays missing).
		c.W.Int(e.StrLen())
		return
	}
	if !c.fitsString(offset, int64(len(patch))) || !c.loadValue(&e) {
		return
	}
	value := growZero(e.Value, offset+int64(len(patch)))
	copy(value[offset:], patch)
	setString(&e, value, e.ExpireAt, true)
	if !c.put(key, &e) {
		return
	}
	c.Tx.Notify('$', "setrange", key)
	c.W.Int(int64(len(value)))
}
