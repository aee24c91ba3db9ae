package keyspace

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

var errRenameSelf = errors.New("keyspace: rename of a key onto itself")

// Rename moves the live value at src (looked up as se) to dst (looked up as de), replacing what
// dst held. Both keys are in the Tx's database. Only the metadata moves: element records are
// named by version, not by key, so a collection of any size renames in O(1). The expiry moves
// with the value. Afterwards se is empty and de describes the moved record.
//
// Both entries must come from Lookup, not Peek, whose buffers the writes reuse.
func (tx *Tx) Rename(src []byte, se *Entry, dst []byte, de *Entry) error {
	if string(src) == string(dst) {
		return errRenameSelf
	}
	m := se.Meta
	if err := tx.deleteMeta(src, se); err != nil {
		return err
	}
	tx.modified(src)
	de.Meta = m
	return tx.Put(dst, de)
}

// CopyElements copies the element records of version from in database fromDB to version to in
// database toDB: the E records of every collection, the Z records of a sorted set, and the
// field-time records of a hash. The Tx's own database is not used. Collections that need copying
// (COPY, MOVE to another database) get a new version, so the copy never shares records with the
// original.
//
// It costs one write per record; the copy is as large as the collection.
func (tx *Tx) CopyElements(t Type, fromDB byte, from uint64, toDB byte, to uint64) error {
	if err := tx.copyRange(prefixElem, fromDB, from, toDB, to); err != nil {
		return err
	}
	if t == TypeZSet {
		return tx.copyRange(prefixScore, fromDB, from, toDB, to)
	}
	if t == TypeHash {
		return tx.copyRange(prefixFieldTime, fromDB, from, toDB, to)
	}
	return nil
}

func (tx *Tx) copyRange(kind, fromDB byte, from uint64, toDB byte, to uint64) error {
	src := collectionPrefix(nil, kind, fromDB, from)
	// An iterator over an indexed batch sees the batch as it was when opened, so the writes
	// below (under another prefix anyway) do not disturb it.
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: src, UpperBound: PrefixEnd(src)})
	if err != nil {
		return err
	}
	dst := collectionPrefix(nil, kind, toDB, to)
	n := len(dst)
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		dst = append(dst[:n], it.Key()[len(src):]...)
		if err := tx.w.Set(dst, v, nil); err != nil {
			it.Close()
			return err
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}
