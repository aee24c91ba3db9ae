package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Handler receives what peers send.
type Handler interface {
	// Deliver takes a Raft payload; it must not block.
	Deliver(from uint64, payload []byte) error
	// SnapshotInbox is the directory incoming snapshots are written under.
	SnapshotInbox() string
	// ReceiveSnapshot takes a complete snapshot streamed into dir (which it then owns).
	ReceiveSnapshot(from uint64, header []byte, dir string) error
	// Request handles a request of a kind; reply must be called exactly once, from any
	// goroutine, with the reply body or an error.
	Request(from uint64, kind byte, body []byte, reply func([]byte, error))
	// Message takes a one-way message of a kind (Post); it must not block. Messages from one
	// peer arrive in the order they were posted.
	Message(from uint64, kind byte, body []byte)
	// Stream takes over a raw connection a peer opened with DialStream (gossip's streams).
	Stream(c net.Conn)
}

// Options configure a bus.
type Options struct {
	// ID is this node's ID (0 while it has none: it can still call peers by address).
	ID uint64
	// Listen is the address to listen on ("host:port").
	Listen  string
	Handler Handler
	Logger  *slog.Logger
	// QueueLen bounds each peer's queue of frames; 0 means 1024.
	QueueLen int
	// DialTimeout bounds one connection attempt; 0 means 1s.
	DialTimeout time.Duration
	// Security is how connections prove they come from cluster members (auth.go).
	Security Security
	// MaxPayload bounds a Raft payload, request, reply or message frame from a peer; 0 means
	// DefaultMaxPayload. Other frame types have fixed bounds (frame.go).
	MaxPayload int
	// SnapshotRate, when set, gives the bytes per second that this node's outgoing snapshot
	// streams may take together (0: no bound); it is read again before every chunk, so a
	// change applies to the streams under way.
	SnapshotRate func() int64
}

// Bus is a node's end of the bus.
type Bus struct {
	opts   Options
	id     atomic.Uint64
	ln     net.Listener
	logger *slog.Logger

	mu      sync.Mutex
	addrs   map[uint64]string // peer ID → bus address
	peers   map[string]*peer  // by address
	inbound map[net.Conn]struct{}
	closed  bool

	nextReq atomic.Uint64
	wg      sync.WaitGroup
	stop    chan struct{}

	// heard holds, per peer ID, when a frame from it last arrived (Unix ns).
	heard sync.Map
	// refused counts connections refused by TLS or the secret handshake.
	refused refusals
	// snapSent and snapReceived count the bytes of snapshot files streamed (snapshot.go).
	snapSent, snapReceived atomic.Int64
	// snapLimit paces every outgoing snapshot stream of the node together (snapshot.go).
	snapLimit *rate.Limiter
}

// Heard is when a frame from peer id last arrived (zero if never): a node's liveness as the
// bus sees it.
func (b *Bus) Heard(id uint64) time.Time {
	if v, ok := b.heard.Load(id); ok {
		return time.Unix(0, v.(*atomic.Int64).Load())
	}
	return time.Time{}
}

func (b *Bus) noteHeard(id uint64) {
	v, ok := b.heard.Load(id)
	if !ok {
		v, _ = b.heard.LoadOrStore(id, new(atomic.Int64))
	}
	v.(*atomic.Int64).Store(time.Now().UnixNano())
}

// ErrClosed is returned once the bus is closed.
var ErrClosed = errors.New("transport: closed")

// Listen starts a bus listening on opts.Listen.
func Listen(opts Options) (*Bus, error) {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 1024
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster bus: %w", err)
	}
	b := &Bus{opts: opts, ln: ln, logger: opts.Logger, addrs: map[uint64]string{}, peers: map[string]*peer{}, inbound: map[net.Conn]struct{}{}, stop: make(chan struct{}),
		snapLimit: rate.NewLimiter(rate.Inf, chunkSize)}
	b.id.Store(opts.ID)
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

// Addr is the address the bus listens on.
func (b *Bus) Addr() string { return b.ln.Addr().String() }

// SetID sets this node's ID once it is known.
func (b *Bus) SetID(id uint64) { b.id.Store(id) }

// SetPeer implements replica.Network.
func (b *Bus) SetPeer(id uint64, addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if addr == "" {
		delete(b.addrs, id)
		return
	}
	b.addrs[id] = addr
}

// PeerAddr returns the bus address known for a peer.
func (b *Bus) PeerAddr(id uint64) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.addrs[id]
	return a, ok
}

// peerFor returns the connection manager for an address, starting it if needed.
func (b *Bus) peerFor(addr string) *peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	p := b.peers[addr]
	if p == nil {
		p = newPeer(b, addr)
		b.peers[addr] = p
		b.wg.Add(1)
		go p.run()
	}
	return p
}

func (b *Bus) peerByID(id uint64) *peer {
	b.mu.Lock()
	addr, ok := b.addrs[id]
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return b.peerFor(addr)
}

// Send implements replica.Network: it queues a Raft payload and never blocks.
func (b *Bus) Send(to uint64, payload []byte) bool {
	p := b.peerByID(to)
	if p == nil {
		return false
	}
	return p.offer(outFrame{typ: frameRaft, body: payload})
}

// Post queues a one-way message for a peer and returns at once; it reports false if the message
// was dropped (the peer is unknown or its queue is full). Messages to one peer are delivered
// in order.
func (b *Bus) Post(to uint64, kind byte, body []byte) bool {
	p := b.peerByID(to)
	if p == nil {
		return false
	}
	return p.offer(outFrame{typ: frameMessage, pre: []byte{kind}, body: body})
}

// Call sends a request to the node at a bus address and waits for its reply.
func (b *Bus) Call(ctx context.Context, addr string, kind byte, body []byte) ([]byte, error) {
	p := b.peerFor(addr)
	if p == nil {
		return nil, ErrClosed
	}
	return p.call(ctx, kind, body)
}

// CallPeer sends a request to a peer by ID.
func (b *Bus) CallPeer(ctx context.Context, id uint64, kind byte, body []byte) ([]byte, error) {
	addr, ok := b.PeerAddr(id)
	if !ok {
		return nil, fmt.Errorf("transport: no address for node %d", id)
	}
	return b.Call(ctx, addr, kind, body)
}

// Close stops the bus: the listener, every connection and every goroutine.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	err := b.ln.Close()
	for c := range b.inbound {
		c.Close()
	}
	peers := b.peers
	b.mu.Unlock()
	for _, p := range peers {
		p.close()
	}
	b.wg.Wait()
	return err
}

func (b *Bus) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			select {
			case <-b.stop:
				return
			default:
			}
			b.logger.Warn("cluster bus accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			c.Close()
			return
		}
		b.inbound[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serve(c)
	}
}

// serve reads an inbound connection: Raft payloads and requests, or a snapshot stream, or a
// raw stream for the handler (DialStream).
func (b *Bus) serve(raw net.Conn) {
	defer b.wg.Done()
	handedOff := false
	defer func() {
		if handedOff {
			return
		}
		b.mu.Lock()
		delete(b.inbound, raw)
		b.mu.Unlock()
		raw.Close()
	}()
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c, ok := b.admit(raw)
	if !ok {
		return
	}
	r := bufio.NewReaderSize(c, 256<<10)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if p, err := r.Peek(len(streamPreamble)); err == nil && string(p) == streamPreamble {
		_, _ = r.Discard(len(streamPreamble))
		_ = c.SetReadDeadline(time.Time{})
		b.mu.Lock()
		delete(b.inbound, raw) // the handler owns it now
		b.mu.Unlock()
		b.opts.Handler.Stream(&bufferedConn{Conn: c, r: r})
		handedOff = true
		return
	}
	typ, body, err := readFrame(r, b.opts.MaxPayload)
	if err != nil || typ != frameHello {
		return
	}
	from, purpose, err := parseHello(body)
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	w := &lockedWriter{w: bufio.NewWriterSize(c, 64<<10)}
	if purpose == purposeSnapshot {
		b.receiveSnapshot(from, r, w)
		return
	}
	for {
		typ, body, err := readFrame(r, b.opts.MaxPayload)
		if err != nil {
			return
		}
		if from != 0 {
			b.noteHeard(from)
		}
		switch typ {
		case frameRaft:
			if err := b.opts.Handler.Deliver(from, body); err != nil {
				b.logger.Warn("bad raft payload", "from", from, "err", err)
			}
		case frameMessage:
			if len(body) < 1 {
				return
			}
			b.opts.Handler.Message(from, body[0], body[1:])
		case frameRequest:
			if len(body) < 9 {
				return
			}
			id := binary.BigEndian.Uint64(body)
			b.opts.Handler.Request(from, body[8], body[9:], func(reply []byte, err error) {
				status, out := byte(0), reply
				if err != nil {
					status, out = 1, []byte(err.Error())
				}
				w.frame(frameReply, binary.BigEndian.AppendUint64(nil, id), []byte{status}, out)
			})
		default:
			return
		}
	}
}

// lockedWriter serializes frames written from several goroutines (request replies).
type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lockedWriter) frame(typ byte, parts ...[]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := writeFrame(l.w, typ, parts...); err != nil {
		return err
	}
	return l.w.Flush()
}

// RemoteError is an error the remote handler returned.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }

// streamPreamble opens a raw stream (DialStream). As a frame header it would declare a length
// over MaxFrame, so no frame stream starts this way.
const streamPreamble = "GSSP"

// DialStream opens a raw connection to a peer's bus at addr, which the peer hands to its
// Handler's Stream: a reliable byte stream for another protocol (memberlist's) sharing the
// bus's port.
func (b *Bus) DialStream(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := b.dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(streamPreamble)); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

// bufferedConn is a connection whose first bytes were already read into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
