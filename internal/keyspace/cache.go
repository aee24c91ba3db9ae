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
	m     map[string][]byte // metadata key → record; nil means "no record"
	gen   uint64
	bytes int64
}

// entryOverhead approximates the bytes a map entry costs beyond its key and value.
const entryOverhead = 64

// NewCache returns a cache of about maxBytes. Records larger than maxBytes/4096 (at least 512
// bytes, at most 64 KB) are not cached: one huge value should not evict thousands of hot keys.
func NewCache(maxBytes int64) *Cache {
	c := &Cache{seed: maphash.MakeSeed(), shardMax: maxBytes / cacheShards}
	c.maxRecord = int(min(max(maxBytes/4096, 512), 64<<10))
	for i := range c.shards {
		c.shards[i].m = map[string][]byte{}
	}
	return c
}

func (c *Cache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns the cached record for a metadata key. ok is false on a miss; a hit with a nil
// record means the key has no record. gen is the shard generation to pass to fill after a miss.
func (c *Cache) get(key []byte) (rec []byte, ok bool, gen uint64) {
	s := c.shard(key)
	s.mu.Lock()
	rec, ok = s.m[string(key)]
	gen = s.gen
	s.mu.Unlock()
	return rec, ok, gen
}

// fill caches what a reader found in the engine, unless a commit touched the shard since gen.
// rec must not be modified afterwards; nil records absence.
func (c *Cache) fill(key, rec []byte, gen uint64) {
	if len(rec) > c.maxRecord {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	if s.gen == gen {
		if _, exists := s.m[string(key)]; !exists {
			s.put(string(key), rec, c.shardMax)
		}
	}
	s.mu.Unlock()
}

// put inserts or replaces an entry, evicting others while the shard is over budget. Called with
// the lock held.
func (s *cacheShard) put(key string, rec []byte, limit int64) {
	if old, ok := s.m[key]; ok {
		s.bytes -= int64(len(key) + len(old) + entryOverhead)
	}
	s.m[key] = rec
	s.bytes += int64(len(key) + len(rec) + entryOverhead)
	for s.bytes > limit && len(s.m) > 1 {
		// Go's map iteration starts at a random entry: random eviction, no bookkeeping.
		for k, v := range s.m {
			if k == key {
				continue
			}
			delete(s.m, k)
			s.bytes -= int64(len(k) + len(v) + entryOverhead)
			break
		}
	}
}

// Publish installs a committed batch's records and bumps the generations of the shards it
// touched. Called by apply after the commit, before the writers are acknowledged.
func (c *Cache) Publish(o *Overlay) {
	if o.flushed {
		c.Clear()
	}
	for k, rec := range o.writes {
		s := c.shard([]byte(k))
		s.mu.Lock()
		s.gen++
		if len(rec) > c.maxRecord {
			if old, ok := s.m[k]; ok {
				delete(s.m, k)
				s.bytes -= int64(len(k) + len(old) + entryOverhead)
			}
		} else {
			s.put(k, rec, c.shardMax)
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
		s.m = map[string][]byte{}
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
}

// NewOverlay returns an empty overlay.
func NewOverlay() *Overlay { return &Overlay{writes: map[string][]byte{}} }

// Reset empties the overlay for the next batch.
func (o *Overlay) Reset() {
	clear(o.writes)
	o.flushed = false
	o.flushDB = [NumDBs]bool{}
}

func (o *Overlay) record(key, rec []byte) {
	var v []byte
	if rec != nil {
		v = append(make([]byte, 0, len(rec)), rec...)
	}
	o.writes[string(key)] = v
}
