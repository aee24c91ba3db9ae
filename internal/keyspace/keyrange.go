package keyspace

import (
	"bytes"
	"container/heap"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/slot"
)

// RangeBound is one end of a key range: Open means the end of the keyspace on that side
// (KEYRANGE's "-" or "+"); otherwise Key, included unless Exclusive.
type RangeBound struct {
	Key       []byte
	Exclusive bool
	Open      bool
}

// RangeKey is a key a range read found: its metadata (a string's Value included) aliases memory
// valid only during the callback.
type RangeKey struct {
	Key  []byte
	Meta Meta
}

// KeyRange visits the live keys of the Tx's database between lo and hi in byte order (from hi
// down to lo when rev), calling fn until it returns false.
//
// Metadata keys sort by hash slot first, so keys in byte order are spread over up to 16384
// ranges. When the bounds share a prefix that holds a whole hash tag, every key between them is
// in that tag's slot: the read is one seek and one step per key, O(log n + m). Otherwise the
// slots' ordered runs are merged with a heap: one seek per non-empty slot to start, then one seek
// per key returned, O(s log n + m log n) for s non-empty slots.
func (tx *Tx) KeyRange(lo, hi RangeBound, rev bool, fn func(k *RangeKey) bool) error {
	if !lo.Open && !hi.Open {
		c := bytes.Compare(lo.Key, hi.Key)
		if c > 0 || c == 0 && (lo.Exclusive || hi.Exclusive) {
			return nil
		}
	}
	first, last := 0, slot.Count-1
	if !lo.Open && !hi.Open {
		if s, ok := slot.PrefixSlot(lo.Key[:commonPrefix(lo.Key, hi.Key)]); ok {
			first, last = s, s
		}
	}
	lower := MetaSlotPrefix(nil, tx.db, first)
	upper := PrefixEnd(MetaSlotPrefix(nil, tx.db, last))
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	m := rangeMerge{tx: tx, it: it, lo: lo, hi: hi, rev: rev}
	if first == last {
		return m.single(first, fn)
	}
	if err := m.start(first, last); err != nil {
		return err
	}
	return m.run(fn)
}

// rangeMerge merges the per-slot runs of a key range.
type rangeMerge struct {
	tx     *Tx
	it     *pebble.Iterator
	lo, hi RangeBound
	rev    bool
	heads  rangeHeap
	seek   []byte
}

// inRange reports whether user key k is within the bounds, and whether it is past the far end
// in the direction of travel (so the slot's run is over).
func (m *rangeMerge) inRange(k []byte) (in, past bool) {
	if !m.lo.Open {
		c := bytes.Compare(k, m.lo.Key)
		if c < 0 || c == 0 && m.lo.Exclusive {
			return false, m.rev
		}
	}
	if !m.hi.Open {
		c := bytes.Compare(k, m.hi.Key)
		if c > 0 || c == 0 && m.hi.Exclusive {
			return false, !m.rev
		}
	}
	return true, false
}

// position moves the iterator to the first record of slot s at or after key (before, when
// rev) in the direction of travel; after says to skip key itself. It reports whether the
// iterator is on a record of slot s.
func (m *rangeMerge) position(s int, key []byte, after, atStart bool) bool {
	m.seek = MetaSlotPrefix(m.seek[:0], m.tx.db, s)
	var valid bool
	if !m.rev {
		switch {
		case atStart && m.lo.Open:
		case atStart:
			m.seek = append(m.seek, m.lo.Key...)
			if m.lo.Exclusive {
				m.seek = append(m.seek, 0)
			}
		default:
			m.seek = append(m.seek, key...)
			if after {
				m.seek = append(m.seek, 0)
			}
		}
		valid = m.it.SeekGE(m.seek)
	} else {
		switch {
		case atStart && m.hi.Open:
			m.seek = PrefixEnd(m.seek)
			if m.seek == nil {
				valid = m.it.Last()
				break
			}
			valid = m.it.SeekLT(m.seek)
		case atStart:
			m.seek = append(m.seek, m.hi.Key...)
			if !m.hi.Exclusive {
				m.seek = append(m.seek, 0)
			}
			valid = m.it.SeekLT(m.seek)
		default:
			m.seek = append(m.seek, key...)
			valid = m.it.SeekLT(m.seek)
		}
	}
	return valid && slotOf(m.it.Key()) == s
}

func slotOf(mk []byte) int { return int(mk[2])<<8 | int(mk[3]) }

// single reads the range when it lies in one slot: a plain walk.
func (m *rangeMerge) single(s int, fn func(*RangeKey) bool) error {
	valid := m.position(s, nil, false, true)
	var rk RangeKey
	for valid {
		k := UserKey(m.it.Key())
		in, past := m.inRange(k)
		if past {
			break
		}
		if in {
			ok, err := m.emit(k, &rk, fn)
			if err != nil || !ok {
				return err
			}
		}
		if m.rev {
			valid = m.it.Prev()
		} else {
			valid = m.it.Next()
		}
		valid = valid && slotOf(m.it.Key()) == s
	}
	return m.it.Error()
}

// emit decodes the record under the iterator and passes it to fn if it is live.
func (m *rangeMerge) emit(k []byte, rk *RangeKey, fn func(*RangeKey) bool) (bool, error) {
	v, err := m.it.ValueAndErr()
	if err != nil {
		return false, err
	}
	if err := decodeMeta(v, &rk.Meta); err != nil {
		return false, err
	}
	if rk.Meta.ExpireAt != 0 && rk.Meta.ExpireAt <= m.tx.Now {
		return true, nil
	}
	rk.Key = k
	return fn(rk), nil
}

// start seeks every slot from first to last to its first key in range, skipping empty slots
// with the seek that found them empty.
func (m *rangeMerge) start(first, last int) error {
	if !m.rev {
		for s := first; s <= last; {
			if m.position(s, nil, false, true) {
				m.pushCurrent(s)
				s++
				continue
			}
			if !m.it.Valid() {
				break
			}
			if n := slotOf(m.it.Key()); n > s {
				s = n // slots s..n-1 hold nothing at or after the bound
			} else {
				s++
			}
		}
	} else {
		for s := last; s >= first; {
			if m.position(s, nil, false, true) {
				m.pushCurrent(s)
				s--
				continue
			}
			if !m.it.Valid() {
				break
			}
			if n := slotOf(m.it.Key()); n < s {
				s = n
			} else {
				s--
			}
		}
	}
	heap.Init(&m.heads)
	return m.it.Error()
}

// pushCurrent adds the iterator's record as slot s's head if it is within the range.
func (m *rangeMerge) pushCurrent(s int) {
	k := UserKey(m.it.Key())
	if in, _ := m.inRange(k); !in {
		// A slot whose first record in the direction of travel is outside the range has none in
		// it: the lower (upper, when rev) bound was the seek target.
		return
	}
	m.heads.items = append(m.heads.items, rangeHead{key: append([]byte(nil), k...), slot: s})
	m.heads.rev = m.rev
}

func (m *rangeMerge) run(fn func(*RangeKey) bool) error {
	var rk RangeKey
	for m.heads.Len() > 0 {
		h := m.heads.items[0]
		m.seek = append(MetaSlotPrefix(m.seek[:0], m.tx.db, h.slot), h.key...)
		if !m.it.SeekGE(m.seek) || !bytes.Equal(m.it.Key(), m.seek) {
			return m.it.Error() // the record vanished: impossible over a consistent view
		}
		ok, err := m.emit(UserKey(m.it.Key()), &rk, fn)
		if err != nil || !ok {
			return err
		}
		var valid bool
		if m.rev {
			valid = m.it.Prev()
		} else {
			valid = m.it.Next()
		}
		if valid && slotOf(m.it.Key()) == h.slot {
			k := UserKey(m.it.Key())
			if in, _ := m.inRange(k); in {
				m.heads.items[0].key = append(m.heads.items[0].key[:0], k...)
				heap.Fix(&m.heads, 0)
				continue
			}
		}
		heap.Pop(&m.heads)
	}
	return m.it.Error()
}

type rangeHead struct {
	key  []byte
	slot int
}

// rangeHeap orders slot heads by key, smallest first (largest when rev).
type rangeHeap struct {
	items []rangeHead
	rev   bool
}

func (h *rangeHeap) Len() int { return len(h.items) }
func (h *rangeHeap) Less(i, j int) bool {
	c := bytes.Compare(h.items[i].key, h.items[j].key)
	if h.rev {
		return c > 0
	}
	return c < 0
}
func (h *rangeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rangeHeap) Push(x any)    { h.items = append(h.items, x.(rangeHead)) }
func (h *rangeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
