package keyspace

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Streams.
//
// A stream is a collection (Meta.Type TypeStream) whose Meta.Count is its number of entries and
// whose Meta.Extra holds the stream-wide state:
//
//	last-id(16) first-id(16) max-deleted-id(16) entries-added(8) groups(8)
//
// Everything else is element records of the stream's version, told apart by a sub-prefix byte
// after the version so that each kind is a contiguous, ordered range:
//
//	'e' id(16)                                 an entry: its field-value pairs
//	'g' group                                  a consumer group: last-delivered-id, entries-read,
//	                                           pending count, consumer count
//	'c' len(group) group consumer              a consumer: seen-time, active-time, pending count
//	'p' len(group) group id(16)                a group's pending entry (PEL): delivery time,
//	                                           delivery count, owning consumer
//	'q' len(group) group len(consumer) consumer id(16)
//	                                           the same entry in its consumer's PEL (empty value)
//
// IDs are 16 bytes big-endian (ms, seq), so byte order is ID order: a range of entries, a range of
// a PEL and a consumer's PEL are each one seek and a bounded scan, and nothing is ever loaded
// whole. Appending is one write plus the metadata; deleting the stream or a group is a few
// range deletions. Group and consumer names sort bytewise, as in Redis's radix trees, which is the
// order XINFO lists them in. Unlike other collections, a stream is not deleted when it empties.

// Element sub-prefixes.
const (
	streamEntry    = 'e'
	streamGroup    = 'g'
	streamConsumer = 'c'
	streamPEL      = 'p'
	streamCPEL     = 'q'
)

const streamExtraLen = 16*3 + 8 + 8

var errCorruptStream = errors.New("keyspace: corrupt stream record")

// streamState is a stream's Meta.Extra, decoded.
type streamState struct {
	last, first, maxDeleted StreamID
	entriesAdded            uint64
	groups                  int64
}

func decodeStreamState(b []byte) (streamState, error) {
	var st streamState
	if len(b) == 0 {
		return st, nil // a stream written without state (tests that fake one)
	}
	if len(b) != streamExtraLen {
		return st, errCorruptStream
	}
	st.last = decodeStreamID(b)
	st.first = decodeStreamID(b[16:])
	st.maxDeleted = decodeStreamID(b[32:])
	st.entriesAdded = binary.BigEndian.Uint64(b[48:])
	st.groups = int64(binary.BigEndian.Uint64(b[56:]))
	return st, nil
}

func (st *streamState) append(dst []byte) []byte {
	dst = st.last.AppendKey(dst)
	dst = st.first.AppendKey(dst)
	dst = st.maxDeleted.AppendKey(dst)
	dst = binary.BigEndian.AppendUint64(dst, st.entriesAdded)
	return binary.BigEndian.AppendUint64(dst, uint64(st.groups))
}

// Stream is one command's handle on the stream at a key. Changes to entries and PELs are written
// to the batch as they are made; groups and consumers read through the handle are cached in it
// and written back, with the metadata, by Save, which must be called after any change.
type Stream struct {
	tx      *Tx
	key     []byte
	e       Entry
	st      streamState
	dirty   bool
	groups  map[string]*StreamGroup
	members map[string]*StreamConsumer
	kbuf    []byte
	vbuf    []byte
}

// OpenStream reads the metadata at key. The stream need not exist (Exists) and the key may hold
// another type (WrongType).
func (tx *Tx) OpenStream(key []byte) (*Stream, error) {
	s := &Stream{tx: tx, key: key}
	e, err := tx.Lookup(key)
	if err != nil {
		return nil, err
	}
	s.e = e
	if e.Type == TypeStream {
		if s.st, err = decodeStreamState(e.Extra); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Exists reports whether a stream is at the key.
func (s *Stream) Exists() bool { return s.e.Type == TypeStream }

// WrongType reports whether the key holds a value of another type.
func (s *Stream) WrongType() bool { return s.e.Type != TypeNone && s.e.Type != TypeStream }

// Create makes the handle a new, empty stream.
func (s *Stream) Create() {
	s.e.Type = TypeStream
	s.e.Version = s.tx.NewVersion(s.key)
	s.e.Count, s.e.ExpireAt = 0, 0
	s.st = streamState{}
	s.dirty = true
}

// Len is the number of entries.
func (s *Stream) Len() int64 { return s.e.Count }

// LastID is the ID of the last entry ever added (or set by XSETID).
func (s *Stream) LastID() StreamID { return s.st.last }

// FirstID is the ID of the first entry, 0-0 when empty.
func (s *Stream) FirstID() StreamID { return s.st.first }

// MaxDeletedID is the largest ID deleted by XDEL (not by trimming).
func (s *Stream) MaxDeletedID() StreamID { return s.st.maxDeleted }

// EntriesAdded counts every entry ever added.
func (s *Stream) EntriesAdded() uint64 { return s.st.entriesAdded }

// GroupCount is the number of consumer groups.
func (s *Stream) GroupCount() int64 { return s.st.groups }

// SetState changes the stream-wide counters, as XSETID does.
func (s *Stream) SetState(last StreamID, entriesAdded uint64, maxDeleted StreamID) {
	s.st.last, s.st.entriesAdded, s.st.maxDeleted = last, entriesAdded, maxDeleted
	s.dirty = true
}

// Save writes back what changed: cached groups and consumers, and the metadata.
func (s *Stream) Save() error {
	for _, g := range s.groups {
		if g.dirty {
			if err := s.writeGroup(g); err != nil {
				return err
			}
		}
	}
	for _, c := range s.members {
		if c.dirty {
			if err := s.writeConsumer(c); err != nil {
				return err
			}
		}
	}
	if !s.dirty {
		return nil
	}
	s.e.Extra = s.st.append(make([]byte, 0, streamExtraLen))
	s.dirty = false
	return s.tx.Put(s.key, &s.e)
}

// Touch marks the stream modified without a change of its own, so WATCH and blocked readers see
// changes that live in element records only.
func (s *Stream) Touch() { s.dirty = true }

// elem builds the element key of a sub-record in s.kbuf.
func (s *Stream) elem(kind byte, parts ...[]byte) []byte {
	s.kbuf = ElemPrefix(s.kbuf[:0], s.tx.db, s.e.Version)
	s.kbuf = append(s.kbuf, kind)
	for _, p := range parts {
		s.kbuf = append(s.kbuf, p...)
	}
	return s.kbuf
}

// prefix returns a fresh copy of an element key prefix.
func (s *Stream) prefix(kind byte, parts ...[]byte) []byte {
	return append([]byte(nil), s.elem(kind, parts...)...)
}

func lenPrefixed(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func idKey(id StreamID) []byte { return id.AppendKey(make([]byte, 0, 16)) }

func (s *Stream) get(k []byte) ([]byte, bool, error) {
	v, closer, err := s.tx.r.Get(k)
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// scan visits the records whose keys lie in [lo, hi) in order (reverse: backwards), passing the
// key suffix after skip bytes and the value, both valid until fn returns.
func (s *Stream) scan(lo, hi []byte, skip int, reverse bool, fn func(k, v []byte) (bool, error)) error {
	it, err := s.tx.r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	valid := it.First()
	if reverse {
		valid = it.Last()
	}
	for ; valid; valid = stepIter(it, reverse) {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		more, err := fn(it.Key()[skip:], v)
		if err != nil {
			it.Close()
			return err
		}
		if !more {
			break
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}
