// Package cluster owns what a node knows about the cluster as a whole: the topology the meta
// group records (nodes, shards and their slot ranges, replicas, leaders) and the meta group's
// state machine that changes it; how a cluster is founded (placement of shards and their
// replicas over the founding nodes); routing — the slot of a request's keys and where a request
// for a slot goes on a node (here, -MOVED, -CLUSTERDOWN); gossip of liveness and load
// (hashicorp/memberlist); and node identity (IDs, names as Redis Cluster shows them).
//
// The meta group is the only authority on ownership. Gossip informs, it never decides.
package cluster
