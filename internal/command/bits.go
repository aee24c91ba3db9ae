package command

import (
	"math/bits"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Bitmaps are strings read as bits, bit 0 being the most significant bit of the first byte.

func init() {
	Register(
		&Command{Name: "getbit", Run: runGetBit, Flags: FlagPoint},
		&Command{Name: "setbit", Run: runSetBit},
		&Command{Name: "bitcount", Run: runBitCount, Flags: FlagPoint},
		&Command{Name: "bitpos", Run: runBitPos, Flags: FlagPoint},
		&Command{Name: "bitop", Run: runBitOp, Args: bitopArgs()},
	)
}

// parseBitOffset reads a bit offset as Redis's getBitOffsetFromArgument: a non-negative integer
// whose byte lies within proto-max-bulk-len. With hashWidth > 0 the form "#n" means n*hashWidth
// (BITFIELD).
func (c *Ctx) parseBitOffset(arg []byte, hashWidth int64) (int64, bool) {
	useHash := hashWidth > 0 && len(arg) > 0 && arg[0] == '#'
	if useHash {
		arg = arg[1:]
	}
	n, ok := ParseInt(arg)
	if ok && useHash {
		if n > 0 && n > (1<<63-1)/hashWidth {
			ok = false
		} else {
			n *= hashWidth
		}
	}
	if !ok || n < 0 || n>>3 >= c.Limits.MaxBulkLen() {
		c.Err(ErrBitOffset)
		return 0, false
	}
	return n, true
}

// bitAt returns bit i of s; bits past the end are 0.
func bitAt(s []byte, i int64) byte {
	if i>>3 >= int64(len(s)) {
		return 0
	}
	return s[i>>3] >> (7 - i&7) & 1
}

// growZero extends s with zero bytes to at least n bytes.
func growZero(s []byte, n int64) []byte {
	if int64(len(s)) >= n {
		return s
	}
	return append(s, make([]byte, n-int64(len(s)))...)
}

func runGetBit(c *Ctx) {
	off, ok := c.parseBitOffset(c.Args[2], 0)
	if !ok {
		return
	}
	e, err := c.peekLoaded(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
	case !e.Exists():
		c.W.Int(0)
	case e.Type != keyspace.TypeString:
		c.WrongType()
	default:
		c.W.Int(int64(bitAt(e.Value, off)))
	}
}

func runSetBit(c *Ctx) {
	off, ok := c.parseBitOffset(c.Args[2], 0)
	if !ok {
		return
	}
	on, ok := ParseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.Err(ErrBitValue)
		return
	}
	key := c.Args[1]
	e, ok := c.lookupStringLoaded(key)
	if !ok {
		return
	}
	old := bitAt(e.Value, off)
	grow := off>>3+1 > int64(len(e.Value))
	if grow || int64(old) != on {
		value := growZero(e.Value, off>>3+1)
		mask := byte(1) << (7 - off&7)
		if on == 1 {
			value[off>>3] |= mask
		} else {
			value[off>>3] &^= mask
		}
		setString(&e, value, e.ExpireAt, true)
		if !c.put(key, &e) {
			return
		}
		c.Tx.Notify('$', "setbit", key)
	}
	c.W.Int(int64(old))
}

// bitRange turns BITCOUNT's and BITPOS's start and end (bytes, or bits with isBit; negative
// counting from the end) into an inclusive range of bits of a string of n bytes, clamped as Redis
// clamps it. empty reports a range with nothing in it.
func bitRange(start, end, n int64, isBit bool) (first, last int64, empty bool) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start = max(start, 0)
	end = max(end, 0)
	end = min(end, total-1)
	if start > end {
		return 0, 0, true
	}
	if isBit {
		return start, end, false
	}
	return start << 3, end<<3 | 7, false
}

// parseRangeUnit reads BITCOUNT's and BITPOS's BYTE|BIT argument.
func parseRangeUnit(c *Ctx, arg []byte) (isBit, ok bool) {
	switch {
	case EqualFold(arg, "bit"):
		return true, true
	case EqualFold(arg, "byte"):
		return false, true
	}
	c.Syntax()
	return false, false
}

// popcount counts the set bits from bit first to bit last inclusive.
func popcount(s []byte, first, last int64) int64 {
	fb, lb := first>>3, last>>3
	if fb == lb {
		return int64(bits.OnesCount8(s[fb] & (0xff >> (first & 7)) & (0xff << (7 - last&7))))
	}
	n := bits.OnesCount8(s[fb]&(0xff>>(first&7))) + bits.OnesCount8(s[lb]&(0xff<<(7-last&7)))
	mid := s[fb+1 : lb]
	for len(mid) >= 8 {
		n += bits.OnesCount64(uint64(mid[0]) | uint64(mid[1])<<8 | uint64(mid[2])<<16 | uint64(mid[3])<<24 |
			uint64(mid[4])<<32 | uint64(mid[5])<<40 | uint64(mid[6])<<48 | uint64(mid[7])<<56)
		mid = mid[8:]
	}
	for _, b := range mid {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

func runBitCount(c *Ctx) {
	var start, end int64
	isBit, ranged := false, false
	switch len(c.Args) {
	case 2:
	case 4, 5:
		ranged = true
		var ok bool
		if start, ok = ParseInt(c.Args[2]); !ok {
			c.Err(ErrNotInt)
			return
		}
		if end, ok = ParseInt(c.Args[3]); !ok {
			c.Err(ErrNotInt)
			return
		}
		if len(c.Args) == 5 {
			if isBit, ok = parseRangeUnit(c, c.Args[4]); !ok {
				return
			}
		}
	default:
		c.Syntax()
		return
	}
	e, err := c.peekLoaded(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
		return
	case !e.Exists():
		c.W.Int(0)
		return
	case e.Type != keyspace.TypeString:
		c.WrongType()
		return
	}
	n := int64(len(e.Value))
	if !ranged {
		start, end = 0, n-1
	} else if start < 0 && end < 0 && start > end {
		c.W.Int(0)
		return
	}
	first, last, empty := bitRange(start, end, n, isBit)
	if empty {
		c.W.Int(0)
		return
	}
	c.W.Int(popcount(e.Value, first, last))
}

func runBitPos(c *Ctx) {
	bit, ok := ParseInt(c.Args[2])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	if bit != 0 && bit != 1 {
		c.Err("ERR The bit argument must be 1 or 0.")
		return
	}
	var start, end int64
	isBit, endGiven := false, false
	if len(c.Args) > 6 {
		c.Syntax()
		return
	}
	if len(c.Args) >= 4 {
		if start, ok = ParseInt(c.Args[3]); !ok {
			c.Err(ErrNotInt)
			return
		}
		if len(c.Args) == 6 {
			if isBit, ok = parseRangeUnit(c, c.Args[5]); !ok {
				return
			}
		}
		if len(c.Args) >= 5 {
			if end, ok = ParseInt(c.Args[4]); !ok {
				c.Err(ErrNotInt)
				return
			}
			endGiven = true
		}
	}
	e, err := c.peekLoaded(c.Args[1])
	switch {
	case err != nil:
		c.Fail(err)
		return
	case !e.Exists():
		c.W.Int(-bit) // a missing key is an endless run of zeros
		return
	case e.Type != keyspace.TypeString:
		c.WrongType()
		return
	}
	n := int64(len(e.Value))
	if !endGiven {
		end = n - 1 // the whole string, in either unit: the clamp below makes it the last bit
		if isBit {
			end = n<<3 - 1
		}
	}
	if len(c.Args) == 3 {
		start = 0
	}
	first, last, empty := bitRange(start, end, n, isBit)
	if empty {
		c.W.Int(-1)
		return
	}
	pos := findBit(e.Value, first, last, byte(bit))
	switch {
	case pos >= 0:
		c.W.Int(pos)
	case bit == 1 || endGiven:
		c.W.Int(-1)
	default:
		// Looking for a clear bit with no end given, the string counts as padded with zeros.
		c.W.Int(last + 1)
	}
}

// findBit returns the position of the first bit equal to bit between first and last inclusive,
// or -1.
func findBit(s []byte, first, last int64, bit byte) int64 {
	skip := byte(0)
	if bit == 0 {
		skip = 0xff
	}
	for i := first; i <= last; {
		if i&7 == 0 && i+7 <= last && s[i>>3] == skip {
			i += 8
			continue
		}
		if bitAt(s, i) == bit {
			return i
		}
		i++
	}
	return -1
}
