// Package sim is cairn's deterministic simulation: whole clusters in one process, on a
// simulated network, clock and disks, driven by one seed.
//
// Every node runs the production Raft scheduler (replica.Host, stepped by the simulation
// instead of its own goroutine), the production apply code (command.Applier over an
// engine.Engine on Pebble) and the production read gates (Raft ReadIndex for strong reads,
// WaitApplied on the session's position for session reads). What the simulation owns is
// everything around them: the network (replica.Network: drops, delays, duplicates,
// reorders, partitions), the clock (replica.Clock, with jumps), the disks (a crashable
// in-memory Pebble vfs per node: a crash keeps only what was synced; an error-injecting vfs
// for failing disks; slow disks delay a node's rounds), membership (a node replaced by a new
// one: learner, promotion, removal through joint consensus, membership.go), and the clients.
//
// The clients stand in for the server's connection code, which is tied to gnet's event loops
// and real sockets: they encode operations as the server does (command.AppendOpHeader),
// propose them to the shard's leader and follow it when redirected, and run reads through the
// same gate and read path (command Run over a keyspace.Tx on the engine) as
// internal/server/route.go and dispatch.go. The server's own parsing, MOVED replies, proxying
// and connection handling are not covered here; the multi-process tests and tests/chaos cover
// them.
//
// Time is virtual and advances from event to event; randomness comes from one PCG seeded with
// the seed (and Raft's election jitter, which reads crypto/rand, from a reader seeded with it
// through testing/cryptotest). So a seed replays exactly: Run returns a hash of the event
// trace, and the same seed gives the same hash.
//
// After the run the recorded history is checked: linearizability of strong operations
// (porcupine, by group of keys), session guarantees of session reads, agreement of every
// replica's applied log, no acknowledged write lost and no refused write applied, replies
// consistent with the log, and convergence of every replica's engine once faults heal.
package sim
