package server

import (
	"bytes"
	"unsafe"

	"github.com/panjf2000/gnet/v2"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// A request that declares a big argument is read straight into one buffer of the size its
// header declares, taken from the loop's read buffer as the bytes arrive, instead of piling up
// in the connection's input buffer, which grows by doubling and would hold several times the
// value. The declared size was bounded by proto-max-bulk-len when parsed, and the buffer by
// client-query-buffer-limit here.
//
// The buffer starts with bigFront spare bytes, so that a write whose one big argument is in it
// can be encoded as its log operation around that argument where it lies (inPlaceProposal):
// the value is then held once from the socket to the engine's batch.

// bigRequest is the size from which a request being received gets a buffer of its own.
const bigRequest = 1 << 20

// bigFront is the room left before a big request's bytes for an operation's header and its
// arguments before the big one (see inPlaceProposal).
const bigFront = 4096

// startBigRequest moves the start of an incomplete request that needs need bytes into a buffer
// of its own, if it is big. It reports whether it did; the bytes moved are no longer c's.
func (s *Server) startBigRequest(c gnet.Conn, cl *Client, need int) bool {
	if need < bigRequest || int64(need) > s.cfg.ClientQueryBufferLimit() {
		return false
	}
	cl.newBig(0, need)
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
		old := cl.big
		cl.newBig(len(old), len(old)+grow)
		copy(cl.big, old)
	}
}

// newBig gives cl a big request buffer of length n and capacity size, after bigFront spare
// bytes.
func (cl *Client) newBig(n, size int) {
	cl.bigBack = make([]byte, bigFront+size)
	cl.big = cl.bigBack[bigFront : bigFront+n : bigFront+size]
}

// dropBig forgets the big request buffer once its request has been taken up.
func (cl *Client) dropBig() { cl.big, cl.bigBack = nil, nil }

// errQueryBufLimit closes a client whose request would pass client-query-buffer-limit.
var errQueryBufLimit = resp.ProtocolError("ERR Protocol error: request over client-query-buffer-limit")

// inputBytes is what the client's input holds: c's buffer and a big request being received.
func (cl *Client) inputBytes(c gnet.Conn) int64 {
	return int64(c.InboundBuffered() + len(cl.big))
}

// inPlaceProposal encodes the one command cmds as its log operation around its one big
// argument where that lies in cl's big request buffer, so the value is not copied: the
// operation's header and the arguments before the big one are written in the bytes before it
// (the request's own header and bigFront spare bytes), those after it in the bytes after it.
// The other arguments are copied first, and cmds' slices pointed at the copies, since their
// bytes in the buffer are overwritten. It returns nil where this does not apply (several
// commands, no or several big arguments, the big one not in the buffer, the buffer already
// used).
func inPlaceProposal(cl *Client, hdr command.OpHeader, cmds [][][]byte) []byte {
	back := cl.bigBack
	if back == nil || len(cmds) != 1 {
		return nil
	}
	args := cmds[0]
	k, small := -1, 0
	for i, a := range args {
		if len(a) < bigRequest {
			small += len(a)
		} else if k >= 0 {
			return nil
		} else {
			k = i
		}
	}
	if k < 0 {
		return nil
	}
	off, ok := offsetIn(back, args[k])
	start, size := command.OpArgLayout(args, k)
	if !ok || off < start || off-start+size > len(back) {
		return nil
	}
	copies := make([]byte, 0, small)
	for i, a := range args {
		if i != k {
			at := len(copies)
			copies = append(copies, a...)
			args[i] = copies[at:len(copies):len(copies)]
		}
	}
	// One operation per buffer: a second one would overwrite this one's bytes.
	cl.bigBack = nil
	data := command.AppendOpHeader(back[off-start:off-start:off-start+size], hdr, args)
	if len(data) != size || &data[start] != &args[k][0] {
		panic("server: an operation encoded in place is not where it was laid out")
	}
	return data
}

// offsetIn reports where sub starts in buf, if it lies wholly inside it.
func offsetIn(buf, sub []byte) (int, bool) {
	if len(sub) == 0 || len(buf) == 0 {
		return 0, false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	if p < b || p+uintptr(len(sub)) > b+uintptr(len(buf)) {
		return 0, false
	}
	return int(p - b), true
}
