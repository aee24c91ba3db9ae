package keyspace

import (
	"encoding/binary"
)

// Stream entries: append, read, range, delete and trim.

// appendStreamFields encodes an entry's field-value pairs: their count, then each string
// length-prefixed.
func appendStreamFields(dst []byte, pairs [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(pairs)/2))
	for _, p := range pairs {
		dst = binary.AppendUvarint(dst, uint64(len(p)))
		dst = append(dst, p...)
	}
	return dst
}

// StreamFields decodes an entry's value into its fields and values, alternating, calling fn with
// each string (valid as long as v). It returns the number of pairs.
func StreamFields(v []byte, fn func(s []byte)) (int, error) {
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)) {
		return 0, errCorruptStream
	}
	v = v[k:]
	for i := uint64(0); i < 2*n; i++ {
		l, k := binary.Uvarint(v)
		if k <= 0 || l > uint64(len(v)-k) {
			return 0, errCorruptStream
		}
		if fn != nil {
			fn(v[k : k+int(l)])
		}
		v = v[k+int(l):]
	}
	return int(n), nil
}

// StreamFieldCount is the number of field-value pairs of an entry's value.
func StreamFieldCount(v []byte) int {
	n, k := binary.Uvarint(v)
	if k <= 0 {
		return 0
	}
	return int(n)
}

// Append adds an entry with the given ID, which the caller has checked is greater than LastID,
// and field-value pairs.
func (s *Stream) Append(id StreamID, pairs [][]byte) error {
	s.vbuf = appendStreamFields(s.vbuf[:0], pairs)
	if err := s.tx.w.Set(s.elem(streamEntry, idKey(id)), s.vbuf, nil); err != nil {
		return err
	}
	if s.e.Count == 0 {
		s.st.first = id
	}
	s.e.Count++
	s.st.entriesAdded++
	s.st.last = id
	s.dirty = true
	return nil
}

// Get reads an entry's value (see StreamFields).
func (s *Stream) Get(id StreamID) ([]byte, bool, error) {
	if !s.Exists() {
		return nil, false, nil
	}
	return s.get(s.elem(streamEntry, idKey(id)))
}

// Has reports whether an entry exists.
func (s *Stream) Has(id StreamID) (bool, error) {
	_, ok, err := s.Get(id)
	return ok, err
}

// Range visits the entries with IDs in [start, end], in order or in reverse, until fn returns
// false. The value is valid until fn returns.
func (s *Stream) Range(start, end StreamID, reverse bool, fn func(id StreamID, value []byte) bool) error {
	if !s.Exists() || end.Less(start) {
		return nil
	}
	lo := s.prefix(streamEntry, idKey(start))
	var hi []byte
	if next, ok := end.Next(); ok {
		hi = s.prefix(streamEntry, idKey(next))
	} else {
		hi = PrefixEnd(s.prefix(streamEntry))
	}
	skip := len(lo) - 16
	return s.scan(lo, hi, skip, reverse, func(k, v []byte) (bool, error) {
		if len(k) != 16 {
			return false, errCorruptStream
		}
		return fn(decodeStreamID(k), v), nil
	})
}

// edge finds the first or last entry at or after from (first) / at or before from (last).
func (s *Stream) edge(from StreamID, last bool) (StreamID, bool, error) {
	var id StreamID
	found := false
	var err error
	if last {
		err = s.Range(StreamID{}, from, true, func(i StreamID, _ []byte) bool { id, found = i, true; return false })
	} else {
		err = s.Range(from, MaxStreamID, false, func(i StreamID, _ []byte) bool { id, found = i, true; return false })
	}
	return id, found, err
}

// LastEntryID is the ID of the last entry that exists (LastID may have been deleted).
func (s *Stream) LastEntryID() (StreamID, bool, error) { return s.edge(MaxStreamID, true) }

// Delete removes an entry, as XDEL does: the largest deleted ID is remembered. It reports
// whether the entry existed.
func (s *Stream) Delete(id StreamID) (bool, error) {
	ok, err := s.Has(id)
	if err != nil || !ok {
		return false, err
	}
	if err := s.remove(id); err != nil {
		return false, err
	}
	if s.st.maxDeleted.Less(id) {
		s.st.maxDeleted = id
	}
	return true, s.refreshFirst(id)
}

// remove deletes an entry record known to exist.
func (s *Stream) remove(id StreamID) error {
	if err := s.tx.w.Delete(s.elem(streamEntry, idKey(id)), nil); err != nil {
		return err
	}
	s.e.Count--
	s.dirty = true
	return nil
}

// refreshFirst recomputes the first ID after entries up to removed were deleted.
func (s *Stream) refreshFirst(removed StreamID) error {
	if s.e.Count == 0 {
		s.st.first = StreamID{}
		return nil
	}
	if removed.Less(s.st.first) {
		return nil
	}
	first, _, err := s.edge(s.st.first, false)
	s.st.first = first
	return err
}

// RefPolicy says what deleting an entry does to the consumer groups' references to it (Redis
// 8.2's KEEPREF, DELREF and ACKED).
type RefPolicy int

const (
	KeepRef RefPolicy = iota // leave PEL entries in place
	DelRef                   // remove the entry from every group's PEL
	Acked                    // only delete entries no group still needs
)

// Trim is a trimming request: keep at most MaxLen entries (MaxLen >= 0), or drop entries below
// MinID (MaxLen < 0). Approx trims only in whole nodes of NodeSize entries, as Redis removes whole
// listpack nodes, and at most Limit entries (0: no limit).
type Trim struct {
	MaxLen   int64
	MinID    StreamID
	Approx   bool
	Limit    int64
	NodeSize int64
	Policy   RefPolicy
}

// Trim removes entries from the head as t says and returns how many it removed. Trimming never
// changes the largest deleted ID.
func (s *Stream) Trim(t Trim) (int64, error) {
	if !s.Exists() || s.e.Count == 0 {
		return 0, nil
	}
	quota := int64(-1) // entries that may go; -1: as many as the strategy wants
	if t.Approx {
		q, err := s.trimCandidates(t)
		if err != nil {
			return 0, err
		}
		if t.Limit > 0 {
			q = min(q, t.Limit)
		}
		if t.NodeSize > 0 {
			q = s.wholeNodes(q, t.NodeSize)
		}
		if q == 0 {
			return 0, nil
		}
		quota = q
	}
	var refs []*StreamGroup
	if t.Policy != KeepRef {
		var err error
		if refs, err = s.allGroups(); err != nil {
			return 0, err
		}
	}
	// Entries go from the head; only ACKED skips some (those still referenced), so the others
	// remove one contiguous run, deleted with one range deletion.
	var removed int64
	var lo, last StreamID
	var ferr error
	err := s.Range(s.st.first, MaxStreamID, false, func(id StreamID, _ []byte) bool {
		switch {
		case quota >= 0 && removed == quota,
			t.MaxLen >= 0 && s.e.Count-removed <= t.MaxLen,
			t.MaxLen < 0 && !id.Less(t.MinID):
			return false
		}
		switch t.Policy {
		case Acked:
			used, err := s.referenced(refs, id)
			if err != nil || used {
				ferr = err
				return err == nil
			}
			if ferr = s.tx.w.Delete(s.elem(streamEntry, idKey(id)), nil); ferr != nil {
				return false
			}
		case DelRef:
			if _, ferr = s.dropRefs(refs, id); ferr != nil {
				return false
			}
		}
		if removed == 0 {
			lo = id
		}
		last = id
		removed++
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil || removed == 0 {
		return 0, err
	}
	if t.Policy != Acked {
		end := PrefixEnd(s.prefix(streamEntry))
		if next, ok := last.Next(); ok {
			end = s.prefix(streamEntry, idKey(next))
		}
		if err := s.tx.w.DeleteRange(s.prefix(streamEntry, idKey(lo)), end, nil); err != nil {
			return 0, err
		}
	}
	s.e.Count -= removed
	s.dirty = true
	return removed, s.refreshFirst(last)
}

// wholeNodes is how many of the first q entries approximate trimming removes: only whole nodes
// go, as Redis removes whole listpack nodes. Cairn stores no nodes, so they are modelled as
// Redis forms them with stream-node-max-entries: every size entries added start a new node,
// counted from the stream's first entry. The live entries are taken to be the last ones added
// (true unless XDEL deleted some), so the head node holds what is left of its size entries and
// the tail node those added since the last boundary. (Redis also starts a node when one reaches
// stream-node-max-bytes, 4 KB, which entries over about 40 bytes do before 100 entries.)
func (s *Stream) wholeNodes(q, size int64) int64 {
	n := s.e.Count
	skipped := max(int64(s.st.entriesAdded)-n, 0) // entries of the head node already gone
	node := min(size-skipped%size, n)
	var removed int64
	for node > 0 && removed+node <= q {
		removed += node
		node = min(size, n-removed)
	}
	return removed
}

// trimCandidates counts the entries the strategy alone would remove.
func (s *Stream) trimCandidates(t Trim) (int64, error) {
	if t.MaxLen >= 0 {
		return max(0, s.e.Count-t.MaxLen), nil
	}
	var n int64
	limit := t.Limit
	if t.NodeSize > 0 && limit > 0 {
		limit += t.NodeSize // enough to know the quota after rounding
	}
	err := s.Range(s.st.first, MaxStreamID, false, func(id StreamID, _ []byte) bool {
		if !id.Less(t.MinID) || (limit > 0 && n >= limit) {
			return false
		}
		n++
		return true
	})
	return n, err
}
