package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"
)

type outFrame struct {
	typ  byte
	body []byte
	pre  []byte // written before body (request header)
}

type callResult struct {
	body []byte
	err  error
}

// peer is the outbound side towards one address: a bounded queue, one connection, and the
// requests waiting for replies on it.
type peer struct {
	bus   *Bus
	addr  string
	queue chan outFrame
	stop  chan struct{}
	once  sync.Once

	mu    sync.Mutex
	calls map[uint64]chan callResult
}

func newPeer(b *Bus, addr string) *peer {
	return &peer{bus: b, addr: addr, queue: make(chan outFrame, b.opts.QueueLen), stop: make(chan struct{}), calls: map[uint64]chan callResult{}}
}

func (p *peer) close() { p.once.Do(func() { close(p.stop) }) }

// offer queues a frame unless the queue is full.
func (p *peer) offer(f outFrame) bool {
	select {
	case p.queue <- f:
		return true
	default:
		return false
	}
}

func (p *peer) call(ctx context.Context, kind byte, body []byte) ([]byte, error) {
	id := p.bus.nextReq.Add(1)
	ch := make(chan callResult, 1)
	p.mu.Lock()
	p.calls[id] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.calls, id)
		p.mu.Unlock()
	}()
	pre := binary.BigEndian.AppendUint64(nil, id)
	pre = append(pre, kind)
	select {
	case p.queue <- outFrame{typ: frameRequest, pre: pre, body: body}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.stop:
		return nil, ErrClosed
	}
	select {
	case r := <-ch:
		return r.body, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.stop:
		return nil, ErrClosed
	}
}

// failCalls fails every request waiting on a connection that broke: its reply will not come.
func (p *peer) failCalls(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, ch := range p.calls {
		select {
		case ch <- callResult{err: err}:
		default:
		}
		delete(p.calls, id)
	}
}

var errConnLost = errors.New("transport: connection lost before the reply")

// run keeps a connection to the peer and drains the queue into it, redialing with backoff.
func (p *peer) run() {
	defer p.bus.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-p.stop:
			p.failCalls(ErrClosed)
			return
		default:
		}
		c, err := p.bus.dial(p.addr, p.bus.opts.DialTimeout)
		if err != nil {
			// While unreachable, requests fail fast; Raft payloads are dropped by the full queue.
			p.drainRequests(err)
			select {
			case <-p.stop:
				p.failCalls(ErrClosed)
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		p.serve(c)
		p.failCalls(errConnLost)
	}
}

// drainRequests fails queued requests (Raft payloads stay: the queue bound drops them).
func (p *peer) drainRequests(err error) {
	for {
		select {
		case f := <-p.queue:
			if f.typ == frameRequest {
				id := binary.BigEndian.Uint64(f.pre)
				p.mu.Lock()
				if ch, ok := p.calls[id]; ok {
					ch <- callResult{err: err}
					delete(p.calls, id)
				}
				p.mu.Unlock()
			}
		default:
			return
		}
	}
}

func (p *peer) serve(c net.Conn) {
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	w := bufio.NewWriterSize(c, 256<<10)
	if err := writeFrame(w, frameHello, helloBody(p.bus.id.Load(), purposeMessages)); err != nil {
		return
	}
	if err := w.Flush(); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(c)
		for {
			typ, body, err := readFrame(r, p.bus.opts.MaxPayload)
			if err != nil || typ != frameReply || len(body) < 9 {
				c.Close()
				return
			}
			id := binary.BigEndian.Uint64(body)
			res := callResult{body: body[9:]}
			if body[8] != 0 {
				res = callResult{err: &RemoteError{Msg: string(body[9:])}}
			}
			p.mu.Lock()
			if ch, ok := p.calls[id]; ok {
				ch <- res
				delete(p.calls, id)
			}
			p.mu.Unlock()
		}
	}()
	defer func() { c.Close(); <-done }()
	for {
		var f outFrame
		select {
		case <-p.stop:
			return
		case <-done:
			return
		case f = <-p.queue:
		}
		for {
			var err error
			if f.pre != nil {
				err = writeFrame(w, f.typ, f.pre, f.body)
			} else {
				err = writeFrame(w, f.typ, f.body)
			}
			if err != nil {
				return
			}
			// Everything queued goes out in one flush.
			select {
			case f = <-p.queue:
				continue
			default:
			}
			break
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}
