package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Chunked strings.
//
// A string of ChunkMin bytes or more is stored as element records under a version of its own,
// as a collection's elements are (E db version index → up to ChunkSize bytes, the index a
// 4-byte big-endian number), and its metadata record holds the version and the length with
// flagChunked instead of the value. One huge record made every layer below hold it whole and
// more than once: Pebble's flush of the memtable (the compaction iterator's copy, the block
// builder, the finished block, the compressed block) and every read (the value from the
// engine, then the reply). Chunks bound each of those to a chunk, and a reader can stream a
// value or read only the part it needs (GETRANGE).
//
// Because chunks are elements of a version, everything that handles collections handles them:
// DEL and an overwrite drop the version with one range deletion, RENAME moves only the
// metadata, FLUSHDB drops the database's ranges, and a slot's chunks sort under the slot.
//
// Inline strings stay readable whatever their size (the flag tells the two forms apart), so
// the data layout did not change. Writing chunks is an apply behaviour replicas must agree on:
// apply writes them only for operations of a cluster version that has them (Tx.ChunkStrings).
const (
	// ChunkMin is the length from which a string is stored in chunks: the size from which the
	// server already reads an argument into a buffer of its own (server/bigreq.go). Below it a
	// value costs little to copy and GET is one point lookup.
	ChunkMin = 1 << 20
	// ChunkSize is the size of a chunk (the last may be shorter): big enough that a 512 MB value is 2,048 records (one
	// seek, then sequential reads; per-record overhead is negligible), small enough that the
	// copies Pebble's flush and reads make of a record stay small next to the value.
	ChunkSize = 256 << 10
)

// ErrValueChanged is returned by reads of a chunked string whose chunks are gone from the
// reader's view: the key was overwritten or deleted after its metadata was read. Only readers
// of the live engine (point reads) can see it; they read the key again.
var ErrValueChanged = errors.New("keyspace: the value changed while it was read")

// chunkKey appends the key of chunk i of version.
func chunkKey(dst []byte, db byte, version uint64, i int) []byte {
	dst = ElemPrefix(dst, db, version)
	return binary.BigEndian.AppendUint32(dst, uint32(i))
}

// writeChunks writes value as the chunks of version.
func (tx *Tx) writeChunks(version uint64, value []byte) error {
	for i := 0; len(value) > 0; i++ {
		n := min(len(value), ChunkSize)
		tx.kb2 = chunkKey(tx.kb2[:0], tx.db, version, i)
		if err := tx.w.Set(tx.kb2, value[:n], nil); err != nil {
			return err
		}
		value = value[n:]
	}
	return nil
}

// LoadValue fills a chunked string's Value from its chunks (a no-op for any other entry). The
// value is a new buffer the entry owns.
func (tx *Tx) LoadValue(e *Entry) error {
	if e.Type != TypeString || !e.Chunked || e.Value != nil {
		return nil
	}
	v := make([]byte, 0, e.Count)
	err := tx.ReadChunks(&e.Meta, 0, e.Count, func(b []byte) error {
		v = append(v, b...)
		return nil
	})
	if err != nil {
		return err
	}
	e.Value = v
	return nil
}

// ReadChunks calls fn with the bytes [from, to) of the chunked string m, in order, a chunk at a
// time; the bytes are valid only during the call. Nothing is passed to fn if the chunks are
// gone from the reader's view (ErrValueChanged): the caller may retry from the start.
func (tx *Tx) ReadChunks(m *Meta, from, to int64, fn func([]byte) error) error {
	if from < 0 || to > m.Count || from >= to {
		return nil
	}
	// One iterator is one point in time of the reader: the chunks of a version are written
	// and dropped by one batch each, so it sees all of them or none.
	prefix := ElemPrefix(nil, tx.db, m.Version)
	first := int(from / ChunkSize)
	it, err := tx.r.NewIter(&pebble.IterOptions{
		LowerBound: chunkKey(nil, tx.db, m.Version, first),
		UpperBound: PrefixEnd(prefix),
	})
	if err != nil {
		return err
	}
	defer it.Close()
	pos := int64(first) * ChunkSize
	valid := it.First()
	if !valid {
		if err := it.Error(); err != nil {
			return err
		}
		return ErrValueChanged
	}
	for i := first; valid && pos < to; valid, i = it.Next(), i+1 {
		k := it.Key()
		if len(k) != len(prefix)+4 || int(binary.BigEndian.Uint32(k[len(prefix):])) != i {
			return fmt.Errorf("keyspace: chunked string of version %x lacks chunk %d", m.Version, i)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		lo, hi := max(from-pos, 0), min(to-pos, int64(len(v)))
		pos += int64(len(v))
		if lo < hi {
			if err := fn(v[lo:hi]); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if pos < to {
		return fmt.Errorf("keyspace: chunked string of version %x is %d bytes short", m.Version, to-pos)
	}
	return nil
}

// putString decides how Put stores a string: a chunked string whose value no write changed
// keeps its chunks; a value written anew goes to new chunks when it is big and the operation's
// cluster version allows them, inline otherwise.
func (tx *Tx) putString(key []byte, e *Entry) error {
	if e.Chunked {
		if e.Version == 0 {
			panic("keyspace: chunked string without a version")
		}
		return nil
	}
	e.Version, e.Count = 0, 0
	if len(e.Value) < ChunkMin || !tx.ChunkStrings {
		return nil
	}
	e.Version = tx.NewVersion(key)
	e.Count = int64(len(e.Value))
	e.Chunked = true
	return tx.writeChunks(e.Version, e.Value)
}
