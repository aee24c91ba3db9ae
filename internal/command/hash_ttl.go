package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
)

// Hash field expiry (Redis 7.4: HEXPIRE and friends; Redis 8.0: HGETEX, HSETEX, HGETDEL). These
// commands are newer than the reference table, so they carry their full metadata.

func init() {
	Register(
		fieldExpireCmd("hexpire", "seconds", "integer", "Sets the time to live of hash fields, in seconds."),
		fieldExpireCmd("hpexpire", "milliseconds", "integer", "Sets the time to live of hash fields, in milliseconds."),
		fieldExpireCmd("hexpireat", "unix-time-seconds", "unix-time", "Sets hash fields to expire at a Unix time in seconds."),
		fieldExpireCmd("hpexpireat", "unix-time-milliseconds", "unix-time", "Sets hash fields to expire at a Unix time in milliseconds."),
		fieldTTLCmd("httl", "Returns the time to live of hash fields, in seconds."),
		fieldTTLCmd("hpttl", "Returns the time to live of hash fields, in milliseconds."),
		fieldTTLCmd("hexpiretime", "Returns the Unix time in seconds at which hash fields expire."),
		fieldTTLCmd("hpexpiretime", "Returns the Unix time in milliseconds at which hash fields expire."),
		&Command{Name: "hpersist", Arity: -5, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "7.4.0",
			Summary:  "Removes the expiry of hash fields.",
			KeySpecs: []KeySpec{rwKeySpec("RW", "UPDATE")},
			Args:     []Arg{keyArg(), fieldsBlock(false)},
			Run:      runHPersist},
		&Command{Name: "hgetex", Arity: -5, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "8.0.0",
			Summary:  "Returns the values of hash fields and optionally sets or removes their expiry.",
			KeySpecs: []KeySpec{rwKeySpec("RW", "ACCESS", "UPDATE")},
			Args: []Arg{keyArg(),
				{Name: "expiration", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: append(expiryArgs(),
					Arg{Name: "persist", Type: "pure-token", Token: "PERSIST", KeySpecIndex: -1})},
				fieldsBlock(false)},
			Run: runHGetEx},
		&Command{Name: "hsetex", Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "8.0.0",
			Summary:  "Sets hash fields, optionally only if none or all exist, with an optional expiry.",
			KeySpecs: []KeySpec{rwKeySpec("RW", "UPDATE")},
			Args: []Arg{keyArg(),
				{Name: "condition", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
					{Name: "fnx", Type: "pure-token", Token: "FNX", KeySpecIndex: -1},
					{Name: "fxx", Type: "pure-token", Token: "FXX", KeySpecIndex: -1}}},
				{Name: "expiration", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: append(expiryArgs(),
					Arg{Name: "keepttl", Type: "pure-token", Token: "KEEPTTL", KeySpecIndex: -1})},
				fieldsBlock(true)},
			Run: runHSetEx},
		&Command{Name: "hgetdel", Arity: -5, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "8.0.0",
			Summary:  "Returns the values of hash fields and deletes them.",
			KeySpecs: []KeySpec{rwKeySpec("RW", "ACCESS", "DELETE")},
			Args:     []Arg{keyArg(), fieldsBlock(false)},
			Run:      runHGetDel},
	)
}

func rwKeySpec(flags ...string) KeySpec {
	return KeySpec{Flags: flags, BeginIndex: 1, Range: true, LastKey: 0, KeyStep: 1, Limit: 0}
}

func keyArg() Arg { return Arg{Name: "key", Type: "key", KeySpecIndex: 0} }

// fieldsBlock is the "FIELDS numfields field [field ...]" argument, with values for HSETEX.
func fieldsBlock(withValues bool) Arg {
	item := Arg{Name: "field", Type: "string", Multiple: true, KeySpecIndex: -1}
	if withValues {
		item = Arg{Name: "data", Type: "block", Multiple: true, KeySpecIndex: -1, Args: []Arg{
			{Name: "field", Type: "string", KeySpecIndex: -1},
			{Name: "value", Type: "string", KeySpecIndex: -1}}}
	}
	return Arg{Name: "fields", Type: "block", Token: "FIELDS", KeySpecIndex: -1, Args: []Arg{
		{Name: "numfields", Type: "integer", KeySpecIndex: -1}, item}}
}

func expiryArgs() []Arg {
	return []Arg{
		{Name: "seconds", Type: "integer", Token: "EX", KeySpecIndex: -1},
		{Name: "milliseconds", Type: "integer", Token: "PX", KeySpecIndex: -1},
		{Name: "unix-time-seconds", Type: "unix-time", Token: "EXAT", KeySpecIndex: -1},
		{Name: "unix-time-milliseconds", Type: "unix-time", Token: "PXAT", KeySpecIndex: -1},
	}
}

func fieldExpireCmd(name, argName, argType, summary string) *Command {
	return &Command{Name: name, Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "7.4.0", Summary: summary,
		KeySpecs: []KeySpec{rwKeySpec("RW", "UPDATE")},
		Args: []Arg{keyArg(),
			{Name: argName, Type: argType, KeySpecIndex: -1},
			{Name: "condition", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
				{Name: "nx", Type: "pure-token", Token: "NX", KeySpecIndex: -1},
				{Name: "xx", Type: "pure-token", Token: "XX", KeySpecIndex: -1},
				{Name: "gt", Type: "pure-token", Token: "GT", KeySpecIndex: -1},
				{Name: "lt", Type: "pure-token", Token: "LT", KeySpecIndex: -1}}},
			fieldsBlock(false)},
		Run: runHExpire}
}

func fieldTTLCmd(name, summary string) *Command {
	return &Command{Name: name, Arity: -5, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "fast"}, Group: "hash", Since: "7.4.0", Summary: summary,
		KeySpecs: []KeySpec{rwKeySpec("RO", "ACCESS")},
		Args:     []Arg{keyArg(), fieldsBlock(false)},
		Run:      runHTTL}
}

// hfeMaxMs is the largest field expiry Redis accepts (HFE_MAX_ABS_TIME_MSEC: 48 bits less two
// reserved).
const hfeMaxMs = (1<<48 - 1) >> 2

const (
	errFieldsMissing = "ERR Mandatory argument FIELDS is missing or not at the right position"
	errNumFields     = "Number of fields must be a positive integer"
)

// parseFieldExpire reads a field expiry argument in unitMs (1000 or 1) relative to base (0 for
// absolute times) into Unix ms, with Redis's checks.
func (c *Ctx) parseFieldExpire(arg []byte, unitMs, base int64) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Err(ErrNotInt)
		return 0, false
	}
	if n < 0 {
		c.Err("ERR invalid expire time, must be >= 0")
		return 0, false
	}
	if unitMs == 1000 {
		if n > hfeMaxMs/1000 {
			c.Err("ERR invalid expire time in '" + c.Cmd.Name + "' command")
			return 0, false
		}
		n *= 1000
	}
	if n > hfeMaxMs-base {
		c.Err("ERR invalid expire time in '" + c.Cmd.Name + "' command")
		return 0, false
	}
	return n + base, true
}

// expireUnit returns the unit (ms) and base time of a HEXPIRE-family command.
func (c *Ctx) expireUnit() (unitMs, base int64) {
	unitMs, base = 1000, c.Now
	name := c.Cmd.Name
	if name[1] == 'p' {
		unitMs = 1
	}
	if name[len(name)-2:] == "at" {
		base = 0
	}
	return unitMs, base
}

// Results of setting a field's expiry, as HEXPIRE replies them.
const (
	expNoField    = -2
	expCondNotMet = 0
	expSet        = 1
	expDeleted    = 2
)

// HEXPIRE's conditions.
const (
	condNX = 1 + iota
	condXX
	condGT
	condLT
)

// setFieldExpire gives a field the expiry at under cond, as Redis's hashTypeSetEx: a field
// without expiry counts as expiring never (so GT never holds and LT always does), and an expiry
// not in the future deletes the field.
func setFieldExpire(h *keyspace.Hash, field []byte, at int64, cond int, now int64) (int64, error) {
	_, prev, ok, err := h.Get(field)
	if err != nil || !ok {
		return expNoField, err
	}
	if prev == 0 {
		if cond == condXX || cond == condGT {
			return expCondNotMet, nil
		}
	} else if (cond == condGT && prev >= at) || (cond == condLT && prev <= at) || cond == condNX {
		return expCondNotMet, nil
	}
	if at <= now {
		_, err := h.Del(field)
		return expDeleted, err
	}
	return expSet, h.SetExpire(field, at)
}

func runHExpire(c *Ctx) {
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	unit, base := c.expireUnit()
	at, ok := c.parseFieldExpire(c.Args[2], unit, base)
	if !ok {
		return
	}
	numAt, cond := 4, 0
	switch {
	case EqualFold(c.Args[3], "nx"):
		cond = condNX
	case EqualFold(c.Args[3], "xx"):
		cond = condXX
	case EqualFold(c.Args[3], "gt"):
		cond = condGT
	case EqualFold(c.Args[3], "lt"):
		cond = condLT
	}
	if cond != 0 {
		numAt++
	}
	if !EqualFold(c.Args[numAt-1], "fields") {
		c.Err(errFieldsMissing)
		return
	}
	n, ok := c.parseNumFields(numAt, "Parameter `numFields` should be greater than 0")
	if !ok {
		return
	}
	mark := c.W.Len()
	c.W.Array(n)
	if !h.Exists() {
		for range n {
			c.W.Int(expNoField)
		}
		return
	}
	var updated, deleted int
	for _, field := range c.Args[numAt+1:] {
		res, err := setFieldExpire(&h, field, at, cond, c.Now)
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		updated += int(b2i(res == expSet))
		deleted += int(b2i(res == expDeleted))
		c.W.Int(res)
	}
	if deleted > 0 {
		c.Tx.Notify('h', "hdel", key)
	} else if updated > 0 {
		c.Tx.Notify('h', "hexpire", key)
	}
	c.saveWithEvents(key, &h, mark)
}

// fieldsAt checks the "FIELDS numfields field..." block that starts at args[i] and returns the
// fields.
func (c *Ctx) fieldsAt(i int) ([][]byte, bool) {
	if i+1 >= len(c.Args) {
		c.Err(ErrWrongArgs(c.Cmd.Name))
		return nil, false
	}
	if !EqualFold(c.Args[i], "fields") {
		c.Err(errFieldsMissing)
		return nil, false
	}
	if _, ok := c.parseNumFields(i+1, errNumFields); !ok {
		return nil, false
	}
	return c.Args[i+2:], true
}

func runHTTL(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	fields, ok := c.fieldsAt(2)
	if !ok {
		return
	}
	name := c.Cmd.Name
	seconds := name == "httl" || name == "hexpiretime"
	base := c.Now
	if name == "hexpiretime" || name == "hpexpiretime" {
		base = 0
	}
	mark := c.W.Len()
	c.W.Array(len(fields))
	for _, field := range fields {
		_, at, found, err := h.Get(field)
		switch {
		case err != nil:
			c.W.Truncate(mark)
			c.Fail(err)
			return
		case !found:
			c.W.Int(-2)
		case at == 0:
			c.W.Int(-1)
		case seconds:
			c.W.Int((at + 999 - base) / 1000)
		default:
			c.W.Int(at - base)
		}
	}
}

func runHPersist(c *Ctx) {
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	fields, ok := c.fieldsAt(2)
	if !ok {
		return
	}
	mark := c.W.Len()
	c.W.Array(len(fields))
	changed := false
	for _, field := range fields {
		_, at, found, err := h.Get(field)
		if err == nil && found && at != 0 {
			err = h.SetExpire(field, 0)
		}
		switch {
		case err != nil:
			c.W.Truncate(mark)
			c.Fail(err)
			return
		case !found:
			c.W.Int(-2)
		case at == 0:
			c.W.Int(-1)
		default:
			c.W.Int(1)
			changed = true
		}
	}
	if changed {
		c.Tx.Notify('h', "hpersist", key)
		c.saveWithEvents(key, &h, mark)
	}
}

func runHGetEx(c *Ctx) {
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	fieldsPos, persist, at, set := 2, false, int64(0), false
	switch opt := c.Args[2]; {
	case EqualFold(opt, "persist"):
		persist, set, fieldsPos = true, true, 3
	case EqualFold(opt, "ex"), EqualFold(opt, "px"), EqualFold(opt, "exat"), EqualFold(opt, "pxat"):
		unit, base := int64(1000), c.Now
		if opt[0] == 'p' || opt[0] == 'P' {
			unit = 1
		}
		if len(opt) == 4 {
			base = 0
		}
		if at, ok = c.parseFieldExpire(c.Args[3], unit, base); !ok {
			return
		}
		set, fieldsPos = true, 4
	}
	fields, ok := c.fieldsAt(fieldsPos)
	if !ok {
		return
	}
	mark := c.W.Len()
	c.W.Array(len(fields))
	if !h.Exists() {
		for range fields {
			c.W.Null()
		}
		return
	}
	var updated, deleted int
	for _, field := range fields {
		v, prev, found, err := h.Get(field)
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		if !found {
			c.W.Null()
			continue
		}
		c.W.Bulk(v)
		switch {
		case !set || (persist && prev == 0):
		case persist:
			err = h.SetExpire(field, 0)
			updated++
		case at <= c.Now:
			_, err = h.Del(field)
			deleted++
		default:
			err = h.SetExpire(field, at)
			updated++
		}
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
	}
	switch {
	case updated > 0 && persist:
		c.Tx.Notify('h', "hpersist", key)
	case updated > 0:
		c.Tx.Notify('h', "hexpire", key)
	case deleted > 0:
		c.Tx.Notify('h', "hdel", key)
	}
	c.saveWithEvents(key, &h, mark)
}

// saveWithEvents is saveAfterReply that also notifies "del" when the changes emptied the key.
func (c *Ctx) saveWithEvents(key []byte, s saver, mark int) {
	removed, err := s.Save()
	if err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
		return
	}
	if removed {
		c.Tx.Notify('g', "del", key)
	}
}

// hsetexOptions are HSETEX's options after parsing.
type hsetexOptions struct {
	fnx, fxx, keepTTL, expire bool
	at                        int64
	fields                    [][]byte // field, value pairs
}

func (c *Ctx) parseHSetEx() (hsetexOptions, bool) {
	var o hsetexOptions
	args := c.Args
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case EqualFold(a, "fields"):
			if i >= len(args)-3 {
				c.Err(ErrWrongArgs(c.Cmd.Name))
				return o, false
			}
			n, ok := ParseInt(args[i+1])
			if !ok || n < 1 || n > 1<<31-1 {
				c.Err("ERR invalid number of fields")
				return o, false
			}
			rest := len(args) - i - 2
			if rest%2 != 0 || n != int64(rest/2) {
				c.Err(ErrWrongArgs(c.Cmd.Name))
				return o, false
			}
			o.fields = args[i+2:]
			return o, true
		case EqualFold(a, "ex"), EqualFold(a, "px"), EqualFold(a, "exat"), EqualFold(a, "pxat"), EqualFold(a, "keepttl"):
			if o.expire || o.keepTTL {
				c.Err("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified")
				return o, false
			}
			if len(a) == 7 {
				o.keepTTL = true
				continue
			}
			if i >= len(args)-1 {
				c.Err("ERR missing expire time")
				return o, false
			}
			unit, base := int64(1000), c.Now
			if a[0] == 'p' || a[0] == 'P' {
				unit = 1
			}
			if len(a) == 4 {
				base = 0
			}
			i++
			at, ok := c.parseFieldExpire(args[i], unit, base)
			if !ok {
				return o, false
			}
			o.expire, o.at = true, at
		case EqualFold(a, "fnx"), EqualFold(a, "fxx"):
			if o.fnx || o.fxx {
				c.Err("ERR Only one of FXX or FNX arguments can be specified")
				return o, false
			}
			o.fnx, o.fxx = a[1] == 'n' || a[1] == 'N', a[1] == 'x' || a[1] == 'X'
		default:
			c.Err("ERR unknown argument: " + string(a))
			return o, false
		}
	}
	c.Syntax()
	return o, false
}

func runHSetEx(c *Ctx) {
	o, ok := c.parseHSetEx()
	if !ok {
		return
	}
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	if !h.Exists() && o.fxx {
		c.W.Int(0)
		return
	}
	if o.fnx || o.fxx {
		for i := 0; i < len(o.fields); i += 2 {
			_, _, found, err := h.Get(o.fields[i])
			if err != nil {
				c.Fail(err)
				return
			}
			if found == o.fnx {
				c.W.Int(0)
				return
			}
		}
	}
	h.NoteSize(len(o.fields) / 2)
	var deleted, updated int
	for i := 0; i < len(o.fields); i += 2 {
		field := o.fields[i]
		if _, err := h.Set(field, o.fields[i+1], 0, o.keepTTL || o.expire); err != nil {
			c.Fail(err)
			return
		}
		if !o.expire {
			continue
		}
		res, err := setFieldExpire(&h, field, o.at, 0, c.Now)
		if err != nil {
			c.Fail(err)
			return
		}
		deleted += int(b2i(res == expDeleted))
		updated += int(b2i(res == expSet))
	}
	c.Tx.Notify('h', "hset", key)
	if deleted > 0 {
		c.Tx.Notify('h', "hdel", key)
	} else if updated > 0 {
		c.Tx.Notify('h', "hexpire", key)
	}
	if _, ok := c.save(key, &h); !ok {
		return
	}
	c.W.Int(1)
}

func runHGetDel(c *Ctx) {
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	if !EqualFold(c.Args[2], "fields") {
		c.Err(errFieldsMissing)
		return
	}
	n, ok := c.parseNumFields(3, errNumFields)
	if !ok {
		return
	}
	mark := c.W.Len()
	c.W.Array(n)
	deleted := 0
	for _, field := range c.Args[4:] {
		v, _, found, err := h.Get(field)
		if err == nil && found {
			c.W.Bulk(v)
			_, err = h.Del(field)
			deleted++
		} else if err == nil {
			c.W.Null()
		}
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
	}
	if deleted > 0 {
		c.Tx.Notify('h', "hdel", key)
	}
	c.saveWithEvents(key, &h, mark)
}
