package command

func init() {
	Register(
		&Command{Name: "del", Run: runDel},
		&Command{Name: "unlink", Run: runDel},
		&Command{Name: "exists", Run: runExists},
		&Command{Name: "type", Run: runType, Flags: FlagPoint},
		&Command{Name: "ttl", Run: runTTL, Flags: FlagPoint},
		&Command{Name: "pttl", Run: runTTL, Flags: FlagPoint},
	)
}

func runDel(c *Ctx) {
	var n int64
	for _, key := range c.Args[1:] {
		removed, err := c.Tx.DeleteKey(key)
		if err != nil {
			c.Fail(err)
			return
		}
		if removed {
			n++
			c.Tx.Notify('g', "del", key)
		}
	}
	c.W.Int(n)
}

func runExists(c *Ctx) {
	var n int64
	for _, key := range c.Args[1:] {
		e, err := c.Tx.Peek(key)
		if err != nil {
			c.Fail(err)
			return
		}
		if e.Exists() {
			n++
		}
	}
	c.W.Int(n)
}

func runType(c *Ctx) {
	e, err := c.Tx.Peek(c.Args[1])
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Status(e.Type.String())
}

func runTTL(c *Ctx) {
	e, err := c.Tx.Peek(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
	case !e.Exists():
		c.W.Int(-2)
	case e.ExpireAt == 0:
		c.W.Int(-1)
	default:
		ms := e.ExpireAt - c.Now
		if c.Cmd.Name == "ttl" {
			c.W.Int((ms + 500) / 1000)
		} else {
			c.W.Int(ms)
		}
	}
}
