package command

import "math"

// MSETEX (Redis 8.4): MSET with NX|XX and one expiry shared by every key.

func init() {
	Register(&Command{Name: "msetex", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "8.4.0",
		KeySpecs: []KeySpec{{Flags: []string{"OW", "UPDATE"}, BeginIndex: 1, KeyNumIdx: 0, FirstKey: 1, KeyStep: 2}},
		Args: []Arg{
			{Name: "numkeys", Type: "integer", KeySpecIndex: -1},
			{Name: "data", Type: "block", Multiple: true, KeySpecIndex: -1, Args: []Arg{
				{Name: "key", Type: "key", KeySpecIndex: 0},
				{Name: "value", Type: "string", KeySpecIndex: -1},
			}},
			{Name: "condition", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
				{Name: "nx", Type: "pure-token", Token: "NX", KeySpecIndex: -1},
				{Name: "xx", Type: "pure-token", Token: "XX", KeySpecIndex: -1},
			}},
			{Name: "expiration", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
				{Name: "seconds", Type: "integer", Token: "EX", KeySpecIndex: -1},
				{Name: "milliseconds", Type: "integer", Token: "PX", KeySpecIndex: -1},
				{Name: "unix-time-seconds", Type: "unix-time", Token: "EXAT", KeySpecIndex: -1},
				{Name: "unix-time-milliseconds", Type: "unix-time", Token: "PXAT", KeySpecIndex: -1},
				{Name: "keepttl", Type: "pure-token", Token: "KEEPTTL", KeySpecIndex: -1},
			}},
		},
		Keys: msetexKeys,
		Run:  runMSetEx,
	})
}

// msetexKeys returns the positions of MSETEX's keys: every other argument after numkeys.
func msetexKeys(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	n, ok := ParseInt(args[1])
	if !ok || n <= 0 {
		return nil
	}
	var out []int
	for i := 0; int64(i) < n && 2+2*i < len(args); i++ {
		out = append(out, 2+2*i)
	}
	return out
}

func runMSetEx(c *Ctx) {
	n, ok := ParseInt(c.Args[1])
	if !ok || n <= 0 || n > math.MaxInt32 {
		c.Err("ERR invalid numkeys value")
		return
	}
	if int64(len(c.Args)-2) < 2*n {
		c.Err("ERR wrong number of key-value pairs")
		return
	}
	pairs := c.Args[2 : 2+2*n]
	flags, expire, _, ok := parseStringOptions(c, c.Args[2+2*n:], true)
	if !ok {
		return
	}
	if flags&(optGet|optCond) != 0 {
		c.Syntax()
		return
	}
	var at int64
	if expire != nil {
		if at, ok = c.expireMillis(expire, flags); !ok {
			return
		}
	}
	if flags&(optNX|optXX) != 0 {
		for i := 0; i < len(pairs); i += 2 {
			e, ok := c.lookup(pairs[i])
			if !ok {
				return
			}
			if e.Exists() == (flags&optNX != 0) {
				c.W.Int(0)
				return
			}
		}
	}
	for i := 0; i < len(pairs); i += 2 {
		e, ok := c.lookup(pairs[i])
		if !ok {
			return
		}
		if !c.storeString(pairs[i], &e, pairs[i+1], at, flags&optKeepTTL != 0) {
			return
		}
	}
	c.W.Int(1)
}
