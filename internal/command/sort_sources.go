package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
)

// What SORT needs from the list and hash layouts, which live with their own commands.

// sortListRange returns the elements of the list e at key with indexes [start, end), in order,
// or from the tail (index len-1-start down to len-end) when reverse.
func (c *Ctx) sortListRange(key []byte, e *keyspace.Entry, start, end int64, reverse bool) ([]sortItem, error) {
	if start >= end {
		return nil, nil
	}
	from, to := start, end-1
	if reverse {
		from, to = e.Count-end, e.Count-1-start
	}
	items := make([]sortItem, 0, end-start)
	err := c.Tx.ListRange(e, from, to, reverse, func(_ int64, v []byte) bool {
		items = append(items, sortItem{elem: append([]byte(nil), v...)})
		return true
	})
	return items, err
}

// storeList replaces dst with a list of elems, or deletes it when elems is empty (sending the
// del event then, as Redis does), writing the error reply and returning false on failure.
func (c *Ctx) storeList(dst []byte, elems [][]byte) bool {
	deleted, err := c.Tx.StoreList(dst, elems)
	if err != nil {
		c.Fail(err)
		return false
	}
	if deleted {
		c.Tx.Notify('g', "del", dst)
	}
	return true
}

// sortHashField reads field of the hash at key (a field that expired reads as missing).
func (c *Ctx) sortHashField(key []byte, _ *keyspace.Entry, field []byte) ([]byte, bool, error) {
	h, err := c.Tx.OpenHash(key)
	if err != nil || !h.Exists() {
		return nil, false, err
	}
	v, _, ok, err := h.Get(field)
	if err != nil || !ok {
		return nil, false, err
	}
	return append([]byte(nil), v...), true, nil
}
