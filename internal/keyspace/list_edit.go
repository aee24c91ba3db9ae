package keyspace

import (
	"bytes"
	"slices"
)

// Changes in the middle of a list. Positions are contiguous (list.go), so inserting or removing
// inside the list moves the elements on one side of the change; these pick the side with fewer
// elements to move, which makes a change near either end cheap. They are O(n) in the worst
// case, as LINSERT and LREM are in Redis. Each element is moved with the iterator that reads it
// in the direction away from where it is written, so a write never lands on a position still to
// be read.

// ListInsert inserts value before (or after) the first element, from the head, equal to pivot
// in the list e at key. It reports whether pivot was found.
func (tx *Tx) ListInsert(key []byte, e *Entry, pivot, value []byte, after bool) (bool, error) {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return false, err
	}
	idx := int64(-1)
	err = tx.listScan(e, &st, 0, e.Count-1, false, func(i int64, v []byte) bool {
		if bytes.Equal(v, pivot) {
			idx = i
			return false
		}
		return true
	})
	if err != nil || idx < 0 {
		return false, err
	}
	if after {
		idx++
	}
	st.grow(uint64(len(value)))
	// The new element becomes index idx.
	if idx <= e.Count-idx {
		if err := tx.listShift(e, &st, 0, idx, -1); err != nil {
			return false, err
		}
		st.head--
	} else if err := tx.listShift(e, &st, idx, e.Count, 1); err != nil {
		return false, err
	}
	if err := tx.setElemKey(tx.listKey(e, st.head+uint64(idx)), value); err != nil {
		return false, err
	}
	e.Count++
	st.added(value)
	return true, tx.putList(key, e, &st)
}

// listShift moves the elements of indexes [from, to) by delta positions (-1 or 1), leaving the
// position they vacate to the caller.
func (tx *Tx) listShift(e *Entry, st *listState, from, to, delta int64) error {
	var werr error
	err := tx.listScan(e, st, from, to-1, delta > 0, func(i int64, v []byte) bool {
		werr = tx.setElemKey(tx.listKey(e, st.head+uint64(i+delta)), v)
		return werr == nil
	})
	if err != nil {
		return err
	}
	return werr
}

// ListRemove removes the elements equal to value from the list e at key: the first count from
// the head when count > 0, the last -count from the tail when count < 0, all when count is 0.
// A list emptied is deleted. It returns the number removed.
func (tx *Tx) ListRemove(key []byte, e *Entry, count int64, value []byte) (int64, error) {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return 0, err
	}
	reverse, limit := count < 0, count
	if reverse {
		limit = -count
	}
	// First find them, so the gaps can be closed from whichever side moves fewer elements.
	var idx []int64
	err = tx.listScan(e, &st, 0, e.Count-1, reverse, func(i int64, v []byte) bool {
		if bytes.Equal(v, value) {
			idx = append(idx, i)
			return limit == 0 || int64(len(idx)) < limit
		}
		return true
	})
	k := int64(len(idx))
	if err != nil || k == 0 {
		return 0, err
	}
	if k == e.Count {
		_, err := tx.Delete(key, e)
		return k, err
	}
	if reverse {
		slices.Reverse(idx)
	}
	if err := tx.listCloseGaps(e, &st, idx); err != nil {
		return 0, err
	}
	e.Count -= k
	if st.lpBytes != listBytesUnknown {
		st.lpBytes -= uint64(k) * listpackEntrySize(value)
	}
	if err := tx.listShrunk(e, &st); err != nil {
		return 0, err
	}
	return k, tx.putList(key, e, &st)
}

// listCloseGaps removes the elements at the ascending indexes idx by moving the survivors
// between them: those after the first removed one towards the head, or those before the last
// one towards the tail, whichever are fewer. It updates st.head but not e.Count.
func (tx *Tx) listCloseGaps(e *Entry, st *listState, idx []int64) error {
	k := int64(len(idx))
	first, last := idx[0], idx[k-1]
	towardsHead := (e.Count-1-first)-(k-1) <= last-(k-1)
	var werr error
	move := func(dst, i int64, v []byte) bool {
		werr = tx.setElemKey(tx.listKey(e, st.head+uint64(dst)), v)
		return werr == nil
	}
	var err error
	if towardsHead {
		dst, j := first, 1
		err = tx.listScan(e, st, first+1, e.Count-1, false, func(i int64, v []byte) bool {
			if j < len(idx) && idx[j] == i {
				j++
				return true
			}
			dst++
			return move(dst-1, i, v)
		})
	} else {
		dst, j := last, len(idx)-2
		err = tx.listScan(e, st, 0, last-1, true, func(i int64, v []byte) bool {
			if j >= 0 && idx[j] == i {
				j--
				return true
			}
			dst--
			return move(dst+1, i, v)
		})
	}
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	if towardsHead {
		return tx.listDelete(e, st.head+uint64(e.Count-k), st.head+uint64(e.Count))
	}
	if err := tx.listDelete(e, st.head, st.head+uint64(k)); err != nil {
		return err
	}
	st.head += uint64(k)
	return nil
}

// ListTrim drops ltrim elements from the head and rtrim from the tail of the list e at key
// (LTRIM never keeps anything but one contiguous range). Only the dropped records are deleted;
// the survivors stay where they are and head moves past the dropped ones. A list emptied is
// deleted.
func (tx *Tx) ListTrim(key []byte, e *Entry, ltrim, rtrim int64) error {
	st, err := decodeListState(&e.Meta)
	if err != nil {
		return err
	}
	if ltrim+rtrim >= e.Count {
		_, err := tx.Delete(key, e)
		return err
	}
	// Keep the listpack size exact when that is cheap: a listpack-sized list, or a few
	// elements. Otherwise the dropped ones are not read, and the size is measured again if the
	// list ever gets small enough to matter (listShrunk).
	if st.lpBytes != listBytesUnknown && (!st.quick || ltrim+rtrim <= listPointOps) {
		sub := func(_ int64, v []byte) bool { st.removed(v); return true }
		if err := tx.listScan(e, &st, 0, ltrim-1, false, sub); err != nil {
			return err
		}
		if err := tx.listScan(e, &st, e.Count-rtrim, e.Count-1, false, sub); err != nil {
			return err
		}
	} else {
		st.lpBytes = listBytesUnknown
	}
	if err := tx.listDelete(e, st.head, st.head+uint64(ltrim)); err != nil {
		return err
	}
	end := st.head + uint64(e.Count)
	if err := tx.listDelete(e, end-uint64(rtrim), end); err != nil {
		return err
	}
	st.head += uint64(ltrim)
	e.Count -= ltrim + rtrim
	if err := tx.listShrunk(e, &st); err != nil {
		return err
	}
	return tx.putList(key, e, &st)
}
