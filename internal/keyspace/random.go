package keyspace

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// RandomKey returns a live key of the Tx's database picked with seed (the caller draws it, so
// this package stays deterministic), or nil when the database holds no live key.
//
// It walks down the key space as down a trie: at each step it finds the first and last key
// under the prefix chosen so far, picks a byte between their first differing bytes and seeks to
// the first key at or after it, until one key is left; then it steps on by a random number of
// live keys, wrapping around. That costs two seeks per byte of key and at most randomStride
// steps instead of a walk over the database, but it is not uniform: keys in a sparse part of the
// key space are picked more often than keys in a dense one. Expired keys are stepped over, so a
// database full of them, until the sweeper reclaims them, costs a longer walk.
func (tx *Tx) RandomKey(seed uint64) ([]byte, error) {
	lower := MetaPrefix(tx.db)
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: PrefixEnd(lower)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.First() {
		return nil, it.Error()
	}
	lo := append([]byte(nil), it.Key()...)
	if !it.Last() {
		return nil, it.Error()
	}
	hi := append([]byte(nil), it.Key()...)
	rng := splitMix{seed}
	for !bytes.Equal(lo, hi) {
		// lo < hi: they differ at p, or lo ends there (lo is a prefix of hi, and itself a key,
		// which the walk picks as the byte "-1").
		p := commonPrefix(lo, hi)
		first := -1
		if p < len(lo) {
			first = int(lo[p])
		}
		c := first + int(rng.next()%uint64(int(hi[p])-first+1))
		if c < 0 {
			break
		}
		if !it.SeekGE(append(lo[:p:p], byte(c))) {
			return nil, it.Error() // cannot happen: hi is at or after the target
		}
		lo = append(lo[:0], it.Key()...)
		valid := false
		if end := PrefixEnd(lo[:p+1]); end != nil {
			valid = it.SeekLT(end)
		} else {
			valid = it.Last()
		}
		if !valid {
			return nil, it.Error()
		}
		hi = append(hi[:0], it.Key()...)
	}
	// Step on by a random number of live keys: a key alone under its branch would otherwise be
	// picked as often as a whole dense branch beside it; this spreads its share over the keys
	// that follow.
	skip := int(rng.next() % randomStride)
	var seen [][]byte
	for pass := 0; pass < 2; pass++ {
		valid := it.SeekGE(lo)
		if pass == 1 {
			valid = it.First()
		}
		for ; valid && (pass == 0 || bytes.Compare(it.Key(), lo) < 0); valid = it.Next() {
			key, live, err := tx.liveAt(it)
			if err != nil {
				return nil, err
			}
			if !live {
				continue
			}
			if len(seen) == skip {
				return key, nil
			}
			seen = append(seen, key)
		}
		if err := it.Error(); err != nil {
			return nil, err
		}
	}
	// Fewer live keys than the stride: all of them were seen.
	if len(seen) == 0 {
		return nil, nil
	}
	return seen[skip%len(seen)], nil
}

// randomStride bounds how many live keys RandomKey steps past the one its walk lands on.
const randomStride = 64

// liveAt reports whether the metadata record under it is live, returning a copy of its user key
// if so.
func (tx *Tx) liveAt(it *pebble.Iterator) ([]byte, bool, error) {
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, false, err
	}
	_, exp, ok := metaHeader(v)
	if !ok {
		return nil, false, errCorrupt
	}
	if exp != 0 && exp <= tx.Now {
		return nil, false, nil
	}
	return append([]byte(nil), UserKey(it.Key())...), true, nil
}

func commonPrefix(a, b []byte) int {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	return p
}

// splitMix is SplitMix64: a seed stretched into a stream of well-mixed numbers.
type splitMix struct{ s uint64 }

func (r *splitMix) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}
