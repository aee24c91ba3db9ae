package keyspace

import (
	"encoding/binary"
)

// Sets. A member is an element record (E db version member) with an empty value, so adding,
// removing or testing one member is a point operation whatever the size of the set, and members
// come out of an iterator in byte order, which set algebra merges and probes.

// setExtra is a set's Meta.Extra:
//
//	flags(1) intPeak(uvarint) peak(uvarint) longest(uvarint)
//
// It records what Redis's choice of encoding depends on, since Redis never converts a set back:
// whether a member that is not an integer was ever added (before that the set is an intset), the
// most members held while all were integers, the most held since, and the longest member.
type setExtra struct {
	flags   byte
	intPeak uint64
	peak    uint64
	longest uint64
}

const setNonInt = 1 << 0

func decodeSetExtra(b []byte) (setExtra, error) {
	var x setExtra
	if len(b) == 0 {
		return x, nil
	}
	x.flags, b = b[0], b[1:]
	for _, v := range []*uint64{&x.intPeak, &x.peak, &x.longest} {
		n := 0
		if *v, n = binary.Uvarint(b); n <= 0 {
			return x, errCorrupt
		}
		b = b[n:]
	}
	return x, nil
}

func (x *setExtra) append(dst []byte) []byte {
	dst = append(dst, x.flags)
	dst = binary.AppendUvarint(dst, x.intPeak)
	dst = binary.AppendUvarint(dst, x.peak)
	return binary.AppendUvarint(dst, x.longest)
}

// note records a member added, the set then holding count members.
func (x *setExtra) note(member []byte, count int64) {
	x.longest = max(x.longest, uint64(len(member)))
	if x.flags&setNonInt == 0 && !isInt(member) {
		x.flags |= setNonInt
	}
	x.grow(uint64(count))
}

func (x *setExtra) grow(n uint64) {
	if x.flags&setNonInt == 0 {
		x.intPeak = max(x.intPeak, n)
	} else {
		x.peak = max(x.peak, n)
	}
}

// isInt reports whether b is an integer as Redis's string2ll reads one (what an intset holds).
func isInt(b []byte) bool {
	if len(b) == 0 || len(b) > 20 {
		return false
	}
	if len(b) == 1 && b[0] == '0' {
		return true
	}
	p := b
	if p[0] == '-' {
		p = p[1:]
	}
	if len(p) == 0 || p[0] < '1' || p[0] > '9' {
		return false
	}
	var v uint64
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return false
		}
		v = v*10 + d
	}
	if b[0] == '-' {
		return v <= 1<<63
	}
	return v <= 1<<63-1
}

// SetStats is what a set's history says about the encoding Redis would give it.
type SetStats struct {
	NonInt  bool  // a member that is not an integer was ever added
	IntPeak int64 // most members held while all were integers
	Peak    int64 // most members held since the first non-integer
	Longest int64 // longest member ever added
}

// SetStatsOf reads the encoding history of a set's metadata.
func SetStatsOf(m *Meta) SetStats {
	x, _ := decodeSetExtra(m.Extra)
	return SetStats{NonInt: x.flags&setNonInt != 0, IntPeak: int64(x.intPeak), Peak: int64(x.peak), Longest: int64(x.longest)}
}

// Set is one command's handle on the set at a key. Changes are written to the batch as they are
// made; Save writes the metadata (or deletes the key when no member is left) and must be called
// after changes.
type Set struct {
	tx      *Tx
	key     []byte
	e       Entry
	x       setExtra
	existed bool
	dirty   bool
	xbuf    [32]byte
	buf     []byte
}

// OpenSet reads the metadata at key. The set need not exist (Exists) and the key may hold
// another type (WrongType).
func (tx *Tx) OpenSet(key []byte) (Set, error) {
	s := Set{tx: tx, key: key}
	if err := tx.lookup(key, &s.e, false); err != nil {
		return s, err
	}
	if s.e.Type == TypeSet {
		x, err := decodeSetExtra(s.e.Extra)
		if err != nil {
			return s, err
		}
		s.x, s.existed = x, true
	}
	// Extra and Value alias the Tx's buffers: keep a copy of the extra state of our own.
	s.e.Extra, s.e.Value = nil, nil
	if s.Exists() {
		s.e.Extra = s.x.append(s.xbuf[:0])
	}
	return s, nil
}

// ReplaceSet opens key to be replaced by a new, empty set, whatever it holds now, as the *STORE
// commands do: members added with AddNew go to a new version, and Save swaps it in (dropping
// what was there) or deletes the key if the new set is empty. The key loses any expiry.
func (tx *Tx) ReplaceSet(key []byte) (Set, error) {
	s := Set{tx: tx, key: key}
	if err := tx.lookup(key, &s.e, false); err != nil {
		return s, err
	}
	s.existed = s.e.Type != TypeNone
	s.e.Meta = Meta{Type: TypeSet, Version: tx.NewVersion(key)}
	s.dirty = true
	return s, nil
}

// Exists reports whether a live set is at the key.
func (s *Set) Exists() bool { return s.e.Type == TypeSet }

// WrongType reports whether the key holds a value of another type.
func (s *Set) WrongType() bool { return s.e.Type != TypeNone && s.e.Type != TypeSet }

// Entry is the set's metadata record as it stands.
func (s *Set) Entry() *Entry { return &s.e }

// Version names the set's element records, for iterators.
func (s *Set) Version() uint64 { return s.e.Version }

// Len is the number of members.
func (s *Set) Len() int64 {
	if !s.Exists() {
		return 0
	}
	return s.e.Count
}

// Peak is the most members the set has held: an upper bound on how many element records,
// live or deleted but not yet compacted away, its key range may hold.
func (s *Set) Peak() int64 { return int64(max(s.x.intPeak, s.x.peak)) }

// NoteSize records that a command announced n members at once, the first being first, as SADD
// does: Redis picks (or converts) the encoding for them before adding.
func (s *Set) NoteSize(n int, first []byte) {
	if !s.Exists() && !isInt(first) {
		s.x.flags |= setNonInt
	}
	s.x.grow(uint64(n))
}

// Has reports whether member is in the set.
func (s *Set) Has(member []byte) (bool, error) {
	if !s.Exists() {
		return false, nil
	}
	var found bool
	var err error
	s.buf, found, err = s.tx.GetElem(s.buf[:0], s.key, s.e.Version, member)
	return found, err
}

// Add adds member, reporting whether it was not there.
func (s *Set) Add(member []byte) (bool, error) {
	if s.Exists() {
		found, err := s.Has(member)
		if err != nil || found {
			return false, err
		}
	} else {
		x := s.x // what NoteSize recorded
		s.e.Type, s.e.Version, s.e.Count, s.e.ExpireAt = TypeSet, s.tx.NewVersion(s.key), 0, 0
		s.x = x
	}
	return true, s.AddNew(member)
}

// AddNew adds a member known not to be in the set, without checking.
func (s *Set) AddNew(member []byte) error {
	s.e.Count++
	s.x.note(member, s.e.Count)
	s.dirty = true
	return s.tx.SetElem(s.key, s.e.Version, member, nil)
}

// Rem removes member, reporting whether it was there.
func (s *Set) Rem(member []byte) (bool, error) {
	found, err := s.Has(member)
	if err != nil || !found {
		return false, err
	}
	s.e.Count--
	s.dirty = true
	return true, s.tx.DelElem(s.key, s.e.Version, member)
}

// Each visits the members in byte order until fn returns false. member is valid only during the
// call.
func (s *Set) Each(fn func(member []byte) bool) error {
	if !s.Exists() {
		return nil
	}
	it, err := s.tx.Elems(s.key, s.e.Version)
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		if !fn(it.Elem()) {
			break
		}
	}
	return it.Close()
}

// Save writes the set's metadata after changes, or deletes the key when no member is left. It
// reports whether a value that existed before was deleted.
func (s *Set) Save() (removed bool, err error) {
	if !s.dirty {
		return false, nil
	}
	s.dirty = false
	if s.e.Count <= 0 {
		if _, err := s.tx.Delete(s.key, &s.e); err != nil {
			return false, err
		}
		return s.existed, nil
	}
	s.e.Extra = s.x.append(s.xbuf[:0])
	return false, s.tx.Put(s.key, &s.e)
}
