// Package replica owns the replication of one shard: it orders operations into a log, makes them
// durable, and hands them in order to a state machine that applies them.
//
// A writer calls Propose with an encoded operation and a completion; the completion runs after
// the operation has been applied (and, where the policy says so, synced), with the result the
// state machine produced for it. The state machine is given whole runs of entries at once, so it
// can apply them in one storage batch and sync once for all of them (group commit).
//
// Local is the single-node form: the log is the storage engine's own write-ahead log, so an entry
// is applied as soon as it is ordered.
//
// Raft is the replicated form, on etcd's raft RawNode. A Host drives every group of a node from
// one goroutine (step, persist, send, advance), with one fsync per round for all of them and
// one payload per peer node, over a Network (the transport bus, or a simulated one) and a
// Clock; each group's apply worker applies its committed entries, and idle groups quiesce.
// DESIGN.md in this directory states the invariants: what is durable when, how proposals
// learn their fate, how snapshots and log compaction fit together, how reads are kept
// linearizable, replica IDs, the apply worker and quiescence.
package replica
