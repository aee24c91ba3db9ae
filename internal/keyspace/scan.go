package keyspace

import (
	"github.com/cockroachdb/pebble/v2"
)

// ScanKeys visits the live keys of the Tx's database in key order, starting at the first key
// >= start that has the given prefix, and calls fn with each key, its type and expiry until fn
// returns false. It returns the key at which a later scan should resume (nil when the end was
// reached). The key passed to fn is valid only during the call.
//
// visitLimit bounds how many records (live or expired) are read, so a scan over a keyspace full
// of expired keys still returns; 0 means no bound.
func (tx *Tx) ScanKeys(prefix, start []byte, visitLimit int, fn func(key []byte, t Type, expireAt int64) bool) ([]byte, error) {
	lower := MetaKey(nil, tx.db, prefix)
	upper := PrefixEnd(lower)
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	seek := lower
	if len(start) > 0 {
		seek = MetaKey(nil, tx.db, start)
	}
	visited := 0
	for valid := it.SeekGE(seek); valid; valid = it.Next() {
		k := it.Key()
		if visitLimit > 0 && visited >= visitLimit {
			return append([]byte(nil), UserKey(k)...), nil
		}
		visited++
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		t, exp, ok := metaHeader(v)
		if !ok {
			return nil, errCorrupt
		}
		if exp != 0 && exp <= tx.Now {
			continue
		}
		if !fn(UserKey(k), t, exp) {
			if it.Next() {
				return append([]byte(nil), UserKey(it.Key())...), nil
			}
			return nil, it.Error()
		}
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
