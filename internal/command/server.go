package command

import (
	"strconv"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Server-wide commands that work on data or need nothing from the connection. They run in apply
// when queued in MULTI, like any other command.

func init() {
	Register(
		&Command{Name: "ping", Run: runPing},
		&Command{Name: "echo", Run: runEcho},
		&Command{Name: "dbsize", Run: runDBSize},
		&Command{Name: "time", Run: runTime},
		&Command{Name: "flushdb", Run: runFlush},
		&Command{Name: "flushall", Run: runFlush},
		&Command{Name: "swapdb", Run: runSwapDB},
	)
}

func runPing(c *Ctx) {
	switch len(c.Args) {
	case 1:
		c.W.Status("PONG")
	case 2:
		c.W.Bulk(c.Args[1])
	default:
		c.Err(ErrWrongArgs("ping"))
	}
}

func runEcho(c *Ctx) { c.W.Bulk(c.Args[1]) }

func runDBSize(c *Ctx) {
	n := c.State.Keys(c.Tx.DB())
	if c.InApply {
		n += c.Tx.Effects.Counts[c.Tx.DB()].Keys
	}
	c.W.Int(n)
}

func runTime(c *Ctx) {
	// In apply the operation's time, so a replica's reply matches; otherwise the wall clock.
	ms := c.Now
	c.W.Array(2)
	c.W.BulkString(strconv.FormatInt(ms/1000, 10))
	c.W.BulkString(strconv.FormatInt((ms%1000)*1000, 10))
}

func runFlush(c *Ctx) {
	if len(c.Args) > 2 {
		c.Syntax()
		return
	}
	if len(c.Args) == 2 && !EqualFold(c.Args[1], "sync") && !EqualFold(c.Args[1], "async") {
		c.Syntax()
		return
	}
	dbs := []int{c.DB}
	if c.Cmd.Name == "flushall" {
		dbs = dbs[:0]
		for i := 0; i < keyspace.NumDBs; i++ {
			dbs = append(dbs, i)
		}
	}
	for _, db := range dbs {
		c.Tx.SetDB(c.Physical(db))
		if err := c.Tx.FlushDB(c.State); err != nil {
			c.Fail(err)
			return
		}
	}
	c.W.OK()
}

func runSwapDB(c *Ctx) {
	a, ok1 := ParseInt(c.Args[1])
	b, ok2 := ParseInt(c.Args[2])
	if !ok1 {
		c.Err("ERR invalid first DB index")
		return
	}
	if !ok2 {
		c.Err("ERR invalid second DB index")
		return
	}
	if a < 0 || a >= keyspace.NumDBs || b < 0 || b >= keyspace.NumDBs {
		c.Err(ErrDBIndex)
		return
	}
	c.State.Swap(int(a), int(b), c.Tx.Effects)
	c.W.OK()
}
