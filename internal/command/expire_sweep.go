package command

import (
	"encoding/binary"
)

// The expiry sweeper's operation: remove keys whose time has passed. It goes through the log like
// any write, so every replica removes the same keys at the same point.
//
//	__expire physical-db key expire-at(8 bytes)

// SweepName is the internal command the sweeper proposes.
const SweepName = "__expire"

func init() {
	Register(&Command{Name: SweepName, Arity: 4, Flags: FlagWrite | FlagInternal, Run: runSweep})
	Register(&Command{Name: FieldSweepName, Arity: 4, Flags: FlagWrite | FlagInternal, Run: runFieldSweep})
}

// SweepArgs builds the arguments of one sweep entry.
func SweepArgs(db byte, key []byte, at int64) [][]byte {
	return [][]byte{[]byte(SweepName), {db}, key, binary.BigEndian.AppendUint64(nil, uint64(at))}
}

func runSweep(c *Ctx) {
	if len(c.Args[1]) != 1 || len(c.Args[3]) != 8 {
		c.Syntax()
		return
	}
	c.Tx.SetDB(c.Args[1][0])
	removed, err := c.Tx.Expire(c.Args[2])
	if err == nil && !removed {
		err = c.Tx.DropStaleExpireEntry(int64(binary.BigEndian.Uint64(c.Args[3])), c.Args[2])
	}
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(b2i(removed))
}

// The field sweeper's operation: remove a hash's expired fields (at most fieldSweepLimit per
// entry; the hash stays in the field expiry index while more are due).
//
//	__hexpire physical-db key expire-at(8 bytes)

// FieldSweepName is the internal command the field sweeper proposes.
const FieldSweepName = "__hexpire"

const fieldSweepLimit = 1024

// FieldSweepArgs builds the arguments of one field sweep entry.
func FieldSweepArgs(db byte, key []byte, at int64) [][]byte {
	return [][]byte{[]byte(FieldSweepName), {db}, key, binary.BigEndian.AppendUint64(nil, uint64(at))}
}

func runFieldSweep(c *Ctx) {
	if len(c.Args[1]) != 1 || len(c.Args[3]) != 8 {
		c.Syntax()
		return
	}
	c.Tx.SetDB(c.Args[1][0])
	removed, _, err := c.Tx.ExpireFields(c.Args[2], fieldSweepLimit)
	if err == nil && removed == 0 {
		err = c.Tx.DropStaleFieldExpireEntry(int64(binary.BigEndian.Uint64(c.Args[3])), c.Args[2])
	}
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(int64(removed))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
