package command

import (
	"strconv"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// OBJECT ENCODING for hashes and sets. Cairn stores every collection the same way (one record
// per element); the names answer what Redis would use for a collection with the same history, so
// tools that probe them keep working. Redis never converts a collection back to a smaller
// encoding, so the answer depends on the most elements and the longest element the collection
// ever held, which its metadata records (keyspace.HashStats, keyspace.SetStats), and on the
// thresholds configured now.

// EncodingLimits are Redis's encoding thresholds, which CONFIG SET may change while commands read
// them.
type EncodingLimits struct {
	HashMaxListpackEntries, HashMaxListpackValue                    atomic.Int64
	SetMaxIntsetEntries, SetMaxListpackEntries, SetMaxListpackValue atomic.Int64
	ZsetMaxListpackEntries, ZsetMaxListpackValue                    atomic.Int64
	// HLLSparseMaxBytes is hll-sparse-max-bytes: past it a HyperLogLog turns dense (hll.go).
	HLLSparseMaxBytes atomic.Int64
}

// NewEncodingLimits returns Redis's defaults.
func NewEncodingLimits() *EncodingLimits {
	l := &EncodingLimits{}
	l.HashMaxListpackEntries.Store(128)
	l.HashMaxListpackValue.Store(64)
	l.SetMaxIntsetEntries.Store(512)
	l.SetMaxListpackEntries.Store(128)
	l.SetMaxListpackValue.Store(64)
	l.ZsetMaxListpackEntries.Store(128)
	l.ZsetMaxListpackValue.Store(64)
	l.HLLSparseMaxBytes.Store(3000)
	return l
}

var defaultEncodingLimits = NewEncodingLimits()

// Set updates a threshold by its redis.conf name; unknown names are ignored.
func (l *EncodingLimits) Set(name, value string) {
	v, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return
	}
	switch name {
	case "hash-max-listpack-entries":
		l.HashMaxListpackEntries.Store(v)
	case "hash-max-listpack-value":
		l.HashMaxListpackValue.Store(v)
	case "set-max-intset-entries":
		l.SetMaxIntsetEntries.Store(v)
	case "set-max-listpack-entries":
		l.SetMaxListpackEntries.Store(v)
	case "set-max-listpack-value":
		l.SetMaxListpackValue.Store(v)
	case "zset-max-listpack-entries":
		l.ZsetMaxListpackEntries.Store(v)
	case "zset-max-listpack-value":
		l.ZsetMaxListpackValue.Store(v)
	case "hll-sparse-max-bytes":
		l.HLLSparseMaxBytes.Store(v)
	}
}

// EncodingParams are the configuration parameters EncodingLimits mirrors.
var EncodingParams = []string{"hash-max-listpack-entries", "hash-max-listpack-value",
	"set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
	"zset-max-listpack-entries", "zset-max-listpack-value", "hll-sparse-max-bytes"}

func (c *Ctx) encodingLimits() *EncodingLimits {
	if c.Limits != nil && c.Limits.Encodings != nil {
		return c.Limits.Encodings
	}
	return defaultEncodingLimits
}

// collectionEncoding is the encoding OBJECT ENCODING reports for a hash or a set, "" for other
// types.
func (c *Ctx) collectionEncoding(e *keyspace.Entry) string {
	l := c.encodingLimits()
	switch e.Type {
	case keyspace.TypeHash:
		return hashEncoding(keyspace.HashStatsOf(&e.Meta), l)
	case keyspace.TypeSet:
		return setEncoding(keyspace.SetStatsOf(&e.Meta), l)
	}
	return ""
}

// hashEncoding follows Redis 8: a listpack until it holds more than hash-max-listpack-entries
// fields or a field or value longer than hash-max-listpack-value bytes, then a hashtable; a
// listpack that was ever given a field expiry is a "listpackex".
func hashEncoding(st keyspace.HashStats, l *EncodingLimits) string {
	switch {
	case st.Peak > l.HashMaxListpackEntries.Load() || st.Longest > l.HashMaxListpackValue.Load():
		return "hashtable"
	case st.Volatile:
		return "listpackex"
	}
	return "listpack"
}

// setEncoding follows Redis 7.2+: an intset while every member is an integer and there are at
// most set-max-intset-entries; then a listpack while there are at most set-max-listpack-entries
// members none longer than set-max-listpack-value; then a hashtable.
func setEncoding(st keyspace.SetStats, l *EncodingLimits) string {
	switch {
	case st.IntPeak > l.SetMaxIntsetEntries.Load():
		return "hashtable"
	case !st.NonInt:
		return "intset"
	case st.Peak > l.SetMaxListpackEntries.Load() || st.Longest > l.SetMaxListpackValue.Load():
		return "hashtable"
	}
	return "listpack"
}
