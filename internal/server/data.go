package server

import (
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/shard"
)

// servedShards lists the shards whose data this node answers for in what it reports of its
// data (INFO keyspace, MEMORY STATS): the ones it leads, as a Redis Cluster node reports the
// keys of its master slots.
func (s *Server) servedShards() []*shard.Shard {
	var out []*shard.Shard
	for _, h := range s.ledShards() {
		out = append(out, h.sh)
	}
	return out
}

// keyCounts sums, per logical database, the keys and the keys with an expiry of the served
// shards.
func (s *Server) keyCounts() (keys, expires [keyspace.NumDBs]int64) {
	for _, sh := range s.servedShards() {
		k, e := sh.KeyCounts()
		for db := range keys {
			keys[db] += k[db]
			expires[db] += e[db]
		}
	}
	return keys, expires
}

// totalKeys is the number of keys in every database of the served shards.
func (s *Server) totalKeys() int64 {
	keys, _ := s.keyCounts()
	var n int64
	for _, k := range keys {
		n += k
	}
	return n
}

// engineMetrics sums the engine figures of the served shards.
func (s *Server) engineMetrics() engine.Metrics {
	var m engine.Metrics
	for _, sh := range s.servedShards() {
		x := sh.Metrics()
		m.DiskBytes += x.DiskBytes
		m.MemTableBytes += x.MemTableBytes
		m.CacheBytes = x.CacheBytes // one block cache, shared
		m.CacheHits += x.CacheHits
		m.CacheMisses += x.CacheMisses
		m.Compactions += x.Compactions
		m.Flushes += x.Flushes
		m.WALBytes += x.WALBytes
		m.ReadAmp = max(m.ReadAmp, x.ReadAmp)
	}
	return m
}
