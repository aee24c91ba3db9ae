package keyspace

import (
	"bytes"
	"encoding/binary"
)

// Pop bounds of a sorted set.
//
// ZPOPMIN deletes the first score record, and in an LSM tree a deleted record stays behind as a
// tombstone until compaction reaches it: every later walk from the start of the score order
// steps over all of them, so popping a set empty would cost O(n²). Instead a pop records how far
// it got — the popped record's suffix (score and member) as the set's floor, or its ceiling for
// ZPOPMAX — and every iterator over the score order starts inside [floor, ceiling], past the
// tombstones.
//
// Invariant: no live score record lies below the floor or above the ceiling. Only pops set them;
// ZPut, the one writer of score records, drops both when it writes a record outside them, and a
// sorted set whose Extra has no bounds (new, or rewritten by the command layer) is open at both
// ends. A bound is truncated to boundMax bytes: a prefix of the popped suffix is still at or
// below every live record (floor), and the keys starting with it still cover every live record
// below the popped one (ceiling, used as an exclusive PrefixEnd).
//
// The bounds live in the sorted set's Meta.Extra after the first byte, which belongs to the
// command layer except for the zsetBounds bit:
//
//	flags(1) [floorLen(uvarint) floor ceilLen(uvarint) ceil]   (the bracket when zsetBounds is set)

const (
	zsetBounds = 1 << 7
	boundMax   = 64
)

type zbounds struct {
	floor, ceil []byte // score-record suffixes; nil is open
}

// ZHasBounds reports whether the sorted set e has pop bounds. ZPut may drop them, and then e
// must be written even if nothing else of it changed.
func ZHasBounds(e *Entry) bool { return len(e.Extra) > 0 && e.Extra[0]&zsetBounds != 0 }

// zsetBoundsOf decodes e's bounds. Anything malformed reads as open, which is always safe.
func zsetBoundsOf(e *Entry) zbounds {
	x := e.Extra
	if len(x) == 0 || x[0]&zsetBounds == 0 {
		return zbounds{}
	}
	var b zbounds
	rest := x[1:]
	for _, dst := range []*[]byte{&b.floor, &b.ceil} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return zbounds{}
		}
		if n > 0 {
			*dst = rest[k : k+int(n)]
		}
		rest = rest[k+int(n):]
	}
	return b
}

// setZsetBounds writes b into a fresh copy of e's Extra, keeping the command layer's flags.
func setZsetBounds(e *Entry, b zbounds) {
	var flags byte
	if len(e.Extra) > 0 {
		flags = e.Extra[0] &^ zsetBounds
	}
	if b.floor == nil && b.ceil == nil {
		if flags == 0 {
			e.Extra = nil
		} else {
			e.Extra = []byte{flags}
		}
		return
	}
	x := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(b.floor)+len(b.ceil))
	x = append(x, flags|zsetBounds)
	x = binary.AppendUvarint(x, uint64(len(b.floor)))
	x = append(x, b.floor...)
	x = binary.AppendUvarint(x, uint64(len(b.ceil)))
	e.Extra = append(x, b.ceil...)
}

// inside reports whether the score-record suffix s is within b.
func (b zbounds) inside(s []byte) bool {
	if b.floor != nil && bytes.Compare(s, b.floor) < 0 {
		return false
	}
	return b.ceil == nil || bytes.Compare(s, PrefixEnd(b.ceil)) < 0
}

// ZPopped records that the sorted set e's score records up to (max false) or from (max true)
// the popped suffix are gone, so the next walk of the score order starts past them. The caller
// writes e afterwards.
func ZPopped(e *Entry, popped []byte, max bool) {
	b := zsetBoundsOf(e) // aliases e.Extra, which setZsetBounds copies before replacing
	bound := popped[:min(len(popped), boundMax)]
	if max {
		b.ceil = bound
	} else {
		b.floor = bound
	}
	setZsetBounds(e, b)
}

// zorderBounds are the iterator bounds of e's score order: the whole Z space of its version,
// narrowed by its pop bounds.
func (tx *Tx) zorderBounds(e *Entry) (prefix, lower, upper []byte) {
	prefix = ScorePrefix(nil, tx.db, e.Version)
	b := zsetBoundsOf(e)
	lower = append(prefix[:len(prefix):len(prefix)], b.floor...)
	if b.ceil != nil {
		upper = PrefixEnd(append(prefix[:len(prefix):len(prefix)], b.ceil...))
	} else {
		upper = PrefixEnd(prefix)
	}
	return prefix, lower, upper
}
