package command

import (
	"strings"
)

// bitOp is a BITOP operation.
type bitOp int

const (
	bitAnd bitOp = iota
	bitOr
	bitXor
	bitNot
	bitDiff  // the first source and none of the others
	bitDiff1 // one or more of the others and not the first
	bitAndOr // the first source and one or more of the others
	bitOne   // exactly one source
)

var bitOpNames = []string{"and", "or", "xor", "not", "diff", "diff1", "andor", "one"}

// bitopArgs is BITOP's grammar with Redis 8.2's operations, which the reference predates.
func bitopArgs() []Arg {
	ops := make([]Arg, len(bitOpNames))
	for i, name := range bitOpNames {
		ops[i] = Arg{Name: name, Type: "pure-token", Token: strings.ToUpper(name), KeySpecIndex: -1}
	}
	return []Arg{
		{Name: "operation", Type: "oneof", KeySpecIndex: -1, Args: ops},
		{Name: "destkey", Type: "key", KeySpecIndex: 0},
		{Name: "key", Type: "key", Multiple: true, KeySpecIndex: 1},
	}
}

func runBitOp(c *Ctx) {
	op := bitOp(-1)
	for i, name := range bitOpNames {
		if EqualFold(c.Args[1], name) {
			op = bitOp(i)
		}
	}
	switch {
	case op < 0:
		c.Syntax()
		return
	case op == bitNot && len(c.Args) != 4:
		c.Err("ERR BITOP NOT must be called with a single source key.")
		return
	case (op == bitDiff || op == bitDiff1 || op == bitAndOr) && len(c.Args) < 5:
		c.Err("ERR BITOP " + strings.ToUpper(bitOpNames[op]) + " must be called with at least two source keys.")
		return
	}
	srcs := make([][]byte, 0, len(c.Args)-3)
	maxLen := 0
	for _, key := range c.Args[3:] {
		e, ok := c.lookupStringLoaded(key)
		if !ok {
			return
		}
		srcs = append(srcs, e.Value) // nil for a missing key: all zeros
		maxLen = max(maxLen, len(e.Value))
	}
	dest := c.Args[2]
	d, ok := c.lookup(dest)
	if !ok {
		return
	}
	if maxLen == 0 {
		removed, err := c.Tx.Delete(dest, &d)
		if err != nil {
			c.Fail(err)
			return
		}
		if removed {
			c.Tx.Notify('g', "del", dest)
		}
		c.W.Int(0)
		return
	}
	setString(&d, bitOpApply(op, srcs, maxLen), 0, false)
	if !c.put(dest, &d) {
		return
	}
	c.Tx.Notify('$', "set", dest)
	c.W.Int(int64(maxLen))
}

// bitOpApply computes op over srcs, each read as zero-padded to n bytes.
func bitOpApply(op bitOp, srcs [][]byte, n int) []byte {
	res := make([]byte, n)
	first := srcs[0]
	switch op {
	case bitDiff, bitDiff1, bitAndOr:
		// These combine the first source with the union of the others.
		for _, s := range srcs[1:] {
			for j, b := range s {
				res[j] |= b
			}
		}
		for j := range res {
			x := byteAt(first, j)
			switch op {
			case bitDiff:
				res[j] = x &^ res[j]
			case bitDiff1:
				res[j] = ^x & res[j]
			default:
				res[j] = x & res[j]
			}
		}
		return res
	case bitNot:
		for j := range res {
			res[j] = ^byteAt(first, j)
		}
		return res
	}
	copy(res, first)
	var seen []byte // ONE: bits set in more than one source so far
	if op == bitOne {
		seen = make([]byte, n)
	}
	for _, s := range srcs[1:] {
		for j := range res {
			b := byteAt(s, j)
			switch op {
			case bitAnd:
				res[j] &= b
			case bitOr:
				res[j] |= b
			case bitXor:
				res[j] ^= b
			case bitOne:
				seen[j] |= res[j] & b
				res[j] = (res[j] ^ b) &^ seen[j]
			}
		}
	}
	return res
}

func byteAt(s []byte, j int) byte {
	if j < len(s) {
		return s[j]
	}
	return 0
}
