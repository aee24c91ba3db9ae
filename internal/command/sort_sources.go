package command

import (
	"errors"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// What SORT needs from the list and hash layouts, which live with their own commands.

var errSortNoLists = errors.New("SORT over lists and SORT STORE need the list type, which this build lacks")

// sortListRange returns the elements of the list e at key with indexes [start, end), in order,
// or from the tail (index len-1-start down to len-end) when reverse.
func (c *Ctx) sortListRange(key []byte, e *keyspace.Entry, start, end int64, reverse bool) ([]sortItem, error) {
	return nil, errSortNoLists
}

// storeList replaces dst with a list of elems, or deletes it when elems is empty, writing the
// error reply and returning false on failure.
func (c *Ctx) storeList(dst []byte, elems [][]byte) bool {
	c.Fail(errSortNoLists)
	return false
}

// sortHashField reads field of the hash e at key.
func (c *Ctx) sortHashField(key []byte, e *keyspace.Entry, field []byte) ([]byte, bool, error) {
	return nil, false, errors.New("SORT by hash fields needs the hash type, which this build lacks")
}
