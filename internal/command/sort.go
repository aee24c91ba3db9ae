package command

import (
	"bytes"
	"errors"
	"sort"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// SORT and SORT_RO over lists, sets and sorted sets. The collection is read whole (sorting needs
// every element), each element's weight is read (the element itself, or the string or hash field
// a BY pattern names), and the sorted range is replied, or stored as a list. BY and GET patterns
// reach keys outside the command's key specs; on a single node that is no different from Redis
// outside cluster mode.

func init() {
	Register(
		&Command{Name: "sort", Run: runSort},
		&Command{Name: "sort_ro", Run: runSort},
	)
}

// sortRequest is a parsed SORT.
type sortRequest struct {
	by          []byte // nil: by the elements themselves
	dontSort    bool   // BY a pattern without '*': keep the native order
	gets        [][]byte
	desc, alpha bool
	offset      int64
	count       int64 // -1: all
	store       []byte
}

func (c *Ctx) parseSort() (sortRequest, bool) {
	r := sortRequest{count: -1}
	readonly := c.Cmd.Name == "sort_ro"
	for j := 2; j < len(c.Args); j++ {
		a, left := c.Args[j], len(c.Args)-j-1
		switch {
		case EqualFold(a, "asc"):
			r.desc = false
		case EqualFold(a, "desc"):
			r.desc = true
		case EqualFold(a, "alpha"):
			r.alpha = true
		case EqualFold(a, "limit") && left >= 2:
			off, ok1 := ParseInt(c.Args[j+1])
			cnt, ok2 := ParseInt(c.Args[j+2])
			if !ok1 || !ok2 {
				c.Err(ErrNotInt)
				return r, false
			}
			r.offset, r.count = off, cnt
			j += 2
		case !readonly && EqualFold(a, "store") && left >= 1:
			r.store = c.Args[j+1]
			j++
		case EqualFold(a, "by") && left >= 1:
			r.by = c.Args[j+1]
			r.dontSort = bytes.IndexByte(r.by, '*') < 0
			j++
		case EqualFold(a, "get") && left >= 1:
			r.gets = append(r.gets, c.Args[j+1])
			j++
		default:
			c.Syntax()
			return r, false
		}
	}
	return r, true
}

// sortItem is one element being sorted and its weight.
type sortItem struct {
	elem  []byte
	score float64
	cmp   []byte // ALPHA BY: the weight; nil when the BY key is missing
	hasBy bool
}

var errSortNotNumber = errors.New("one or more scores can't be converted into double")

func runSort(c *Ctx) {
	r, ok := c.parseSort()
	if !ok {
		return
	}
	key := c.Args[1]
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	switch e.Type {
	case keyspace.TypeNone, keyspace.TypeList, keyspace.TypeSet, keyspace.TypeZSet:
	default:
		c.WrongType()
		return
	}
	if r.dontSort && e.Type == keyspace.TypeSet && r.store != nil {
		// A set has no order of its own; a stored result must not depend on it.
		r.dontSort, r.alpha, r.by = false, true, nil
	}
	items, start, end, err := c.sortItems(key, &e, &r)
	if err == nil && !r.dontSort {
		err = c.sortWeights(items, &r)
	}
	if err == errSortNotNumber {
		c.Err("ERR One or more scores can't be converted into double")
		return
	}
	if err != nil {
		c.Fail(err)
		return
	}
	if !r.dontSort {
		sortByWeight(items, &r)
	}
	if r.store != nil {
		c.sortStore(items[start:end], &r)
		return
	}
	c.sortReply(items[start:end], &r)
}

// sortBounds turns LIMIT into the range [start, end) of n sorted elements, as Redis clamps it.
func sortBounds(offset, count, n int64) (int64, int64) {
	start := min(max(offset, 0), n)
	count = min(max(count, -1), n)
	end := n
	if count >= 0 {
		end = min(start+count, n)
	}
	return start, end
}

// sortItems loads the elements to sort and returns them with the range of them to output. With
// dontSort the native order is kept, and a list or sorted set loads only the range.
func (c *Ctx) sortItems(key []byte, e *keyspace.Entry, r *sortRequest) ([]sortItem, int64, int64, error) {
	var n int64
	if e.Exists() {
		n = e.Count
	}
	start, end := sortBounds(r.offset, r.count, n)
	var items []sortItem
	add := func(m []byte, _ float64) bool {
		items = append(items, sortItem{elem: append([]byte(nil), m...)})
		return true
	}
	var err error
	switch {
	case !e.Exists():
	case e.Type == keyspace.TypeZSet && r.dontSort:
		if start < end {
			err = c.Tx.ZRankRange(e, start, end-1, r.desc, add)
		}
		return items, 0, int64(len(items)), err
	case e.Type == keyspace.TypeList && r.dontSort:
		items, err = c.sortListRange(key, e, start, end, r.desc)
		return items, 0, int64(len(items)), err
	case e.Type == keyspace.TypeList:
		items, err = c.sortListRange(key, e, 0, n, false)
	default: // a set, or a sorted set to sort
		var it *keyspace.ElemIter
		if it, err = c.Tx.Elems(key, e.Version); err == nil {
			for ok := it.First(); ok; ok = it.Next() {
				add(it.Elem(), 0)
			}
			err = it.Close()
		}
	}
	return items, start, end, err
}

// sortWeights reads each element's weight: the element, or what the BY pattern names.
func (c *Ctx) sortWeights(items []sortItem, r *sortRequest) error {
	for i := range items {
		it := &items[i]
		by := it.elem
		if r.by != nil {
			v, found, err := c.sortLookup(r.by, it.elem)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			by = v
		}
		if r.alpha {
			if r.by != nil {
				it.cmp, it.hasBy = by, true
			}
			continue
		}
		f, rangeErr, ok := strtodRange(by)
		if !ok || rangeErr {
			return errSortNotNumber
		}
		it.score = f
	}
	return nil
}

// sortByWeight sorts items as Redis's sortCompare: numbers ascending with ties by element bytes,
// or ALPHA by bytes (of the BY weight when there is one, missing weights first).
func sortByWeight(items []sortItem, r *sortRequest) {
	cmp := func(a, b *sortItem) int {
		switch {
		case !r.alpha:
			switch {
			case a.score > b.score:
				return 1
			case a.score < b.score:
				return -1
			}
			return bytes.Compare(a.elem, b.elem)
		case r.by != nil:
			switch {
			case a.hasBy && b.hasBy:
				return bytes.Compare(a.cmp, b.cmp)
			case a.hasBy:
				return 1
			case b.hasBy:
				return -1
			}
			return 0
		}
		return bytes.Compare(a.elem, b.elem)
	}
	sort.SliceStable(items, func(i, j int) bool {
		c := cmp(&items[i], &items[j])
		if r.desc {
			c = -c
		}
		return c < 0
	})
}

// sortLookup resolves a BY or GET pattern for one element as Redis's lookupKeyByPattern: "#" is
// the element; otherwise the first '*' is replaced by the element and the key read as a string,
// or, with "->field" after the '*', the field read from the hash at the key.
func (c *Ctx) sortLookup(pattern, elem []byte) ([]byte, bool, error) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return elem, true, nil
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false, nil
	}
	keyPat, field := pattern, []byte(nil)
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(pattern) {
		keyPat, field = pattern[:star+1+f], pattern[star+1+f+2:]
	}
	k := make([]byte, 0, len(keyPat)-1+len(elem))
	k = append(append(append(k, keyPat[:star]...), elem...), keyPat[star+1:]...)
	e, err := c.Tx.Lookup(k)
	if err != nil || !e.Exists() {
		return nil, false, err
	}
	if field == nil {
		if e.Type != keyspace.TypeString {
			return nil, false, nil
		}
		if err := c.Tx.LoadValue(&e); err != nil {
			return nil, false, err
		}
		return e.Value, true, nil
	}
	if e.Type != keyspace.TypeHash {
		return nil, false, nil
	}
	return c.sortHashField(k, &e, field)
}

// sortReply replies with the sorted elements, or with what the GET patterns give for each.
func (c *Ctx) sortReply(items []sortItem, r *sortRequest) {
	mark := c.W.Len()
	if len(r.gets) == 0 {
		c.W.Array(len(items))
		for _, it := range items {
			c.W.Bulk(it.elem)
		}
		return
	}
	c.W.Array(len(items) * len(r.gets))
	for _, it := range items {
		for _, g := range r.gets {
			v, found, err := c.sortLookup(g, it.elem)
			switch {
			case err != nil:
				c.W.Truncate(mark)
				c.Fail(err)
				return
			case found:
				c.W.Bulk(v)
			default:
				c.W.Null()
			}
		}
	}
}

// sortStore stores the sorted elements (or their GET values, "" for missing ones) as a list at
// r.store, replacing what was there, and replies with its length.
func (c *Ctx) sortStore(items []sortItem, r *sortRequest) {
	var out [][]byte
	for _, it := range items {
		if len(r.gets) == 0 {
			out = append(out, it.elem)
			continue
		}
		for _, g := range r.gets {
			v, _, err := c.sortLookup(g, it.elem)
			if err != nil {
				c.Fail(err)
				return
			}
			out = append(out, append([]byte{}, v...))
		}
	}
	if !c.storeList(r.store, out) {
		return
	}
	if len(out) > 0 {
		c.Tx.Notify('l', "sortstore", r.store)
	}
	c.W.Int(int64(len(out)))
}
