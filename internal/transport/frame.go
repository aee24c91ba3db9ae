package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// readFrame reads one frame; the body is freshly allocated.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 || n > MaxFrame {
		return 0, nil, fmt.Errorf("transport: bad frame length %d", n)
	}
	body := make([]byte, n-1)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return hdr[4], body, nil
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
