package server

import (
	"bytes"

	"github.com/panjf2000/gnet/v2"

	"github.com/cairn-db/cairn/internal/resp"
)

// A request that declares a big argument is read straight into one buffer of the size its
// header declares, taken from the loop's read buffer as the bytes arrive, instead of piling up
// in the connection's input buffer, which grows by doubling and would hold several times the
// value. The declared size was bounded by proto-max-bulk-len when parsed, and the buffer by
// client-query-buffer-limit here.

// bigRequest is the size from which a request being received gets a buffer of its own.
const bigRequest = 1 << 20

// startBigRequest moves the start of an incomplete request that needs need bytes into a buffer
// of its own, if it is big. It reports whether it did; the bytes moved are no longer c's.
func (s *Server) startBigRequest(c gnet.Conn, cl *Client, need int) bool {
	if need < bigRequest || int64(need) > s.cfg.ClientQueryBufferLimit() {
		return false
	}
	cl.big = make([]byte, 0, need)
	s.fillBig(c, cl)
	return true
}

// fillBig moves bytes from c's input into cl.big up to its capacity.
func (s *Server) fillBig(c gnet.Conn, cl *Client) {
	for len(cl.big) < cap(cl.big) && c.InboundBuffered() > 0 {
		n, _ := c.Read(cl.big[len(cl.big):cap(cl.big)])
		if n == 0 {
			return
		}
		cl.big = cl.big[:len(cl.big)+n]
	}
}

// bigReady fills cl.big and reports whether it holds a complete request, growing it to what the
// request turns out to need beyond its first big argument (more arguments after it). err is a
// protocol error in the request.
func (s *Server) bigReady(c gnet.Conn, cl *Client, r *resp.Reader) (bool, error) {
	for {
		s.fillBig(c, cl)
		if len(cl.big) < cap(cl.big) {
			return false, nil
		}
		_, _, need, err := r.Parse(cl.big)
		if err == nil {
			return true, nil
		}
		if err != resp.ErrIncomplete {
			return false, err
		}
		grow := need - len(cl.big)
		if need == 0 {
			// The next argument's header is not complete: take exactly up to its end of line,
			// so no byte of the following request is moved.
			avail := c.InboundBuffered()
			buf, _ := c.Peek(avail)
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				if avail > resp.MaxInlineLen {
					return false, resp.ProtocolError("ERR Protocol error: too big bulk count string")
				}
				return false, nil
			}
			grow = i + 1
		}
		if int64(len(cl.big)+grow) > s.cfg.ClientQueryBufferLimit() {
			return false, errQueryBufLimit
		}
		nb := make([]byte, len(cl.big), len(cl.big)+grow)
		copy(nb, cl.big)
		cl.big = nb
	}
}

// errQueryBufLimit closes a client whose request would pass client-query-buffer-limit.
var errQueryBufLimit = resp.ProtocolError("ERR Protocol error: request over client-query-buffer-limit")

// inputBytes is what the client's input holds: c's buffer and a big request being received.
func (cl *Client) inputBytes(c gnet.Conn) int64 {
	return int64(c.InboundBuffered() + len(cl.big))
}
