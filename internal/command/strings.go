package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
)

func init() {
	Register(
		&Command{Name: "get", Run: runGet, Flags: FlagPoint},
		&Command{Name: "set", Run: runSet},
		&Command{Name: "setnx", Run: runSetNX},
		&Command{Name: "setex", Run: runSetEx},
		&Command{Name: "psetex", Run: runSetEx},
		&Command{Name: "getset", Run: runGetSet},
		&Command{Name: "getdel", Run: runGetDel},
		&Command{Name: "getex", Run: runGetEx},
		&Command{Name: "mget", Run: runMGet},
		&Command{Name: "mset", Run: runMSet},
		&Command{Name: "msetnx", Run: runMSet},
		&Command{Name: "append", Run: runAppend},
		&Command{Name: "strlen", Run: runStrlen, Flags: FlagPoint},
		&Command{Name: "incr", Run: runIncr},
		&Command{Name: "decr", Run: runIncr},
		&Command{Name: "incrby", Run: runIncr},
		&Command{Name: "decrby", Run: runIncr},
		&Command{Name: "incrbyfloat", Run: runIncrByFloat},
	)
}

// lookup reads key's metadata, writing the error reply and returning ok=false on failure.
func (c *Ctx) lookup(key []byte) (keyspace.Entry, bool) {
	e, err := c.Tx.Lookup(key)
	if err != nil {
		c.Fail(err)
		return e, false
	}
	return e, true
}

// lookupString reads a string key; a key of another type writes WRONGTYPE and returns ok=false.
func (c *Ctx) lookupString(key []byte) (keyspace.Entry, bool) {
	e, ok := c.lookup(key)
	if !ok {
		return e, false
	}
	if e.Exists() && e.Type != keyspace.TypeString {
		c.WrongType()
		return e, false
	}
	return e, true
}

// put writes e at key, writing the error reply on failure.
func (c *Ctx) put(key []byte, e *keyspace.Entry) bool {
	if err := c.Tx.Put(key, e); err != nil {
		c.Fail(err)
		return false
	}
	return true
}

// setString makes e a string holding value, keeping or replacing the expiry as asked.
func setString(e *keyspace.Entry, value []byte, expireAt int64, keepTTL bool) {
	if !keepTTL || e.Type == keyspace.TypeNone {
		e.ExpireAt = expireAt
	}
	e.Type = keyspace.TypeString
	e.Value = value
	e.Version, e.Count, e.Extra = 0, 0, nil
}

func runGet(c *Ctx) {
	e, err := c.Tx.Peek(c.Args[1])
	if err != nil {
		c.Fail(err)
		return
	}
	switch {
	case !e.Exists():
		c.W.Null()
	case e.Type != keyspace.TypeString:
		c.WrongType()
	default:
		c.W.Bulk(e.Value)
	}
}

// setOptions are SET's options after parsing.
type setOptions struct {
	nx, xx, get, keepTTL bool
	expireAt             int64 // 0: none
}

// parseExpire reads a relative (EX/PX) or absolute (EXAT/PXAT) expiry argument into Unix ms,
// as Redis's getExpireMillisecondsOrReply: non-positive or overflowing values are invalid.
func (c *Ctx) parseExpire(arg []byte, unitMs int64, absolute bool, cmdName string) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Err(ErrNotInt)
		return 0, false
	}
	if n <= 0 || (unitMs == 1000 && n > math.MaxInt64/1000) {
		c.Err("ERR invalid expire time in '" + cmdName + "' command")
		return 0, false
	}
	ms := n * unitMs
	if !absolute {
		if ms > math.MaxInt64-c.Now {
			c.Err("ERR invalid expire time in '" + cmdName + "' command")
			return 0, false
		}
		ms += c.Now
	}
	return ms, true
}

func parseSetOptions(c *Ctx, args [][]byte) (setOptions, bool) {
	var o setOptions
	expireSet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		hasNext := i+1 < len(args)
		switch {
		case EqualFold(a, "nx") && !o.xx:
			o.nx = true
		case EqualFold(a, "xx") && !o.nx:
			o.xx = true
		case EqualFold(a, "get"):
			o.get = true
		case EqualFold(a, "keepttl") && !expireSet:
			o.keepTTL = true
		case (EqualFold(a, "ex") || EqualFold(a, "px") || EqualFold(a, "exat") || EqualFold(a, "pxat")) &&
			!o.keepTTL && !expireSet && hasNext:
			unit := int64(1000)
			if a[0] == 'p' || a[0] == 'P' {
				unit = 1
			}
			at, ok := c.parseExpire(args[i+1], unit, len(a) == 4, "set")
			if !ok {
				return o, false
			}
			o.expireAt = at
			expireSet = true
			i++
		default:
			c.Syntax()
			return o, false
		}
	}
	return o, true
}

func runSet(c *Ctx) {
	key, value := c.Args[1], c.Args[2]
	o, ok := parseSetOptions(c, c.Args[3:])
	if !ok {
		return
	}
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if o.get && e.Exists() && e.Type != keyspace.TypeString {
		c.WrongType()
		return
	}
	if (o.nx && e.Exists()) || (o.xx && !e.Exists()) {
		if o.get {
			c.replyValue(&e)
		} else {
			c.W.Null()
		}
		return
	}
	old := e.Value
	existed := e.Exists()
	if !c.storeString(key, &e, value, o.expireAt, o.keepTTL) {
		return
	}
	if o.get {
		if existed {
			c.W.Bulk(old)
		} else {
			c.W.Null()
		}
		return
	}
	c.W.OK()
}

// storeString sets key to a string value; an expiry already in the past deletes the key instead,
// as Redis does.
func (c *Ctx) storeString(key []byte, e *keyspace.Entry, value []byte, expireAt int64, keepTTL bool) bool {
	if expireAt != 0 && expireAt <= c.Now {
		if _, err := c.Tx.Delete(key, e); err != nil {
			c.Fail(err)
			return false
		}
		c.Tx.Notify('g', "del", key)
		return true
	}
	setString(e, value, expireAt, keepTTL)
	if !c.put(key, e) {
		return false
	}
	c.Tx.Notify('$', "set", key)
	if expireAt != 0 {
		c.Tx.Notify('g', "expire", key)
	}
	return true
}

// replyValue replies with a string entry's value, or null if the key is missing.
func (c *Ctx) replyValue(e *keyspace.Entry) {
	if !e.Exists() {
		c.W.Null()
		return
	}
	c.W.Bulk(e.Value)
}

func runSetNX(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if e.Exists() {
		c.W.Int(0)
		return
	}
	if c.storeString(key, &e, c.Args[2], 0, false) {
		c.W.Int(1)
	}
}

func runSetEx(c *Ctx) {
	unit := int64(1000)
	if c.Args[0][0] == 'p' || c.Args[0][0] == 'P' {
		unit = 1
	}
	at, ok := c.parseExpire(c.Args[2], unit, false, c.Cmd.Name)
	if !ok {
		return
	}
	key := c.Args[1]
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if c.storeString(key, &e, c.Args[3], at, false) {
		c.W.OK()
	}
}

func runGetSet(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	old, existed := e.Value, e.Exists()
	if !c.storeString(key, &e, c.Args[2], 0, false) {
		return
	}
	if existed {
		c.W.Bulk(old)
	} else {
		c.W.Null()
	}
}

func runGetDel(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	old := e.Value
	if _, err := c.Tx.Delete(key, &e); err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('g', "del", key)
	c.W.Bulk(old)
}

func runGetEx(c *Ctx) {
	key := c.Args[1]
	var (
		expireAt int64
		persist  bool
		set      bool
	)
	args := c.Args[2:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case EqualFold(a, "persist") && !set:
			persist, set = true, true
		case (EqualFold(a, "ex") || EqualFold(a, "px") || EqualFold(a, "exat") || EqualFold(a, "pxat")) &&
			!set && i+1 < len(args):
			unit := int64(1000)
			if a[0] == 'p' || a[0] == 'P' {
				unit = 1
			}
			at, ok := c.parseExpire(args[i+1], unit, len(a) == 4, "getex")
			if !ok {
				return
			}
			expireAt, set = at, true
			i++
		default:
			c.Syntax()
			return
		}
	}
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	value := e.Value
	switch {
	case expireAt != 0 && expireAt <= c.Now:
		if _, err := c.Tx.Delete(key, &e); err != nil {
			c.Fail(err)
			return
		}
		c.Tx.Notify('g', "del", key)
	case expireAt != 0:
		e.ExpireAt = expireAt
		if !c.put(key, &e) {
			return
		}
		c.Tx.Notify('g', "expire", key)
	case persist && e.ExpireAt != 0:
		e.ExpireAt = 0
		if !c.put(key, &e) {
			return
		}
		c.Tx.Notify('g', "persist", key)
	}
	c.W.Bulk(value)
}

func runMGet(c *Ctx) {
	c.W.Array(len(c.Args) - 1)
	for _, key := range c.Args[1:] {
		e, err := c.Tx.Peek(key)
		if err != nil || !e.Exists() || e.Type != keyspace.TypeString {
			c.W.Null()
			continue
		}
		c.W.Bulk(e.Value)
	}
}

func runMSet(c *Ctx) {
	if len(c.Args)%2 != 1 {
		c.Err(ErrWrongArgs(c.Cmd.Name))
		return
	}
	nx := c.Cmd.Name == "msetnx"
	if nx {
		for i := 1; i < len(c.Args); i += 2 {
			e, ok := c.lookup(c.Args[i])
			if !ok {
				return
			}
			if e.Exists() {
				c.W.Int(0)
				return
			}
		}
	}
	for i := 1; i < len(c.Args); i += 2 {
		e, ok := c.lookup(c.Args[i])
		if !ok {
			return
		}
		if !c.storeString(c.Args[i], &e, c.Args[i+1], 0, false) {
			return
		}
	}
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

func runAppend(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	if int64(len(e.Value))+int64(len(c.Args[2])) > c.Limits.MaxBulkLen {
		c.Err(ErrStringTooLong)
		return
	}
	value := append(e.Value, c.Args[2]...)
	setString(&e, value, e.ExpireAt, true)
	if !c.put(key, &e) {
		return
	}
	c.Tx.Notify('$', "append", key)
	c.W.Int(int64(len(value)))
}

func runStrlen(c *Ctx) {
	e, err := c.Tx.Peek(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
	case !e.Exists():
		c.W.Int(0)
	case e.Type != keyspace.TypeString:
		c.WrongType()
	default:
		c.W.Int(int64(len(e.Value)))
	}
}

func runIncr(c *Ctx) {
	var delta int64 = 1
	name := c.Cmd.Name
	if name == "incrby" || name == "decrby" {
		d, ok := ParseInt(c.Args[2])
		if !ok {
			c.Err(ErrNotInt)
			return
		}
		if name == "decrby" && d == math.MinInt64 {
			c.Err("ERR decrement would overflow")
			return
		}
		delta = d
	}
	if name == "decr" || name == "decrby" {
		delta = -delta
	}
	key := c.Args[1]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	var cur int64
	if e.Exists() {
		v, ok := ParseInt(e.Value)
		if !ok {
			c.Err(ErrNotInt)
			return
		}
		cur = v
	}
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		c.Err(ErrOverflow)
		return
	}
	cur += delta
	var buf [20]byte
	setString(&e, FormatInt(buf[:0], cur), e.ExpireAt, true)
	if !c.put(key, &e) {
		return
	}
	c.Tx.Notify('$', "incrby", key)
	c.W.Int(cur)
}

func runIncrByFloat(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	var cur []byte
	if e.Exists() {
		cur = e.Value
	}
	value, msg := addLongDouble(cur, c.Args[2], ErrNotFloat)
	if msg != "" {
		c.Err(msg)
		return
	}
	setString(&e, value, e.ExpireAt, true)
	if !c.put(key, &e) {
		return
	}
	c.Tx.Notify('$', "incrbyfloat", key)
	c.W.Bulk(value)
}
