package keyspace

import (
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
	mu    sync.Mutex
	m     map[string]*cacheEntry // metadata key → entry
	gen   uint64
	bytes int64
}

// A cacheEntry is a key's cached record and its access data (access.go). An entry that is not
// cached holds only the access data: its record was too big to cache, or has not been read since
// the entry was made by an access that did not read it.
type cacheEntry struct {
	rec    []byte // the record; nil means "no record" (when cached)
	cached bool
	freq   uint8 // Redis's logarithmic LFU counter
	at     int64 // Unix ms of the last access
	decr   int64 // when freq was last decayed, in minutes
}

// entryOverhead approximates the bytes an entry costs beyond its key and record: the map's slot,
// the string header and the entry itself.
const entryOverhead = 96

// NewCache returns a cache of about maxBytes. Records larger than maxBytes/4096 (at least 512
// bytes, at most 64 KB) are not cached: one huge value should not evict thousands of hot keys.
func NewCache(maxBytes int64) *Cache {
	c := &Cache{seed: maphash.MakeSeed(), shardMax: maxBytes / cacheShards}
	c.maxRecord = int(min(max(maxBytes/4096, 512), 64<<10))
	for i := range c.shards {
		c.shards[i].m = map[string]*cacheEntry{}
	}
	return c
}

func (c *Cache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns the cached record for a metadata key. ok is false on a miss; a hit with a nil
// record means the key has no record. gen is the shard generation to pass to fill after a miss.
// With touch, a hit on a record counts as an access at now.
func (c *Cache) get(key []byte, touch bool, now int64) (rec []byte, ok bool, gen uint64) {
	s := c.shard(key)
	s.mu.Lock()
	if e := s.m[string(key)]; e != nil && e.cached {
		rec, ok = e.rec, true
		if touch && rec != nil && c.Access != nil {
			c.Access.touch(e, now)
		}
	}
	gen = s.gen
	s.mu.Unlock()
	return rec, ok, gen
}

// fill caches what a reader found in the engine, unless a commit touched the shard since gen
// (or the record is too big to cache). rec must not be modified afterwards; nil records
// absence. With touch, a found record counts as an access at now.
func (c *Cache) fill(key, rec []byte, gen uint64, touch bool, now int64) {
	s := c.shard(key)
	s.mu.Lock()
	var e *cacheEntry
	if s.gen == gen && len(rec) <= c.maxRecord {
		e = s.m[string(key)]
		if e == nil || !e.cached {
			e = s.put(string(key), rec, c.shardMax, c.Access)
		}
	}
	if touch && rec != nil && c.Access != nil {
		if e == nil {
			e = c.entry(s, key, c.Access)
		}
		c.Access.touch(e, now)
	}
	s.mu.Unlock()
}

// entry returns key's entry, making one with only access data if it has none. s.mu is held.
func (c *Cache) entry(s *cacheShard, key []byte, a *Access) *cacheEntry {
	if e := s.m[string(key)]; e != nil {
		return e
	}
	e := a.newEntry()
	k := string(key)
	s.m[k] = e
	s.bytes += int64(len(k) + entryOverhead)
	s.evict(k, c.shardMax)
	return e
}

// put caches rec as key's record, keeping the entry's access data (a new entry starts with a's,
// when a is not nil), and evicts other entries while the shard is over budget. s.mu is held.
func (s *cacheShard) put(key string, rec []byte, limit int64, a *Access) *cacheEntry {
	e := s.m[key]
	switch {
	case e != nil:
		s.bytes -= int64(len(e.rec))
	case a != nil:
		e = a.newEntry()
		s.m[key] = e
		s.bytes += int64(len(key) + entryOverhead)
	default:
		e = &cacheEntry{}
		s.m[key] = e
		s.bytes += int64(len(key) + entryOverhead)
	}
	e.rec, e.cached = rec, true
	s.bytes += int64(len(rec))
	s.evict(key, limit)
	return e
}

// evict drops entries other than keep while the shard is over limit. s.mu is held.
func (s *cacheShard) evict(keep string, limit int64) {
	for s.bytes > limit && len(s.m) > 1 {
		// Go's map iteration starts at a random entry: random eviction, no bookkeeping.
		for k, e := range s.m {
			if k == keep {
				continue
			}
			delete(s.m, k)
			s.bytes -= int64(len(k) + len(e.rec) + entryOverhead)
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
	for k, rec := range o.writes {
		s := c.shard([]byte(k))
		s.mu.Lock()
		s.gen++
		var e *cacheEntry
		if len(rec) > c.maxRecord {
			// Too big to cache: keep only the access data.
			if e = s.m[k]; e != nil && e.cached {
				s.bytes -= int64(len(e.rec))
				e.rec, e.cached = nil, false
			}
		} else {
			e = s.put(k, rec, c.shardMax, c.Access)
		}
		if c.Access != nil {
			if e == nil {
				e = c.entry(s, []byte(k), c.Access)
			}
			e.at = max(e.at, o.now)
			if set, ok := o.access[k]; ok {
				e.at, e.freq, e.decr = set.at, set.freq, set.decr
			}
		}
		s.mu.Unlock()
	}
}

// Clear drops every entry (after FLUSHDB, FLUSHALL or a snapshot install).
func (c *Cache) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.gen++
		s.m = map[string]*cacheEntry{}
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
	writes  map[string][]byte // metadata key → record, nil for a deletion
	flushed bool              // a range deletion (FLUSHDB) happened: the cache is stale until Publish
	flushDB [NumDBs]bool
	now     int64 // the latest time a write was recorded at
	// access holds the access data RESTORE set (IDLETIME, FREQ) for keys it wrote, installed
	// after the batch's own accesses.
	access map[string]cacheEntry
}

// NewOverlay returns an empty overlay.
func NewOverlay() *Overlay { return &Overlay{writes: map[string][]byte{}} }

// Reset empties the overlay for the next batch.
func (o *Overlay) Reset() {
	clear(o.writes)
	o.flushed = false
	o.flushDB = [NumDBs]bool{}
	o.now = 0
	clear(o.access)
}

func (o *Overlay) record(key, rec []byte, now int64) {
	o.now = max(o.now, now)
	var v []byte
	if rec != nil {
		v = append(make([]byte, 0, len(rec)), rec...)
	}
	o.writes[string(key)] = v
}
