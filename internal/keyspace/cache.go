package keyspace

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// Cache keeps recently used metadata records in memory, in front of the engine, so hot keys are
// read without an LSM lookup. A string's value is part of its metadata record, so for strings
// this is a value cache; for collections it caches the record that every element operation
// reads first.
//
// Consistency. Apply is the only writer of records. It writes through: after its batch commits
// it installs every record the batch wrote (Publish), bumping the generation of each touched
// shard. A reader that misses reads the engine and may fill the cache only if its shard's
// generation did not move in between — otherwise a commit may have raced it and what it read
// could be older than what is committed. Cached values are never mutated, only replaced, so a
// reader may keep using one after unlocking.
//
// Readers that work over a snapshot must not use the cache: it is ahead of their snapshot.
type Cache struct {
	seed      maphash.Seed
	shards    [cacheShards]cacheShard
	shardMax  int64
	maxRecord int
	// Access is the shard's table of key access times (access.go), kept beside its records;
	// nil tracks nothing.
	Access *Access
}

const cacheShards = 64

type cacheShard struct {
	mu sync.Mutex
	// m maps the hash of a metadata key to its entry, which holds the key itself: a lookup
	// compares one integer in the map and the key once. Two keys with the same hash share a
	// slot: the one installed last has it, and the other misses.
	m     map[uint64]entry
	gen   uint64
	bytes int64
}

// An entry is a key's cached record and its access data (access.go), in one buffer, so a
// lookup touches the map and one allocation: a header with the access data and flags, the key,
// then the record. An entry that is not cached holds only the access data: its record was too
// big to cache, or has not been read since an access that did not read it made the entry.
//
// The record part is never modified once installed (a reader may keep using it after
// unlocking); the header is read and written under the shard's lock only.
type entry []byte

const (
	entryAt     = 0  // int64: Unix ms of the last access
	entryDecr   = 8  // int64: when the LFU counter was last decayed, in minutes
	entryFreq   = 16 // uint8: Redis's logarithmic LFU counter
	entryFlags  = 17 // flagCached, flagRecord
	entryKeyLen = 18 // uint32
	entryHeader = 22
	flagCached  = 1 // the entry holds the key's record, or that it has none
	flagRecord  = 2 // the key has a record (the rest of the entry)
	mapOverhead = 48
)

// newEntryBuf builds an entry for key holding rec (when cached) and the access data acc.
func newEntryBuf(key, rec []byte, cached bool, acc accessData) entry {
	e := make(entry, entryHeader+len(key)+len(rec))
	var flags byte
	if cached {
		flags |= flagCached
		if rec != nil {
			flags |= flagRecord
		}
	}
	e[entryFlags] = flags
	binary.LittleEndian.PutUint32(e[entryKeyLen:], uint32(len(key)))
	copy(e[entryHeader:], key)
	copy(e[entryHeader+len(key):], rec)
	e.setAccess(acc)
	return e
}

func (e entry) key() []byte {
	n := binary.LittleEndian.Uint32(e[entryKeyLen:])
	return e[entryHeader : entryHeader+n]
}

func (e entry) cached() bool { return e[entryFlags]&flagCached != 0 }

// rec is the cached record, nil when the key has none.
func (e entry) rec() []byte {
	if e[entryFlags]&flagRecord == 0 {
		return nil
	}
	n := binary.LittleEndian.Uint32(e[entryKeyLen:])
	r := e[entryHeader+n:]
	return r[:len(r):len(r)]
}

func (e entry) access() accessData {
	return accessData{
		at:   int64(binary.LittleEndian.Uint64(e[entryAt:])),
		decr: int64(binary.LittleEndian.Uint64(e[entryDecr:])),
		freq: e[entryFreq],
	}
}

func (e entry) setAccess(a accessData) {
	binary.LittleEndian.PutUint64(e[entryAt:], uint64(a.at))
	binary.LittleEndian.PutUint64(e[entryDecr:], uint64(a.decr))
	e[entryFreq] = a.freq
}

// cost is what the entry counts against the shard's budget.
func (e entry) cost() int64 { return int64(len(e) + mapOverhead) }

// NewCache returns a cache of about maxBytes. Records larger than maxBytes/4096 (at least 512
// bytes, at most 64 KB) are not cached: one huge value should not evict thousands of hot keys.
func NewCache(maxBytes int64) *Cache {
	c := &Cache{seed: maphash.MakeSeed(), shardMax: maxBytes / cacheShards}
	c.maxRecord = int(min(max(maxBytes/4096, 512), 64<<10))
	for i := range c.shards {
		c.shards[i].m = map[uint64]entry{}
	}
	return c
}

// shard returns the shard of a metadata key and the key's hash.
func (c *Cache) shard(key []byte) (*cacheShard, uint64) {
	h := maphash.Bytes(c.seed, key)
	return &c.shards[h%cacheShards], h
}

// find returns key's entry, nil if it has none. s.mu is held.
func (s *cacheShard) find(h uint64, key []byte) entry {
	if e := s.m[h]; e != nil && string(e.key()) == string(key) {
		return e
	}
	return nil
}

// newAccess is the access data of a key first seen: c.Access's, or none.
func (c *Cache) newAccess() accessData {
	if c.Access == nil {
		return accessData{}
	}
	return c.Access.initial()
}

// touch records an access at now in e when the cache tracks accesses. s.mu is held.
func (c *Cache) touch(e entry, now int64) {
	if c.Access != nil {
		acc := e.access()
		c.Access.touch(&acc, now)
		e.setAccess(acc)
	}
}

// get returns the cached record for a metadata key. ok is false on a miss; a hit with a nil
// record means the key has no record. gen is the shard generation to pass to fill after a miss.
// With touch, a hit on a record counts as an access at now.
func (c *Cache) get(key []byte, touch bool, now int64) (rec []byte, ok bool, gen uint64) {
	s, h := c.shard(key)
	s.mu.Lock()
	if e := s.find(h, key); e != nil && e.cached() {
		rec, ok = e.rec(), true
		if touch && rec != nil {
			c.touch(e, now)
		}
	}
	gen = s.gen
	s.mu.Unlock()
	return rec, ok, gen
}

// fill caches what a reader found in the engine (v, nil for absence; it is copied), unless a
// commit touched the shard since gen or the record is too big to cache. It returns the cached
// copy of the record, or ok false when it cached nothing. With touch, a found record counts as
// an access at now either way.
func (c *Cache) fill(key, v []byte, found bool, gen uint64, touch bool, now int64) (rec []byte, ok bool) {
	s, h := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !found {
		v = nil
	}
	e := s.find(h, key)
	if s.gen == gen && len(v) <= c.maxRecord && (e == nil || !e.cached()) {
		acc := c.newAccess()
		if e != nil {
			acc = e.access()
		}
		if found && v == nil {
			v = []byte{} // an empty record is a record
		}
		e = newEntryBuf(key, v, true, acc)
		s.install(h, e, c.shardMax)
		rec, ok = e.rec(), true
	}
	if touch && found && c.Access != nil {
		if e == nil {
			e = newEntryBuf(key, nil, false, c.newAccess())
			s.install(h, e, c.shardMax)
		}
		c.touch(e, now)
	}
	return rec, ok
}

// install puts e in its slot, replacing whatever entry had it, and evicts other entries while
// the shard is over limit. s.mu is held.
func (s *cacheShard) install(h uint64, e entry, limit int64) {
	if old := s.m[h]; old != nil {
		s.bytes -= old.cost()
	}
	s.m[h] = e
	s.bytes += e.cost()
	for s.bytes > limit && len(s.m) > 1 {
		// Go's map iteration starts at a random entry: random eviction, no bookkeeping.
		for k, x := range s.m {
			if k == h {
				continue
			}
			delete(s.m, k)
			s.bytes -= x.cost()
			break
		}
	}
}

// Publish installs a committed batch's records and bumps the generations of the shards it
// touched; each written key counts as accessed at the batch's time. Called by apply after the
// commit, before the writers are acknowledged.
func (c *Cache) Publish(o *Overlay) {
	if o.flushed {
		c.Clear()
	}
	c.publishElems(o)
	o.writes.each(func(k string, rec []byte) {
		key := []byte(k)
		s, h := c.shard(key)
		s.mu.Lock()
		s.gen++
		acc := c.newAccess()
		old := s.find(h, key)
		if old != nil {
			acc = old.access()
		}
		if c.Access != nil {
			acc.at = max(acc.at, o.now)
			if set, ok := o.access[k]; ok {
				acc = set
			}
		}
		switch {
		case len(rec) <= c.maxRecord:
			s.install(h, newEntryBuf(key, rec, true, acc), c.shardMax)
		case c.Access != nil:
			// Too big to cache: keep only the access data.
			s.install(h, newEntryBuf(key, nil, false, acc), c.shardMax)
		case old != nil:
			delete(s.m, h)
			s.bytes -= old.cost()
		}
		s.mu.Unlock()
	})
}

// publishElems installs the element records a committed batch wrote. Only apply reads element
// entries, and it is the batch's own goroutine, so the shard generations readers check are left
// alone: no metadata record changed.
func (c *Cache) publishElems(o *Overlay) {
	o.elems.each(func(k string, v []byte) {
		key := []byte(k)
		s, h := c.shard(key)
		s.mu.Lock()
		if len(v) <= c.maxRecord {
			s.install(h, newEntryBuf(key, v, true, accessData{}), c.shardMax)
		} else if old := s.find(h, key); old != nil {
			delete(s.m, h)
			s.bytes -= old.cost()
		}
		s.mu.Unlock()
	})
}

// Clear drops every entry (after FLUSHDB, FLUSHALL or a snapshot install).
func (c *Cache) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.gen++
		s.m = map[uint64]entry{}
		s.bytes = 0
		s.mu.Unlock()
	}
}

// Len reports the number of cached entries, for INFO.
func (c *Cache) Len() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		entries += len(s.m)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return entries, bytes
}

// Overlay is the metadata records one apply batch has written, not yet committed: apply's own
// reads consult it before the cache (which shows only committed records), and Publish installs it
// into the cache after the commit.
type Overlay struct {
	writes overlayMap // metadata key → record, nil for a deletion
	// elems holds the element records (hash fields, set members, sorted-set scores by member)
	// the batch wrote: element key → value, nil for a deletion. Apply reads these elements
	// through the cache too (Tx.elemRecord), which spares an LSM lookup for every HSET, SADD
	// or ZADD of an element it has seen.
	elems   overlayMap
	flushed bool // a range deletion (FLUSHDB) happened: the cache is stale until Publish
	flushDB [NumDBs]bool
	now     int64 // the latest time a write was recorded at
	// access holds the access data RESTORE set (IDLETIME, FREQ) for keys it wrote, installed
	// after the batch's own accesses.
	access map[string]accessData
	// mem holds the keys and values of writes and elems until Reset.
	mem arena
}

// NewOverlay returns an empty overlay.
func NewOverlay() *Overlay {
	return &Overlay{writes: newOverlayMap(), elems: newOverlayMap()}
}

// Reset empties the overlay for the next batch.
func (o *Overlay) Reset() {
	o.writes.reset()
	o.elems.reset()
	o.flushed = false
	o.flushDB = [NumDBs]bool{}
	o.now = 0
	clear(o.access)
	o.mem.reset()
}

// record notes the metadata record rec (nil: deleted) written under key. inBatch says rec lies
// in the batch's own bytes (a big string, Tx.putMeta), which outlive the overlay's use of them:
// it is then not copied.
func (o *Overlay) record(key, rec []byte, now int64, inBatch bool) {
	o.now = max(o.now, now)
	var v []byte
	switch {
	case inBatch:
		v = rec
	case rec != nil:
		v = o.mem.copy(rec)
	}
	o.writes.set(&o.mem, key, v)
}

// recordElem notes that the batch wrote value (nil: deleted) at element key ek. A present
// element with an empty value (a set member) is stored as a non-nil empty slice.
func (o *Overlay) recordElem(ek, value []byte, deleted bool) {
	var v []byte
	if !deleted {
		v = o.mem.copy(value)
		if v == nil {
			v = []byte{} // present and empty: not a deletion
		}
	}
	o.elems.set(&o.mem, ek, v)
}
