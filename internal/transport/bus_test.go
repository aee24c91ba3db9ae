package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type recorder struct {
	mu       sync.Mutex
	payloads []string
	from     []uint64
	snaps    map[string][]byte // file → contents of the last snapshot
	header   []byte
	inbox    string
	messages []string
}

func (r *recorder) Deliver(from uint64, payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads = append(r.payloads, string(payload))
	r.from = append(r.from, from)
	return nil
}

func (r *recorder) SnapshotInbox() string { return r.inbox }

func (r *recorder) ReceiveSnapshot(from uint64, header []byte, dir string) error {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return err
	})
	r.mu.Lock()
	r.snaps, r.header = files, header
	r.mu.Unlock()
	return err
}

func (r *recorder) Request(from uint64, kind byte, body []byte, reply func([]byte, error)) {
	if kind == 9 {
		reply(nil, errors.New("refused"))
		return
	}
	go reply(append([]byte(fmt.Sprintf("%d:%d:", from, kind)), body...), nil)
}

func (r *recorder) Stream(c net.Conn) { c.Close() }

func (r *recorder) Message(from uint64, kind byte, body []byte) {
	r.mu.Lock()
	r.messages = append(r.messages, fmt.Sprintf("%d:%d:%s", from, kind, body))
	r.mu.Unlock()
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.payloads)
}

func newBus(t *testing.T, id uint64, addr string) (*Bus, *recorder) {
	t.Helper()
	rec := &recorder{inbox: t.TempDir()}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	b, err := Listen(Options{ID: id, Listen: addr, Handler: rec, QueueLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, rec
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBusDeliversInOrder(t *testing.T) {
	a, _ := newBus(t, 1, "")
	b, rec := newBus(t, 2, "")
	a.SetPeer(2, b.Addr())
	sent := 0
	for i := 0; i < 200; i++ {
		for !a.Send(2, []byte(fmt.Sprintf("m%03d", i))) {
			time.Sleep(time.Millisecond) // queue full: the caller decides; here we retry
		}
		sent++
	}
	waitUntil(t, "every payload", func() bool { return rec.count() == sent })
	for i, p := range rec.payloads {
		if want := fmt.Sprintf("m%03d", i); p != want || rec.from[i] != 1 {
			t.Fatalf("payload %d = %q from %d, want %q from 1", i, p, rec.from[i], want)
		}
	}
}

// A peer that is down must not block the sender: its queue fills and further payloads are
// refused at once.
func TestBusBackpressureNeverBlocks(t *testing.T) {
	a, _ := newBus(t, 1, "")
	a.SetPeer(2, "127.0.0.1:1") // nothing listens there
	start := time.Now()
	refused := 0
	for i := 0; i < 1000; i++ {
		if !a.Send(2, []byte("x")) {
			refused++
		}
	}
	// The queue holds 16; while dials fail the peer also discards what is queued, so a few
	// more than 16 may be accepted, never most.
	if refused < 900 {
		t.Fatalf("refused %d of 1000 payloads to a dead peer with a queue of 16", refused)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("sending to a dead peer took %v", d)
	}
	if a.Send(3, []byte("x")) {
		t.Fatal("Send to an unknown peer reported success")
	}
}

func TestBusReconnects(t *testing.T) {
	a, _ := newBus(t, 1, "")
	b, _ := newBus(t, 2, "")
	addr := b.Addr()
	a.SetPeer(2, addr)
	b.Close()
	// While the peer is down, payloads are queued or dropped; then it comes back on the same
	// address and new payloads arrive.
	a.Send(2, []byte("lost?"))
	var rec *recorder
	waitUntil(t, "the address to be free again", func() bool {
		nb, err := Listen(Options{ID: 2, Listen: addr, Handler: &recorder{}})
		if err != nil {
			return false
		}
		t.Cleanup(func() { nb.Close() })
		rec = nb.opts.Handler.(*recorder)
		return true
	})
	waitUntil(t, "a payload after reconnecting", func() bool {
		a.Send(2, []byte("again"))
		return rec.count() > 0
	})
}

func TestBusCall(t *testing.T) {
	a, _ := newBus(t, 1, "")
	b, _ := newBus(t, 2, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := a.Call(ctx, b.Addr(), 5, []byte("ping"))
	if err != nil || string(got) != "1:5:ping" {
		t.Fatalf("Call = %q, %v; want \"1:5:ping\"", got, err)
	}
	_, err = a.Call(ctx, b.Addr(), 9, nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "refused" {
		t.Fatalf("Call of a refused request: err = %v, want RemoteError refused", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := a.Call(short, "127.0.0.1:1", 5, nil); err == nil {
		t.Fatal("Call to a dead address succeeded")
	}
}

func TestBusSnapshotStream(t *testing.T) {
	a, _ := newBus(t, 1, "")
	b, rec := newBus(t, 2, "")
	a.SetPeer(2, b.Addr())
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][]byte{}
	for i, size := range []int{0, 10, chunkSize, 3*chunkSize + 17} {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		name := fmt.Sprintf("f%d.sst", i)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = data
	}
	if err := a.SendSnapshot(2, []byte("hdr"), dir); err != nil {
		t.Fatal(err)
	}
	if string(rec.header) != "hdr" {
		t.Fatalf("header = %q, want hdr", rec.header)
	}
	if len(rec.snaps) != len(want) {
		t.Fatalf("received %d files, want %d", len(rec.snaps), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(rec.snaps[name], data) {
			t.Fatalf("file %s: %d bytes received, want %d identical", name, len(rec.snaps[name]), len(data))
		}
	}
}

// Snapshot streams are paced by the node's snapshot rate: 4 MiB at 2 MiB/s cannot arrive in
// less than about 1.5 s (the first chunk goes at once). Only the lower bound is checked, which
// a slow machine cannot break; a rate of 0 is unbounded and the same data arrives intact.
func TestBusSnapshotRate(t *testing.T) {
	var limit atomic.Int64
	limit.Store(2 << 20)
	a, err := Listen(Options{ID: 1, Listen: "127.0.0.1:0", Handler: &recorder{inbox: t.TempDir()}, SnapshotRate: limit.Load})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, rec := newBus(t, 2, "")
	a.SetPeer(2, b.Addr())
	dir := t.TempDir()
	data := bytes.Repeat([]byte("cairn"), 4<<20/5)
	if err := os.WriteFile(filepath.Join(dir, "f.sst"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := a.SendSnapshot(2, []byte("hdr"), dir); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 1400*time.Millisecond {
		t.Fatalf("4 MiB at 2 MiB/s took %v", took)
	}
	if !bytes.Equal(rec.snaps["f.sst"], data) {
		t.Fatalf("received %d bytes, want %d identical", len(rec.snaps["f.sst"]), len(data))
	}
	limit.Store(0)
	rec.snaps = nil
	if err := a.SendSnapshot(2, []byte("hdr"), dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec.snaps["f.sst"], data) {
		t.Fatal("the unbounded stream arrived damaged")
	}
}
