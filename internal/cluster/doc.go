// Package cluster owns what a node knows about the cluster as a whole: node identity (IDs
// derived from the initial address list, names as Redis Cluster shows them), the hash slots
// keys map to, and the replies that describe the topology to cluster-aware clients (CLUSTER
// SLOTS, SHARDS, NODES, INFO, ROLE).
//
// In this version the whole keyspace is one shard replicated on every node: slots 0-16383 all
// belong to it, its Raft leader is the master and the other members its replicas.
package cluster
