package command

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Ctx is what a command runs with.
type Ctx struct {
	Cmd  *Command
	Args [][]byte // Args[0] is the command name
	W    *resp.Writer
	// Tx is the view of the selected database: read-only on an event loop, over the apply batch
	// in apply.
	Tx    *keyspace.Tx
	State *keyspace.State
	// DB is the logical database selected (SELECT).
	DB int
	// Now is the time in Unix ms: the operation's time in apply, the wall clock for reads.
	Now int64
	// Rand is the random source: seeded from the log position in apply, so every replica draws
	// the same numbers.
	Rand *rand.Rand
	// Limits are the configured limits commands enforce.
	Limits *Limits
	// InApply is true when the command runs inside apply.
	InApply bool
	// Cursors holds SCAN's resume positions; one table serves the whole server.
	Cursors *ScanCursors

	// Blocking commands (BLPOP, BZPOPMIN, BLMOVE, ...). When one finds nothing to serve it calls
	// c.WouldBlock(timeout) and writes no reply; apply then registers the client as a waiter and
	// runs the same command again whenever one of its keys changes, until it is served. Where the
	// command may not block (inside MULTI, or when it is being retried for a waiter), CanBlock
	// is false and the command must reply at once with its null reply instead.
	Block        bool
	BlockTimeout int64    // ms; 0 waits forever
	BlockKeys    [][]byte // the keys whose changes may serve it
	NoBlock      bool
	// BlockArgs, if set when the command blocks, are the arguments to record for the waiter
	// instead of Args: XREAD resolves "$" to an ID once, when it first blocks.
	BlockArgs [][]byte
	// Rerun is set when the command runs again for a waiter; one that blocks again must then
	// leave no writes behind.
	Rerun bool
	// Waiters is apply's registry of blocked clients (nil outside apply).
	Waiters *keyspace.Waiters

	// WantWrite is set by a read that found it should change data (PFCOUNT refreshing the
	// cardinality a HyperLogLog caches, as Redis's PFCOUNT does). It has written its reply all
	// the same; the server may drop that reply and run the command again as a write through the
	// log, so every replica changes the same bytes, or keep it where it cannot write (a follower).
	WantWrite bool
}

// CanBlock reports whether a blocking command that found nothing may block.
func (c *Ctx) CanBlock() bool { return !c.NoBlock }

// WouldBlock records that the command found nothing and waits up to timeoutMs (0: forever) for
// one of keys to change.
func (c *Ctx) WouldBlock(timeoutMs int64, keys ...[]byte) {
	c.Block = true
	c.BlockTimeout = timeoutMs
	c.BlockKeys = keys
}

// ParseTimeout parses a blocking command's timeout in seconds into ms, writing the error reply
// on failure. See timeoutMs for Redis's rules.
func (c *Ctx) ParseTimeout(arg []byte) (int64, bool) {
	ms, msg := timeoutMs(arg, c.Now)
	if msg != "" {
		c.Err(msg)
		return 0, false
	}
	return ms, true
}

// Limits are the configuration values that commands enforce. CONFIG SET changes them on an
// event loop while apply reads them, so they are atomic.
type Limits struct {
	maxBulkLen atomic.Int64
	// Encodings are the encoding thresholds OBJECT ENCODING reports by; nil means Redis's
	// defaults.
	Encodings *EncodingLimits
	// Access is the eviction policy and LFU parameters OBJECT FREQ and IDLETIME go by.
	Access *keyspace.AccessPolicy
}

// NewLimits returns limits with proto-max-bulk-len set to maxBulkLen.
func NewLimits(maxBulkLen int64) *Limits {
	l := &Limits{Access: keyspace.NewAccessPolicy()}
	l.maxBulkLen.Store(maxBulkLen)
	return l
}

// DefaultLimits returns Redis's defaults.
func DefaultLimits() *Limits { return NewLimits(resp.DefaultMaxBulkLen) }

// MaxBulkLen is proto-max-bulk-len: the largest string a command may build.
func (l *Limits) MaxBulkLen() int64 { return l.maxBulkLen.Load() }

// SetMaxBulkLen changes proto-max-bulk-len.
func (l *Limits) SetMaxBulkLen(n int64) { l.maxBulkLen.Store(n) }

// Physical maps a logical database number to the physical one, as this context sees it.
func (c *Ctx) Physical(logical int) byte {
	if c.InApply {
		return c.State.PendingPhysical(logical)
	}
	return c.State.Physical(logical)
}

// Arg returns argument i.
func (c *Ctx) Arg(i int) []byte { return c.Args[i] }

// NArgs is the number of arguments including the command name.
func (c *Ctx) NArgs() int { return len(c.Args) }

// Err writes an error reply.
func (c *Ctx) Err(msg string) { c.W.Error(msg) }

// Fail writes an error reply for an internal failure (storage), which Redis has no text for.
func (c *Ctx) Fail(err error) { c.W.Error("ERR " + err.Error()) }

// WrongType writes the WRONGTYPE error.
func (c *Ctx) WrongType() { c.W.Error(ErrWrongType) }

// Syntax writes the syntax error.
func (c *Ctx) Syntax() { c.W.Error(ErrSyntax) }
