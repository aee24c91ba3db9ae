package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

func frameBytes(t testing.TB, typ byte, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeFrame(w, typ, body); err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	return b.Bytes()
}

// header is a frame header declaring a body of n bytes.
func header(typ byte, n uint32) []byte {
	h := binary.BigEndian.AppendUint32(nil, n+1)
	return append(h, typ)
}

func TestReadFrameBoundsByType(t *testing.T) {
	const maxPayload = 1 << 20
	tests := []struct {
		typ   byte
		limit int
	}{
		{frameHello, maxHelloBody},
		{frameRaft, maxPayload},
		{frameRequest, maxPayload},
		{frameReply, maxPayload},
		{frameMessage, maxPayload},
		{frameSnapHead, maxSnapHeadBody},
		{frameFile, maxFileNameBody},
		{frameChunk, chunkSize},
		{frameEnd, 0},
	}
	for _, tc := range tests {
		body := bytes.Repeat([]byte{'x'}, tc.limit)
		typ, got, err := readFrame(bufio.NewReader(bytes.NewReader(frameBytes(t, tc.typ, body))), maxPayload)
		if err != nil || typ != tc.typ || !bytes.Equal(got, body) {
			t.Errorf("type %d at its limit %d: type %d, %d bytes, %v", tc.typ, tc.limit, typ, len(got), err)
		}
		over := append(header(tc.typ, uint32(tc.limit+1)), body...)
		if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(over)), maxPayload); err == nil {
			t.Errorf("type %d one byte over its limit %d: read without error", tc.typ, tc.limit)
		}
	}
	if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(header(42, 0))), maxPayload); err == nil {
		t.Error("unknown frame type read without error")
	}
	if _, _, err := readFrame(bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 0, frameRaft})), maxPayload); err == nil {
		t.Error("zero frame length read without error")
	}
}

// A frame declaring a huge body costs what arrived, not what it declared.
func TestReadFrameAllocatesWhatArrives(t *testing.T) {
	in := append(header(frameRaft, 1<<29), bytes.Repeat([]byte{'p'}, 100<<10)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readFrame(bufio.NewReader(bytes.NewReader(in)), 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated frame: %v, want unexpected EOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading 100 KiB of a frame declaring 512 MiB allocated %d bytes", n)
	}
}

// Connections that declare 1 GiB frames, before or after saying hello, are closed at once and
// leave the node's memory as it was.
func TestBusRefusesOversizedFrames(t *testing.T) {
	rec := &recorder{inbox: t.TempDir()}
	b, err := Listen(Options{ID: 1, Listen: "127.0.0.1:0", Handler: rec, MaxPayload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	hello := frameBytes(t, frameHello, helloBody(7, purposeMessages))
	for _, send := range [][]byte{
		header(frameHello, 1<<30-1),
		append(hello, header(frameRaft, 1<<30-1)...),
		append(hello, header(frameMessage, 1<<20+1)...),
		header(99, 10),
	} {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(append(send, bytes.Repeat([]byte{'z'}, 4096)...)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("connection sending % x…: read %v, want it closed", send[:5], err)
		}
		c.Close()
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("four hostile connections allocated %d bytes", n)
	}
	if rec.count() != 0 {
		t.Errorf("%d payloads delivered", rec.count())
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader: it must not panic, must not return a
// body longer than its type allows, and what it reads must encode back to the same bytes.
func FuzzReadFrame(f *testing.F) {
	f.Add(frameBytes(f, frameHello, helloBody(3, purposeSnapshot)))
	f.Add(frameBytes(f, frameRaft, []byte("payload")))
	f.Add(frameBytes(f, frameEnd, nil))
	f.Add(header(frameChunk, 1<<30))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, frameRaft})
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxPayload = 4 << 10
		typ, body, err := readFrame(bufio.NewReader(bytes.NewReader(in)), maxPayload)
		if err != nil {
			return
		}
		limit, ok := maxBody(typ, maxPayload)
		if !ok || len(body) > limit {
			t.Fatalf("type %d body of %d bytes read (limit %d, known %v)", typ, len(body), limit, ok)
		}
		if again := frameBytes(t, typ, body); !bytes.Equal(again, in[:len(again)]) {
			t.Fatalf("read %q, which encodes as %q", in[:len(again)], again)
		}
	})
}
