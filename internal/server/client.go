package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/shard"
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

	db     int
	proto  int
	authed bool
	// user is the user the connection is authenticated as (the default user until AUTH).
	user    *acl.Handle
	name    string
	libName string
	libVer  string
	created int64 // Unix ms
	// prop is the proposal proposeWrite returns, which its one caller copies at once: a field,
	// not a heap allocation per write. Owned by the connection's loop.
	prop Proposal
	// Owned by the connection's loop: gone is set when gnet closed the connection; inPass when
	// a write of this connection is in the loop's current pass (pass.go).
	gone, inPass bool

	// Last command, for CLIENT LIST; lastActive in Unix ms is read by the cron goroutine.
	lastCmd    atomic.Pointer[command.Command]
	lastActive atomic.Int64
	// qbuf and omem are the bytes waiting in the connection's input and output buffers after
	// its last event, for CLIENT LIST from other loops.
	qbuf, omem atomic.Int64
	// info is what CLIENT LIST shows of the loop-owned fields, published under mu when they
	// change, so other loops can read it.
	info clientInfo

	// need is how many buffered bytes the request being received needs before parsing it again.
	need int
	// big holds a big request being received (bigreq.go); bigBack is its whole buffer, spare
	// room before it included.
	big, bigBack []byte
	// longWrite: a write of the batch being gathered is long, so the batch is applied by the
	// log's goroutine, not the loop (offloop.go).
	longWrite bool

	multi      bool
	multiDirty bool
	queued     []queuedCmd
	// multiSlot is the slot of the keys of the queued commands, watchSlot of the watched keys
	// (cluster mode): noSlot, one slot, or crossSlot.
	multiSlot, watchSlot int
	// target is the shard a server command runs against (WATCH's keys' shard), during its call.
	target  *hosted
	watched []watched
	// watchDirty is set (from apply) when a watched key changed.
	watchDirty atomic.Bool

	replyMode       replyMode
	noEvict         bool
	noTouch         bool
	closeAfterReply bool
	// killed is set by CLIENT KILL from another connection's loop.
	killed atomic.Bool
	// aclParked is set while the client's ACL change runs through the meta group; a change
	// that deletes its own user then sets closeWhenAnswered instead of closing it at once, so
	// that it gets its reply first, as Redis answers ACL DELUSER of the caller's own user
	// before closing the connection (clusteracl.go).
	aclParked, closeWhenAnswered atomic.Bool
	// monitor is set once the client sent MONITOR.
	monitor bool
	// parked is set while the client waits for CLIENT PAUSE to end; guarded by the server's
	// pause mutex.
	parked bool
	// deferred is set by a server-side command whose reply comes later (DEBUG SLEEP).
	deferred bool
	// inExec is set while EXEC's queued server commands run (multilocal.go).
	inExec bool
	// pending describes, in order, the replies still to come from writes in flight and deferred
	// commands: what to account them to, and whether CLIENT REPLY drops them.
	pending []pendingReply

	// Replies in flight (replies.go). Completions run on apply goroutines and hand their
	// replies over under mu; the last one wakes the event loop.
	mu       sync.Mutex
	inflight int
	replies  [][]byte // by the place reserved when the request was submitted
	// doneAt is when each reply was filled, so the slow log can leave out the time a
	// pipelined command waited behind the ones before it.
	doneAt []time.Time
	queues []*replyQueue
	// blockedPos is the place of the blocking command's reply while it waits.
	blockedPos int

	// cs is the connection's cluster session (route.go).
	cs clusterSession

	// Blocking commands (blocking.go), under mu.
	isBlocked    bool
	blockedShard uint64
	blockTimer   *time.Timer

	// Pub/sub subscriptions, pushes waiting for the loop, client-side caching (pubsub.go).
	ps pubsubState

	// bp throttles the connection's input while its output waits (backpressure.go).
	bp backpressure
}

// queuedCmd is a command queued in MULTI, resolved when it was queued.
type queuedCmd struct {
	args [][]byte
	cmd  *command.Command
}

// queuedArgs lists the queued commands' arguments.
func (cl *Client) queuedArgs() [][][]byte {
	out := make([][][]byte, len(cl.queued))
	for i, q := range cl.queued {
		out[i] = q.args
	}
	return out
}

// pendingReply is a reply that will arrive through complete.
type pendingReply struct {
	cmd   *command.Command
	multi []*command.Command // EXEC's queued commands
	start time.Time
	drop  bool
	// The command's arguments, for the slow log if it turns out slow: args for a server-side
	// command that replies later, op (the encoded operation) for a write, multiArgs for EXEC's
	// queued commands.
	args      [][]byte
	op        []byte
	multiArgs [][][]byte
	// locals are EXEC's queued server commands, run when its reply is in (multilocal.go).
	locals []execLocal
}

// clientInfo is the copy of a client's session state that other goroutines may read.
type clientInfo struct {
	db              int
	proto           int
	name            string
	libName, libVer string
	multi           int // queued commands, -1 outside MULTI
	multiMem        int
	flags           string
	user            *acl.Handle
}

// publish copies the session state CLIENT LIST shows into cl.info. It runs on the client's loop
// after commands that change that state.
func (cl *Client) publish() {
	flags := ""
	if cl.monitor {
		flags += "O"
	}
	if cl.ps.total() > 0 {
		flags += "P"
	}
	if cl.multi {
		flags += "x"
	}
	flags += cl.trackingFlags()
	if cl.noEvict {
		flags += "e"
	}
	if cl.noTouch {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	multi, mem := -1, 0
	if cl.multi {
		multi = len(cl.queued)
		for _, q := range cl.queued {
			for _, a := range q.args {
				mem += len(a)
			}
		}
	}
	cl.mu.Lock()
	cl.info = clientInfo{db: cl.db, proto: cl.proto, name: cl.name, libName: cl.libName, libVer: cl.libVer,
		multi: multi, multiMem: mem, flags: flags, user: cl.user}
	cl.mu.Unlock()
}

func (cl *Client) snapshotInfo() clientInfo {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.info
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
	reader resp.Reader
	w      resp.Writer
	// data runs the loop's reads against shards.
	data    shard.Reader
	results [][]byte // replies of writes applied inline
	// batch is the writes of one pass, by shard when they are submitted.
	batch []pendingWrite
	group []replica.Proposal
	// pass is the writes of the loop's current pass, applied when it ends (pass.go).
	pass passWrites

	// Pub/sub (push.go, notify.go): the gnet loop, to run flushes on; the connections with
	// pushes to flush; encoding buffers for messages published from this loop.
	el                         gnet.EventLoop
	pushes                     pushQueue
	pubFrame                   []byte
	notifyChannel, notifyFrame []byte
}

// complete answers a server command that replied later (DEBUG SLEEP) in the place reserved
// for it.
func (cl *Client) complete(pos int, result []byte, err error) {
	if err != nil {
		result = errorReply(err)
	}
	cl.finish(pos, result)
}
