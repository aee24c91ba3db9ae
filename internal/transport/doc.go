// Package transport owns the node-to-node bus: one TCP connection from each node to each peer
// (on the client port + 10000 by default, as Redis Cluster's bus), carrying length-prefixed
// frames — a round's Raft messages of every group for that peer as one frame, requests and
// their replies (forwarded client commands and reads, joins, meta operations), one-way messages
// (published pub/sub messages, in order per peer) — separate connections that stream snapshots
// in chunks, and raw streams handed to another protocol (gossip) sharing the port.
//
// Sending never blocks the caller on the network: each peer has a bounded queue drained by its
// own goroutine, and a Raft payload that finds the queue full is dropped (Raft retransmits).
// A peer that cannot be reached is redialed with exponential backoff.
package transport
