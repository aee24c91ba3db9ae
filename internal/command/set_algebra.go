package command

import (
	"bytes"
	"sort"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Set algebra. Members come out of every set in byte order, so:
//   - an intersection walks the smallest set and probes the others with forward seeks;
//   - a difference walks the first set and probes the others the same way;
//   - a union merges the sets' iterators, emitting each member once.
//
// Nothing is loaded whole: memory stays constant whatever the sizes, and the *STORE variants
// stream the result into a new version of the destination, which replaces the old one (possibly
// one of the sources, read to the end first) when the result is saved.

func init() {
	Register(
		&Command{Name: "sinter", Run: runSetOp},
		&Command{Name: "sunion", Run: runSetOp},
		&Command{Name: "sdiff", Run: runSetOp},
		&Command{Name: "sinterstore", Run: runSetOpStore},
		&Command{Name: "sunionstore", Run: runSetOpStore},
		&Command{Name: "sdiffstore", Run: runSetOpStore},
		&Command{Name: "sintercard", Run: runSInterCard},
	)
}

type setOp int

const (
	opInter setOp = iota
	opUnion
	opDiff
)

func setOpOf(name string) setOp {
	switch name[1:4] {
	case "int":
		return opInter
	case "uni":
		return opUnion
	}
	return opDiff
}

// openSets opens the sets at keys, checking every type first as Redis does.
func (c *Ctx) openSets(keys [][]byte) ([]keyspace.Set, bool) {
	sets := make([]keyspace.Set, len(keys))
	for i, k := range keys {
		s, ok := c.openSet(k)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// setCursor is an iterator over one set's members, nil-safe for missing sets.
type setCursor struct {
	it *keyspace.ElemIter
	ok bool
}

func (c *Ctx) cursorOf(s *keyspace.Set, key []byte) (*setCursor, error) {
	if !s.Exists() {
		return &setCursor{}, nil
	}
	it, err := c.Tx.Elems(key, s.Version())
	if err != nil {
		return nil, err
	}
	return &setCursor{it: it, ok: it.First()}, nil
}

// has reports whether the set holds m. Calls must come with non-decreasing m: the cursor only
// moves forward, so probing a sorted stream costs one pass over the set at most.
func (sc *setCursor) has(m []byte) bool {
	if sc.it == nil {
		return false
	}
	if sc.ok && bytes.Compare(sc.it.Elem(), m) < 0 {
		sc.ok = sc.it.SeekGE(m)
	}
	return sc.ok && bytes.Equal(sc.it.Elem(), m)
}

func (sc *setCursor) close() error {
	if sc == nil || sc.it == nil {
		return nil
	}
	return sc.it.Close()
}

// setOpRun computes op over the sets at keys, calling emit with each member of the result in
// byte order until emit returns false. Members are valid only during the call.
func (c *Ctx) setOpRun(op setOp, keys [][]byte, sets []keyspace.Set, emit func(m []byte) bool) (err error) {
	order := make([]int, len(sets))
	for i := range order {
		order[i] = i
	}
	if op == opInter {
		for i := range sets {
			if !sets[i].Exists() {
				return nil // intersection with an empty set
			}
		}
		sort.SliceStable(order, func(a, b int) bool { return sets[order[a]].Len() < sets[order[b]].Len() })
	}
	cursors := make([]*setCursor, 0, len(sets))
	defer func() {
		for _, sc := range cursors {
			if cerr := sc.close(); err == nil {
				err = cerr
			}
		}
	}()
	for _, i := range order {
		sc, err := c.cursorOf(&sets[i], keys[i])
		if err != nil {
			return err
		}
		cursors = append(cursors, sc)
	}
	if op == opUnion {
		mergeUnion(cursors, emit)
		return nil
	}
	// Intersection and difference: walk the first cursor, probe the others.
	lead := cursors[0]
	for ; lead.ok; lead.ok = lead.it.Next() {
		m := lead.it.Elem()
		keep := true
		for _, other := range cursors[1:] {
			if other.has(m) != (op == opInter) {
				keep = false
				break
			}
		}
		if keep && !emit(m) {
			break
		}
	}
	return nil
}

// mergeUnion emits the union of sorted cursors, each member once.
func mergeUnion(cursors []*setCursor, emit func(m []byte) bool) {
	var last []byte
	first := true
	for {
		var min *setCursor
		for _, sc := range cursors {
			if sc.it != nil && sc.ok && (min == nil || bytes.Compare(sc.it.Elem(), min.it.Elem()) < 0) {
				min = sc
			}
		}
		if min == nil {
			return
		}
		m := min.it.Elem()
		if first || !bytes.Equal(m, last) {
			if !emit(m) {
				return
			}
			last = append(last[:0], m...)
			first = false
		}
		min.ok = min.it.Next()
	}
}

func runSetOp(c *Ctx) {
	keys := c.Args[1:]
	sets, ok := c.openSets(keys)
	if !ok {
		return
	}
	op := setOpOf(c.Cmd.Name)
	c.buffered(aggSet, func(w *resp.Writer) (int, error) {
		n := 0
		err := c.setOpRun(op, keys, sets, func(m []byte) bool {
			w.Bulk(m)
			n++
			return true
		})
		return n, err
	})
}

func runSetOpStore(c *Ctx) {
	dstKey, keys := c.Args[1], c.Args[2:]
	sets, ok := c.openSets(keys)
	if !ok {
		return
	}
	dst, err := c.Tx.ReplaceSet(dstKey)
	if err != nil {
		c.Fail(err)
		return
	}
	var addErr error
	err = c.setOpRun(setOpOf(c.Cmd.Name[:len(c.Cmd.Name)-5]), keys, sets, func(m []byte) bool {
		addErr = dst.AddNew(m)
		return addErr == nil
	})
	if err == nil {
		err = addErr
	}
	if err != nil {
		c.Fail(err)
		return
	}
	if _, ok := c.save(dstKey, &dst); !ok {
		return
	}
	if n := dst.Len(); n > 0 {
		c.Tx.Notify('s', c.Cmd.Name, dstKey)
	}
	c.W.Int(dst.Len())
}

func runSInterCard(c *Ctx) {
	n, ok := ParseInt(c.Args[1])
	if !ok || n < 1 {
		c.Err("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(c.Args)-2) {
		c.Err("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for i := 2 + int(n); i < len(c.Args); i++ {
		if EqualFold(c.Args[i], "limit") && i+1 < len(c.Args) {
			i++
			l, ok := ParseInt(c.Args[i])
			if !ok || l < 0 {
				c.Err("ERR LIMIT can't be negative")
				return
			}
			limit = l
			continue
		}
		c.Syntax()
		return
	}
	keys := c.Args[2 : 2+n]
	sets, ok := c.openSets(keys)
	if !ok {
		return
	}
	var count int64
	err := c.setOpRun(opInter, keys, sets, func([]byte) bool {
		count++
		return limit == 0 || count < limit
	})
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(count)
}
