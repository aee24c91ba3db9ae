package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// links is which directed node-to-node links are cut, and by how many faults (they overlap).
// Nodes are numbered by their Raft ID.
type links struct {
	mu  sync.Mutex
	cut map[[2]uint64]int
	// proxies are told when a link changes.
	proxies []*proxy
}

func (l *links) blocked(from, to uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut[[2]uint64{from, to}] > 0
}

// set cuts links, or undoes a cut of them, then breaks every proxied connection they carry so
// that the new rule holds from the start of a stream (a stream cut mid-frame would be garbage).
func (l *links) set(pairs [][2]uint64, cut bool) {
	l.mu.Lock()
	for _, p := range pairs {
		if cut {
			l.cut[p]++
		} else if l.cut[p]--; l.cut[p] <= 0 {
			delete(l.cut, p)
		}
	}
	proxies := l.proxies
	l.mu.Unlock()
	for _, p := range proxies {
		p.reset(pairs)
	}
}

func (l *links) healAll() {
	l.mu.Lock()
	var pairs [][2]uint64
	for p := range l.cut {
		pairs = append(pairs, p)
	}
	l.cut = map[[2]uint64]int{}
	proxies := l.proxies
	l.mu.Unlock()
	for _, p := range proxies {
		p.reset(pairs)
	}
}

// proxy stands in front of one node's cluster bus: the other nodes reach the node through it
// (the node announces the proxy's port with cluster-announce-bus-port). It reads the hello
// frame each connection opens with to learn which node is calling, and carries or swallows
// each direction of the stream as the links say. A swallowed direction is a black hole: the
// sender's writes succeed and go nowhere, as in a real partition.
type proxy struct {
	to     uint64 // the node behind it
	target string
	ln     net.Listener
	links  *links

	mu    sync.Mutex
	conns map[*pconn]struct{}
	wg    sync.WaitGroup
}

type pconn struct {
	from         uint64
	client, node net.Conn
}

func newProxy(listen, target string, to uint64, l *links) (*proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("proxy for node %d: %w", to, err)
	}
	p := &proxy{to: to, target: target, ln: ln, links: l, conns: map[*pconn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.client.Close()
		if c.node != nil {
			c.node.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// reset breaks the connections that carry any of pairs.
func (p *proxy) reset(pairs [][2]uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		for _, pr := range pairs {
			if (pr[0] == c.from && pr[1] == p.to) || (pr[0] == p.to && pr[1] == c.from) {
				c.client.Close()
				if c.node != nil {
					c.node.Close()
				}
				break
			}
		}
	}
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// A bus stream opens with a hello frame: length(4) type(1)=1 magic(6) from(8) purpose(1).
const helloLen = 5 + 6 + 8 + 1

var errNoHello = errors.New("no hello frame")

func readHello(r *bufio.Reader) ([]byte, uint64, error) {
	b := make([]byte, helloLen)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, 0, err
	}
	if binary.BigEndian.Uint32(b) != helloLen-4 || b[4] != 1 || string(b[5:11]) != "CAIRN1" {
		return nil, 0, errNoHello
	}
	return b, binary.BigEndian.Uint64(b[11:19]), nil
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	r := bufio.NewReader(client)
	hello, from, err := readHello(r)
	if err != nil {
		return
	}
	c := &pconn{from: from, client: client}
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	up := !p.links.blocked(from, p.to)   // caller → node
	down := !p.links.blocked(p.to, from) // node → caller (replies, acknowledgements)
	if !up {
		// The node never hears of this stream: swallow it until the link changes.
		_, _ = io.Copy(io.Discard, r)
		return
	}
	node, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	c.node = node
	p.mu.Unlock()
	defer node.Close()
	if _, err := node.Write(hello); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(node, r)
		node.Close()
		done <- struct{}{}
	}()
	go func() {
		if down {
			_, _ = io.Copy(client, node)
		} else {
			_, _ = io.Copy(io.Discard, node)
		}
		client.Close()
		done <- struct{}{}
	}()
	<-done
	<-done
}
