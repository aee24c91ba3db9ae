// Package sim is cairn's deterministic simulation: whole clusters in one process, on a
// simulated network, clock and disks, driven by one seed.
//
// Every node runs the production Raft scheduler (replica.Host, stepped by the simulation
// instead of its own goroutine, its shards' apply work done when the simulation calls
// Host.Apply), the production shard replica (shard.Shard: command.Applier over an engine.Engine
// on Pebble) and the production read gates (Raft ReadIndex for strong reads, WaitApplied on the
// session's position for session reads). What the simulation owns is everything around them:
// the network (replica.Network: drops, delays, duplicates, reorders, partitions), the clock
// (replica.Clock, with jumps), the disks (a crashable in-memory Pebble vfs per node: a crash
// keeps only what was synced; an error-injecting vfs for failing disks; slow disks delay a
// node's rounds), membership (a node replaced by a new one: learner, promotion, removal through
// joint consensus, membership.go), and the clients.
//
// A seed replays with the fault set and workload of its simulation version (config.go), so the
// regression seeds of sim_test.go keep meaning what they found. Version 4, the latest, runs a
// sharded cluster as the server does:
//
//   - The layout is cluster.Bootstrap's for the simulated nodes: 2 to 8 shards per node, each
//     shard a Raft group of 3 replicas (on 3 of 5 nodes, or all of 3), replica IDs per group,
//     the slots split over the shards. The topology stands for the meta group's record: every
//     node reads it, nodes report the shards they lead to it, and a node replacement adds the
//     new node's replicas (under IDs the group's leader gives out) and drops the old one's.
//   - Key groups are hash tags ({g3}a, {g3}b, ...), at least one in every shard; a group's
//     shard is the slot table's owner of its slot.
//   - Clients are Redis Cluster clients: they send RESP requests (reads as CONSISTENCY <level>
//     GET, transactions as MULTI, the commands, EXEC in one pipeline) to the node their slot
//     map names (writes) or to any node (reads), follow -MOVED to the node it names, and record
//     -TRYAGAIN and -CLUSTERDOWN as refusals. A client's session (its position per shard)
//     follows it from node to node, as SESSION RESUME carries it.
//   - A node serves a request as internal/server does (server.go): the production RESP reader
//     parses it, the command table looks it up, cluster.KeysSlot finds its slot (a transaction's
//     is the join of its commands') and cluster.RouteSlot routes it over the node's placement
//     (its slot table, the replicas it holds and whether they lead, the leader's name as its
//     address). A write routed here is proposed to the shard's log (command.AppendOpHeader with
//     its shard); a read passes its level's gate and runs through shard.Reader; anything else
//     is answered with the server's error (MOVED, CROSSSLOT, CLUSTERDOWN, TRYAGAIN).
//   - Some requests span two groups in different slots (MSET, transactions): they must be
//     answered with CROSSSLOT and never reach a log.
//   - Requests and replies take time between clients and nodes, and a node's step sometimes
//     leaves its apply work for a later event, as apply goroutines lag behind the scheduler on
//     a real machine: replies then arrive after later rounds.
//
// Version 5 moves slots between shards while the faults run (slotmove.go): a reshaper asks
// the production meta state machine (cluster.Meta) for slot moves, their cancels, splits and
// merges; a port of the server's slot mover on every node that believes it leads a source
// moves the records through the shards' real logs (__slotout, __slotin, __slotack,
// __slotcancel, __slotown, applied by the production applier, which answers -ASK and
// -TRYAGAIN); nodes route a slot in motion as the server's routeMigrating does, and clients
// follow -ASK with ASKING. The logs of all shards are replayed together in the order their
// entries were first applied (checkmoves.go), following every key from export to import.
// Differences from the server: nodes see each topology the instant the meta group applies it,
// the mover proposes to leaders directly, and a retired shard's replicas stay open until
// their node restarts.
//
// What version 4 does not drive is the server's connection code itself (gnet event loops,
// reply ordering across shards in one pipeline, cluster-proxy forwarding, READONLY, the meta
// group's own Raft); the multi-process tests and tests/chaos cover those.
//
// Time is virtual and advances from event to event; randomness comes from one PCG seeded with
// the seed (and Raft's election jitter, which reads crypto/rand, from a reader seeded with it
// through testing/cryptotest). So a seed replays exactly: Run returns a hash of the event
// trace, and the same seed gives the same hash.
//
// After the run the recorded history is checked, for every shard: linearizability of strong
// operations (porcupine, by group of keys), session guarantees of session reads (per shard),
// agreement of every replica's applied log entry by entry, no operation applied twice, no
// refused write applied, no acknowledged write missing, replies and reads consistent with the
// log replayed through the model, every log entry's keys in one slot of its own shard, every
// cross-slot request refused, and convergence of every replica's engine, byte for byte, once
// faults heal.
package sim
