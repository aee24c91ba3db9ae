package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// MEMORY USAGE key [SAMPLES count]. Redis reports the bytes its in-memory objects take; cairn
// keeps keys on disk, so it reports the bytes of the key's records as cairn stores them: the
// metadata record (key and value), the expiry index entry, and the element records of a
// collection (sorted sets keep two per member), before the storage engine's compression. As in
// Redis, a collection's elements are sampled: the first count of them (5 by default, 0 for all)
// are measured and the average stands for the rest.

func init() {
	Register(&Command{Name: "memory|usage", Run: runMemoryUsage})
}

const memoryDefaultSamples = 5

func runMemoryUsage(c *Ctx) {
	samples := int64(memoryDefaultSamples)
	for i := 3; i < len(c.Args); i++ {
		if !EqualFold(c.Args[i], "samples") || i+1 >= len(c.Args) {
			c.Syntax()
			return
		}
		n, ok := ParseInt(c.Args[i+1])
		if !ok {
			c.Err(ErrNotInt)
			return
		}
		if n < 0 {
			c.Syntax()
			return
		}
		if n == 0 {
			n = math.MaxInt64
		}
		samples = n
		i++
	}
	e, ok := c.lookup(c.Args[2])
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	size, err := c.recordBytes(c.Args[2], &e, samples)
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(size)
}

// recordBytes estimates the stored size of key's records.
func (c *Ctx) recordBytes(key []byte, e *keyspace.Entry, samples int64) (int64, error) {
	// The metadata record: M db key -> type, flags, expiry, log index, then the string's value
	// or the collection's version, count and extra state.
	meta := int64(2+len(key)) + 2
	if e.ExpireAt != 0 {
		meta += 8
		meta += int64(1 + 8 + 1 + len(key)) // the expiry index entry
	}
	if e.ModIndex != 0 {
		meta += 8
	}
	if e.Type == keyspace.TypeString && e.Chunked {
		// The version and length, then each chunk's record: E db version index -> bytes.
		chunks := (e.Count + keyspace.ChunkSize - 1) / keyspace.ChunkSize
		return meta + 16 + e.Count + chunks*(2+8+4), nil
	}
	if e.Type == keyspace.TypeString {
		return meta + int64(len(e.Value)), nil
	}
	meta += 16 + int64(len(e.Extra))
	if e.Count <= 0 {
		return meta, nil
	}
	elems, err := c.sampleElemBytes(key, e, samples)
	return meta + elems, err
}

// sampleElemBytes measures up to samples element records of the collection e and scales the
// average to all of them.
func (c *Ctx) sampleElemBytes(key []byte, e *keyspace.Entry, samples int64) (int64, error) {
	it, err := c.Tx.Elems(key, e.Version)
	if err != nil {
		return 0, err
	}
	prefix := int64(len(keyspace.ElemPrefix(nil, c.Tx.DB(), e.Version)))
	var n, total int64
	for ok := it.First(); ok && n < samples; ok = it.Next() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return 0, err
		}
		rec := prefix + int64(len(it.Elem())) + int64(len(v))
		if e.Type == keyspace.TypeZSet {
			// The score-order record: Z db version score member -> empty.
			rec += prefix + 8 + int64(len(it.Elem()))
		}
		total += rec
		n++
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if n >= e.Count {
		return total, nil
	}
	return int64(float64(total) / float64(n) * float64(e.Count)), nil
}
