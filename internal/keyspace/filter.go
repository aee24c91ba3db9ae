package keyspace

import (
	"math/bits"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/zeebo/xxh3"
)

// KeyFilter is a Bloom filter over every metadata key in the engine, kept in memory, so that a
// lookup of a key that does not exist — a write creating a key, a GET that misses — is answered
// without searching the LSM tree, which for an absent key means every memtable and a filter probe
// per level. About 10 bits per key (1.25 MB per million keys), a false positive rate near 1%.
//
// Keys are added by apply before the batch that creates them commits, so a key is never visible
// in the engine before it is in the filter. Bits are never cleared: deleted keys stay as false
// positives until the filter is rebuilt, which happens when it has taken as many keys as it was
// sized for (a rebuild sizes it for four times the keys there are). The filter is an
// optimization: a false positive costs a lookup, and it never says no to a key that exists.
type KeyFilter struct {
	blocks []filterBlock
	added  atomic.Int64
	sized  int64 // keys it was sized for
}

// A block is one 64-byte cache line: every probe for a key touches one line.
type filterBlock [8]atomic.Uint64

const (
	filterBitsPerKey = 10
	filterProbes     = 7
	filterMinKeys    = 1 << 20 // 1.25 MB: cheap enough never to be the reason for a rebuild
)

// NewKeyFilter returns an empty filter sized for n keys.
func NewKeyFilter(n int64) *KeyFilter {
	n = max(n, filterMinKeys)
	nblocks := (n*filterBitsPerKey + 511) / 512
	return &KeyFilter{blocks: make([]filterBlock, nblocks), sized: n}
}

// BuildKeyFilter scans every metadata key of r into a new filter with room to grow.
func BuildKeyFilter(r pebble.Reader, expected int64) (*KeyFilter, error) {
	f := NewKeyFilter(4 * max(expected, filterMinKeys/4))
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixMeta}, UpperBound: []byte{prefixMeta + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		f.Add(it.Key())
	}
	return f, it.Error()
}

func (f *KeyFilter) locate(mk []byte) (*filterBlock, uint64) {
	h := xxh3.Hash(mk)
	hi, _ := bits.Mul64(h, uint64(len(f.blocks)))
	return &f.blocks[hi], h
}

// Add records a metadata key. Safe for concurrent use with MayContain.
func (f *KeyFilter) Add(mk []byte) {
	b, h := f.locate(mk)
	delta := h>>33 | h<<31
	for i := 0; i < filterProbes; i++ {
		bit := (h >> 3) & 511
		w := &b[bit>>6]
		mask := uint64(1) << (bit & 63)
		if w.Load()&mask == 0 {
			w.Or(mask)
		}
		h += delta
	}
	f.added.Add(1)
}

// MayContain reports whether mk may be a key; false means it certainly is not.
func (f *KeyFilter) MayContain(mk []byte) bool {
	b, h := f.locate(mk)
	delta := h>>33 | h<<31
	for i := 0; i < filterProbes; i++ {
		bit := (h >> 3) & 511
		if b[bit>>6].Load()&(uint64(1)<<(bit&63)) == 0 {
			return false
		}
		h += delta
	}
	return true
}

// Full reports whether the filter has taken as many keys as it was sized for; beyond that its
// false positive rate climbs quickly, so it should be rebuilt.
func (f *KeyFilter) Full() bool { return f.added.Load() > f.sized }

// Bytes is the filter's memory.
func (f *KeyFilter) Bytes() int64 { return int64(len(f.blocks)) * 64 }

// Filters holds the active key filter and, while one is being rebuilt, its successor. Apply adds
// new keys to both; readers consult only the active one.
type Filters struct {
	active  atomic.Pointer[KeyFilter]
	pending atomic.Pointer[KeyFilter]

	// Apply's batch position, so a rebuild knows when every batch that could have missed the new
	// filter has committed.
	batchSeq atomic.Uint64
	inBatch  atomic.Bool
	building atomic.Bool
}

// NewFilters builds the filter from r (at startup, before anything writes).
func NewFilters(r pebble.Reader, expected int64) (*Filters, error) {
	f, err := BuildKeyFilter(r, expected)
	if err != nil {
		return nil, err
	}
	fs := &Filters{}
	fs.active.Store(f)
	return fs, nil
}

// Active is the filter readers use (nil when there is none).
func (fs *Filters) Active() *KeyFilter {
	if fs == nil {
		return nil
	}
	return fs.active.Load()
}

func (fs *Filters) add(mk []byte) {
	if f := fs.active.Load(); f != nil {
		f.Add(mk)
	}
	if f := fs.pending.Load(); f != nil {
		f.Add(mk)
	}
}

// BatchStarted and BatchDone bracket each apply batch.
func (fs *Filters) BatchStarted() {
	fs.batchSeq.Add(1)
	fs.inBatch.Store(true)
}

// BatchDone marks the end of an apply batch.
func (fs *Filters) BatchDone() { fs.inBatch.Store(false) }

// NeedsRebuild reports whether the active filter has filled up and no rebuild is running.
func (fs *Filters) NeedsRebuild() bool {
	f := fs.active.Load()
	return f != nil && f.Full() && !fs.building.Load()
}

// Rebuild replaces the active filter with one built from db, sized for expected keys. It runs
// alongside apply: the new filter is made visible to apply first, and the scan starts only once
// every batch that might not have seen it has committed, so no key can fall between the two.
func (fs *Filters) Rebuild(db *pebble.DB, expected int64, wait func()) error {
	if !fs.building.CompareAndSwap(false, true) {
		return nil
	}
	defer fs.building.Store(false)
	next := NewKeyFilter(4 * max(expected, filterMinKeys/4))
	fs.pending.Store(next)
	defer fs.pending.Store(nil)
	seq := fs.batchSeq.Load()
	for fs.inBatch.Load() && fs.batchSeq.Load() == seq {
		wait()
	}
	snap := db.NewSnapshot()
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixMeta}, UpperBound: []byte{prefixMeta + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		next.Add(it.Key())
	}
	if err := it.Close(); err != nil {
		return err
	}
	fs.active.Store(next)
	return nil
}
