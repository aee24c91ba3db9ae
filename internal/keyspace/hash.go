package keyspace

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Hashes.
//
// A field is an element record (E db version field) whose value is a header byte, the field's
// expiry (8 bytes, Unix ms) when the header says it has one, then the value. A volatile field is
// also listed in the hash's field-time order (T db version expire-at field), and the hash's
// earliest field expiry is kept in its metadata, which Put mirrors into the keyspace-wide field
// expiry index (F expire-at db key) that the sweeper reads. So setting, reading or deleting one
// field is a few point operations whatever the size of the hash, and expired fields are found
// without scanning it.
//
// Meta.Count counts field records, expired or not: the sweeper removes expired ones through the
// log shortly after they expire, and Len subtracts those it has not reached yet.

// Field value headers.
const (
	fieldPlain    = 0
	fieldVolatile = 1
)

var errCorruptField = errors.New("keyspace: corrupt hash field record")

// appendFieldValue encodes a field's element value.
func appendFieldValue(dst, value []byte, at int64) []byte {
	if at == 0 {
		dst = append(dst, fieldPlain)
	} else {
		dst = append(dst, fieldVolatile)
		dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	}
	return append(dst, value...)
}

// DecodeFieldValue splits a hash field's element value into the value and its expiry (0 if
// none). The value aliases b.
func DecodeFieldValue(b []byte) (value []byte, at int64, err error) {
	if len(b) == 0 {
		return nil, 0, errCorruptField
	}
	switch b[0] {
	case fieldPlain:
		return b[1:], 0, nil
	case fieldVolatile:
		if len(b) < 9 {
			return nil, 0, errCorruptField
		}
		return b[9:], int64(binary.BigEndian.Uint64(b[1:9])), nil
	}
	return nil, 0, errCorruptField
}

// hashExtra is a hash's Meta.Extra:
//
//	flags(1) [earliest field expiry(8) if flagged] peak(uvarint) longest(uvarint)
//
// peak and longest record the most fields and the longest field or value the hash ever held,
// which is what Redis's choice of encoding depends on (it never converts back), so OBJECT
// ENCODING can answer as Redis would.
type hashExtra struct {
	flags    byte
	fieldMin int64
	peak     uint64
	longest  uint64
}

const (
	hashFieldMin   = 1 << 0 // fieldMin is set
	hashEverVolatb = 1 << 1 // a field ever had an expiry (Redis's "listpackex")
)

func decodeHashExtra(b []byte) (hashExtra, error) {
	var x hashExtra
	if len(b) == 0 {
		return x, nil // a hash written without extra state
	}
	x.flags, b = b[0], b[1:]
	if x.flags&hashFieldMin != 0 {
		if len(b) < 8 {
			return x, errCorrupt
		}
		x.fieldMin, b = int64(binary.BigEndian.Uint64(b)), b[8:]
	}
	var n int
	if x.peak, n = binary.Uvarint(b); n <= 0 {
		return x, errCorrupt
	}
	b = b[n:]
	if x.longest, n = binary.Uvarint(b); n <= 0 {
		return x, errCorrupt
	}
	return x, nil
}

func (x *hashExtra) append(dst []byte) []byte {
	flags := x.flags &^ hashFieldMin
	if x.fieldMin != 0 {
		flags |= hashFieldMin
	}
	dst = append(dst, flags)
	if x.fieldMin != 0 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(x.fieldMin))
	}
	dst = binary.AppendUvarint(dst, x.peak)
	return binary.AppendUvarint(dst, x.longest)
}

func (x *hashExtra) note(field, value []byte, count int64) {
	x.peak = max(x.peak, uint64(count))
	x.longest = max(x.longest, uint64(len(field)), uint64(len(value)))
}

// fieldMinOf returns the earliest field expiry recorded in a hash's metadata, 0 if none or m is
// not a hash.
func fieldMinOf(m *Meta) int64 {
	if m.Type != TypeHash || len(m.Extra) < 9 || m.Extra[0]&hashFieldMin == 0 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(m.Extra[1:9]))
}

// HashStats is what a hash's history says about the encoding Redis would give it.
type HashStats struct {
	Peak     int64 // most fields ever held (or announced by one HSET)
	Longest  int64 // longest field or value ever held
	Volatile bool  // a field ever had an expiry
}

// HashStatsOf reads the encoding history of a hash's metadata.
func HashStatsOf(m *Meta) HashStats {
	x, _ := decodeHashExtra(m.Extra)
	return HashStats{Peak: int64(x.peak), Longest: int64(x.longest), Volatile: x.flags&hashEverVolatb != 0}
}

// Hash is one command's handle on the hash at a key: its metadata and the operations on its
// fields. Changes are written to the batch as they are made; Save writes the metadata (or deletes
// the key when no field is left) and must be called after changes.
type Hash struct {
	tx      *Tx
	key     []byte
	e       Entry
	x       hashExtra
	existed bool // a live hash was there when opened
	dirty   bool
	// minStale: the field holding the earliest expiry may have gone or changed, so fieldMin is a
	// lower bound to recompute on Save rather than the exact value.
	minStale bool
	xbuf     [32]byte
	buf      []byte
	tkey     []byte
}

// OpenHash reads the metadata at key. The hash need not exist (Exists) and the key may hold
// another type (WrongType).
func (tx *Tx) OpenHash(key []byte) (Hash, error) {
	h := Hash{tx: tx, key: key}
	if err := tx.lookup(key, &h.e, false); err != nil {
		return h, err
	}
	if h.e.Type == TypeHash {
		x, err := decodeHashExtra(h.e.Extra)
		if err != nil {
			return h, err
		}
		h.x, h.existed = x, true
	}
	// Extra and Value alias the Tx's buffers: keep a copy of the extra state of our own.
	h.e.Extra, h.e.Value = nil, nil
	if h.Exists() {
		h.e.Extra = h.x.append(h.xbuf[:0])
	}
	return h, nil
}

// Exists reports whether a live hash is at the key.
func (h *Hash) Exists() bool { return h.e.Type == TypeHash }

// WrongType reports whether the key holds a value of another type.
func (h *Hash) WrongType() bool { return h.e.Type != TypeNone && h.e.Type != TypeHash }

// Entry is the hash's metadata record as it stands.
func (h *Hash) Entry() *Entry { return &h.e }

// Records is the number of field records, expired ones not yet swept included.
func (h *Hash) Records() int64 { return h.e.Count }

// NoteSize records that a command announced n fields at once, as HSET does: Redis sizes (and
// encodes) the hash for them before adding.
func (h *Hash) NoteSize(n int) { h.x.peak = max(h.x.peak, uint64(n)) }

// mayHaveExpired reports whether some field may have expired without being swept yet.
func (h *Hash) mayHaveExpired() bool { return h.x.fieldMin != 0 && h.x.fieldMin <= h.tx.Now }

// Len is the number of live fields.
func (h *Hash) Len() (int64, error) {
	if !h.Exists() {
		return 0, nil
	}
	if !h.mayHaveExpired() {
		return h.e.Count, nil
	}
	n := int64(0)
	err := h.eachTime(h.tx.Now, func(int64, []byte) bool { n++; return true })
	return h.e.Count - n, err
}

// eachTime visits the volatile fields expiring at or before until, earliest first.
func (h *Hash) eachTime(until int64, fn func(at int64, field []byte) bool) error {
	prefix := FieldTimePrefix(nil, h.tx.db, h.e.Version)
	upper := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(until)+1)
	it, err := h.tx.r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()[len(prefix):]
		if len(k) < 8 {
			continue
		}
		if !fn(int64(binary.BigEndian.Uint64(k)), k[8:]) {
			break
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}

// load reads a field's record, live or expired.
func (h *Hash) load(field []byte) (value []byte, at int64, present bool, err error) {
	if !h.Exists() {
		return nil, 0, false, nil
	}
	raw, found, err := h.tx.GetElem(h.buf[:0], h.key, h.e.Version, field)
	h.buf = raw
	if err != nil || !found {
		return nil, 0, false, err
	}
	value, at, err = DecodeFieldValue(raw)
	return value, at, err == nil, err
}

func (h *Hash) live(at int64) bool { return at == 0 || at > h.tx.Now }

// Get reads a live field: its value, valid until the next call on h, and its expiry (0 if
// none).
func (h *Hash) Get(field []byte) (value []byte, at int64, ok bool, err error) {
	value, at, present, err := h.load(field)
	if !present || !h.live(at) {
		return nil, 0, false, err
	}
	return value, at, true, nil
}

// create makes the handle a new, empty hash if no live one is there.
func (h *Hash) create() {
	if h.Exists() {
		return
	}
	h.e.Type = TypeHash
	h.e.Version = h.tx.NewVersion(h.key)
	h.e.Count, h.e.ExpireAt = 0, 0
	h.dirty = true
}

// Set sets field to value expiring at at (0: never). With keepTTL a live field keeps the
// expiry it has. It reports whether the field is new (absent or expired before).
func (h *Hash) Set(field, value []byte, at int64, keepTTL bool) (created bool, err error) {
	h.create()
	_, old, present, err := h.load(field)
	if err != nil {
		return false, err
	}
	live := present && h.live(old)
	if keepTTL && live {
		at = old
	}
	if err := h.write(field, value, present, old, at); err != nil {
		return false, err
	}
	h.x.note(field, value, h.e.Count)
	return !live, nil
}

// SetExpire changes the expiry of a live field to at (0: persist). The caller has read the field.
func (h *Hash) SetExpire(field []byte, at int64) error {
	value, old, present, err := h.load(field)
	if err != nil || !present {
		return err
	}
	value = append([]byte(nil), value...) // it aliases h.buf, which write reuses
	return h.write(field, value, true, old, at)
}

// write stores a field record, keeping Count, the field-time order and the earliest expiry right.
func (h *Hash) write(field, value []byte, present bool, old, at int64) error {
	if present && old != 0 && old != at {
		if err := h.delTime(old, field); err != nil {
			return err
		}
	}
	if at != 0 && (!present || old != at) {
		h.tkey = h.timeKey(at, field)
		if err := h.tx.w.Set(h.tkey, nil, nil); err != nil {
			return err
		}
		if h.x.fieldMin == 0 || at < h.x.fieldMin {
			h.x.fieldMin = at
		}
		h.x.flags |= hashEverVolatb
	}
	if !present {
		h.e.Count++
	}
	h.buf = appendFieldValue(h.buf[:0], value, at)
	h.dirty = true
	return h.tx.SetElem(h.key, h.e.Version, field, h.buf)
}

func (h *Hash) timeKey(at int64, field []byte) []byte {
	k := FieldTimePrefix(h.tkey[:0], h.tx.db, h.e.Version)
	k = binary.BigEndian.AppendUint64(k, uint64(at))
	return append(k, field...)
}

func (h *Hash) delTime(at int64, field []byte) error {
	h.tkey = h.timeKey(at, field)
	if at <= h.x.fieldMin {
		h.minStale = true
	}
	return h.tx.w.Delete(h.tkey, nil)
}

// Del removes a field, reporting whether it was live. An expired field's record is removed too.
func (h *Hash) Del(field []byte) (bool, error) {
	_, at, present, err := h.load(field)
	if err != nil || !present {
		return false, err
	}
	if at != 0 {
		if err := h.delTime(at, field); err != nil {
			return false, err
		}
	}
	h.e.Count--
	h.dirty = true
	return h.live(at), h.tx.DelElem(h.key, h.e.Version, field)
}

// Each visits the live fields in byte order of their names until fn returns false. field and
// value are valid only during the call.
func (h *Hash) Each(fn func(field, value []byte, at int64) bool) error {
	if !h.Exists() {
		return nil
	}
	it, err := h.tx.Elems(h.key, h.e.Version)
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		raw, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		value, at, err := DecodeFieldValue(raw)
		if err != nil {
			it.Close()
			return err
		}
		if h.live(at) && !fn(it.Elem(), value, at) {
			break
		}
	}
	return it.Close()
}

// Save writes the hash's metadata after changes, or deletes the key when no field is left. It
// reports whether a hash that existed before was deleted.
func (h *Hash) Save() (removed bool, err error) {
	if !h.dirty {
		return false, nil
	}
	h.dirty = false
	if h.e.Count <= 0 {
		if _, err := h.tx.Delete(h.key, &h.e); err != nil {
			return false, err
		}
		return h.existed, nil
	}
	if h.minStale {
		if err := h.recomputeFieldMin(); err != nil {
			return false, err
		}
	}
	h.e.Extra = h.x.append(h.xbuf[:0])
	return false, h.tx.Put(h.key, &h.e)
}

func (h *Hash) recomputeFieldMin() error {
	h.x.fieldMin = 0
	h.minStale = false
	return h.eachTime(1<<63-2, func(at int64, _ []byte) bool {
		h.x.fieldMin = at
		return false
	})
}
