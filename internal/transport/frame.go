package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Frame types.
const (
	frameHello    = 1 // magic(6) from(8) purpose(1)
	frameRaft     = 2 // payload
	frameRequest  = 3 // id(8) kind(1) body
	frameReply    = 4 // id(8) status(1) body
	frameSnapHead = 5 // header
	frameFile     = 6 // name
	frameChunk    = 7 // data
	frameEnd      = 8
	frameMessage  = 9 // kind(1) body: a one-way message, delivered in order per peer
)

const (
	purposeMessages = 0
	purposeSnapshot = 1
)

var magic = []byte("CAIRN1")

// MaxFrame bounds a frame; a larger length is a protocol error, not an allocation.
const MaxFrame = 1 << 30

var errFrameTooLarge = errors.New("transport: frame too large")

func writeFrame(w *bufio.Writer, typ byte, parts ...[]byte) error {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxFrame {
		return errFrameTooLarge
	}
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(n))
	hdr[4] = typ
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Bounds on a frame's body by its type. A frame may declare any length; the reader refuses one
// longer than its type can need, and never allocates ahead of the bytes that arrived (see
// readFrame), so a peer, even one that has not said who it is, cannot make a node hold memory
// it has not sent.
const (
	// maxHelloBody bounds a hello, read before the peer is known.
	maxHelloBody = 1 << 10
	// maxSnapHeadBody bounds a snapshot's header (its Raft metadata and file checksums).
	maxSnapHeadBody = 16 << 20
	// maxFileNameBody bounds a snapshot file's name.
	maxFileNameBody = 4 << 10
	// DefaultMaxPayload bounds a Raft payload, a request, a reply or a message unless
	// Options.MaxPayload says otherwise: one write's operation can be as large as the largest
	// value (proto-max-bulk-len) and a payload carries several.
	DefaultMaxPayload = MaxFrame - 1
	// readStep is the first allocation for a body; it doubles as bytes arrive.
	readStep = 64 << 10
)

// maxBody is the longest body a frame of type typ may have, given the bound on payloads; ok is
// false for an unknown type.
func maxBody(typ byte, maxPayload int) (n int, ok bool) {
	switch typ {
	case frameHello:
		return maxHelloBody, true
	case frameRaft, frameRequest, frameReply, frameMessage:
		return maxPayload, true
	case frameSnapHead:
		return maxSnapHeadBody, true
	case frameFile:
		return maxFileNameBody, true
	case frameChunk:
		return chunkSize, true
	case frameEnd:
		return 0, true
	}
	return 0, false
}

// readFrame reads one frame, whose body is at most what its type allows (maxPayload bounds
// payload frames, DefaultMaxPayload when 0). The body is freshly allocated, growing as it
// arrives: what it holds is never more than twice what the peer sent, whatever length the frame
// declared.
func readFrame(r *bufio.Reader, maxPayload int) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	n := binary.BigEndian.Uint32(hdr[:])
	typ := hdr[4]
	limit, ok := maxBody(typ, maxPayload)
	if !ok {
		return 0, nil, fmt.Errorf("transport: unknown frame type %d", typ)
	}
	if n < 1 || int64(n)-1 > int64(limit) {
		return 0, nil, fmt.Errorf("transport: bad length %d for a frame of type %d", n, typ)
	}
	size := int(n - 1)
	body := make([]byte, 0, min(size, readStep))
	for len(body) < size {
		if len(body) == cap(body) {
			body = slices.Grow(body, min(size-len(body), len(body)))
		}
		end := min(cap(body), size)
		if _, err := io.ReadFull(r, body[len(body):end]); err != nil {
			return 0, nil, err
		}
		body = body[:end]
	}
	return typ, body, nil
}

func helloBody(from uint64, purpose byte) []byte {
	b := append([]byte(nil), magic...)
	b = binary.BigEndian.AppendUint64(b, from)
	return append(b, purpose)
}

func parseHello(b []byte) (from uint64, purpose byte, err error) {
	if len(b) != len(magic)+9 || string(b[:len(magic)]) != string(magic) {
		return 0, 0, errors.New("transport: bad hello")
	}
	return binary.BigEndian.Uint64(b[len(magic):]), b[len(b)-1], nil
}
