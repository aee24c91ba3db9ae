package command

import (
	"math/rand/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Random elements of a collection (SPOP, SRANDMEMBER, HRANDFIELD).
//
// Elements are stored in byte order, not in a hash table, so there is no O(1) uniform pick. A
// collection of at most smallCollection records (and, for a set, that never held more) is read
// whole and sampled exactly uniformly. A larger one is sampled by seeking to a random key between its first and last element and taking
// the element at or after it: O(log n) per draw and no memory, but not exactly uniform — an
// element that follows a wide gap in key space is drawn more often than one in a dense run. The
// same holds for distinct draws, which fall back to reading everything only when they would
// return at least half the collection anyway.
//
// The random source is the command's: deterministic in apply (SPOP), so replicas pop the same
// members, and a local one for reads.

const smallCollection = 1024

// sample is one drawn element, copied out of the store.
type sample struct {
	elem, value []byte
}

// sampler draws elements of one collection version.
type sampler struct {
	tx      *keyspace.Tx
	key     []byte
	version uint64
	records int64 // element records, some possibly not live
	// span bounds the records the version's key range has held, deleted ones included: a
	// popped-down set still has its deleted members' tombstones until compaction, and reading
	// it whole would step over all of them.
	span int64
	// live filters records (expired hash fields); nil keeps every record.
	live func(raw []byte) bool
	// value, if set, extracts what to keep of a record's value (a hash field's value).
	value func(raw []byte) []byte
	rng   *rand.Rand

	it          *keyspace.ElemIter
	first, last []byte
}

func (s *sampler) close() error {
	if s.it == nil {
		return nil
	}
	err := s.it.Close()
	s.it = nil
	return err
}

// current copies the iterator's element, or reports that it is not live.
func (s *sampler) current(it *keyspace.ElemIter) (sample, bool, error) {
	raw, err := it.Value()
	if err != nil {
		return sample{}, false, err
	}
	if s.live != nil && !s.live(raw) {
		return sample{}, false, nil
	}
	out := sample{elem: append([]byte(nil), it.Elem()...)}
	if s.value != nil {
		out.value = append([]byte(nil), s.value(raw)...)
	}
	return out, true, nil
}

// all reads every live element.
func (s *sampler) all() ([]sample, error) {
	it, err := s.tx.Elems(s.key, s.version)
	if err != nil {
		return nil, err
	}
	out := make([]sample, 0, min(s.records, smallCollection))
	for valid := it.First(); valid; valid = it.Next() {
		smp, ok, err := s.current(it)
		if err != nil {
			it.Close()
			return nil, err
		}
		if ok {
			out = append(out, smp)
		}
	}
	return out, it.Close()
}

// open prepares random seeks: an iterator and the first and last elements.
func (s *sampler) open() error {
	if s.it != nil {
		return nil
	}
	it, err := s.tx.Elems(s.key, s.version)
	if err != nil {
		return err
	}
	s.it = it
	if it.First() {
		s.first = append([]byte(nil), it.Elem()...)
	}
	if it.Last() {
		s.last = append([]byte(nil), it.Elem()...)
	}
	return nil
}

// seekRandom draws one live element by a random seek; ok is false if none is live.
func (s *sampler) seekRandom() (sample, bool, error) {
	if err := s.open(); err != nil {
		return sample{}, false, err
	}
	it := s.it
	if !it.SeekGE(randomBetween(s.rng, s.first, s.last)) && !it.First() {
		return sample{}, false, nil
	}
	for n := int64(0); n <= s.records; n++ {
		smp, ok, err := s.current(it)
		if err != nil || ok {
			return smp, ok, err
		}
		if !it.Next() && !it.First() {
			break
		}
	}
	return sample{}, false, nil
}

// randomBetween returns a random key k with first <= k's prefix <= last: the bytes the two share,
// a random byte between theirs at the first difference, then 8 random bytes drawn from the range
// of byte values the two use at those positions. Drawing those from the alphabet the members use (digits,
// hex, letters) rather than from all 256 values spreads the seeks over the members: with all 256
// most seeks would fall past or before every member sharing the drawn prefix and land on the same
// few members, and SPOP, popping those, would pile its deleted records at the same spots for
// every later seek to step over.
func randomBetween(rng *rand.Rand, first, last []byte) []byte {
	p := 0
	for p < len(first) && p < len(last) && first[p] == last[p] {
		p++
	}
	if p == len(last) {
		return append([]byte(nil), first...)
	}
	lo := 0
	if p < len(first) {
		lo = int(first[p])
	}
	k := make([]byte, p, p+9)
	copy(k, first[:p])
	k = append(k, byte(lo+rng.IntN(int(last[p])-lo+1)))
	alo, ahi := 255, 0
	for _, tail := range [][]byte{first[min(p+1, len(first)):], last[p+1:]} {
		for _, b := range tail[:min(len(tail), 8)] { // the positions drawn, not a whole long member
			alo, ahi = min(alo, int(b)), max(ahi, int(b))
		}
	}
	if alo > ahi {
		alo, ahi = 0, 255
	}
	for range 8 {
		k = append(k, byte(alo+rng.IntN(ahi-alo+1)))
	}
	return k
}

// one draws one live element.
func (s *sampler) one() (sample, bool, error) {
	if max(s.records, s.span) > smallCollection {
		return s.seekRandom()
	}
	all, err := s.all()
	if err != nil || len(all) == 0 {
		return sample{}, false, err
	}
	return all[s.rng.IntN(len(all))], true, nil
}

// distinct draws k different live elements, k less than the live count n.
func (s *sampler) distinct(k, n int64) ([]sample, error) {
	if max(s.records, s.span) <= smallCollection || 2*k >= n {
		all, err := s.all()
		if err != nil {
			return nil, err
		}
		k = min(k, int64(len(all)))
		for i := int64(0); i < k; i++ { // a partial Fisher-Yates shuffle
			j := i + s.rng.Int64N(int64(len(all))-i)
			all[i], all[j] = all[j], all[i]
		}
		return all[:k], nil
	}
	out := make([]sample, 0, k)
	seen := make(map[string]bool, k)
	for tries := 0; int64(len(out)) < k && tries < int(8*k)+64; tries++ {
		smp, ok, err := s.seekRandom()
		if err != nil {
			return nil, err
		}
		if ok && !seen[string(smp.elem)] {
			seen[string(smp.elem)] = true
			out = append(out, smp)
		}
	}
	// Unlucky or skewed draws: take the elements that follow a random one in order.
	if int64(len(out)) < k {
		if err := s.open(); err != nil {
			return nil, err
		}
		it := s.it
		valid := it.SeekGE(randomBetween(s.rng, s.first, s.last)) || it.First()
		for n := int64(0); valid && int64(len(out)) < k && n <= s.records; n++ {
			if !seen[string(it.Elem())] {
				smp, ok, err := s.current(it)
				if err != nil {
					return nil, err
				}
				if ok {
					seen[string(smp.elem)] = true
					out = append(out, smp)
				}
			}
			valid = it.Next() || it.First()
		}
	}
	return out, nil
}

// repeated calls fn with k independent draws (so elements may repeat) until fn returns false.
func (s *sampler) repeated(k int64, fn func(sample) bool) error {
	if s.records <= smallCollection {
		all, err := s.all()
		if err != nil || len(all) == 0 {
			return err
		}
		for i := int64(0); i < k; i++ {
			if !fn(all[s.rng.IntN(len(all))]) {
				return nil
			}
		}
		return nil
	}
	for i := int64(0); i < k; i++ {
		smp, ok, err := s.seekRandom()
		if err != nil || !ok {
			return err
		}
		if !fn(smp) {
			return nil
		}
	}
	return nil
}

// setSampler draws members of a set.
func (c *Ctx) setSampler(s *keyspace.Set, key []byte) *sampler {
	return &sampler{tx: c.Tx, key: key, version: s.Version(), records: s.Len(), span: s.Peak(), rng: c.rng()}
}

// hashSampler draws live fields of a hash, with their values.
func (c *Ctx) hashSampler(h *keyspace.Hash, key []byte) *sampler {
	now := c.Now
	return &sampler{
		tx: c.Tx, key: key, version: h.Entry().Version, records: h.Records(), rng: c.rng(),
		live: func(raw []byte) bool {
			_, at, err := keyspace.DecodeFieldValue(raw)
			return err == nil && (at == 0 || at > now)
		},
		value: func(raw []byte) []byte {
			v, _, _ := keyspace.DecodeFieldValue(raw)
			return v
		},
	}
}
