package command

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Blocking commands, as apply sees them. A command that finds nothing calls Ctx.WouldBlock;
// apply then records the client as a waiter (keyspace/waiters.go) instead of replying, and after
// every operation runs the waiters of the keys that operation changed, oldest first, as if they
// had just been sent — the first that finds data is served within the same operation, so a push
// and the pop it serves are one atomic step. Waiters leave through the log too: served, timed
// out or unblocked (UnblockArgs), or cleared when the server starts (UnblockAllArgs), so every
// replica agrees on who got which element.
//
// Apply tells the server about blocking through the results it returns: an operation whose
// command blocked yields BlockedResult; a waiter served later yields a Served entry after the
// commit of the batch that served it.

// Internal commands of the blocking protocol.
const (
	unblockName    = "__unblock"
	unblockAllName = "__unblockall"
)

// Unblock modes.
const (
	UnblockTimeout = "timeout" // reply with the command's null reply
	UnblockError   = "error"   // reply -UNBLOCKED (CLIENT UNBLOCK ... ERROR)
	UnblockGone    = "gone"    // the client disconnected: no reply
)

func init() {
	Register(
		&Command{Name: unblockName, Arity: 3, Flags: FlagWrite | FlagInternal, Run: runUnblock},
		&Command{Name: unblockAllName, Arity: 1, Flags: FlagWrite | FlagInternal, Run: runUnblockAll},
	)
}

// Served is a waiter that apply served after the operation that blocked it had returned.
type Served struct {
	Token uint64
	Reply []byte
}

// Results that are not replies start with a zero byte, which no RESP reply does.
const (
	resultBlocked    = "\x00B"
	resultNoWaiter   = "\x00N"
	resultClearedAll = "\x00A"
)

// BlockedResult says the command blocked for up to timeoutMs (0: forever).
func BlockedResult(timeoutMs int64) []byte {
	return binary.BigEndian.AppendUint64([]byte(resultBlocked), uint64(timeoutMs))
}

// IsBlocked reports whether a result says the command blocked, and for how long.
func IsBlocked(result []byte) (timeoutMs int64, ok bool) {
	if len(result) != len(resultBlocked)+8 || string(result[:2]) != resultBlocked {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(result[2:])), true
}

// IsReply reports whether a result is a reply to send (not a marker of the blocking protocol).
func IsReply(result []byte) bool { return len(result) == 0 || result[0] != 0 }

// UnblockArgs are the arguments of the operation that removes waiter token.
func UnblockArgs(token uint64, mode string) [][]byte {
	return [][]byte{[]byte(unblockName), binary.BigEndian.AppendUint64(nil, token), []byte(mode)}
}

// UnblockAllArgs are the arguments of the operation that removes every waiter: run once when a
// server starts, since no client of an earlier run is still connected.
func UnblockAllArgs() [][]byte { return [][]byte{[]byte(unblockAllName)} }

func runUnblock(c *Ctx) {
	if len(c.Args[1]) != 8 {
		c.Syntax()
		return
	}
	token := binary.BigEndian.Uint64(c.Args[1])
	payload, _, found, err := c.Tx.WaiterPayload(token)
	if err != nil {
		c.Fail(err)
		return
	}
	if !found {
		c.W.Raw([]byte(resultNoWaiter))
		return
	}
	var op Op
	if err := DecodeOp(payload, &op); err != nil || len(op.Cmds) != 1 {
		c.Fail(errBadOp)
		return
	}
	if _, err := c.Tx.RemoveWaiter(c.Waiters, token); err != nil {
		c.Fail(err)
		return
	}
	c.W.Proto = op.Proto
	switch string(c.Args[2]) {
	case UnblockError:
		c.W.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	case UnblockTimeout:
		blockedNull(c.W, op.Cmds[0][0])
	default:
		c.W.Raw([]byte(resultNoWaiter))
	}
}

// blockedNull writes a blocking command's reply for "timed out". Redis answers every client
// blocked on a list, sorted set or stream with a null array when it times out
// (replyToBlockedClientTimedOut) — BLMOVE and BRPOPLPUSH too, although they answer a null bulk
// when they may not block at all.
func blockedNull(w interface {
	Null()
	NullArray()
}, name []byte) {
	w.NullArray()
}

// blockedType is the type of value a blocking command waits for.
func blockedType(name string) (keyspace.Type, bool) {
	switch name {
	case "blpop", "brpop", "blmpop", "blmove", "brpoplpush":
		return keyspace.TypeList, true
	case "bzpopmin", "bzpopmax", "bzmpop":
		return keyspace.TypeZSet, true
	case "xread", "xreadgroup":
		return keyspace.TypeStream, true
	}
	return keyspace.TypeNone, false
}

func runUnblockAll(c *Ctx) {
	tokens, err := c.Tx.AllWaiters()
	if err != nil {
		c.Fail(err)
		return
	}
	for _, t := range tokens {
		if _, err := c.Tx.RemoveWaiter(c.Waiters, t); err != nil {
			c.Fail(err)
			return
		}
	}
	c.W.Raw([]byte(resultClearedAll))
}

// register records the command that just ran in a.ctx as a waiter.
func (a *Applier) register(args [][]byte) ([]byte, error) {
	payload := AppendOpHeader(nil, OpHeader{Proto: a.op.Proto, DB: a.op.DB, Client: a.op.Client}, args)
	if err := a.tx.AddWaiter(a.waiters, a.op.Client, a.index, a.ctx.BlockKeys, payload); err != nil {
		return nil, err
	}
	return BlockedResult(a.ctx.BlockTimeout), nil
}

// serve runs the waiters of every key modified since the operation began (a.eff.Modified[from:]),
// oldest first per key, until a key's first waiter finds nothing. Serving one waiter may modify
// more keys (BLMOVE pushes), which are served in turn.
func (a *Applier) serve(b *pebble.Batch, from int) {
	for i := from; i < len(a.eff.Modified) && !a.waiters.Empty(); i++ {
		m := a.eff.Modified[i]
		if !a.waiters.Has(m.DB, m.Key) {
			continue
		}
		a.resetTx(b, m.DB)
		tokens, err := a.tx.WaitersOn(m.Key)
		if err != nil {
			continue
		}
		e, err := a.tx.Peek(m.Key)
		if err != nil {
			continue
		}
		held := e.Type
		for _, token := range tokens {
			served, wants := a.serveOne(b, token, held)
			if wants && !served && held != keyspace.TypeStream {
				// The key has nothing left for waiters of its type. Not so for a stream:
				// its readers wait for different things (entries after different IDs, new
				// entries for different groups), so each is tried.
				break
			}
		}
	}
}

// serveOne runs one waiter's command if the changed key holds the type it waits for — as Redis,
// a waiter is not woken (and not answered WRONGTYPE) when its key turns into another type; if it
// was served, it removes the waiter and routes the reply. wants reports whether the key's type
// is the waiter's.
func (a *Applier) serveOne(b *pebble.Batch, token uint64, held keyspace.Type) (served, wants bool) {
	a.resetTx(b, 0)
	payload, _, found, err := a.tx.WaiterPayload(token)
	if err != nil || !found {
		return false, false
	}
	if err := DecodeOp(payload, &a.waitOp); err != nil || len(a.waitOp.Cmds) != 1 {
		return false, false
	}
	args := a.waitOp.Cmds[0]
	cmd := Lookup(args[0])
	if cmd == nil || cmd.Run == nil {
		return false, false
	}
	if want, ok := blockedType(cmd.Name); ok && held != want && cmd.Name != "xreadgroup" {
		// XREADGROUP is the exception: as in Redis, its waiter is answered NOGROUP or
		// WRONGTYPE when the stream is deleted or replaced.
		return false, false
	}
	a.sw.Reset()
	a.sw.Proto = a.waitOp.Proto
	a.resetTx(b, a.state.PendingPhysical(a.waitOp.DB))
	ctx := Ctx{Cmd: cmd, Args: args, W: &a.sw, Tx: &a.tx, State: a.state, DB: a.waitOp.DB, Now: a.op.Time,
		Rand: a.rng, Limits: a.limits, InApply: true, Waiters: a.waiters, Rerun: true}
	cmd.Run(&ctx)
	if ctx.Block {
		return false, true
	}
	a.resetTx(b, 0)
	if _, err := a.tx.RemoveWaiter(a.waiters, token); err != nil {
		return false, true
	}
	reply := append([]byte(nil), a.sw.Buf...)
	if idx, ok := a.blockedHere[token]; ok {
		// Blocked and served in the same batch: the reply goes with the blocking operation.
		a.results[idx] = reply
		delete(a.blockedHere, token)
	} else {
		a.served = append(a.served, Served{Token: token, Reply: reply})
	}
	return true, true
}
