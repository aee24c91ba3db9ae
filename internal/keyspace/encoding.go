package keyspace

import (
	"encoding/binary"
	"math"

	"github.com/cairn-db/cairn/internal/slot"
)

// Key prefixes of the record kinds.
const (
	prefixSystem = 0x00
	prefixMeta   = 'M'
	prefixElem   = 'E'
	prefixScore  = 'Z'
	prefixExpire = 'X'
	// Hash field expiry: FieldTime orders one hash's volatile fields by expiry; FieldExpire is
	// the keyspace-wide index of hashes by their earliest field expiry, read by the sweeper.
	prefixFieldTime   = 'T'
	prefixFieldExpire = 'F'
)

// MetaKey appends the metadata key of (db, key) to dst: the key's hash slot comes before the key,
// so the keys of one slot are contiguous within a database.
func MetaKey(dst []byte, db byte, key []byte) []byte {
	s := slot.KeySlot(key)
	dst = append(dst, prefixMeta, db, byte(s>>8), byte(s))
	return append(dst, key...)
}

// metaKeyLen is the length of a metadata key's header: kind, database, slot.
const metaKeyLen = 4

// MetaPrefix is the prefix of every metadata key of db.
func MetaPrefix(db byte) []byte { return []byte{prefixMeta, db} }

// MetaSlotPrefix appends the prefix of the metadata keys of one slot of db.
func MetaSlotPrefix(dst []byte, db byte, s int) []byte {
	return append(dst, prefixMeta, db, byte(s>>8), byte(s))
}

// UserKey returns the user key of a metadata key.
func UserKey(metaKey []byte) []byte { return metaKey[metaKeyLen:] }

// A collection's version is unique within its shard and carries the hash slot of the key that
// created it in its top 16 bits, above a 48-bit counter. Element records begin with the version,
// so they sort by slot like metadata records do, and one slot's records can be iterated, copied
// or dropped without looking at any other slot's.
const versionCounterBits = 48

// VersionOf is the version made of a slot and a counter value.
func VersionOf(s int, counter uint64) uint64 {
	return uint64(s)<<versionCounterBits | counter&(1<<versionCounterBits-1)
}

// VersionSlot is the hash slot a version was created in.
func VersionSlot(version uint64) int { return int(version >> versionCounterBits) }

// ElemPrefix appends the prefix of every element of one version of a collection. Versions are
// unique across the keyspace, so the user key need not be part of element keys: that keeps them
// short and makes RENAME O(1) — the metadata moves, the elements stay.
func ElemPrefix(dst []byte, db byte, version uint64) []byte {
	return collectionPrefix(dst, prefixElem, db, version)
}

// ScorePrefix appends the prefix of the score-ordered entries of a sorted set.
func ScorePrefix(dst []byte, db byte, version uint64) []byte {
	return collectionPrefix(dst, prefixScore, db, version)
}

func collectionPrefix(dst []byte, kind, db byte, version uint64) []byte {
	dst = append(dst, kind, db)
	return binary.BigEndian.AppendUint64(dst, version)
}

// ExpireKey appends the expiry index key of (db, key) expiring at ms.
func ExpireKey(dst []byte, at int64, db byte, key []byte) []byte {
	dst = append(dst, prefixExpire)
	dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	dst = append(dst, db)
	return append(dst, key...)
}

// ParseExpireKey splits an expiry index key.
func ParseExpireKey(k []byte) (at int64, db byte, key []byte, ok bool) {
	if len(k) < 10 || k[0] != prefixExpire {
		return 0, 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k[1:9])), k[9], k[10:], true
}

// FieldTimePrefix appends the prefix of the field expiry order of one version of a hash.
func FieldTimePrefix(dst []byte, db byte, version uint64) []byte {
	return collectionPrefix(dst, prefixFieldTime, db, version)
}

// FieldExpireKey appends the key of the field expiry index entry of the hash (db, key), whose
// earliest field expires at ms.
func FieldExpireKey(dst []byte, at int64, db byte, key []byte) []byte {
	dst = append(dst, prefixFieldExpire)
	dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	dst = append(dst, db)
	return append(dst, key...)
}

// ParseFieldExpireKey splits a field expiry index key.
func ParseFieldExpireKey(k []byte) (at int64, db byte, key []byte, ok bool) {
	if len(k) < 10 || k[0] != prefixFieldExpire {
		return 0, 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k[1:9])), k[9], k[10:], true
}

// FieldExpirePrefix is the prefix of the field expiry index.
func FieldExpirePrefix() []byte { return []byte{prefixFieldExpire} }

// ExpirePrefix is the prefix of the expiry index.
func ExpirePrefix() []byte { return []byte{prefixExpire} }

// SystemKey is the key of a system record.
func SystemKey(name string) []byte { return append([]byte{prefixSystem}, name...) }

// PrefixEnd returns the smallest key greater than every key with the given prefix, or nil if
// there is none (the prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// EncodeScore encodes a float64 so that byte order is numeric order (negative zero sorts with
// zero; NaN never reaches here).
func EncodeScore(dst []byte, f float64) []byte {
	if f == 0 {
		f = 0 // fold -0 into +0
	}
	u := math.Float64bits(f)
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, u)
}

// DecodeScore reverses EncodeScore.
func DecodeScore(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}

// SlotKinds are the record kinds whose keys sort by database, then slot (the top bits of an
// element record's version are its slot): slots [a, b) of db are, for each kind k, the keys from
// SlotBound(k, db, a) up to SlotBound(k, db, b).
var SlotKinds = [...]byte{prefixMeta, prefixElem, prefixScore, prefixFieldTime}

// SlotBound is the first key of slot s of db among the records of kind k (one of SlotKinds).
// s may be slot.Count, for the bound past the last slot.
func SlotBound(k, db byte, s int) []byte { return []byte{k, db, byte(s >> 8), byte(s)} }
