// Package server owns a cairn node as clients and peers see it: listeners and connections on
// gnet event loops, each connection's session (database, protocol, authentication, MULTI,
// subscriptions, consistency level, session token), the parsing of each request once into a
// request value, routing it to a shard (or redirecting it), dispatching it — a read against a
// shard's view at once, a write proposed to the shard's log with its reply's place reserved —,
// pub/sub, blocked clients, client-side caching, the server commands (CLIENT, CONFIG, INFO,
// CLUSTER, ...), and in cluster mode the node's part in the cluster: its Raft host, the bus,
// the meta group, gossip, forwarding for clients that are not cluster-aware.
package server
