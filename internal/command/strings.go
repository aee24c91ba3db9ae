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
	e.Version, e.Count, e.Extra, e.Chunked = 0, 0, nil, false
}

func runGet(c *Ctx) {
	c.retryChanged(func() error {
		e, err := c.Tx.Peek(c.Args[1])
		switch {
		case err != nil:
			return err
		case !e.Exists():
			c.W.Null()
		case e.Type != keyspace.TypeString:
			c.WrongType()
		default:
			return c.writeString(e)
		}
		return nil
	})
}

// String command options, as Redis's OBJ_* flags for SET and GETEX.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT
	optCond // IFEQ, IFNE, IFDEQ or IFDNE (cas.go)

	optExpire = optEX | optPX | optEXAT | optPXAT
)

// parseStringOptions parses SET's (forSet) or GETEX's options as Redis's
// parseExtendedStringArgumentsOrReply: only the syntax, so a repeated option is accepted (the last
// expiry wins) while conflicting ones (NX with XX, two kinds of expiry, KEEPTTL or PERSIST with an
// expiry) are a syntax error. The expiry argument is validated later, after the key is read, as
// Redis does.
func parseStringOptions(c *Ctx, args [][]byte, forSet bool) (flags int, expire []byte, cond casCondition, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if forSet && flags&(optNX|optXX|optCond) == 0 {
			if cc, isCond := parseCASCondition(args[i:]); isCond {
				cond = cc
				flags |= optCond
				i++
				continue
			}
		}
		switch {
		case forSet && EqualFold(a, "nx") && flags&(optXX|optCond) == 0:
			flags |= optNX
		case forSet && EqualFold(a, "xx") && flags&(optNX|optCond) == 0:
			flags |= optXX
		case forSet && EqualFold(a, "get"):
			flags |= optGet
		case forSet && EqualFold(a, "keepttl") && flags&(optPersist|optExpire) == 0:
			flags |= optKeepTTL
		case !forSet && EqualFold(a, "persist") && flags&(optKeepTTL|optExpire) == 0:
			flags |= optPersist
		default:
			f := expireOption(a)
			if f == 0 || i+1 >= len(args) || flags&(optKeepTTL|optPersist|(optExpire&^f)) != 0 {
				c.Syntax()
				return 0, nil, cond, false
			}
			flags |= f
			expire = args[i+1]
			i++
		}
	}
	return flags, expire, cond, true
}

// expireOption maps EX, PX, EXAT and PXAT to their flag; 0 for anything else.
func expireOption(a []byte) int {
	switch {
	case EqualFold(a, "ex"):
		return optEX
	case EqualFold(a, "px"):
		return optPX
	case EqualFold(a, "exat"):
		return optEXAT
	case EqualFold(a, "pxat"):
		return optPXAT
	}
	return 0
}

// expireMillis reads an expiry argument into Unix ms, as Redis's getExpireMillisecondsOrReply:
// seconds (EX, EXAT) or milliseconds (PX, PXAT), relative (EX, PX) to c.Now or absolute.
// Non-positive values and values that overflow are invalid.
func (c *Ctx) expireMillis(arg []byte, flags int) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Err(ErrNotInt)
		return 0, false
	}
	seconds := flags&(optEX|optEXAT) != 0
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		c.Err(errExpireTime(c.Cmd.Name))
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		if n > math.MaxInt64-c.Now {
			c.Err(errExpireTime(c.Cmd.Name))
			return 0, false
		}
		n += c.Now
	}
	return n, true
}

func errExpireTime(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

func runSet(c *Ctx) {
	key, value := c.Args[1], c.Args[2]
	flags, expire, cond, ok := parseStringOptions(c, c.Args[3:], true)
	if !ok {
		return
	}
	var at int64
	if expire != nil {
		if at, ok = c.expireMillis(expire, flags); !ok {
			return
		}
	}
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	get := flags&optGet != 0
	if (get || cond.kind != "") && e.Exists() && e.Type != keyspace.TypeString {
		c.WrongType()
		return
	}
	found := e.Exists()
	if (get || cond.kind != "") && !c.loadValue(&e) {
		return
	}
	if found && cond.digest != nil && !validDigest(cond.digest) {
		c.Err(errDigest)
		return
	}
	if (flags&optNX != 0 && found) || (flags&optXX != 0 && !found) || (cond.kind != "" && !cond.holds(&e)) {
		if get {
			c.replyValue(&e)
		} else {
			c.W.Null()
		}
		return
	}
	old := e.Value
	if !c.storeString(key, &e, value, at, flags&optKeepTTL != 0) {
		return
	}
	if !get {
		c.W.OK()
	} else if found {
		c.W.Bulk(old)
	} else {
		c.W.Null()
	}
}

// storeString sets key to a string value. An expiry already in the past deletes the key instead
// (Redis 8: the new value is never added; only the removal of an old value is an event).
func (c *Ctx) storeString(key []byte, e *keyspace.Entry, value []byte, expireAt int64, keepTTL bool) bool {
	if expireAt != 0 && expireAt <= c.Now {
		removed, err := c.Tx.Delete(key, e)
		if err != nil {
			c.Fail(err)
			return false
		}
		if removed {
			c.Tx.Notify('g', "del", key)
		}
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
	if err := c.writeString(e); err != nil {
		c.Fail(err)
	}
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
	flags := optEX
	if c.Cmd.Name == "psetex" {
		flags = optPX
	}
	at, ok := c.expireMillis(c.Args[2], flags)
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
	if !c.loadValue(&e) {
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
	if !c.loadValue(&e) {
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
	flags, expire, _, ok := parseStringOptions(c, c.Args[2:], false)
	if !ok {
		return
	}
	e, ok := c.lookupString(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	var at int64
	if expire != nil {
		if at, ok = c.expireMillis(expire, flags); !ok {
			return
		}
	}
	if !c.loadValue(&e) {
		return
	}
	value := e.Value
	switch {
	case flags&(optEXAT|optPXAT) != 0 && at <= c.Now:
		if _, err := c.Tx.Delete(key, &e); err != nil {
			c.Fail(err)
			return
		}
		c.Tx.Notify('g', "del", key)
	case expire != nil:
		e.ExpireAt = at
		if !c.put(key, &e) {
			return
		}
		c.Tx.Notify('g', "expire", key)
	case flags&optPersist != 0 && e.ExpireAt != 0:
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
		c.retryChanged(func() error {
			e, err := c.Tx.Peek(key)
			if err != nil || !e.Exists() || e.Type != keyspace.TypeString {
				c.W.Null()
				return nil
			}
			return c.writeString(e)
		})
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
	// Redis checks the size only when appending to an existing value: a new one is the argument,
	// which the protocol already limited.
	if e.Exists() && !c.fitsString(e.StrLen(), int64(len(c.Args[2]))) {
		return
	}
	if !c.loadValue(&e) {
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
		c.W.Int(e.StrLen())
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
		if !ok || e.Chunked { // a chunked string is far too long to be a number
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
		// Redis reads the current value before the increment, so a bad value is reported first.
		if _, ok := parseLongDouble(e.Value); !ok || e.Chunked {
			c.Err(ErrNotFloat)
			return
		}
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

// fitsString reports whether a string of size bytes grown by more bytes stays within
// proto-max-bulk-len, writing Redis's error when it does not.
func (c *Ctx) fitsString(size, more int64) bool {
	if more > c.Limits.MaxBulkLen() || size > c.Limits.MaxBulkLen()-more {
		c.Err(ErrStringTooLong)
		return false
	}
	return true
}
