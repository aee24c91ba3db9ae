package shard

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// Options are how a shard opens.
type Options struct {
	ID uint64
	// Dir is the shard's own directory (engine generations and CURRENT).
	Dir string
	// FS is the filesystem; nil is the operating system's.
	FS     vfs.FS
	Logger *slog.Logger
	// BlockCache is the engine block cache, shared by the node's shards; nil makes one of
	// BlockCacheSize for this shard.
	BlockCache     *pebble.Cache
	BlockCacheSize int64
	MemTableSize   uint64
	// RecordCacheSize bounds the shard's cache of decoded metadata records.
	RecordCacheSize int64
	// Limits are the server's argument limits, shared and changed by CONFIG SET.
	Limits *command.Limits
	// SyncPolicy is the engine's fsync policy. In a cluster the Raft log is the durable record
	// and the engine need not sync (engine.SyncNo).
	SyncPolicy engine.SyncPolicy
	// OnFailure is called once when the disk fails under the engine: the node must stop.
	OnFailure func(error)
	// OnNoSpace is called when the engine's background work found the disk full
	// (engine.Options.OnNoSpace).
	OnNoSpace func()
	// Compactions schedules the engine's compactions with the node's others (nil: its own).
	Compactions *engine.Compactions
	// ClusterVersion is the cluster version the shard's own operations (expiry sweeps and the
	// like) are stamped with (nil: the binary's own, command.ClusterVersion). In a cluster it is
	// the cluster's active version, so a node not yet upgraded can apply them.
	ClusterVersion func() uint32
}

// Shard is one shard's replica on this node.
type Shard struct {
	opts   Options
	fs     vfs.FS
	logger *slog.Logger

	view    atomic.Pointer[View]
	applier *command.Applier
	// applied is the log index the engine held when the shard opened: where its log resumes.
	applied uint64
	log     replica.Log

	// onApplied, if set, is called on the apply goroutine after each committed batch.
	onApplied func(eff *keyspace.Effects, served []command.Served)
	// sweepRest is when the next expiry sweep is worth doing (Unix ms; Sweep).
	sweepRest atomic.Int64
	// sweeps counts the sweep operations this shard proposed and saw applied; sweptKeys and
	// sweptFields the expired keys and hash fields they removed (SweepStats).
	sweeps, sweptKeys, sweptFields atomic.Int64
}

// ErrLayout is wrapped by the error of opening a directory written in another data layout.
var ErrLayout = errors.New("shard: data layout")

// Open opens the shard in opts.Dir, creating it if needed. The shard has no log yet: the
// caller attaches one (SetLog) starting after Applied.
func Open(opts Options) (*Shard, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Limits == nil {
		opts.Limits = command.DefaultLimits()
	}
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	s := &Shard{opts: opts, fs: fs, logger: opts.Logger.With("shard", opts.ID)}
	if err := durable.MkdirAll(fs, opts.Dir); err != nil {
		return nil, fmt.Errorf("create shard directory: %w", err)
	}
	gen, err := s.current()
	if err != nil {
		return nil, err
	}
	if gen == 0 {
		gen = 1
		if err := s.setCurrent(gen); err != nil {
			return nil, err
		}
	}
	s.removeStale(gen)
	v, err := s.openView(gen)
	if err != nil {
		return nil, err
	}
	if s.applied, err = keyspace.LoadApplied(v.Engine.DB()); err != nil {
		v.Release()
		return nil, err
	}
	if s.applier, err = command.NewApplier(v.storage(), opts.Limits); err != nil {
		v.Release()
		return nil, err
	}
	s.applier.Shard = opts.ID
	s.applier.OnApplied = s.afterBatch
	s.applier.OnPanic = func(pe *command.PanicError) {
		s.logger.Error("command panicked in apply; its batch was dropped", "panic", pe.Value, "stack", string(pe.Stack))
	}
	s.view.Store(v)
	return s, nil
}

// ID is the shard's ID.
func (s *Shard) ID() uint64 { return s.opts.ID }

// Applied is the log index the engine held when the shard opened.
func (s *Shard) Applied() uint64 { return s.applied }

// SetLog attaches the log that orders the shard's writes (replica.NewLocal over the shard, or
// the Raft replica a host added for it).
func (s *Shard) SetLog(l replica.Log) { s.log = l }

// Log is the shard's log.
func (s *Shard) Log() replica.Log { return s.log }

// Cursors is the shard's SCAN cursor table, shared by reads and apply.
func (s *Shard) Cursors() *command.ScanCursors { return s.applier.Cursors }

// MigratingSlots lists the slots the shard holds migration state for (command/slotmove.go).
func (s *Shard) MigratingSlots() []int { return s.applier.MigratingSlots() }

// OnApplied sets what runs on the apply goroutine after each committed batch, with what the
// batch did and the blocked clients it served. Set it before the log starts.
func (s *Shard) OnApplied(f func(eff *keyspace.Effects, served []command.Served)) { s.onApplied = f }

func (s *Shard) afterBatch(eff *keyspace.Effects, served []command.Served) {
	if s.onApplied != nil {
		s.onApplied(eff, served)
	}
}

// Acquire returns the current view with a reference the caller gives back with Release. Reads
// that must see one state (a pass of an event loop) hold one view throughout.
func (s *Shard) Acquire() *View {
	for {
		if v := s.view.Load(); v.tryAcquire() {
			return v
		}
	}
}

// Close stops the log, then gives back the shard's reference to its view and waits (a few
// seconds at most) for readers still holding it, so the engine is synced and closed.
func (s *Shard) Close() error {
	var err error
	if s.log != nil {
		err = s.log.Close()
	}
	v := s.view.Load()
	v.Release()
	select {
	case <-v.closed:
	case <-time.After(5 * time.Second):
		s.logger.Warn("shard closed while a reader still holds its engine")
	}
	return err
}

// Apply implements replica.StateMachine.
func (s *Shard) Apply(entries []replica.Entry, results [][]byte) error {
	return s.applier.Apply(entries, results)
}

// DeferSync makes apply return before its batches are durable under appendfsync always, for a
// log that then calls TakeSync (replica.Local).
func (s *Shard) DeferSync() { s.applier.DeferSync = true }

// TakeSync implements replica.SyncDeferrer.
func (s *Shard) TakeSync() func() error { return s.applier.TakeSync() }

// Checkpoint implements replica.Snapshotter: a consistent copy of the engine in dir.
func (s *Shard) Checkpoint(dir string) error {
	v := s.Acquire()
	defer v.Release()
	return v.Engine.Checkpoint(dir)
}

// VerifySnapshot implements replica.SnapshotVerifier: every file of a received checkpoint
// against its checksum, and every block of its tables.
func (s *Shard) VerifySnapshot(dir string) error { return engine.VerifyCheckpoint(dir, s.fs) }

// Restore implements replica.Snapshotter: the checkpoint in dir becomes the shard's next engine
// generation and the current view. Readers of the old view finish on it undisturbed. It runs
// on the apply goroutine, so nothing applies meanwhile.
func (s *Shard) Restore(dir string) (uint64, error) {
	old := s.view.Load()
	gen := old.gen + 1
	next := s.genDir(gen)
	_ = s.fs.RemoveAll(next)
	if err := s.fs.Rename(dir, next); err != nil {
		return 0, fmt.Errorf("move snapshot into place: %w", err)
	}
	_ = s.fs.Remove(s.fs.PathJoin(next, engine.ChecksumsFile)) // describes the copy, not the engine
	if err := durable.SyncDir(s.fs, s.opts.Dir); err != nil {
		return 0, err
	}
	v, err := s.openView(gen)
	if err != nil {
		_ = s.fs.RemoveAll(next)
		return 0, err
	}
	applied, err := keyspace.LoadApplied(v.Engine.DB())
	if err == nil {
		err = s.applier.Reset(v.storage())
	}
	if err == nil {
		err = s.setCurrent(gen)
	}
	if err != nil {
		v.remove.Store(true)
		v.Release()
		if rerr := s.applier.Reset(old.storage()); rerr != nil {
			return 0, fmt.Errorf("%w; and going back to the old engine: %v", err, rerr)
		}
		return 0, err
	}
	s.view.Store(v)
	old.remove.Store(true)
	old.Release()
	return applied, nil
}

// openView opens engine generation gen and builds what is kept beside it.
func (s *Shard) openView(gen uint64) (*View, error) {
	dir := s.genDir(gen)
	eng, err := engine.Open(engine.Options{Dir: dir, FS: s.opts.FS, Logger: s.logger, Cache: s.opts.BlockCache,
		CacheSize: s.opts.BlockCacheSize, MemTableSize: s.opts.MemTableSize, OnFailure: s.opts.OnFailure, OnNoSpace: s.opts.OnNoSpace,
		Compactions: s.opts.Compactions})
	if err != nil {
		return nil, err
	}
	eng.SetSyncPolicy(s.opts.SyncPolicy)
	v := &View{Engine: eng, gen: gen, dir: dir, fs: s.fs, logger: s.logger, closed: make(chan struct{})}
	v.refs.Store(1)
	fail := func(err error) (*View, error) {
		v.Release()
		return nil, err
	}
	if v.State, err = keyspace.LoadState(eng.DB()); err != nil {
		return fail(err)
	}
	v.Cache = keyspace.NewCache(s.opts.RecordCacheSize)
	v.Cache.TrackAccess(time.Now().UnixMilli(), s.opts.Limits.Access)
	if v.Filters, err = keyspace.NewFilters(eng.DB(), v.State.TotalKeys()); err != nil {
		return fail(fmt.Errorf("build the key filter: %w", err))
	}
	return v, nil
}

// SetSyncPolicy changes the engine's fsync policy (CONFIG SET appendfsync).
func (s *Shard) SetSyncPolicy(p engine.SyncPolicy) {
	v := s.Acquire()
	defer v.Release()
	v.Engine.SetSyncPolicy(p)
}

const currentFile = "CURRENT"

func (s *Shard) genDir(gen uint64) string {
	return s.fs.PathJoin(s.opts.Dir, "engine-"+strconv.FormatUint(gen, 10))
}

// current reads the live generation from CURRENT; 0 for a new shard.
func (s *Shard) current() (uint64, error) {
	f, err := s.fs.Open(s.fs.PathJoin(s.opts.Dir, currentFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 32)
	n, _ := f.Read(buf)
	gen, err := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 10, 64)
	if err != nil || gen == 0 {
		return 0, fmt.Errorf("shard %d: damaged %s file %q", s.opts.ID, currentFile, buf[:n])
	}
	return gen, nil
}

// setCurrent makes gen the live generation, atomically and durably.
func (s *Shard) setCurrent(gen uint64) error {
	tmp := s.fs.PathJoin(s.opts.Dir, currentFile+".tmp")
	if err := durable.WriteFile(s.fs, tmp, []byte(strconv.FormatUint(gen, 10)+"\n")); err != nil {
		return err
	}
	if err := s.fs.Rename(tmp, s.fs.PathJoin(s.opts.Dir, currentFile)); err != nil {
		return err
	}
	return durable.SyncDir(s.fs, s.opts.Dir)
}

// removeStale deletes engine generations other than the live one: an install a crash
// interrupted, or a replaced engine a reader still held at shutdown.
func (s *Shard) removeStale(live uint64) {
	names, err := s.fs.List(s.opts.Dir)
	if err != nil {
		return
	}
	for _, n := range names {
		g, ok := strings.CutPrefix(n, "engine-")
		if !ok {
			continue
		}
		if gen, err := strconv.ParseUint(g, 10, 64); err == nil && gen != live {
			_ = s.fs.RemoveAll(s.fs.PathJoin(s.opts.Dir, n))
		}
	}
}

// RebuildFilterIfNeeded rebuilds the key filter in the background once it has filled past its
// size (it would pass too many absent keys to the engine). The rebuild holds the view it
// scans, so an install meanwhile only makes it build a filter nobody uses.
func (s *Shard) RebuildFilterIfNeeded() {
	v := s.Acquire()
	if !v.Filters.NeedsRebuild() {
		v.Release()
		return
	}
	go func() {
		defer v.Release()
		if err := v.Filters.Rebuild(v.Engine.DB(), v.State.TotalKeys(), func() { time.Sleep(time.Millisecond) }); err != nil {
			s.logger.Error("key filter rebuild failed", "err", err)
		}
	}()
}

// KeyCounts returns the number of keys, and of keys with an expiry, in each logical database.
func (s *Shard) KeyCounts() (keys, expires [keyspace.NumDBs]int64) {
	v := s.Acquire()
	defer v.Release()
	for db := 0; db < keyspace.NumDBs; db++ {
		phys := v.State.Physical(db)
		keys[db], expires[db] = v.State.Keys(phys), v.State.Expires(phys)
	}
	return keys, expires
}

// Metrics are the engine's figures.
func (s *Shard) Metrics() engine.Metrics {
	v := s.Acquire()
	defer v.Release()
	return v.Engine.Metrics()
}

// DiskAvail is the space free on the engine's filesystem, in bytes.
func (s *Shard) DiskAvail() (uint64, error) {
	v := s.Acquire()
	defer v.Release()
	return v.Engine.DiskAvail()
}

// LastSync is the Unix time of the engine's last background fsync.
func (s *Shard) LastSync() int64 {
	v := s.Acquire()
	defer v.Release()
	return v.Engine.LastSync()
}

// Logical maps the physical databases of the current view to their SELECT numbers: events
// from apply name physical databases (SWAPDB exchanges the two maps).
func (s *Shard) Logical() (logical [keyspace.NumDBs]int) {
	v := s.Acquire()
	defer v.Release()
	for db := 0; db < keyspace.NumDBs; db++ {
		logical[v.State.Physical(db)] = db
	}
	return logical
}

// BackgroundSync syncs the engine's write-ahead log if the shard's policy is everysec; the
// node calls it once a second for all its shards.
func (s *Shard) BackgroundSync() error {
	v := s.Acquire()
	defer v.Release()
	if v.Engine.SyncPolicy() != engine.SyncEverySec {
		return nil
	}
	return v.Engine.Sync()
}
