package keyspace

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Moving a slot's records to another shard.
//
// A slot's metadata records are one contiguous range (M db slot key), and the element records of
// the collections created in it are three more (E, Z and T under versions whose top bits are the
// slot). ExportSlot reads the next keys of the range in order, each with its elements, into a
// batch and deletes them; ImportSlot writes a batch on the other side. Strings, whose value is in
// the metadata record, cost nothing beyond the range scan (a chunked string is put inline in the
// batch); a collection's elements are one seek
// into an iterator already open over the slot's element range.
//
// Batch encoding, per key:
//
//	uvarint len, key; uvarint len, metadata record; for a collection, its element records:
//	{ kind(1) uvarint len, key suffix after the version; uvarint len, value }* then 0

var errBadBatch = errors.New("keyspace: malformed slot batch")

// ExportSlot appends to dst the keys of slot s after key after (from the start when nil), up to
// maxKeys keys or about maxBytes bytes, and deletes them. Expired keys it comes across are
// removed, not exported. It returns the batch, the number of keys in it and the last key
// exported (nil when none was).
func (tx *Tx) ExportSlot(dst []byte, s int, after []byte, maxKeys, maxBytes int) ([]byte, int, []byte, error) {
	prefix := MetaSlotPrefix(nil, tx.db, s)
	lower := prefix
	if after != nil {
		lower = append(MetaSlotPrefix(nil, tx.db, s), after...)
		lower = append(lower, 0)
	}
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return dst, 0, nil, err
	}
	defer it.Close()
	// The element ranges of the slot, opened once; each collection seeks into them.
	var elems [3]*pebble.Iterator
	kinds := [3]byte{prefixElem, prefixScore, prefixFieldTime}
	defer func() {
		for _, e := range elems {
			if e != nil {
				e.Close()
			}
		}
	}()
	n := 0
	var last []byte
	start := len(dst)
	for valid := it.First(); valid && n < maxKeys && len(dst)-start < maxBytes; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return dst, n, last, err
		}
		key := append([]byte(nil), UserKey(it.Key())...)
		rec := append([]byte(nil), v...)
		var m Meta
		if err := decodeMeta(rec, &m); err != nil {
			return dst, n, last, err
		}
		e := Entry{Meta: m}
		e.onDisk, e.oldExpire, e.oldVersion, e.oldFieldExp = m.Type, m.ExpireAt, m.Version, fieldMinOf(&m)
		if m.ExpireAt != 0 && m.ExpireAt <= tx.Now {
			e.Meta = Meta{}
			if err := tx.expireOnAccess(key, &e); err != nil {
				return dst, n, last, err
			}
			continue
		}
		if m.Chunked {
			// A chunked string travels inline, as every string did before chunks: the batch
			// format stays what it was, and the importing side stores it as its own Put
			// decides.
			if rec, err = tx.inlineRecord(&m); err != nil {
				return dst, n, last, err
			}
		}
		dst = binary.AppendUvarint(dst, uint64(len(key)))
		dst = append(dst, key...)
		dst = binary.AppendUvarint(dst, uint64(len(rec)))
		dst = append(dst, rec...)
		if m.Type.IsCollection() {
			for i, kind := range kinds {
				if i == 1 && m.Type != TypeZSet || i == 2 && m.Type != TypeHash {
					continue
				}
				if elems[i] == nil {
					lo := collectionPrefix(nil, kind, tx.db, VersionOf(s, 0))
					hi := collectionPrefix(nil, kind, tx.db, VersionOf(s+1, 0))
					if elems[i], err = tx.r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi}); err != nil {
						return dst, n, last, err
					}
				}
				p := collectionPrefix(nil, kind, tx.db, m.Version)
				ei := elems[i]
				for ok := ei.SeekGE(p); ok && equalPrefix(ei.Key(), p); ok = ei.Next() {
					ev, err := ei.ValueAndErr()
					if err != nil {
						return dst, n, last, err
					}
					suffix := ei.Key()[len(p):]
					dst = append(dst, kind)
					dst = binary.AppendUvarint(dst, uint64(len(suffix)))
					dst = append(dst, suffix...)
					dst = binary.AppendUvarint(dst, uint64(len(ev)))
					dst = append(dst, ev...)
				}
				if err := ei.Error(); err != nil {
					return dst, n, last, err
				}
			}
			dst = append(dst, 0)
		}
		if _, err := tx.Delete(key, &e); err != nil {
			return dst, n, last, err
		}
		n++
		last = key
	}
	return dst, n, last, it.Error()
}

// inlineRecord returns the metadata record of the chunked string m with its value inline.
func (tx *Tx) inlineRecord(m *Meta) ([]byte, error) {
	in := *m
	in.Chunked, in.Version, in.Count, in.Value = false, 0, 0, nil
	rec := appendMeta(make([]byte, 0, 32+m.Count), &in)
	err := tx.ReadChunks(m, 0, m.Count, func(b []byte) error {
		rec = append(rec, b...)
		return nil
	})
	return rec, err
}

// SlotBatchKeys calls fn with each key of an exported batch.
func SlotBatchKeys(b []byte, fn func(key []byte)) error {
	return walkSlotBatch(b, func(key, _ []byte, _ func(func(kind byte, suffix, value []byte) error) error) error {
		fn(key)
		return nil
	})
}

// walkSlotBatch decodes a batch: fn gets each key, its metadata record and, for a collection, a
// function that walks its element records (which fn must call for the decoding to go on).
func walkSlotBatch(b []byte, fn func(key, rec []byte, elems func(func(kind byte, suffix, value []byte) error) error) error) error {
	next := func() ([]byte, error) {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errBadBatch
		}
		v := b[k : k+int(l)]
		b = b[k+int(l):]
		return v, nil
	}
	for len(b) > 0 {
		key, err := next()
		if err != nil {
			return err
		}
		rec, err := next()
		if err != nil {
			return err
		}
		t, _, ok := metaHeader(rec)
		if !ok {
			return errBadBatch
		}
		walked := !t.IsCollection()
		elems := func(f func(kind byte, suffix, value []byte) error) error {
			if !t.IsCollection() {
				return nil
			}
			walked = true
			for {
				if len(b) == 0 {
					return errBadBatch
				}
				kind := b[0]
				b = b[1:]
				if kind == 0 {
					return nil
				}
				if kind != prefixElem && kind != prefixScore && kind != prefixFieldTime {
					return errBadBatch
				}
				suffix, err := next()
				if err != nil {
					return err
				}
				value, err := next()
				if err != nil {
					return err
				}
				if f != nil {
					if err := f(kind, suffix, value); err != nil {
						return err
					}
				}
			}
		}
		if err := fn(key, rec, elems); err != nil {
			return err
		}
		if !walked {
			if err := elems(nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// ImportSlot writes the keys of an exported batch into the Tx's database. A key that exists
// here already is left as it is: it was written here after the source stopped holding it, so
// it is newer than the batch's copy (and a batch sent twice changes nothing the second time).
// Keys that have expired by now are skipped. Collections get versions of this shard. It
// returns how many keys it wrote.
func (tx *Tx) ImportSlot(b []byte) (int, error) {
	// Check the whole batch first: a malformed one writes nothing.
	if err := SlotBatchKeys(b, func([]byte) {}); err != nil {
		return 0, err
	}
	n := 0
	err := walkSlotBatch(b, func(key, rec []byte, elems func(func(kind byte, suffix, value []byte) error) error) error {
		e, err := tx.Lookup(key)
		if err != nil {
			return err
		}
		var m Meta
		if err := decodeMeta(append([]byte(nil), rec...), &m); err != nil {
			return err
		}
		if e.Exists() || m.ExpireAt != 0 && m.ExpireAt <= tx.Now {
			return elems(nil)
		}
		if m.Type.IsCollection() {
			m.Version = tx.NewVersion(key)
			var ek []byte
			err := elems(func(kind byte, suffix, value []byte) error {
				ek = append(collectionPrefix(ek[:0], kind, tx.db, m.Version), suffix...)
				return tx.w.Set(ek, value, nil)
			})
			if err != nil {
				return err
			}
		}
		m.ModIndex = 0
		e.Meta = m
		n++
		return tx.Put(key, &e)
	})
	return n, err
}
