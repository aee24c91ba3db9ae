package keyspace

import (
	"github.com/cockroachdb/pebble/v2"
)

// ExpiredFieldKeys returns up to limit hashes whose field expiry index entry says a field expired
// at or before now, across all databases, for the sweeper.
func ExpiredFieldKeys(r pebble.Reader, now int64, limit int) ([]ExpiredKey, error) {
	upper := FieldExpireKey(nil, now+1, 0, nil)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: FieldExpirePrefix(), UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []ExpiredKey
	for valid := it.First(); valid && len(out) < limit; valid = it.Next() {
		at, db, key, ok := ParseFieldExpireKey(it.Key())
		if !ok {
			continue
		}
		out = append(out, ExpiredKey{At: at, DB: db, Key: append([]byte(nil), key...)})
	}
	return out, it.Error()
}

// ExpireFields removes up to limit fields of the hash at key that expired by the Tx's time, as the
// sweeper's operations do, deleting the key when no field is left. It reports how many fields
// were removed and whether the key was deleted, and records the events Redis sends (hexpired,
// then del).
func (tx *Tx) ExpireFields(key []byte, limit int) (removed int, deleted bool, err error) {
	h, err := tx.OpenHash(key)
	if err != nil || !h.Exists() || !h.mayHaveExpired() {
		return 0, false, err
	}
	type due struct {
		at    int64
		field []byte
	}
	var fields []due
	err = h.eachTime(tx.Now, func(at int64, field []byte) bool {
		fields = append(fields, due{at, append([]byte(nil), field...)})
		return len(fields) < limit
	})
	if err != nil {
		return 0, false, err
	}
	for _, f := range fields {
		_, at, present, err := h.load(f.field)
		if err != nil {
			return 0, false, err
		}
		if present && at == f.at {
			if _, err := h.Del(f.field); err != nil {
				return 0, false, err
			}
			removed++
			continue
		}
		// A time entry that does not match its field would be offered forever; drop it.
		if err := h.delTime(f.at, f.field); err != nil {
			return 0, false, err
		}
		h.dirty = true
	}
	h.minStale, h.dirty = true, true
	deleted, err = h.Save()
	if err != nil {
		return 0, false, err
	}
	if removed > 0 {
		tx.Notify('h', "hexpired", key)
	}
	if deleted {
		tx.Notify('g', "del", key)
	}
	return removed, deleted, nil
}

// DropStaleFieldExpireEntry deletes a field expiry index entry for (db, key) at at that does not
// match the key's record: left behind by FLUSHDB, it would otherwise be offered to the sweeper
// forever.
func (tx *Tx) DropStaleFieldExpireEntry(at int64, key []byte) error {
	var e Entry
	if err := tx.lookup(key, &e, false); err != nil {
		return err
	}
	if e.oldFieldExp == at {
		return nil
	}
	tx.kb2 = FieldExpireKey(tx.kb2[:0], at, tx.db, key)
	return tx.w.Delete(tx.kb2, nil)
}

// moveFieldExpire moves key's field expiry index entry from old to at (0: none).
func (tx *Tx) moveFieldExpire(key []byte, old, at int64) error {
	if old == at {
		return nil
	}
	if old != 0 {
		tx.kb2 = FieldExpireKey(tx.kb2[:0], old, tx.db, key)
		if err := tx.w.Delete(tx.kb2, nil); err != nil {
			return err
		}
	}
	if at != 0 {
		tx.kb2 = FieldExpireKey(tx.kb2[:0], at, tx.db, key)
		return tx.w.Set(tx.kb2, nil, nil)
	}
	return nil
}
