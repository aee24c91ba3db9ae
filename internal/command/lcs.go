package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
)

func init() {
	Register(&Command{Name: "lcs", Run: runLCS})
}

// lcsMatch is one run of IDX's answer: inclusive ranges in the first and second string.
type lcsMatch struct{ aStart, aEnd, bStart, bEnd int64 }

func runLCS(c *Ctx) {
	var vals [2][]byte
	for i := range vals {
		e, ok := c.lookup(c.Args[1+i])
		if !ok {
			return
		}
		if e.Exists() && e.Type != keyspace.TypeString {
			c.Err("ERR The specified keys must contain string values")
			return
		}
		if !c.loadValue(&e) {
			return
		}
		vals[i] = e.Value
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		switch a := c.Args[j]; {
		case EqualFold(a, "idx"):
			getIdx = true
		case EqualFold(a, "len"):
			getLen = true
		case EqualFold(a, "withmatchlen"):
			withMatchLen = true
		case EqualFold(a, "minmatchlen") && j+1 < len(c.Args):
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Syntax()
			return
		}
	}
	if getLen && getIdx {
		c.Err("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	a, b := vals[0], vals[1]
	if len(a) >= math.MaxUint32-1 || len(b) >= math.MaxUint32-1 {
		c.Err("ERR String too long for LCS")
		return
	}
	cells := uint64(len(a)+1) * uint64(len(b)+1)
	if cells*4 > uint64(c.Limits.MaxBulkLen()) {
		c.Err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	t := lcsTable(a, b)
	length := int64(t[len(t)-1])
	if getLen {
		c.W.Int(length)
		return
	}
	seq, matches := lcsWalk(a, b, t, getIdx)
	if !getIdx {
		c.W.Bulk(seq)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	n := 0
	for _, m := range matches {
		if m.aEnd-m.aStart+1 >= minMatchLen {
			n++
		}
	}
	c.W.Array(n)
	for _, m := range matches {
		ml := m.aEnd - m.aStart + 1
		if ml < minMatchLen {
			continue
		}
		if withMatchLen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(m.aStart)
		c.W.Int(m.aEnd)
		c.W.Array(2)
		c.W.Int(m.bStart)
		c.W.Int(m.bEnd)
		if withMatchLen {
			c.W.Int(ml)
		}
	}
	c.W.BulkString("len")
	c.W.Int(length)
}

// lcsTable fills the dynamic-programming table: cell (i, j), at i*(len(b)+1)+j, is the length of
// the LCS of a[:i] and b[:j].
func lcsTable(a, b []byte) []uint32 {
	w := len(b) + 1
	t := make([]uint32, (len(a)+1)*w)
	for i := 1; i <= len(a); i++ {
		row, prev := t[i*w:(i+1)*w], t[(i-1)*w:i*w]
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				row[j] = prev[j-1] + 1
			case prev[j] > row[j-1]:
				row[j] = prev[j]
			default:
				row[j] = row[j-1]
			}
		}
	}
	return t
}

// lcsWalk walks the table back from the end as Redis does, returning the common subsequence and,
// with idx, its runs from last to first (Redis's order, and its choice among equal LCSs).
func lcsWalk(a, b []byte, t []uint32, idx bool) ([]byte, []lcsMatch) {
	w := len(b) + 1
	n := t[len(t)-1]
	seq := make([]byte, n)
	var matches []lcsMatch
	const none = -1
	cur := lcsMatch{aStart: none}
	i, j := len(a), len(b)
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			seq[n-1] = a[i-1]
			n--
			switch {
			case cur.aStart == none:
				cur = lcsMatch{aStart: int64(i - 1), aEnd: int64(i - 1), bStart: int64(j - 1), bEnd: int64(j - 1)}
			case cur.aStart == int64(i) && cur.bStart == int64(j):
				cur.aStart--
				cur.bStart--
			default:
				emit = true
			}
			if cur.aStart == 0 || cur.bStart == 0 {
				emit = true
			}
			i--
			j--
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			emit = cur.aStart != none
		}
		if emit {
			if idx {
				matches = append(matches, cur)
			}
			cur.aStart = none
		}
	}
	return seq, matches
}
