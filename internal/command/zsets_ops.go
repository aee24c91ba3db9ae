package command

import (
	"bytes"
	"math"
	"sort"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD. Inputs may be sorted sets or sets (a
// set member scores 1). Intersections and differences walk one input and look members up in the
// others with point reads; a union walks them all. The result is built in memory, as Redis
// builds it, before it is replied or stored.

func init() {
	Register(
		&Command{Name: "zunion", Run: runZSetOp},
		&Command{Name: "zinter", Run: runZSetOp},
		&Command{Name: "zdiff", Run: runZSetOp},
		&Command{Name: "zintercard", Run: runZSetOp},
		&Command{Name: "zunionstore", Run: runZSetOp},
		&Command{Name: "zinterstore", Run: runZSetOp},
		&Command{Name: "zdiffstore", Run: runZSetOp},
	)
}

type zsetOp int

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

type zaggregate int

const (
	zaggSum zaggregate = iota
	zaggMin
	zaggMax
)

// zsource is one input of a set operation.
type zsource struct {
	key    []byte
	e      keyspace.Entry // Type is TypeNone for a missing key
	weight float64
}

func (s *zsource) size() int64 {
	if !s.e.Exists() {
		return 0
	}
	return s.e.Count
}

// zsetOpRequest is a parsed set-operation command.
type zsetOpRequest struct {
	op         zsetOp
	dst        []byte // nil unless a STORE form
	cardOnly   bool   // ZINTERCARD
	srcs       []zsource
	agg        zaggregate
	withScores bool
	limit      int64 // ZINTERCARD's LIMIT; 0 is none
}

func runZSetOp(c *Ctx) {
	var r zsetOpRequest
	numIdx := 1
	switch c.Cmd.Name {
	case "zunionstore", "zinterstore", "zdiffstore":
		r.dst, numIdx = c.Args[1], 2
	}
	switch c.Cmd.Name {
	case "zinter", "zinterstore":
		r.op = zopInter
	case "zintercard":
		r.op, r.cardOnly = zopInter, true
	case "zdiff", "zdiffstore":
		r.op = zopDiff
	}
	if !c.parseZSetOp(&r, numIdx) {
		return
	}
	var out []zentry
	var err error
	switch r.op {
	case zopUnion:
		out, err = c.zunion(&r)
	case zopInter:
		var n int64
		out, n, err = c.zinter(&r)
		if err == nil && r.cardOnly {
			c.W.Int(n)
			return
		}
	case zopDiff:
		out, err = c.zdiff(&r)
	}
	if err != nil {
		c.Fail(err)
		return
	}
	if r.dst != nil {
		event := [...]string{zopUnion: "zunionstore", zopInter: "zinterstore", zopDiff: "zdiffstore"}[r.op]
		c.zstore(r.dst, out, event)
		return
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return bytes.Compare(out[i].member, out[j].member) < 0
	})
	c.zreplyEntries(out, r.withScores)
}

// parseZSetOp reads numkeys, looks the inputs up (WRONGTYPE before any option is parsed, as
// Redis does) and parses the options.
func (c *Ctx) parseZSetOp(r *zsetOpRequest, numIdx int) bool {
	n, ok := ParseInt(c.Args[numIdx])
	if !ok {
		c.Err(ErrNotInt)
		return false
	}
	if n < 1 {
		c.Err("ERR at least 1 input key is needed for '" + c.Cmd.Name + "' command")
		return false
	}
	if n > int64(len(c.Args)-numIdx-1) {
		c.Syntax()
		return false
	}
	r.srcs = make([]zsource, n)
	for i := range r.srcs {
		key := c.Args[numIdx+1+i]
		e, ok := c.lookup(key)
		if !ok {
			return false
		}
		if e.Exists() && e.Type != keyspace.TypeZSet && e.Type != keyspace.TypeSet {
			c.WrongType()
			return false
		}
		r.srcs[i] = zsource{key: key, e: e, weight: 1}
	}
	args := c.Args[numIdx+1+int(n):]
	for j := 0; j < len(args); j++ {
		left := len(args) - j
		switch a := args[j]; {
		case r.op != zopDiff && !r.cardOnly && left >= len(r.srcs)+1 && EqualFold(a, "weights"):
			for i := range r.srcs {
				j++
				w, ok := ParseFloat(args[j])
				if !ok {
					c.Err("ERR weight value is not a float")
					return false
				}
				r.srcs[i].weight = w
			}
		case r.op != zopDiff && !r.cardOnly && left >= 2 && EqualFold(a, "aggregate"):
			j++
			switch b := args[j]; {
			case EqualFold(b, "sum"):
				r.agg = zaggSum
			case EqualFold(b, "min"):
				r.agg = zaggMin
			case EqualFold(b, "max"):
				r.agg = zaggMax
			default:
				c.Syntax()
				return false
			}
		case r.dst == nil && !r.cardOnly && EqualFold(a, "withscores"):
			r.withScores = true
		case r.cardOnly && left >= 2 && EqualFold(a, "limit"):
			j++
			l, ok := ParseInt(args[j])
			if !ok || l < 0 {
				c.Err("ERR LIMIT can't be negative")
				return false
			}
			r.limit = l
		default:
			c.Syntax()
			return false
		}
	}
	return true
}

// aggregate folds v into *target as AGGREGATE says; a sum of +inf and -inf is 0, as in Redis.
func (a zaggregate) aggregate(target *float64, v float64) {
	switch a {
	case zaggSum:
		*target += v
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		if v < *target {
			*target = v
		}
	case zaggMax:
		if v > *target {
			*target = v
		}
	}
}

// zweighted is weight × score, with NaN (0 × ±inf) read as 0.
func zweighted(w, s float64) float64 {
	v := w * s
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// zwalk visits every member of the input s with its score (1 for a set member). Sorted sets are
// walked from the highest score down, as Redis walks them.
func (c *Ctx) zwalk(s *zsource, fn keyspace.ZVisitor) error {
	if !s.e.Exists() {
		return nil
	}
	if s.e.Type == keyspace.TypeZSet {
		r := keyspace.ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}
		return c.Tx.ZScoreRange(&s.e, &r, true, fn)
	}
	it, err := c.Tx.Elems(s.key, s.e.Version)
	if err != nil {
		return err
	}
	for ok := it.First(); ok && fn(it.Elem(), 1); ok = it.Next() {
	}
	return it.Close()
}

// zfind looks member up in the input s: its score, or 1 in a set.
func (c *Ctx) zfind(s *zsource, member []byte) (float64, bool, error) {
	if !s.e.Exists() {
		return 0, false, nil
	}
	if s.e.Type == keyspace.TypeZSet {
		return c.Tx.ZScore(&s.e, member)
	}
	_, found, err := c.Tx.GetElem(nil, s.key, s.e.Version, member)
	return 1, found, err
}

// zsameInput reports whether two inputs are the same collection.
func zsameInput(a, b *zsource) bool {
	return a.e.Exists() && b.e.Exists() && a.e.Version == b.e.Version && a.e.Type == b.e.Type
}

// zbySize orders the inputs by cardinality, smallest first, as Redis does before a union or an
// intersection.
func zbySize(srcs []zsource) {
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].size() < srcs[j].size() })
}

func (c *Ctx) zunion(r *zsetOpRequest) ([]zentry, error) {
	zbySize(r.srcs)
	index := map[string]int{}
	var out []zentry
	for i := range r.srcs {
		s := &r.srcs[i]
		err := c.zwalk(s, func(m []byte, sc float64) bool {
			v := zweighted(s.weight, sc)
			if at, ok := index[string(m)]; ok {
				r.agg.aggregate(&out[at].score, v)
				return true
			}
			index[string(m)] = len(out)
			out = append(out, zentry{append([]byte(nil), m...), v})
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// zinter returns the intersection, or with cardOnly its size alone (stopping at the limit).
func (c *Ctx) zinter(r *zsetOpRequest) ([]zentry, int64, error) {
	zbySize(r.srcs)
	first := &r.srcs[0]
	var out []zentry
	var n int64
	var ferr error
	err := c.zwalk(first, func(m []byte, sc float64) bool {
		score := zweighted(first.weight, sc)
		for j := 1; j < len(r.srcs); j++ {
			s := &r.srcs[j]
			v := sc
			if !zsameInput(s, first) {
				var found bool
				if v, found, ferr = c.zfind(s, m); ferr != nil {
					return false
				} else if !found {
					return true
				}
			}
			r.agg.aggregate(&score, v*s.weight)
		}
		n++
		if r.cardOnly {
			return r.limit == 0 || n < r.limit
		}
		out = append(out, zentry{append([]byte(nil), m...), score})
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, n, err
}

func (c *Ctx) zdiff(r *zsetOpRequest) ([]zentry, error) {
	first := &r.srcs[0]
	for j := 1; j < len(r.srcs); j++ {
		if zsameInput(&r.srcs[j], first) {
			return nil, nil
		}
	}
	var out []zentry
	var ferr error
	err := c.zwalk(first, func(m []byte, sc float64) bool {
		for j := 1; j < len(r.srcs); j++ {
			var found bool
			if _, found, ferr = c.zfind(&r.srcs[j], m); ferr != nil {
				return false
			} else if found {
				return true
			}
		}
		out = append(out, zentry{append([]byte(nil), m...), sc})
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, err
}
