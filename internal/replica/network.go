package replica

import (
	"encoding/binary"
	"errors"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Network carries a node's messages to the other nodes, addressed by node ID. The real one is the transport bus; the
// simulation's drops, delays and partitions them deterministically.
type Network interface {
	// Send queues one payload for a peer and returns at once. It may drop the payload (the
	// peer's queue is full, or it is unreachable): Raft retransmits.
	Send(to uint64, payload []byte) bool
	// SendSnapshot streams the files of dir to a peer, preceded by header, and returns when the
	// peer has them or the stream failed.
	SendSnapshot(to uint64, header []byte, dir string) error
	// SetPeer tells the network where a peer node's bus listens ("" forgets the peer).
	SetPeer(node uint64, addr string)
}

// A payload is every message of one round for one peer node:
//
//	version(1) nmsgs(uvarint) { shard(uvarint) len(uvarint) message }*
//	nreports(uvarint) { shard(uvarint) applied(uvarint) }*
//	nquiesce(uvarint) { shard(uvarint) from(uvarint) term(uvarint) commit(uvarint) }*   (version 2)
//
// An empty one is a node heartbeat. Version 1 payloads (no quiesce section) are still read.
const payloadVersion = 2

var errBadPayload = errors.New("replica: malformed payload")

type outMsg struct {
	shard uint64
	msg   *pb.Message
}

type appliedReport struct {
	shard, applied uint64
}

// quiesceNote is a leader's word that its group is quiet (quiesce.go).
type quiesceNote struct {
	shard, from, term, commit uint64
}

// outbox gathers a round's messages and applied reports per peer node.
type outbox struct {
	peers map[uint64]*peerPayload
}

type peerPayload struct {
	msgs    []outMsg
	reports []appliedReport
	quiesce []quiesceNote
}

func (o *outbox) peer(node uint64) *peerPayload {
	if o.peers == nil {
		o.peers = map[uint64]*peerPayload{}
	}
	p := o.peers[node]
	if p == nil {
		p = &peerPayload{}
		o.peers[node] = p
	}
	return p
}

func (o *outbox) add(node, shard uint64, m *pb.Message) {
	p := o.peer(node)
	p.msgs = append(p.msgs, outMsg{shard, m})
}

func (o *outbox) quiesce(node uint64, q quiesceNote) {
	p := o.peer(node)
	p.quiesce = append(p.quiesce, q)
}

func (o *outbox) report(node, shard, applied uint64) {
	p := o.peer(node)
	p.reports = append(p.reports, appliedReport{shard, applied})
}

func encodePayload(p *peerPayload) ([]byte, error) {
	buf := []byte{payloadVersion}
	buf = binary.AppendUvarint(buf, uint64(len(p.msgs)))
	for _, m := range p.msgs {
		b, err := proto.Marshal(m.msg)
		if err != nil {
			return nil, err
		}
		buf = binary.AppendUvarint(buf, m.shard)
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(p.reports)))
	for _, r := range p.reports {
		buf = binary.AppendUvarint(buf, r.shard)
		buf = binary.AppendUvarint(buf, r.applied)
	}
	buf = binary.AppendUvarint(buf, uint64(len(p.quiesce)))
	for _, q := range p.quiesce {
		for _, v := range []uint64{q.shard, q.from, q.term, q.commit} {
			buf = binary.AppendUvarint(buf, v)
		}
	}
	return buf, nil
}

// payloadHandler takes what a payload carries.
type payloadHandler struct {
	msg     func(shard uint64, m *pb.Message)
	report  func(shard, applied uint64)
	quiesce func(q quiesceNote)
}

func decodePayload(b []byte, h payloadHandler) error {
	if len(b) < 1 || (b[0] != 1 && b[0] != payloadVersion) {
		return errBadPayload
	}
	version := b[0]
	b = b[1:]
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	n, ok := uv()
	if !ok {
		return errBadPayload
	}
	for i := uint64(0); i < n; i++ {
		shard, ok1 := uv()
		l, ok2 := uv()
		if !ok1 || !ok2 || l > uint64(len(b)) {
			return errBadPayload
		}
		m := &pb.Message{}
		if err := proto.Unmarshal(b[:l], m); err != nil {
			return errBadPayload
		}
		b = b[l:]
		h.msg(shard, m)
	}
	n, ok = uv()
	if !ok {
		return errBadPayload
	}
	for i := uint64(0); i < n; i++ {
		shard, ok1 := uv()
		applied, ok2 := uv()
		if !ok1 || !ok2 {
			return errBadPayload
		}
		h.report(shard, applied)
	}
	if version < 2 {
		return nil
	}
	if n, ok = uv(); !ok {
		return errBadPayload
	}
	for i := uint64(0); i < n; i++ {
		var q quiesceNote
		var ok [4]bool
		q.shard, ok[0] = uv()
		q.from, ok[1] = uv()
		q.term, ok[2] = uv()
		q.commit, ok[3] = uv()
		if !ok[0] || !ok[1] || !ok[2] || !ok[3] {
			return errBadPayload
		}
		h.quiesce(q)
	}
	return nil
}

// snapshotHeader is sent ahead of a snapshot's files: the shard and the MsgSnap to step once
// they are in place.
func encodeSnapshotHeader(shard uint64, m *pb.Message) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(binary.BigEndian.AppendUint64(nil, shard), b...), nil
}

func decodeSnapshotHeader(b []byte) (uint64, *pb.Message, error) {
	if len(b) < 8 {
		return 0, nil, errBadPayload
	}
	m := &pb.Message{}
	if err := proto.Unmarshal(b[8:], m); err != nil || m.GetType() != pb.MsgSnap || m.Snapshot == nil {
		return 0, nil, errBadPayload
	}
	return binary.BigEndian.Uint64(b), m, nil
}
