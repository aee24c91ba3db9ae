package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// Client is one connection's session: the database it selected, its protocol version, its
// name, its transaction state, and the replies of writes it is waiting for.
//
// Fields without a comment saying otherwise are owned by the connection's event loop.
type Client struct {
	id    int64
	conn  gnet.Conn
	srv   *Server
	loop  *loop
	laddr string
	raddr string

	db      int
	proto   int
	authed  bool
	name    string
	libName string
	libVer  string
	created int64 // Unix ms

	// Last command, for CLIENT LIST; lastActive in Unix ms is read by the cron goroutine.
	lastCmd    string
	lastActive atomic.Int64

	// need is how many buffered bytes the request being received needs before parsing it again.
	need int

	multi      bool
	multiDirty bool
	queued     [][][]byte
	watched    []watched
	// watchDirty is set (from apply) when a watched key changed.
	watchDirty atomic.Bool

	replyMode       replyMode
	noEvict         bool
	noTouch         bool
	closeAfterReply bool
	// killed is set by CLIENT KILL from another connection's loop.
	killed atomic.Bool

	// Writes in flight. Completions run on the apply goroutine and hand their replies over
	// under mu; the last one wakes the event loop.
	mu       sync.Mutex
	inflight int
	replies  [][]byte
	done     func(result []byte, err error)

	// Blocking commands (blocking.go), under mu.
	isBlocked  bool
	blockTimer *time.Timer
}

type replyMode uint8

const (
	replyOn replyMode = iota
	replyOff
	replySkipNext
	replySkip // skipping the current command's reply
)

// loop is the state one event loop reuses across all its connections, so that nothing per
// command is allocated: the request reader, the reply buffer, the read view.
type loop struct {
	reader  resp.Reader
	w       resp.Writer
	opbuf   []byte
	pending []proposalSlot
}

type proposalSlot struct {
	data []byte
}

// complete is the Done of the client's proposals, called on the apply goroutine.
func (cl *Client) complete(result []byte, err error) {
	if err != nil {
		result = errorReply(err)
	} else if timeout, blocked := command.IsBlocked(result); blocked {
		cl.blockedOn(timeout)
		return // stays in flight until served, timed out or unblocked
	}
	cl.finish(result)
}

// finish hands one reply to the connection; the last reply in flight wakes its event loop.
func (cl *Client) finish(result []byte) {
	cl.mu.Lock()
	cl.replies = append(cl.replies, result)
	cl.inflight--
	last := cl.inflight == 0
	cl.mu.Unlock()
	if last {
		_ = cl.conn.Wake(nil)
	}
}

func errorReply(err error) []byte {
	w := resp.Writer{Proto: 2}
	w.Error("ERR " + err.Error())
	return w.Buf
}
