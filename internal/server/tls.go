package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// TLS for clients. The event loops (gnet) read and write raw sockets, and TLS needs a
// goroutine's blocking reads and writes, so TLS is terminated beside them: a Go listener on
// tls-port accepts, runs the handshake, and copies the decrypted stream both ways to a
// Unix-domain socket the event loops also listen on (in the abstract namespace: no file).
// Each bridged connection dials it from an abstract address holding a random token, and the
// event loop admits a Unix connection only if it comes from a token the bridge registered (so
// no local process can use the socket to skip TLS); it then takes the client's real addresses
// from the registration. Everything after the handshake — parsing, routing, replies — is the
// one path every client takes. The cost is two extra copies through the kernel per byte and
// two goroutines per TLS connection (the README has the numbers).

// tlsBridge is the TLS listener and its bridged connections.
type tlsBridge struct {
	s        *Server
	internal string // the event loops' Unix socket, "@cairn-<run id>-tls"
	conf     *tls.Config

	mu      sync.Mutex
	lns     []net.Listener
	conns   map[net.Conn]struct{}
	pending map[string]bridgedAddrs // a bridged connection's Unix address → its client's addresses
	closed  bool
	wg      sync.WaitGroup
}

type bridgedAddrs struct{ raddr, laddr string }

// handshakeTimeout bounds a TLS client's handshake.
const tlsHandshakeTimeout = 10 * time.Second

// newTLSBridge prepares TLS for clients if tls-port is set: its listeners are opened at once,
// so a port in use is reported before the server starts.
func newTLSBridge(s *Server) (*tlsBridge, error) {
	port := s.cfg.TLSPort()
	if port == 0 {
		return nil, nil
	}
	b := &tlsBridge{s: s, internal: "@cairn-" + s.runID + "-tls", conns: map[net.Conn]struct{}{}, pending: map[string]bridgedAddrs{}}
	b.conf = &tls.Config{GetConfigForClient: b.configFor}
	for _, host := range s.cfg.Bind {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			b.close()
			return nil, listenError("tls-port", err)
		}
		b.lns = append(b.lns, ln)
	}
	return b, nil
}

// configFor builds the configuration of one handshake from the current parameters and
// certificates, so CONFIG SET and renewed files apply to the next client.
func (b *tlsBridge) configFor(*tls.ClientHelloInfo) (*tls.Config, error) {
	p := b.s.cfg.tlsSnapshot()
	lo, hi, err := tlsVersions(p.protocols)
	if err != nil {
		return nil, err
	}
	suites, err := cipherSuites(p.ciphers)
	if err != nil {
		return nil, err
	}
	cert, _, roots := b.s.certs.current()
	if cert == nil {
		return nil, errors.New("no TLS certificate loaded")
	}
	conf := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: lo, MaxVersion: hi, CipherSuites: suites, ClientCAs: roots}
	switch p.authClients {
	case "yes":
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return conf, nil
}

func (b *tlsBridge) start() {
	for _, ln := range b.lns {
		b.s.logger.Info("serving TLS clients", "addr", ln.Addr().String())
		b.wg.Add(1)
		go b.accept(ln)
	}
}

func (b *tlsBridge) accept(ln net.Listener) {
	defer b.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return // closed
		}
		if !b.track(c) {
			c.Close()
			return
		}
		b.wg.Add(1)
		go b.serve(c)
	}
}

func (b *tlsBridge) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *tlsBridge) untrack(c net.Conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	c.Close()
}

// serve runs one TLS client's handshake and then copies its stream to and from the loops.
func (b *tlsBridge) serve(raw net.Conn) {
	defer b.wg.Done()
	defer b.untrack(raw)
	tc := tls.Server(raw, b.conf)
	ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		b.s.logger.Debug("TLS handshake failed", "addr", raw.RemoteAddr().String(), "err", err)
		return
	}
	var token [12]byte
	_, _ = rand.Read(token[:])
	name := "@cairn-" + b.s.runID + "-" + hex.EncodeToString(token[:])
	b.mu.Lock()
	b.pending[name] = bridgedAddrs{raddr: raw.RemoteAddr().String(), laddr: raw.LocalAddr().String()}
	b.mu.Unlock()
	uc, err := net.DialUnix("unix", &net.UnixAddr{Name: name, Net: "unix"}, &net.UnixAddr{Name: b.internal, Net: "unix"})
	if err != nil {
		b.mu.Lock()
		delete(b.pending, name)
		b.mu.Unlock()
		b.s.logger.Warn("TLS client could not be handed to the event loops", "err", err)
		return
	}
	if !b.track(uc) {
		uc.Close()
		return
	}
	defer b.untrack(uc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(uc, tc) // client → server
		_ = uc.CloseWrite()
	}()
	_, _ = io.Copy(tc, uc) // server → client
	_ = tc.CloseWrite()
	raw.Close() // ends the other copy if the client is still sending
	<-done
}

// claim is the event loop's check of a connection on the internal socket: it must come from a
// connection the bridge registered, whose client addresses it returns.
func (b *tlsBridge) claim(from string) (bridgedAddrs, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.pending[from]
	delete(b.pending, from)
	return a, ok
}

// close stops the listeners and every bridged connection, and waits for their goroutines.
func (b *tlsBridge) close() {
	b.mu.Lock()
	b.closed = true
	for _, ln := range b.lns {
		ln.Close()
	}
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// listenError says plainly what stopped a listener, naming the parameter.
func listenError(param string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return errors.New(param + ": " + err.Error() + " (another process is listening on this port)")
	}
	return errors.New(param + ": " + err.Error())
}

func isUnix(a net.Addr) bool {
	_, ok := a.(*net.UnixAddr)
	return ok
}

// gnetAddr is the internal socket's address as gnet takes it. gnet parses addresses as URLs,
// where "unix://@name" would read "@" as the end of a user name; it joins host and path, so
// a host whose path steps back out of it yields the bare "@name", Linux's abstract namespace.
func (b *tlsBridge) gnetAddr() string { return "unix://cairn/../" + b.internal }
