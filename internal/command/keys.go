package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
)

// The generic key commands: they work on a key whatever its type, through the metadata record.
// Expiry is in expire.go, key iteration in scan.go, OBJECT in object.go.

func init() {
	Register(
		&Command{Name: "del", Run: runDel},
		&Command{Name: "unlink", Run: runDel},
		&Command{Name: "exists", Run: runExists},
		&Command{Name: "touch", Run: runExists},
		&Command{Name: "type", Run: runType, Flags: FlagPoint},
		&Command{Name: "rename", Run: runRename},
		&Command{Name: "renamenx", Run: runRename},
		&Command{Name: "copy", Run: runCopy},
		&Command{Name: "move", Run: runMove},
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

// runExists serves EXISTS and TOUCH: both count the live keys among the arguments, repeats
// included. TOUCH also counts as an access to them (OBJECT IDLETIME); EXISTS, as in Redis, not.
func runExists(c *Ctx) {
	if c.Cmd.Name == "exists" {
		c.Tx.NoTouch = true
	}
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
	c.Tx.NoTouch = true // as Redis, TYPE does not count as using the key
	e, err := c.Tx.Peek(c.Args[1])
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Status(e.Type.String())
}

// runRename serves RENAME and RENAMENX. Within a database only the metadata moves, so renaming
// a collection of any size is O(1).
func runRename(c *Ctx) {
	src, dst := c.Args[1], c.Args[2]
	nx := c.Cmd.Name == "renamenx"
	se, ok := c.lookup(src)
	if !ok {
		return
	}
	if !se.Exists() {
		c.Err(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	de, ok := c.lookup(dst)
	if !ok {
		return
	}
	if nx && de.Exists() {
		c.W.Int(0)
		return
	}
	if err := c.Tx.Rename(src, &se, dst, &de); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('g', "rename_from", src)
	c.Tx.Notify('g', "rename_to", dst)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// parseDB reads a database number argument as COPY's DB and MOVE do.
func (c *Ctx) parseDB(arg []byte) (int, bool) {
	n, ok := ParseInt(arg)
	if !ok || n < -1<<31 || n > 1<<31-1 {
		c.Err(ErrNotInt)
		return 0, false
	}
	if n < 0 || n >= keyspace.NumDBs {
		c.Err(ErrDBIndex)
		return 0, false
	}
	return int(n), true
}

func runCopy(c *Ctx) {
	src, dst := c.Args[1], c.Args[2]
	dstDB, replace := c.DB, false
	for i := 3; i < len(c.Args); i++ {
		switch a := c.Args[i]; {
		case EqualFold(a, "replace"):
			replace = true
		case EqualFold(a, "db") && i+1 < len(c.Args):
			db, ok := c.parseDB(c.Args[i+1])
			if !ok {
				return
			}
			dstDB = db
			i++
		default:
			c.Syntax()
			return
		}
	}
	if dstDB == c.DB && string(src) == string(dst) {
		c.Err(ErrSameObject)
		return
	}
	se, ok := c.lookup(src)
	if !ok {
		return
	}
	if !se.Exists() {
		c.W.Int(0)
		return
	}
	c.Tx.SetDB(c.Physical(dstDB))
	de, ok := c.lookup(dst)
	if !ok {
		return
	}
	if de.Exists() && !replace {
		c.W.Int(0)
		return
	}
	if !c.copyValue(&se, c.Physical(c.DB), dst, &de) {
		return
	}
	c.Tx.Notify('g', "copy_to", dst)
	c.W.Int(1)
}

// copyValue writes a copy of the value se (in physical database srcDB) at key in the Tx's
// current database, replacing de. A collection's elements are copied under a new version: the
// element records name their database, and a copy must not share records with its original.
func (c *Ctx) copyValue(se *keyspace.Entry, srcDB byte, key []byte, de *keyspace.Entry) bool {
	m := se.Meta
	if m.HasElems() {
		m.Version = c.Tx.NewVersion(key)
		if err := c.Tx.CopyElements(m.Type, srcDB, se.Version, c.Tx.DB(), m.Version); err != nil {
			c.Fail(err)
			return false
		}
	}
	de.Meta = m
	return c.put(key, de)
}

// runMove moves a key to another database. Unlike Redis's O(1) MOVE, moving a collection
// rewrites its elements, since element records name their database.
func runMove(c *Ctx) {
	key := c.Args[1]
	dstDB, ok := c.parseDB(c.Args[2])
	if !ok {
		return
	}
	if dstDB == c.DB {
		c.Err(ErrSameObject)
		return
	}
	se, ok := c.lookup(key)
	if !ok {
		return
	}
	if !se.Exists() {
		c.W.Int(0)
		return
	}
	srcPhys, dstPhys := c.Physical(c.DB), c.Physical(dstDB)
	c.Tx.SetDB(dstPhys)
	de, ok := c.lookup(key)
	if !ok {
		return
	}
	if de.Exists() {
		c.W.Int(0)
		return
	}
	if !c.copyValue(&se, srcPhys, key, &de) {
		return
	}
	c.Tx.SetDB(srcPhys)
	if _, err := c.Tx.Delete(key, &se); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('g', "move_from", key)
	c.Tx.SetDB(dstPhys)
	c.Tx.Notify('g', "move_to", key)
	c.W.Int(1)
}
