package keyspace

import (
	"bytes"

	"github.com/cairn-db/cairn/internal/slot"
	"github.com/cockroachdb/pebble/v2"
)

// ScanKeys visits the live keys of the Tx's database that have the given prefix, in storage
// order (by hash slot, then by key), starting at start (a key a previous scan returned, or nil),
// and calls fn with each key, its type and expiry until fn returns false. It returns the key at
// which a later scan should resume (nil when the end was reached). The key passed to fn is valid
// only during the call.
//
// Metadata keys begin with the key's slot, so the keys with a prefix are not contiguous unless the
// prefix holds a hash tag (then they are all in one slot). Otherwise the scan skips from slot to
// slot: it seeks to the prefix in the next slot that has any key at all, so it costs one seek per
// non-empty slot plus one step per key with the prefix, never a walk over keys without it.
//
// visitLimit bounds how many records (live or expired) and seeks are spent, so a scan over a
// keyspace full of expired keys still returns; 0 means no bound.
func (tx *Tx) ScanKeys(prefix, start []byte, visitLimit int, fn func(key []byte, t Type, expireAt int64) bool) ([]byte, error) {
	lower, upper := MetaPrefix(tx.db), PrefixEnd(MetaPrefix(tx.db))
	if s, ok := slot.PrefixSlot(prefix); ok {
		lower = MetaSlotPrefix(nil, tx.db, s)
		upper = PrefixEnd(lower)
	}
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	seek := MetaKey(nil, tx.db, prefix)
	if len(start) > 0 {
		seek = MetaKey(nil, tx.db, start)
		if bytes.Compare(start, prefix) < 0 {
			seek = MetaSlotPrefix(seek[:0], tx.db, slot.KeySlot(start))
			seek = append(seek, prefix...)
		}
	} else if len(prefix) > 0 {
		seek = append(MetaSlotPrefix(seek[:0], tx.db, 0), prefix...)
	} else {
		seek = lower
	}
	visited := 0
	resume := func(k []byte) []byte { return append([]byte(nil), UserKey(k)...) }
	valid := it.SeekGE(seek)
	for valid {
		if visitLimit > 0 && visited >= visitLimit {
			return resume(it.Key()), nil
		}
		visited++
		k := it.Key()
		if !bytes.HasPrefix(UserKey(k), prefix) {
			// Past the prefix in this slot (or not yet at it in a later one): go to the prefix
			// in the slot the iterator is in, or in the next one.
			target := MetaSlotPrefix(seek[:0], tx.db, int(k[2])<<8|int(k[3]))
			if bytes.Compare(UserKey(k), prefix) > 0 {
				next := int(k[2])<<8 | int(k[3]) + 1
				if next >= slot.Count {
					break
				}
				target = MetaSlotPrefix(target[:0], tx.db, next)
			}
			seek = append(target, prefix...)
			valid = it.SeekGE(seek)
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		t, exp, ok := metaHeader(v)
		if !ok {
			return nil, errCorrupt
		}
		if exp == 0 || exp > tx.Now {
			if !fn(UserKey(k), t, exp) {
				if it.Next() {
					return resume(it.Key()), nil
				}
				return nil, it.Error()
			}
		}
		valid = it.Next()
	}
	return nil, it.Error()
}

// ExpiredKey is an entry of the expiry index.
type ExpiredKey struct {
	At  int64
	DB  byte
	Key []byte
}

// ExpiredKeys returns up to limit keys whose expiry index entry says they expired at or before
// now, across all databases, for the sweeper.
func ExpiredKeys(r pebble.Reader, now int64, limit int) ([]ExpiredKey, error) {
	upper := ExpireKey(nil, now+1, 0, nil)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: ExpirePrefix(), UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []ExpiredKey
	for valid := it.First(); valid && len(out) < limit; valid = it.Next() {
		at, db, key, ok := ParseExpireKey(it.Key())
		if !ok {
			continue
		}
		out = append(out, ExpiredKey{At: at, DB: db, Key: append([]byte(nil), key...)})
	}
	return out, it.Error()
}

// Expire removes key if it has expired by the Tx's time, as the sweeper's deletions do; it also
// removes a stale expiry index entry (at) that no longer matches the record. It reports whether a
// key was removed.
func (tx *Tx) Expire(key []byte) (bool, error) {
	var e Entry
	if err := tx.lookup(key, &e, false); err != nil {
		return false, err
	}
	if e.onDisk == TypeNone || e.oldExpire == 0 || e.oldExpire > tx.Now {
		return false, nil
	}
	if _, err := tx.Delete(key, &e); err != nil {
		return false, err
	}
	tx.Notify('x', "expired", key)
	tx.modified(key)
	return true, nil
}

// DropStaleExpireEntry deletes expiry index entries at or before now for (db, key) that do not
// match the key's record: left behind by FLUSHDB or an old bug, they would otherwise be offered
// to the sweeper forever.
func (tx *Tx) DropStaleExpireEntry(at int64, key []byte) error {
	var e Entry
	if err := tx.lookup(key, &e, false); err != nil {
		return err
	}
	if e.onDisk != TypeNone && e.oldExpire == at {
		return nil
	}
	tx.kb2 = ExpireKey(tx.kb2[:0], at, tx.db, key)
	return tx.w.Delete(tx.kb2, nil)
}

// SlotKeys visits the live keys of one hash slot of the Tx's database, in key order, until fn
// returns false. The key passed to fn is valid only during the call.
func (tx *Tx) SlotKeys(s int, fn func(key []byte) bool) error {
	lower := MetaSlotPrefix(nil, tx.db, s)
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: PrefixEnd(lower)})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		_, exp, ok := metaHeader(v)
		if !ok {
			return errCorrupt
		}
		if exp != 0 && exp <= tx.Now {
			continue
		}
		if !fn(UserKey(it.Key())) {
			return nil
		}
	}
	return it.Error()
}
