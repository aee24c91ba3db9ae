package transport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// Security is how a bus and its peers prove to each other that they belong to the cluster.
// The zero value trusts every connection, as the bus always did.
type Security struct {
	// Secret is the cluster secret every member shares. When set, every connection, inbound
	// or outbound, opens with a challenge and response over it (authHandshake) before
	// anything else is read; a peer that cannot answer is refused and logged.
	Secret []byte
	// ServerTLS and ClientTLS, when set, wrap every accepted and dialed connection in TLS.
	// For mutual TLS (tls-cluster) ServerTLS requires and verifies client certificates.
	ServerTLS, ClientTLS *tls.Config
}

// handshakeTimeout bounds how long a new connection may take to prove itself.
const handshakeTimeout = 5 * time.Second

// The challenge and response. The dialer sends authMagic and its nonce; the listener answers
// with its own nonce and a MAC over both nonces; the dialer checks it and answers with a MAC
// of its own. Both sides thus prove the secret over nonces the other chose (no replay), and
// the two MACs carry different labels, so neither can be reflected back as the other. Every
// read is of a fixed size into a fixed array: a stranger makes the node allocate nothing.
const (
	nonceLen    = 32
	macLen      = sha256.Size
	serverLabel = "cairn bus listener"
	clientLabel = "cairn bus dialer"
)

var authMagic = [8]byte{'C', 'A', 'I', 'R', 'N', 'A', 'U', '1'}

// ErrNotMember is the error of a handshake the other side failed: it does not know the cluster
// secret (or is not a cairn bus at all).
var ErrNotMember = errors.New("transport: peer did not prove the cluster secret")

func authMAC(secret []byte, label string, nonceD, nonceL *[nonceLen]byte) [macLen]byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write(nonceD[:])
	m.Write(nonceL[:])
	var out [macLen]byte
	m.Sum(out[:0])
	return out
}

// proveAsDialer runs the dialer's side of the handshake on a new connection.
func proveAsDialer(c net.Conn, secret []byte) error {
	var hello [len(authMagic) + nonceLen]byte
	copy(hello[:], authMagic[:])
	var nonceD [nonceLen]byte
	_, _ = rand.Read(nonceD[:])
	copy(hello[len(authMagic):], nonceD[:])
	if _, err := c.Write(hello[:]); err != nil {
		return err
	}
	var answer [nonceLen + macLen]byte
	if _, err := io.ReadFull(c, answer[:]); err != nil {
		return fmt.Errorf("%w (%v)", ErrNotMember, err)
	}
	var nonceL [nonceLen]byte
	copy(nonceL[:], answer[:nonceLen])
	want := authMAC(secret, serverLabel, &nonceD, &nonceL)
	if !hmac.Equal(want[:], answer[nonceLen:]) {
		return ErrNotMember
	}
	proof := authMAC(secret, clientLabel, &nonceD, &nonceL)
	_, err := c.Write(proof[:])
	return err
}

// proveAsListener runs the listener's side of the handshake on an accepted connection.
func proveAsListener(c net.Conn, secret []byte) error {
	var m [len(authMagic)]byte
	if _, err := io.ReadFull(c, m[:]); err != nil {
		return err
	}
	if m != authMagic { // a peer without a secret starts with a frame: refused at once
		return errors.New("no cluster secret handshake")
	}
	var nonceD, nonceL [nonceLen]byte
	if _, err := io.ReadFull(c, nonceD[:]); err != nil {
		return err
	}
	_, _ = rand.Read(nonceL[:])
	var answer [nonceLen + macLen]byte
	copy(answer[:], nonceL[:])
	mac := authMAC(secret, serverLabel, &nonceD, &nonceL)
	copy(answer[nonceLen:], mac[:])
	if _, err := c.Write(answer[:]); err != nil {
		return err
	}
	var proof [macLen]byte
	if _, err := io.ReadFull(c, proof[:]); err != nil {
		return err
	}
	want := authMAC(secret, clientLabel, &nonceD, &nonceL)
	if !hmac.Equal(want[:], proof[:]) {
		return errors.New("wrong cluster secret")
	}
	return nil
}

// dial opens a connection to a peer's bus and, as the bus's Security asks, wraps it in TLS
// and proves the cluster secret.
func (b *Bus) dial(addr string, timeout time.Duration) (net.Conn, error) {
	raw, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	sec := b.opts.Security
	if sec.ClientTLS == nil && sec.Secret == nil {
		return raw, nil
	}
	_ = raw.SetDeadline(time.Now().Add(handshakeTimeout))
	c := raw
	if sec.ClientTLS != nil {
		tc := tls.Client(raw, sec.ClientTLS)
		if err := tc.Handshake(); err != nil {
			raw.Close()
			b.refused.note(b, "cluster bus: TLS handshake with a peer failed", addr, err)
			return nil, err
		}
		c = tc
	}
	if sec.Secret != nil {
		if err := proveAsDialer(c, sec.Secret); err != nil {
			c.Close()
			b.refused.note(b, "cluster bus: a peer did not prove the cluster secret", addr, err)
			return nil, err
		}
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

// admit runs the listener's side of TLS and the secret handshake on an accepted connection; it
// returns the connection to read from, or false if the peer is refused (and logged).
func (b *Bus) admit(raw net.Conn) (net.Conn, bool) {
	sec := b.opts.Security
	if sec.ServerTLS == nil && sec.Secret == nil {
		return raw, true
	}
	_ = raw.SetDeadline(time.Now().Add(handshakeTimeout))
	c := raw
	if sec.ServerTLS != nil {
		tc := tls.Server(raw, sec.ServerTLS)
		if err := tc.Handshake(); err != nil {
			b.refused.note(b, "cluster bus: refused a connection: TLS handshake failed", raw.RemoteAddr().String(), err)
			return nil, false
		}
		c = tc
	}
	if sec.Secret != nil {
		if err := proveAsListener(c, sec.Secret); err != nil {
			b.refused.note(b, "cluster bus: refused a connection that did not prove the cluster secret", raw.RemoteAddr().String(), err)
			return nil, false
		}
	}
	_ = raw.SetDeadline(time.Time{})
	return c, true
}

// refusals counts refused connections and logs them at most once a second, so a stranger
// hammering the port cannot flood the log.
type refusals struct {
	count   atomic.Int64
	lastLog atomic.Int64
}

func (r *refusals) note(b *Bus, msg, addr string, err error) {
	n := r.count.Add(1)
	now := time.Now().UnixNano()
	last := r.lastLog.Load()
	if now-last < int64(time.Second) || !r.lastLog.CompareAndSwap(last, now) {
		return
	}
	b.logger.Warn(msg, "addr", addr, "err", err, "refused_total", n)
}

// Refused is how many bus connections failed TLS or the secret handshake, either way.
func (b *Bus) Refused() int64 { return b.refused.count.Load() }
