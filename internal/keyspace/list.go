package keyspace

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Lists.
//
// Element i of a list (0 is the head) is the record E db version pos with pos = head+i, a
// big-endian uint64. A list is contiguous in positions, so
//
//   - LPUSH/RPUSH/LPOP/RPOP write or read and delete one record at head-1 or head+count and move
//     head or count: O(1) whatever the length;
//   - LINDEX/LSET compute the position and do one point read or write: O(1);
//   - LRANGE is one bounded scan from head+start: O(start-free, length of the range);
//   - LTRIM only ever drops the ends, deleting the dropped records and moving head;
//   - LINSERT and LREM change the middle, so the elements on one side of the change shift by
//     one position each: O(n) as in Redis, but always the shorter side.
//
// The head starts in the middle of the uint64 range, so 2^63 pushes at either end fit.
//
// Meta.Extra is head (8 bytes) | listpack size (8) | flags (1); see listpack.go for the size.

const (
	listHeadStart = 1 << 63
	listExtraLen  = 17
	listQuicklist = 1 << 0
	// listPointOps is how many records a multi-element removal deletes one by one before it
	// uses a range deletion: range tombstones are cheap to write but each one costs reads until
	// compaction drops it, so the common small trims (LPUSH + LTRIM 0 99) stay point deletions.
	listPointOps = 64
)

// listState is a list's Extra, decoded.
type listState struct {
	head    uint64 // position of element 0
	lpBytes uint64 // size the list would have as a listpack, or listBytesUnknown
	quick   bool   // Redis would hold it as a quicklist
}

func decodeListState(m *Meta) (listState, error) {
	if m.Type != TypeList || len(m.Extra) < listExtraLen {
		return listState{}, errCorrupt
	}
	return listState{
		head:    binary.BigEndian.Uint64(m.Extra),
		lpBytes: binary.BigEndian.Uint64(m.Extra[8:]),
		quick:   m.Extra[16]&listQuicklist != 0,
	}, nil
}

// encode stores s in e.Extra, reusing its memory (a looked-up entry owns it).
func (s *listState) encode(e *Entry) {
	if cap(e.Extra) < listExtraLen {
		e.Extra = make([]byte, listExtraLen)
	}
	e.Extra = e.Extra[:listExtraLen]
	binary.BigEndian.PutUint64(e.Extra, s.head)
	binary.BigEndian.PutUint64(e.Extra[8:], s.lpBytes)
	e.Extra[16] = 0
	if s.quick {
		e.Extra[16] = listQuicklist
	}
}

// ListEncoding is what OBJECT ENCODING answers for a list: "listpack" or "quicklist".
func ListEncoding(m *Meta) string {
	if st, err := decodeListState(m); err == nil && st.quick {
		return "quicklist"
	}
	return "listpack"
}

// listKey returns the record key of position pos of e, in a buffer reused by the next call.
func (tx *Tx) listKey(e *Entry, pos uint64) []byte {
	tx.ekey = binary.BigEndian.AppendUint64(ElemPrefix(tx.ekey[:0], tx.db, e.Version), pos)
	return tx.ekey
}

// listBound returns a record key of its own, for iterator bounds.
func (tx *Tx) listBound(e *Entry, pos uint64) []byte {
	return binary.BigEndian.AppendUint64(ElemPrefix(make([]byte, 0, 18), tx.db, e.Version), pos)
}

// putList writes e back with its state.
func (tx *Tx) putList(key []byte, e *Entry, st *listState) error {
	st.encode(e)
	return tx.Put(key, e)
}

// ListPush pushes values, one after the other, at the head (left) or the tail of the list at
// key; e is the key's entry from Lookup, and when it holds nothing a new list is created.
// Afterwards e describes the list.
func (tx *Tx) ListPush(key []byte, e *Entry, left bool, values ...[]byte) error {
	var st listState
	if e.Exists() {
		var err error
		if st, err = decodeListState(&e.Meta); err != nil {
			return err
		}
	} else {
		e.Type, e.Version, e.Count, e.ExpireAt, e.Value = TypeList, tx.NewVersion(key), 0, 0, nil
		st = listState{head: listHeadStart, lpBytes: listpackEmpty}
	}
	var raw uint64
	for _, v := range values {
		raw += uint64(len(v))
	}
	st.grow(raw)
	for _, v := range values {
		pos := st.head + uint64(e.Count)
		if left {
			st.head--
			pos = st.head
		}
		if err := tx.setElemKey(tx.listKey(e, pos), v); err != nil {
			return err
		}
		e.Count++
		st.added(v)
	}
	return tx.putList(key, e, &st)
}

// ListPop removes up to n elements from the head (left) or the tail of the list e at key,
// calling fn with each in the order popped (the value is valid only during the call). A list
// emptied is deleted (e then holds nothing). It returns the number popped.
func (tx *Tx) ListPop(key []byte, e *Entry, left bool, n int64, fn func(value []byte)) (int64, error) {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return 0, err
	}
	n = min(n, e.Count)
	if n <= 0 {
		return 0, nil
	}
	from, to := int64(0), n-1 // the indexes removed
	if !left {
		from, to = e.Count-n, e.Count-1
	}
	if n == 1 {
		err = tx.listGet(e, st.head+uint64(from), func(v []byte) {
			fn(v)
			st.removed(v)
		})
	} else {
		err = tx.listScan(e, &st, from, to, !left, func(_ int64, v []byte) bool {
			fn(v)
			st.removed(v)
			return true
		})
	}
	if err != nil {
		return 0, err
	}
	if n == e.Count {
		_, err := tx.Delete(key, e)
		return n, err
	}
	if err := tx.listDelete(e, st.head+uint64(from), st.head+uint64(to)+1); err != nil {
		return 0, err
	}
	if left {
		st.head += uint64(n)
	}
	e.Count -= n
	if err := tx.listShrunk(e, &st); err != nil {
		return 0, err
	}
	return n, tx.putList(key, e, &st)
}

// ListRotate moves the element at one end of the list e at key to the other end (LMOVE and
// RPOPLPUSH with the same source and destination), calling fn with it. Popping and pushing at
// the same end, or rotating a single element, changes nothing but still counts as a
// modification, as in Redis.
func (tx *Tx) ListRotate(key []byte, e *Entry, fromLeft, toLeft bool, fn func(value []byte)) error {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return err
	}
	from := st.head
	if !fromLeft {
		from = st.head + uint64(e.Count) - 1
	}
	if fromLeft == toLeft || e.Count == 1 {
		if err := tx.listGet(e, from, fn); err != nil {
			return err
		}
		tx.Touch(key)
		return nil
	}
	var moved []byte
	if err := tx.listGet(e, from, func(v []byte) {
		fn(v)
		moved = append(moved, v...)
	}); err != nil {
		return err
	}
	if err := tx.delElemKey(tx.listKey(e, from)); err != nil {
		return err
	}
	to := st.head + uint64(e.Count) // the tail end, after the head moved up by one
	if fromLeft {
		st.head++
	} else {
		st.head--
		to = st.head
	}
	if err := tx.setElemKey(tx.listKey(e, to), moved); err != nil {
		return err
	}
	return tx.putList(key, e, &st)
}

// ListGet calls fn with element i (0 <= i < e.Count) of the list e, valid only during the call.
// e may come from Peek.
func (tx *Tx) ListGet(e *Entry, i int64, fn func(value []byte)) error {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return err
	}
	return tx.listGet(e, st.head+uint64(i), fn)
}

// listGet reads the element at pos, which must exist, and passes it to fn.
func (tx *Tx) listGet(e *Entry, pos uint64, fn func([]byte)) error {
	v, found, closer, err := tx.elemRecord(tx.listKey(e, pos))
	if err != nil {
		return err
	}
	if !found {
		return errCorrupt
	}
	fn(v)
	if closer != nil {
		return closer.Close()
	}
	return nil
}

// ListSet replaces element i (0 <= i < e.Count) of the list e at key.
func (tx *Tx) ListSet(key []byte, e *Entry, i int64, value []byte) error {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return err
	}
	pos := st.head + uint64(i)
	st.grow(uint64(len(value)))
	if st.lpBytes != listBytesUnknown {
		if err := tx.listGet(e, pos, st.removed); err != nil {
			return err
		}
		st.added(value)
	}
	if err := tx.setElemKey(tx.listKey(e, pos), value); err != nil {
		return err
	}
	if err := tx.listShrunk(e, &st); err != nil {
		return err
	}
	return tx.putList(key, e, &st)
}

// ListRange calls fn with the index and value of the elements from index from to index to
// (0 <= from <= to < e.Count), head to tail, or tail to head when reverse, until fn returns
// false. Values are valid only during the call. e may come from Peek.
func (tx *Tx) ListRange(e *Entry, from, to int64, reverse bool, fn func(i int64, value []byte) bool) error {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return err
	}
	return tx.listScan(e, &st, from, to, reverse, fn)
}

// listScan is ListRange over a decoded state.
func (tx *Tx) listScan(e *Entry, st *listState, from, to int64, reverse bool, fn func(i int64, value []byte) bool) error {
	if from > to {
		return nil
	}
	it, err := tx.r.NewIter(&pebble.IterOptions{
		LowerBound: tx.listBound(e, st.head+uint64(from)),
		UpperBound: tx.listBound(e, st.head+uint64(to)+1),
	})
	if err != nil {
		return err
	}
	i, step, ok := from, int64(1), it.First()
	if reverse {
		i, step, ok = to, -1, it.Last()
	}
	for ; ok; ok = stepIter(it, reverse) {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if !fn(i, v) {
			break
		}
		i += step
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}

func stepIter(it *pebble.Iterator, reverse bool) bool {
	if reverse {
		return it.Prev()
	}
	return it.Next()
}

// listDelete deletes the records at positions [lo, hi). A range deletion leaves cache entries
// of the positions behind (elemRecord): harmless, since a position is read only while inside
// the list, and every write that brings one back in (a push, LINSERT's shift) is recorded.
func (tx *Tx) listDelete(e *Entry, lo, hi uint64) error {
	if hi-lo > listPointOps {
		return tx.w.DeleteRange(tx.listBound(e, lo), tx.listBound(e, hi), nil)
	}
	for p := lo; p < hi; p++ {
		if err := tx.delElemKey(tx.listKey(e, p)); err != nil {
			return err
		}
	}
	return nil
}

// listShrunk applies Redis's check after elements were removed: a quicklist whose listpack
// would fit in half the limit becomes a listpack again. A size that was not tracked is measured
// first, which reads at most listpackShrinkMaxCount elements.
func (tx *Tx) listShrunk(e *Entry, st *listState) error {
	if !st.quick || e.Count > listpackShrinkMaxCount {
		return nil
	}
	if st.lpBytes == listBytesUnknown {
		size := uint64(listpackEmpty)
		err := tx.listScan(e, st, 0, e.Count-1, false, func(_ int64, v []byte) bool {
			size += listpackEntrySize(v)
			return true
		})
		if err != nil {
			return err
		}
		st.lpBytes = size
	}
	if st.lpBytes <= listpackShrinkLimit {
		st.quick = false
	}
	return nil
}

// ListValues returns every element of the list e, head first, each in memory of its own. For
// SORT, which must see the whole list anyway.
func (tx *Tx) ListValues(e *Entry) ([][]byte, error) {
	out := make([][]byte, 0, e.Count)
	err := tx.ListRange(e, 0, e.Count-1, false, func(_ int64, v []byte) bool {
		out = append(out, append([]byte(nil), v...))
		return true
	})
	return out, err
}

// StoreList replaces whatever key holds (of any type, with any expiry) by a list of values, in
// order, for SORT ... STORE. With no values the key is deleted instead; deleted reports whether
// a live key was. The caller sends the keyspace events ("sortstore", or "del" when deleted).
func (tx *Tx) StoreList(key []byte, values [][]byte) (deleted bool, err error) {
	e, err := tx.Lookup(key)
	if err != nil {
		return false, err
	}
	if len(values) == 0 {
		return tx.Delete(key, &e)
	}
	e.Type, e.Version, e.Count, e.ExpireAt, e.Value = TypeList, tx.NewVersion(key), 0, 0, nil
	st := listState{head: listHeadStart, lpBytes: listpackEmpty}
	for _, v := range values {
		if err := tx.setElemKey(tx.listKey(&e, st.head+uint64(e.Count)), v); err != nil {
			return false, err
		}
		e.Count++
		st.added(v)
	}
	// SORT builds a quicklist and then converts it if it fits one listpack (LIST_CONV_AUTO).
	st.quick = st.lpBytes > listpackLimit
	return false, tx.putList(key, &e, &st)
}
