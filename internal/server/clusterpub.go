package server

import (
	"encoding/binary"

	"github.com/cairn-db/cairn/internal/slot"
)

// Pub/sub in a cluster, as Redis Cluster has it: PUBLISH reaches the subscribers of every node,
// SPUBLISH those of the nodes holding the channel's shard. A message travels to each node as a
// one-way bus message, in order per node, so one publisher's messages reach a subscriber in the
// order it sent them. PUBLISH's reply counts this node's receivers only, as Redis's does.
//
//	message: sharded(1) len(uvarint) channel message

const msgPublish = 1

// broadcastPublish sends a message published here to the nodes whose subscribers must get it.
func (c *clusterNode) broadcastPublish(channel, msg []byte, sharded bool) {
	body := make([]byte, 0, 1+binary.MaxVarintLen64+len(channel)+len(msg))
	if sharded {
		body = append(body, 1)
	} else {
		body = append(body, 0)
	}
	body = binary.AppendUvarint(body, uint64(len(channel)))
	body = append(body, channel...)
	body = append(body, msg...)
	t := c.topology().t
	if sharded {
		if sh := t.Shard(uint64(c.topology().slots[slot.KeySlot(channel)])); sh != nil {
			for _, r := range sh.Replicas {
				if r.Node != c.id {
					c.bus.Post(r.Node, msgPublish, body)
				}
			}
		}
		return
	}
	for _, n := range t.LiveNodes() {
		if n.ID != c.id {
			c.bus.Post(n.ID, msgPublish, body)
		}
	}
}

// Message implements transport.Handler.
func (c *clusterNode) Message(from uint64, kind byte, body []byte) {
	if !c.ready.Load() || kind != msgPublish || len(body) < 2 {
		return
	}
	sharded := body[0] == 1
	n, k := binary.Uvarint(body[1:])
	if k <= 0 || n > uint64(len(body)-1-k) {
		return
	}
	channel := body[1+k : 1+k+int(n)]
	msg := body[1+k+int(n):]
	var scratch []byte
	c.s.publish(channel, msg, sharded, &scratch, nil)
}
