package command

import (
	"math"
)

// Expiry: setting, reading and removing a key's time to live. A key whose time has passed is
// invisible at once (keyspace.Tx.Lookup) and removed later by the sweeper (expire_sweep.go).

func init() {
	Register(
		&Command{Name: "expire", Run: runExpire},
		&Command{Name: "pexpire", Run: runExpire},
		&Command{Name: "expireat", Run: runExpire},
		&Command{Name: "pexpireat", Run: runExpire},
		&Command{Name: "ttl", Run: runTTL, Flags: FlagPoint},
		&Command{Name: "pttl", Run: runTTL, Flags: FlagPoint},
		&Command{Name: "expiretime", Run: runTTL, Flags: FlagPoint},
		&Command{Name: "pexpiretime", Run: runTTL, Flags: FlagPoint},
		&Command{Name: "persist", Run: runPersist},
	)
}

// The conditions of EXPIRE and friends.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireFlags reads EXPIRE's NX/XX/GT/LT options as Redis does: every option is read before
// any is checked, and before the time argument is.
func (c *Ctx) parseExpireFlags(args [][]byte) (int, bool) {
	flags := 0
	for _, a := range args {
		switch {
		case EqualFold(a, "nx"):
			flags |= expireNX
		case EqualFold(a, "xx"):
			flags |= expireXX
		case EqualFold(a, "gt"):
			flags |= expireGT
		case EqualFold(a, "lt"):
			flags |= expireLT
		default:
			c.Err("ERR Unsupported option " + string(a))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Err("ERR GT and LT options at the same time are not compatible")
		return 0, false
	}
	return flags, true
}

// runExpire serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT. Unlike SET's EX, the time may be
// zero or negative: a time already past deletes the key.
func runExpire(c *Ctx) {
	name := c.Cmd.Name
	flags, ok := c.parseExpireFlags(c.Args[3:])
	if !ok {
		return
	}
	when, ok := ParseInt(c.Args[2])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	invalid := "ERR invalid expire time in '" + name + "' command"
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Err(invalid)
			return
		}
		when *= 1000
	}
	if name == "expire" || name == "pexpire" {
		if when > math.MaxInt64-c.Now {
			c.Err(invalid)
			return
		}
		when += c.Now
	}
	key := c.Args[1]
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Int(0)
		return
	}
	// A key without an expiry has an infinite time to live: GT never beats it, LT always does.
	cur, has := e.ExpireAt, e.ExpireAt != 0
	if (flags&expireNX != 0 && has) || (flags&expireXX != 0 && !has) ||
		(flags&expireGT != 0 && (!has || when <= cur)) || (flags&expireLT != 0 && has && when >= cur) {
		c.W.Int(0)
		return
	}
	if when <= c.Now {
		if _, err := c.Tx.Delete(key, &e); err != nil {
			c.Fail(err)
			return
		}
		c.Tx.Notify('g', "del", key)
		c.W.Int(1)
		return
	}
	e.ExpireAt = when
	if !c.put(key, &e) {
		return
	}
	c.Tx.Notify('g', "expire", key)
	c.W.Int(1)
}

// runTTL serves TTL, PTTL (time left) and EXPIRETIME, PEXPIRETIME (the Unix time of expiry):
// -2 for a missing key, -1 for a key without an expiry. Seconds are rounded to the nearest, as
// Redis does.
func runTTL(c *Ctx) {
	c.Tx.NoTouch = true // as Redis, reading a key's TTL is not using it
	e, err := c.Tx.Peek(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
		return
	case !e.Exists():
		c.W.Int(-2)
		return
	case e.ExpireAt == 0:
		c.W.Int(-1)
		return
	}
	name := c.Cmd.Name
	ms := e.ExpireAt
	if name == "ttl" || name == "pttl" {
		ms = max(ms-c.Now, 0)
	}
	if name == "ttl" || name == "expiretime" {
		c.W.Int((ms + 500) / 1000)
		return
	}
	c.W.Int(ms)
}

func runPersist(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if !e.Exists() || e.ExpireAt == 0 {
		c.W.Int(0)
		return
	}
	e.ExpireAt = 0
	if !c.put(key, &e) {
		return
	}
	c.Tx.Notify('g', "persist", key)
	c.W.Int(1)
}
