package search

import (
	"encoding/binary"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Prefix is the first byte of every search record.
const Prefix = 'I'

// Record kinds under an index ID.
const (
	kindDef      = 'd'
	kindAlias    = 'a'
	kindCount    = 'c'
	kindDoc      = 'k'
	kindTag      = 't'
	kindNum      = 'n'
	kindGeo      = 'g'
	kindTerm     = 'w'
	kindDocCount = 'N'
	kindVolatile = 'x'
)

func idPrefix(dst []byte, id uint32) []byte {
	dst = append(dst, Prefix)
	return binary.BigEndian.AppendUint32(dst, id)
}

func defKey(name string) []byte { return append(idPrefix(nil, 0), append([]byte{kindDef}, name...)...) }
func aliasKey(name string) []byte {
	return append(idPrefix(nil, 0), append([]byte{kindAlias}, name...)...)
}
func countKey() []byte { return append(idPrefix(nil, 0), kindCount) }

func docKey(dst []byte, id uint32, key []byte) []byte {
	dst = append(idPrefix(dst, id), kindDoc)
	return append(dst, key...)
}

func docPrefix(id uint32) []byte { return append(idPrefix(nil, id), kindDoc) }

// appendEscaped appends b so that the result sorts like b and ends unambiguously: 0x00 becomes
// 0x00 0xff, and 0x00 0x01 terminates.
func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, c)
		if c == 0 {
			dst = append(dst, 0xff)
		}
	}
	return append(dst, 0, 1)
}

// splitEscaped reads an escaped value from the start of b, returning it and the rest.
func splitEscaped(b []byte) (val, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			val = append(val, b[i])
			continue
		}
		switch b[i+1] {
		case 0xff:
			val = append(val, 0)
			i++
		case 1:
			return val, b[i+2:], true
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// valuePrefix is the prefix of the entries of one value (tag or term) of a field.
func valuePrefix(dst []byte, id uint32, kind byte, field int, value []byte) []byte {
	dst = append(idPrefix(dst, id), kind, byte(field))
	return appendEscaped(dst, value)
}

// valueOpenPrefix is the prefix of the entries of every value starting with p: p escaped
// without its terminator.
func valueOpenPrefix(id uint32, kind byte, field int, p []byte) []byte {
	k := valuePrefix(nil, id, kind, field, p)
	return k[:len(k)-2]
}

func fieldPrefix(id uint32, kind byte, field int) []byte {
	return append(idPrefix(nil, id), kind, byte(field))
}

func numKey(dst []byte, id uint32, field int, v float64, key []byte) []byte {
	dst = append(idPrefix(dst, id), kindNum, byte(field))
	dst = keyspace.EncodeScore(dst, v)
	return append(dst, key...)
}

// geoKey is a GEO field's entry: the point's 52-bit geohash, big-endian, so the entries of one
// geohash cell are one key range.
func geoKey(dst []byte, id uint32, field int, hash uint64, key []byte) []byte {
	dst = append(idPrefix(dst, id), kindGeo, byte(field))
	dst = binary.BigEndian.AppendUint64(dst, hash)
	return append(dst, key...)
}
