package shard

import (
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Reader runs read commands against shards. An event loop keeps one and reuses it for every
// read, so a read allocates nothing of its own; it is not safe for concurrent use.
type Reader struct {
	tx  keyspace.Tx
	ctx command.Ctx
	// probe reads sizes (Size) without touching tx, which a command may be using.
	probe keyspace.Tx
	// OnMiss, if set, is called with each key a read finds missing (keyspace 'm' events). The
	// key is valid only during the call.
	OnMiss func(key []byte)
	// Hits and Misses count the keys the last Run found live and missing.
	Hits, Misses int64
	// NoTouch (CLIENT NO-TOUCH) keeps reads other than TOUCH from counting as key accesses.
	NoTouch bool
}

// Run runs a read command of database db against view v of shard s, writing its reply to w,
// at time now (Unix ms). A point lookup reads the engine directly, through the record cache;
// anything else reads a snapshot, so that multi-key and collection reads see one point in
// time. It reports whether the command asked to run as a write instead (command.Ctx.WantWrite:
// PFCOUNT caching a cardinality).
func (r *Reader) Run(s *Shard, v *View, cmd *command.Command, args [][]byte, db int, w *resp.Writer, now int64) (wantWrite bool) {
	tx := &r.tx
	phys := v.State.Physical(db)
	edb := v.Engine.DB()
	if cmd.Flags&command.FlagPoint != 0 {
		tx.Reset(edb, nil, phys, now)
		tx.UseCache(v.Cache, nil)
	} else {
		snap := edb.NewSnapshot()
		defer func() {
			snap.Close()
			tx.Reset(nil, nil, 0, 0) // do not keep the snapshot reachable
		}()
		tx.Reset(snap, nil, phys, now)
	}
	tx.UseFilters(v.Filters)
	tx.UseAccess(v.Cache.Access)
	tx.NoTouch = r.NoTouch && cmd.Name != "touch"
	tx.OnMiss = r.OnMiss
	tx.Hits, tx.Misses = 0, 0
	ctx := &r.ctx
	*ctx = command.Ctx{
		Cmd:     cmd,
		Args:    args,
		W:       w,
		Tx:      tx,
		State:   v.State,
		DB:      db,
		Now:     now,
		Limits:  s.opts.Limits,
		Cursors: s.applier.Cursors,
	}
	cmd.Run(ctx)
	r.Hits, r.Misses = tx.Hits, tx.Misses
	ctx.Args, ctx.Tx, ctx.W = nil, nil, nil
	tx.OnMiss = nil
	return ctx.WantWrite
}

// PointTx points tx at view v for point lookups in database db outside a command (WATCH reads
// the versions of the keys it watches this way).
func PointTx(tx *keyspace.Tx, v *View, db int, now int64) {
	tx.Reset(v.Engine.DB(), nil, v.State.Physical(db), now)
	tx.UseCache(v.Cache, nil)
	tx.UseFilters(v.Filters)
}

// Size is how much a read of key in database db would go through: a collection's number of
// elements, a string's length in bytes (isString set), 0 for a missing key. It reads only the
// key's metadata record (usually from the record cache), and counts no hit or miss, reports no
// miss event and touches no access time: it is the server's estimate of a read's cost, not a read.
func (r *Reader) Size(v *View, db int, key []byte, now int64) (n int64, isString bool) {
	tx := &r.probe
	tx.Reset(v.Engine.DB(), nil, v.State.Physical(db), now)
	tx.UseCache(v.Cache, nil)
	tx.UseAccess(nil)
	tx.UseFilters(v.Filters)
	e, err := tx.Peek(key)
	if err == nil {
		switch e.Type {
		case keyspace.TypeNone:
		case keyspace.TypeString:
			n, isString = e.StrLen(), true
		default:
			n = e.Count
		}
	}
	tx.Reset(nil, nil, 0, 0)
	return n, isString
}

// Keys is the number of keys in database db of view v (expired ones not yet removed included).
func Keys(v *View, db int) int64 { return v.State.Keys(v.State.Physical(db)) }
