package command

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/search"
)

// Applier is the state machine under the replica log: it applies a run of operations over one
// engine batch, commits it (syncing as the engine's policy says), and reports the effects.
// It is used from one goroutine at a time.
type Applier struct {
	// DeferSync lets apply return before its batches are durable under appendfsync always:
	// TakeSync then gives what waits for them. Set by a log that acknowledges writes itself
	// once they are durable (replica.Local), so the next batch applies during this one's sync.
	DeferSync bool
	syncs     []func() error

	eng     *engine.Engine
	state   *keyspace.State
	limits  *Limits
	cache   *keyspace.Cache
	overlay *keyspace.Overlay
	filters *keyspace.Filters
	waiters *keyspace.Waiters
	// OnApplied is called after each committed batch with what it did and the waiters it served,
	// before the proposers' completions run. It must not keep eff or served.
	OnApplied func(eff *keyspace.Effects, served []Served)
	// OnPanic is told of a command that panicked in apply (its batch was dropped).
	OnPanic func(*PanicError)
	// Shard is the shard the applier applies for (0: any); an operation proposed to another
	// is refused.
	Shard uint64
	// Cursors is the SCAN cursor table, shared with the reads the server runs itself (SCAN
	// queued in MULTI runs here).
	Cursors *ScanCursors

	tx  keyspace.Tx
	eff keyspace.Effects
	w   resp.Writer
	op  Op
	pcg rand.PCG
	rng *rand.Rand
	ctx Ctx

	// Blocking: the batch's results (a waiter served in the batch that blocked it answers
	// through its blocking operation's slot), waiters blocked in this batch, waiters served.
	results     [][]byte
	blockedHere map[uint64]int
	served      []Served
	waitOp      Op
	sw          resp.Writer

	index uint64 // entry being applied
	// versions is the collection version counter (keyspace.VersionOf); committedVersions the
	// value the engine holds, which an abandoned batch returns to.
	versions, committedVersions uint64
	// lastTime is the time of the last applied operation: an operation runs at the later of its
	// own time and this, so time never goes back when the proposer changes (a new leader with a
	// slower clock).
	lastTime int64
	// search keeps the secondary indexes (FT.*) in step with every write.
	search search.Maintainer
	// slots is the state of the slots migrating out of this shard (slotmove.go); slotList
	// the slots it has, published for the server; slotsDirty: changed in this batch.
	slots      map[int]*slotOut
	slotList   atomic.Pointer[[]int]
	slotsDirty bool
	// slotsLegacy: the state was read from the single record of earlier versions.
	slotsLegacy bool
}

// Storage is what an applier writes to: an engine and the in-memory structures kept beside it.
// Cache and Filters may be nil.
type Storage struct {
	Engine  *engine.Engine
	State   *keyspace.State
	Cache   *keyspace.Cache
	Filters *keyspace.Filters
}

// NewApplier returns the state machine over st. The cache, if not nil, is the record cache that
// apply writes through; the filters, if not nil, the key filter it adds new keys to.
func NewApplier(st Storage, limits *Limits) (*Applier, error) {
	a := &Applier{limits: limits, overlay: keyspace.NewOverlay(), blockedHere: map[uint64]int{}, Cursors: NewScanCursors(0, 0)}
	a.rng = rand.New(&a.pcg)
	a.tx.Versions = a.nextVersion
	a.tx.Effects = &a.eff
	if err := a.Reset(st); err != nil {
		return nil, err
	}
	return a, nil
}

// Reset points the applier at st and rereads what it keeps from the engine: the blocked clients,
// the time of the last operation, the version counter. A shard calls it after a snapshot
// replaced its engine. Apply must not be running.
func (a *Applier) Reset(st Storage) error {
	db := st.Engine.DB()
	waiters, err := keyspace.LoadWaiters(db)
	if err != nil {
		return err
	}
	t, err := keyspace.LoadOpTime(db)
	if err != nil {
		return err
	}
	v, err := keyspace.LoadVersions(db)
	if err != nil {
		return err
	}
	a.eng, a.state, a.cache, a.filters = st.Engine, st.State, st.Cache, st.Filters
	a.waiters, a.lastTime, a.versions, a.committedVersions = waiters, t, v, v
	a.search.Invalidate()
	return a.loadSlotState()
}

// nextVersion hands out the counter part of collection versions, unique within the shard.
func (a *Applier) nextVersion() uint64 {
	a.versions++
	return a.versions
}

// Apply implements replica.StateMachine.
//
// A command that panics is a bug, and it must neither take the server down nor leave half a
// batch behind. The batch it was in is dropped, uncommitted, and applied again one entry at a
// time; the entry that panics becomes a no-op that replies with an error. The panic is a
// property of the operation and the data, so every replica isolates the same entry and they stay
// identical, where stopping would stop every replica at the same place.
func (a *Applier) Apply(entries []replica.Entry, results [][]byte) error {
	for _, e := range entries {
		if v := opClusterVersion(e.Data); v > ClusterVersion {
			return fmt.Errorf("%w: the entry at %d needs cluster version %d, this binary implements %d", ErrClusterVersion, e.Index, v, ClusterVersion)
		}
	}
	err := a.applyBatch(entries, results)
	var pe *PanicError
	if !errors.As(err, &pe) || len(entries) == 0 {
		return err
	}
	for i := range entries {
		err := a.applyBatch(entries[i:i+1], results[i:i+1])
		if !errors.As(err, &pe) {
			if err != nil {
				return err
			}
			continue
		}
		if err := a.skip(entries[i].Index); err != nil {
			return err
		}
		w := resp.Writer{Proto: 2}
		w.Error(pe.Error())
		results[i] = w.Buf
	}
	return nil
}

// ErrClusterVersion is wrapped by the error of applying an operation of a cluster version this
// binary does not implement. The replica cannot apply it as the others do, so it must stop
// (and be upgraded) rather than diverge.
var ErrClusterVersion = errors.New("command: operation of a newer cluster version")

// opClusterVersion reads an encoded operation's cluster version (0 if it has none).
func opClusterVersion(b []byte) uint32 {
	if len(b) < opHeaderLen || b[0] != opVersion {
		return 0
	}
	return binary.BigEndian.Uint32(b[28:32])
}

// skip records an entry as applied without applying it.
func (a *Applier) skip(index uint64) error {
	b := a.eng.NewBatch()
	defer b.Close()
	a.eff.Reset()
	if err := a.state.Stage(b, &a.eff, index, a.lastTime); err != nil {
		a.state.Abandon()
		return err
	}
	if err := a.eng.Commit(b); err != nil {
		a.state.Abandon()
		return fmt.Errorf("commit: %w", err)
	}
	a.state.Publish(&a.eff)
	return nil
}

// applyBatch applies entries over one engine batch.
func (a *Applier) applyBatch(entries []replica.Entry, results [][]byte) (err error) {
	if len(entries) == 0 {
		return nil
	}
	defer func() {
		// A command that panics is a bug; it must not take the server down, nor leave half a
		// batch behind. Nothing of this batch has been committed: drop it, and tell its writers.
		if r := recover(); r != nil {
			a.results = nil
			a.abandon()
			clear(results)
			pe := &PanicError{Value: r, Stack: debug.Stack()}
			if a.OnPanic != nil && len(entries) == 1 {
				a.OnPanic(pe)
			}
			err = pe
		}
	}()
	if a.filters != nil {
		a.filters.BatchStarted()
		defer a.filters.BatchDone()
	}
	b := a.newBatch(entries)
	closeBatch := true
	defer func() {
		if closeBatch {
			b.Close()
		}
		a.forgetOps()
	}()
	a.eff.Reset()
	a.overlay.Reset()
	a.results = results
	a.served = a.served[:0]
	clear(a.blockedHere)
	for i, e := range entries {
		results[i] = a.applyOne(b, e, i)
	}
	a.results = nil
	if a.versions != a.committedVersions {
		if err := keyspace.StageVersions(b, a.versions); err != nil {
			a.abandon()
			return err
		}
	}
	if err := a.state.Stage(b, &a.eff, entries[len(entries)-1].Index, a.lastTime); err != nil {
		a.abandon()
		return err
	}
	if a.DeferSync {
		wait, err := a.eng.CommitDeferSync(b)
		if err != nil {
			a.abandon()
			return fmt.Errorf("commit: %w", err)
		}
		if wait != nil {
			closeBatch = false
			a.syncs = append(a.syncs, func() error {
				defer b.Close()
				return wait()
			})
		}
	} else if err := a.eng.Commit(b); err != nil {
		a.abandon()
		return fmt.Errorf("commit: %w", err)
	}
	a.state.Publish(&a.eff)
	a.committedVersions = a.versions
	if a.slotsDirty {
		a.slotsDirty = false
		a.publishSlots()
	}
	if a.cache != nil {
		a.cache.Publish(a.overlay)
	}
	// Done with: a big record in it aliases the batch, which should go with the commit.
	a.overlay.Reset()
	if a.OnApplied != nil {
		a.OnApplied(&a.eff, a.served)
	}
	return nil
}

// forgetOps drops the applier's references into the batch's operations: the decoded
// operation's arguments alias the operation's bytes — for a big write the request buffer the
// value arrived in — which would otherwise stay reachable until the next write.
func (a *Applier) forgetOps() {
	for _, c := range a.op.Cmds {
		clear(c)
	}
	a.ctx.Args, a.ctx.BlockArgs, a.ctx.BlockKeys = nil, nil, nil
}

// bigBatch is the size of operations from which apply sizes its batch for them up front.
const bigBatch = 1 << 20

// newBatch returns a batch for entries. One carrying a big value gets room for records as big
// as the operations (a record holds an argument once, and a little of its own), rather than
// growing by doubling as the value is written into it.
func (a *Applier) newBatch(entries []replica.Entry) *pebble.Batch {
	size := 0
	for _, e := range entries {
		size += len(e.Data)
	}
	if size < bigBatch {
		return a.eng.NewBatch()
	}
	return a.eng.NewBatchWithSize(size + size/64 + 64<<10)
}

// TakeSync returns what waits until the batches applied since the last call are durable, nil if
// none is waiting for a sync (see DeferSync).
func (a *Applier) TakeSync() func() error {
	if len(a.syncs) == 0 {
		return nil
	}
	syncs := a.syncs
	a.syncs = nil
	return func() error {
		var first error
		for _, wait := range syncs {
			if err := wait(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}

// PanicError reports a command that panicked while being applied: its batch was not applied.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("ERR internal error (a bug): %v; the write was not applied", e.Value)
}

// abandon forgets a batch that did not commit. The waiter index may now be ahead of the
// records; rebuild it from them.
func (a *Applier) abandon() {
	a.state.Abandon()
	a.versions = a.committedVersions
	a.search.Invalidate()
	if w, err := keyspace.LoadWaiters(a.eng.DB()); err == nil {
		a.waiters = w
	}
	if a.slotsDirty {
		a.slotsDirty = false
		_ = a.loadSlotState()
	}
}

func (a *Applier) applyOne(b *pebble.Batch, e replica.Entry, slot int) []byte {
	a.w.Reset()
	if e.Data == nil {
		return nil // an entry without an operation (a new Raft leader's first)
	}
	if err := DecodeOp(e.Data, &a.op); err != nil || a.op.DB < 0 || a.op.DB >= keyspace.NumDBs {
		a.w.Proto = 2
		a.w.Error("ERR malformed operation in the log")
		return append([]byte(nil), a.w.Buf...)
	}
	if a.op.Shard != 0 && a.Shard != 0 && a.op.Shard != a.Shard {
		// Every replica of the shard refuses it alike, so they stay identical.
		a.w.Proto = 2
		a.w.Error(fmt.Sprintf("ERR operation for shard %d reached shard %d; not applied", a.op.Shard, a.Shard))
		return append([]byte(nil), a.w.Buf...)
	}
	a.index = e.Index
	a.op.Time = max(a.op.Time, a.lastTime)
	a.lastTime = a.op.Time
	a.eff.Client = a.op.Client
	a.pcg.Seed(e.Index, uint64(a.op.Time))
	a.w.Proto = a.op.Proto
	multi := a.op.Flags&OpMulti != 0
	cmds := a.op.Cmds
	if a.op.Flags&OpWatch != 0 && len(cmds) > 0 {
		holds := a.watchHolds(b, cmds[0])
		cmds = cmds[1:]
		if !holds {
			// An expired watched key shows as absent, so expiry aborts too.
			a.w.NullArray()
			return append([]byte(nil), a.w.Buf...)
		}
	}
	system := a.op.Flags&OpSystem != 0
	if len(a.slots) > 0 && !system {
		if msg := a.slotCheck(b, cmds); msg != "" {
			a.w.Error(msg)
			return append([]byte(nil), a.w.Buf...)
		}
	}
	if multi {
		a.w.Array(len(cmds))
	}
	from, flushedFrom := len(a.eff.Modified), len(a.eff.Flushed)
	var result []byte
	for _, args := range cmds {
		if system && isSlotOp(args) {
			a.runSlotOp(b, args)
			continue
		}
		a.run(b, args, multi)
		if a.ctx.Block {
			if a.ctx.BlockArgs != nil {
				args = a.ctx.BlockArgs
			}
			r, err := a.register(args)
			if err != nil {
				a.w.Error("ERR " + err.Error())
				break
			}
			a.blockedHere[a.op.Client] = slot
			result = r
		}
	}
	if result == nil {
		result = ownReply(a.w.Buf)
	}
	a.serve(b, from)
	a.maintainIndexes(b, cmds, from, flushedFrom)
	return result
}

// maintainIndexes brings the secondary indexes up to date with what the operation just applied
// did, in its batch: every hash write reaches the indexes through here, whatever command, script
// or expiry made it.
func (a *Applier) maintainIndexes(b *pebble.Batch, cmds [][][]byte, from, flushedFrom int) {
	if err := a.search.AfterOp(b, a.op.Time, a.eff.Modified[from:], a.eff.Flushed[flushedFrom:], touchesSearch(cmds)); err != nil {
		panic(fmt.Sprintf("search index maintenance: %v", err)) // drops the batch; see Apply
	}
}

// resetTx points the applier's Tx at physical database db of batch b, with the cache, the key
// filter and the entry's index.
func (a *Applier) resetTx(b *pebble.Batch, db byte) {
	a.tx.Reset(b, b, db, a.op.Time)
	a.tx.ChunkStrings = a.op.Version >= chunkVersion
	a.tx.Index = a.index
	if a.cache != nil {
		a.tx.UseCache(a.cache, a.overlay)
	}
	a.tx.UseFilters(a.filters)
}

func (a *Applier) run(b *pebble.Batch, args [][]byte, multi bool) {
	if EqualFold(args[0], "select") && multi {
		// SELECT queued in MULTI switches the database of the commands after it.
		a.ctx = Ctx{}
		if db, ok := ParseInt(args[1]); ok && db >= 0 && db < keyspace.NumDBs {
			a.op.DB = int(db)
			a.w.OK()
		} else if !ok {
			a.w.Error(ErrNotInt)
		} else {
			a.w.Error(ErrDBIndex)
		}
		return
	}
	cmd := Lookup(args[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(args) > 1 {
		// A container (XGROUP) may have no Run of its own: its subcommands do.
		if sub := cmd.LookupSub(args[1]); sub != nil {
			cmd = sub
		}
	}
	if cmd == nil || cmd.Run == nil {
		a.ctx = Ctx{}
		a.w.Error("ERR unknown command '" + string(args[0]) + "'")
		return
	}
	a.resetTx(b, a.state.PendingPhysical(a.op.DB))
	a.ctx = Ctx{
		Cmd:     cmd,
		Args:    args,
		W:       &a.w,
		Tx:      &a.tx,
		State:   a.state,
		DB:      a.op.DB,
		Now:     a.op.Time,
		Rand:    a.rng,
		Limits:  a.limits,
		InApply: true,
		NoBlock: multi || a.op.Client == 0,
		Waiters: a.waiters,
		Cursors: a.Cursors,
	}
	cmd.Run(&a.ctx)
}

// The most common write replies, shared: a result is never modified once returned.
var (
	replyOK   = []byte("+OK\r\n")
	replyZero = []byte(":0\r\n")
	replyOne  = []byte(":1\r\n")
)

// ownReply returns a copy of a reply the applier's writer holds (it is reused for the next
// entry), without allocating for the most common replies.
func ownReply(b []byte) []byte {
	switch string(b) {
	case "+OK\r\n":
		return replyOK
	case ":0\r\n":
		return replyZero
	case ":1\r\n":
		return replyOne
	}
	return append([]byte(nil), b...)
}
