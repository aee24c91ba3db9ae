// Package engine owns the storage engine: one Pebble instance per shard, opened and tuned for a
// Redis-shaped workload, with the fsync policy (appendfsync always, everysec or no), batches,
// snapshots, checkpoints, metrics, and a vfs seam so tests can inject disk faults.
//
// The engine knows nothing about data types; the keyspace package lays records out on it.
package engine
