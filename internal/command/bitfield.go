package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
)

func init() {
	Register(
		&Command{Name: "bitfield", Run: runBitField},
		&Command{Name: "bitfield_ro", Run: runBitField, Flags: FlagPoint},
	)
}

// BITFIELD overflow behaviours.
const (
	overflowWrap = iota
	overflowSat
	overflowFail
)

// bitfieldOp is one GET, SET or INCRBY of a BITFIELD command.
type bitfieldOp struct {
	write    bool // SET or INCRBY
	incr     bool // INCRBY
	signed   bool
	width    int64
	offset   int64
	value    int64 // SET's value or INCRBY's increment
	overflow int
}

const errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

// parseBitfieldOps parses the subcommands after the key, as Redis does: every error is found
// before anything is read or written.
func parseBitfieldOps(c *Ctx, args [][]byte) ([]bitfieldOp, bool) {
	var ops []bitfieldOp
	overflow := overflowWrap
	for j := 0; j < len(args); j++ {
		remaining := len(args) - j - 1
		var op bitfieldOp
		switch a := args[j]; {
		case EqualFold(a, "get") && remaining >= 2:
		case EqualFold(a, "set") && remaining >= 3:
			op.write = true
		case EqualFold(a, "incrby") && remaining >= 3:
			op.write, op.incr = true, true
		case EqualFold(a, "overflow") && remaining >= 1:
			j++
			switch b := args[j]; {
			case EqualFold(b, "wrap"):
				overflow = overflowWrap
			case EqualFold(b, "sat"):
				overflow = overflowSat
			case EqualFold(b, "fail"):
				overflow = overflowFail
			default:
				c.Err("ERR Invalid OVERFLOW type specified")
				return nil, false
			}
			continue
		default:
			c.Syntax()
			return nil, false
		}
		var ok bool
		if op.signed, op.width, ok = parseBitfieldType(args[j+1]); !ok {
			c.Err(errBitfieldType)
			return nil, false
		}
		if op.offset, ok = c.parseBitOffset(args[j+2], op.width); !ok {
			return nil, false
		}
		if op.write {
			if op.value, ok = ParseInt(args[j+3]); !ok {
				c.Err(ErrNotInt)
				return nil, false
			}
			j++
		}
		op.overflow = overflow
		ops = append(ops, op)
		j += 2
	}
	return ops, true
}

// parseBitfieldType reads "i1".."i64" or "u1".."u63" (the sign letter is case-sensitive, as in
// Redis).
func parseBitfieldType(b []byte) (signed bool, width int64, ok bool) {
	if len(b) == 0 || (b[0] != 'i' && b[0] != 'u') {
		return false, 0, false
	}
	signed = b[0] == 'i'
	width, ok = ParseInt(b[1:])
	if !ok || width < 1 || (signed && width > 64) || (!signed && width > 63) {
		return false, 0, false
	}
	return signed, width, true
}

func runBitField(c *Ctx) {
	ops, ok := parseBitfieldOps(c, c.Args[2:])
	if !ok {
		return
	}
	var highest int64 = -1 // the last bit a write touches
	for _, op := range ops {
		if op.write {
			highest = max(highest, op.offset+op.width-1)
		}
	}
	key := c.Args[1]
	if highest < 0 {
		c.bitfieldRead(key, ops)
		return
	}
	if c.Cmd.Name == "bitfield_ro" {
		c.Err("ERR BITFIELD_RO only supports the GET subcommand")
		return
	}
	e, ok := c.lookupStringLoaded(key)
	if !ok {
		return
	}
	grew := highest>>3+1 > int64(len(e.Value))
	value := growZero(e.Value, highest>>3+1)
	changed := false
	replies := make([]int64, len(ops))
	failed := make([]bool, len(ops))
	for i, op := range ops {
		if !op.write {
			replies[i] = getBitfield(value, op)
			continue
		}
		old, next, ok := applyBitfield(value, op)
		if !ok {
			failed[i] = true
			continue
		}
		setBitfield(value, op.offset, op.width, uint64(next))
		changed = changed || grew || old != next
		replies[i] = old
		if op.incr {
			replies[i] = next
		}
	}
	// Redis creates or pads the string before it runs the operations, so it keeps the new size
	// even when every write failed with OVERFLOW FAIL; only a change is an event.
	if changed || grew {
		setString(&e, value, e.ExpireAt, true)
		if !c.put(key, &e) {
			return
		}
		if changed {
			c.Tx.Notify('$', "setbit", key)
		}
	}
	c.W.Array(len(ops))
	for i, r := range replies {
		if failed[i] {
			c.W.Null()
		} else {
			c.W.Int(r)
		}
	}
}

// bitfieldRead answers a BITFIELD made only of GETs, which reads without creating the key.
func (c *Ctx) bitfieldRead(key []byte, ops []bitfieldOp) {
	e, err := c.peekLoaded(key)
	if err != nil {
		c.Fail(err)
		return
	}
	if e.Exists() && e.Type != keyspace.TypeString {
		c.WrongType()
		return
	}
	c.W.Array(len(ops))
	for _, op := range ops {
		c.W.Int(getBitfield(e.Value, op))
	}
}

// getBitfield reads op's integer from s, zero-padded.
func getBitfield(s []byte, op bitfieldOp) int64 {
	var u uint64
	for i := int64(0); i < op.width; i++ {
		u = u<<1 | uint64(bitAt(s, op.offset+i))
	}
	return extend(u, op.width, op.signed)
}

// extend turns the low width bits of u into an int64, sign-extending a signed field.
func extend(u uint64, width int64, signed bool) int64 {
	if signed && width < 64 && u&(1<<(width-1)) != 0 {
		u |= math.MaxUint64 << width
	}
	return int64(u)
}

// setBitfield writes the low width bits of v at offset; s is long enough.
func setBitfield(s []byte, offset, width int64, v uint64) {
	for i := int64(0); i < width; i++ {
		bit := v >> (width - 1 - i) & 1
		pos := offset + i
		mask := byte(1) << (7 - pos&7)
		if bit == 1 {
			s[pos>>3] |= mask
		} else {
			s[pos>>3] &^= mask
		}
	}
}

// applyBitfield computes what a SET or INCRBY stores: the old value, the new one, and ok=false
// when it overflows under OVERFLOW FAIL.
func applyBitfield(s []byte, op bitfieldOp) (old, next int64, ok bool) {
	old = getBitfield(s, op)
	value, incr := op.value, int64(0)
	if op.incr {
		value, incr = old, op.value
	}
	var overflow bool
	if op.signed {
		next, overflow = signedOverflow(value, incr, op.width, op.overflow)
	} else {
		var u uint64
		u, overflow = unsignedOverflow(uint64(value), incr, op.width, op.overflow)
		next = int64(u)
	}
	if overflow && op.overflow == overflowFail {
		return old, 0, false
	}
	return old, next, true
}

// unsignedOverflow adds incr to value in a width-bit unsigned field, as Redis's
// checkUnsignedBitfieldOverflow (a SET checks its value with incr 0): it returns the result
// wrapped or saturated as mode says, and whether it overflowed.
func unsignedOverflow(value uint64, incr int64, width int64, mode int) (uint64, bool) {
	maxv := uint64(1)<<width - 1
	maxIncr := int64(maxv - value)
	minIncr := -int64(value)
	wrap := (value + uint64(incr)) & maxv
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		if mode == overflowSat {
			return maxv, true
		}
		return wrap, true
	case incr < 0 && incr < minIncr:
		if mode == overflowSat {
			return 0, true
		}
		return wrap, true
	}
	return value + uint64(incr), false
}

// signedOverflow is unsignedOverflow for a width-bit signed field (checkSignedBitfieldOverflow),
// including its two's-complement arithmetic at 64 bits.
func signedOverflow(value, incr int64, width int64, mode int) (int64, bool) {
	maxv := int64(math.MaxInt64)
	if width < 64 {
		maxv = 1<<(width-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	sum := uint64(value) + uint64(incr)
	if width < 64 {
		mask := uint64(math.MaxUint64) << width
		if sum&(1<<(width-1)) != 0 {
			sum |= mask
		} else {
			sum &^= mask
		}
	}
	switch {
	case value > maxv || (width != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if mode == overflowSat {
			return maxv, true
		}
		return int64(sum), true
	case value < minv || (width != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if mode == overflowSat {
			return minv, true
		}
		return int64(sum), true
	}
	return value + incr, false
}
