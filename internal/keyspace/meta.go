package keyspace

import (
	"encoding/binary"
	"errors"
)

// Type is the type of the value at a key.
type Type byte

// The types, numbered as on disk; never renumber.
const (
	TypeNone   Type = 0
	TypeString Type = 1
	TypeList   Type = 2
	TypeSet    Type = 3
	TypeZSet   Type = 4
	TypeHash   Type = 5
	TypeStream Type = 6
)

// String is the name TYPE replies with.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	case TypeStream:
		return "stream"
	}
	return "none"
}

// ParseType parses a type name as SCAN's TYPE option does.
func ParseType(name string) (Type, bool) {
	for t := TypeString; t <= TypeStream; t++ {
		if t.String() == name {
			return t, true
		}
	}
	return TypeNone, false
}

// IsCollection reports whether values of t live in element records.
func (t Type) IsCollection() bool { return t >= TypeList && t <= TypeStream }

const (
	flagExpire = 1 << 0
	flagMod    = 1 << 1
	// flagChunked marks a string whose value is in element records (chunks.go) rather than
	// inline; the record holds the chunks' version and the value's length instead.
	flagChunked = 1 << 2
)

// Meta is the metadata record of a key.
type Meta struct {
	Type     Type
	ExpireAt int64 // Unix ms; 0 means no expiry
	// Version names a collection's element records; a collection recreated at the same key gets
	// a new version so stale elements can never reappear.
	Version uint64
	// Count is a collection's number of elements.
	Count int64
	// Extra is per-type state of a collection (a list's head position, for instance).
	Extra []byte
	// Value is a string's value. A chunked string's value is not read with its metadata: Value
	// is nil until Tx.LoadValue fills it.
	Value []byte
	// Chunked says a string's value is in element records under Version, Count bytes long
	// (chunks.go). A write that changes the value clears it (and Version); Put then stores the
	// value inline or in new chunks.
	Chunked bool
	// ModIndex is the log index of the operation that last changed the key, so WATCH can be
	// checked at apply time by every replica alike.
	ModIndex uint64
}

var errCorrupt = errors.New("keyspace: corrupt metadata record")

// HasElems reports whether the value lives in element records: a collection's, or a chunked
// string's.
func (m *Meta) HasElems() bool {
	return m.Type.IsCollection() || m.Type == TypeString && m.Chunked
}

// StrLen is a string's length, without reading a chunked string's value.
func (m *Meta) StrLen() int64 {
	if m.Chunked {
		return m.Count
	}
	return int64(len(m.Value))
}

// appendMeta encodes m.
func appendMeta(dst []byte, m *Meta) []byte {
	flags := byte(0)
	if m.ExpireAt != 0 {
		flags |= flagExpire
	}
	if m.ModIndex != 0 {
		flags |= flagMod
	}
	chunked := m.Type == TypeString && m.Chunked
	if chunked {
		flags |= flagChunked
	}
	dst = append(dst, byte(m.Type), flags)
	if m.ExpireAt != 0 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(m.ExpireAt))
	}
	if m.ModIndex != 0 {
		dst = binary.BigEndian.AppendUint64(dst, m.ModIndex)
	}
	if chunked {
		dst = binary.BigEndian.AppendUint64(dst, m.Version)
		return binary.BigEndian.AppendUint64(dst, uint64(m.Count))
	}
	if m.Type == TypeString {
		return append(dst, m.Value...)
	}
	dst = binary.BigEndian.AppendUint64(dst, m.Version)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Count))
	return append(dst, m.Extra...)
}

// decodeMeta decodes b into m. Value and Extra alias b.
func decodeMeta(b []byte, m *Meta) error {
	if len(b) < 2 {
		return errCorrupt
	}
	m.Type = Type(b[0])
	flags := b[1]
	b = b[2:]
	m.ExpireAt = 0
	if flags&flagExpire != 0 {
		if len(b) < 8 {
			return errCorrupt
		}
		m.ExpireAt = int64(binary.BigEndian.Uint64(b))
		b = b[8:]
	}
	m.ModIndex = 0
	if flags&flagMod != 0 {
		if len(b) < 8 {
			return errCorrupt
		}
		m.ModIndex = binary.BigEndian.Uint64(b)
		b = b[8:]
	}
	m.Chunked = false
	if m.Type == TypeString && flags&flagChunked != 0 {
		if len(b) != 16 {
			return errCorrupt
		}
		m.Version = binary.BigEndian.Uint64(b)
		m.Count = int64(binary.BigEndian.Uint64(b[8:]))
		m.Chunked, m.Value, m.Extra = true, nil, nil
		return nil
	}
	if m.Type == TypeString {
		m.Value = b
		m.Version, m.Count, m.Extra = 0, 0, nil
		return nil
	}
	if len(b) < 16 {
		return errCorrupt
	}
	m.Version = binary.BigEndian.Uint64(b)
	m.Count = int64(binary.BigEndian.Uint64(b[8:]))
	m.Extra = b[16:]
	m.Value = nil
	return nil
}

// metaHeader decodes only the type and expiry, for scans.
func metaHeader(b []byte) (Type, int64, bool) {
	if len(b) < 2 {
		return TypeNone, 0, false
	}
	if b[1]&flagExpire != 0 {
		if len(b) < 10 {
			return TypeNone, 0, false
		}
		return Type(b[0]), int64(binary.BigEndian.Uint64(b[2:])), true
	}
	return Type(b[0]), 0, true
}
