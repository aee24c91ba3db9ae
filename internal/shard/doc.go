// Package shard owns one shard's replica on a node as a unit: its storage engine and the
// in-memory structures kept beside it (keyspace state, record cache, key filter), the applier
// that turns the shard's log into writes, the log itself (a local one on a single node, a Raft
// group in a cluster), and the shard's background work (expiry sweeps, waiter cleanup).
//
// The server holds a set of shards; the deterministic simulation builds its nodes from the same
// type, so what it checks is what runs.
//
// # Views
//
// Readers on event loops and the apply goroutine share the engine, and a snapshot from the
// leader replaces it whole. No lock is held across that: the engine and what is derived from it
// form a View, reference-counted. A reader acquires the current view and releases it when done;
// installing a snapshot opens a new engine in a new directory, publishes a new view, and
// releases the shard's own reference to the old one, which closes (and deletes its directory)
// when its last reader lets go. A reader never waits for an install, and never sees a cache or
// filter of one engine over the data of another.
//
// # Directory
//
// A shard's directory holds numbered engine generations (engine-1, engine-2, ...) and a CURRENT
// file naming the live one. An install writes the new generation completely, then replaces
// CURRENT atomically; at open, generations other than the current one are leftovers of a crash
// or of readers that were still busy, and are removed.
package shard
