package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// SyncPolicy is when committed writes reach the disk, named as Redis's appendfsync.
type SyncPolicy int

const (
	// SyncEverySec syncs the write-ahead log in the background once a second (the engine's
	// owner calls Sync: one loop for all the engines of a node): a crash of the machine loses
	// at most about a second of acknowledged writes, a crash of the process none that reached
	// the operating system.
	SyncEverySec SyncPolicy = iota
	// SyncAlways syncs before a write is acknowledged.
	SyncAlways
	// SyncNo leaves syncing to the operating system.
	SyncNo
)

// ParseSyncPolicy parses an appendfsync value.
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	switch s {
	case "always":
		return SyncAlways, nil
	case "everysec":
		return SyncEverySec, nil
	case "no":
		return SyncNo, nil
	}
	return 0, fmt.Errorf("invalid appendfsync value %q", s)
}

func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncNo:
		return "no"
	}
	return "everysec"
}

// Options configure an engine.
type Options struct {
	Dir string
	// FS is the filesystem; nil means the operating system's. Tests pass an in-memory or
	// error-injecting one.
	FS vfs.FS
	// Cache is the block cache, shared by all engines of a node; nil makes one of CacheSize.
	Cache     *pebble.Cache
	CacheSize int64
	// MemTableSize is the size of one memtable; 0 means 4 MB.
	MemTableSize uint64
	Logger       *slog.Logger
	// OnFailure is called once, from the goroutine that hit it, when the disk fails under the
	// engine (ErrFailed): the node must stop.
	OnFailure func(error)
	// OnNoSpace is called, instead of logging, each time Pebble's background work (flushes,
	// compactions) fails for want of disk space; Pebble retries that work by itself. Writes
	// then stall once the memtables fill, so the owner should refuse writes until space returns.
	OnNoSpace func()
	// Compactions, if set, schedules the engine's compactions with the node's other engines
	// (nil: Pebble's own scheduler, a goroutine per engine).
	Compactions *Compactions
}

// ErrFailed is wrapped by the error of every write once the engine's disk has failed: a write or
// sync of the write-ahead log returned an error (EIO, ENOSPC...). Pebble cannot go on from that
// — what it holds in memory may then include writes that never reached the disk — so the
// engine refuses writes from then on, and its owner stops the node. Data acknowledged before
// the failure is on disk; the failed write was not acknowledged.
var ErrFailed = errors.New("engine: storage failed")

// fatal is what Pebble's fatal errors panic with (pebbleLogger.Fatalf), so the engine can tell
// them from other panics and turn them into ErrFailed.
type fatal struct{ msg string }

// Engine is one Pebble instance.
type Engine struct {
	db     *pebble.DB
	cache  *pebble.Cache
	logger *slog.Logger
	dir    string

	policy atomic.Int32 // SyncPolicy
	// failed holds the ErrFailed error once the disk failed.
	failed    atomic.Pointer[error]
	onFailure func(error)
	// lastSync is the Unix time in seconds of the last background sync (for INFO).
	lastSync atomic.Int64

	// mu keeps Close away from a checkpoint or sync in progress.
	mu   sync.RWMutex
	opts *pebble.Options
	// tables caches the checksums of table files for checkpoints.
	tables tableSums
}

// Open opens (creating if needed) the engine in opts.Dir.
func Open(opts Options) (*Engine, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{logger: logger, dir: opts.Dir, onFailure: opts.OnFailure}
	e.cache = opts.Cache
	if e.cache == nil {
		size := opts.CacheSize
		if size <= 0 {
			size = 256 << 20
		}
		e.cache = pebble.NewCache(size)
	} else {
		e.cache.Ref()
	}
	memtable := opts.MemTableSize
	if memtable == 0 {
		memtable = 4 << 20
	}
	po := &pebble.Options{
		FS:                          fsOrDefault(opts.FS),
		Cache:                       e.cache,
		MemTableSize:                memtable,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       1000,
		LBaseMaxBytes:               256 << 20,
		MaxOpenFiles:                4096,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      pebbleLogger{l: logger, onNoSpace: opts.OnNoSpace},
		BytesPerSync:                1 << 20,
		WALBytesPerSync:             0,
	}
	if opts.Compactions != nil {
		po.Experimental.CompactionScheduler = opts.Compactions.scheduler()
	}
	po.EnsureDefaults()
	for i := range po.Levels {
		po.Levels[i].BlockSize = 16 << 10
		po.Levels[i].FilterPolicy = bloomPolicy
		po.Levels[i].FilterType = pebble.TableFilter
	}
	e.opts = po
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		e.cache.Unref()
		return nil, fmt.Errorf("open engine in %s: %w", opts.Dir, err)
	}
	e.db = db
	e.lastSync.Store(time.Now().Unix())
	return e, nil
}

// Close syncs and closes the engine.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.guard(func() error { return e.db.LogData(nil, pebble.Sync) })
	if cerr := e.db.Close(); err == nil {
		err = cerr
	}
	e.cache.Unref()
	return err
}

// SetSyncPolicy changes the fsync policy; it takes effect at the next commit.
func (e *Engine) SetSyncPolicy(p SyncPolicy) { e.policy.Store(int32(p)) }

// SyncPolicy reports the fsync policy.
func (e *Engine) SyncPolicy() SyncPolicy { return SyncPolicy(e.policy.Load()) }

// DB exposes the Pebble instance to the keyspace layer for reads.
func (e *Engine) DB() *pebble.DB { return e.db }

// Dir is the directory the engine lives in.
func (e *Engine) Dir() string { return e.dir }

// NewBatch returns an indexed batch: writes to it are visible to reads through it.
func (e *Engine) NewBatch() *pebble.Batch { return e.db.NewIndexedBatch() }

// NewBatchWithSize is NewBatch with room for size bytes of records, for a batch known to be
// big: a batch grows by doubling, which would hold up to twice a big value, copied.
func (e *Engine) NewBatchWithSize(size int) *pebble.Batch {
	b := e.db.NewIndexedBatchWithSize(size)
	// Pebble lays out an empty batch's buffer on its first record, and replaces the buffer
	// given here by one of a power of two at least the first record's size: for a big first
	// record, a second big buffer. A small first record (an empty one that only the WAL sees)
	// keeps it.
	_ = b.LogData(nil, nil)
	return b
}

// Commit commits b, syncing first when the policy is always. It does not close b.
func (e *Engine) Commit(b *pebble.Batch) error {
	opts := pebble.NoSync
	if e.SyncPolicy() == SyncAlways {
		opts = pebble.Sync
	}
	return e.guard(func() error { return b.Commit(opts) })
}

// CommitDeferSync commits b as Commit does, but under appendfsync always it returns once the
// batch is applied and visible, before its sync, with wait to block until the batch is durable
// (wait is nil when there is nothing to wait for). b must not be closed before wait returned.
// Readers may see the batch before it is durable, as they may with Commit (Pebble publishes a
// batch before its sync) and as Redis serves a write before its AOF fsync: what must wait for
// the sync is the writer's acknowledgement.
func (e *Engine) CommitDeferSync(b *pebble.Batch) (wait func() error, err error) {
	if e.SyncPolicy() != SyncAlways {
		return nil, e.Commit(b)
	}
	if err := e.guard(func() error { return e.db.ApplyNoSyncWait(b, pebble.Sync) }); err != nil {
		return nil, err
	}
	return func() error { return e.guard(b.SyncWait) }, nil
}

// Failed returns the ErrFailed error if the engine's disk has failed, else nil.
func (e *Engine) Failed() error {
	if p := e.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// guard runs a Pebble write that may hit a fatal disk error, and turns that error (a panic from
// pebbleLogger.Fatalf) into ErrFailed. After one, every write fails at once.
func (e *Engine) guard(write func() error) (err error) {
	if err := e.Failed(); err != nil {
		return err
	}
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		f, ok := p.(fatal)
		if !ok {
			panic(p)
		}
		err = fmt.Errorf("%w: %s", ErrFailed, f.msg)
		if e.failed.CompareAndSwap(nil, &err) && e.onFailure != nil {
			e.onFailure(err)
		}
	}()
	return write()
}

// Sync forces the write-ahead log to disk.
func (e *Engine) Sync() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	err := e.guard(func() error { return e.db.LogData(nil, pebble.Sync) })
	if err == nil {
		e.lastSync.Store(time.Now().Unix())
	}
	return err
}

// LastSync is the Unix time of the last successful sync.
func (e *Engine) LastSync() int64 { return e.lastSync.Load() }

// Checkpoint writes a consistent copy of the engine to dir, which must not exist, with the
// write-ahead log flushed first so the copy holds every committed write, and the checksum of
// every file of it (checksums.go), so the copy can be verified wherever it is read.
func (e *Engine) Checkpoint(dir string) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := e.guard(func() error { return e.db.Checkpoint(dir, pebble.WithFlushedWAL()) }); err != nil {
		return err
	}
	return writeChecksums(e.opts.FS, dir, &e.tables)
}

// Flush flushes the memtable to an sstable.
func (e *Engine) Flush() error { return e.db.Flush() }

// Compact compacts the key range [start, end).
func (e *Engine) Compact(ctx context.Context, start, end []byte) error {
	return e.db.Compact(ctx, start, end, true)
}

// Metrics are the figures INFO reports.
type Metrics struct {
	DiskBytes     uint64
	MemTableBytes uint64
	CacheBytes    int64
	CacheHits     int64
	CacheMisses   int64
	Compactions   int64
	Flushes       int64
	WALBytes      uint64
	ReadAmp       int
}

// Metrics reads the engine's metrics.
func (e *Engine) Metrics() Metrics {
	e.mu.RLock()
	m := e.db.Metrics()
	e.mu.RUnlock()
	return Metrics{
		DiskBytes:     m.DiskSpaceUsage(),
		MemTableBytes: m.MemTable.Size,
		CacheBytes:    m.BlockCache.Size,
		CacheHits:     m.BlockCache.Hits,
		CacheMisses:   m.BlockCache.Misses,
		Compactions:   m.Compact.Count,
		Flushes:       m.Flush.Count,
		WALBytes:      m.WAL.Size,
		ReadAmp:       m.ReadAmp(),
	}
}

// ErrNotFound is returned by reads of a missing key.
var ErrNotFound = pebble.ErrNotFound

// IsNotFound reports whether err is a missing key.
func IsNotFound(err error) bool { return errors.Is(err, pebble.ErrNotFound) }

var _ io.Closer = (*Engine)(nil)

type pebbleLogger struct {
	l         *slog.Logger
	onNoSpace func()
}

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.onNoSpace != nil && isNoSpace(msg, args) {
		// A full disk makes every retry of a flush fail: one log line per state change is
		// the owner's, not one per retry.
		p.l.Debug(msg, "component", "pebble")
		p.onNoSpace()
		return
	}
	p.l.Error(msg, "component", "pebble")
}

// isNoSpace reports whether a Pebble error message is about a full disk.
func isNoSpace(msg string, args []any) bool {
	for _, a := range args {
		if err, ok := a.(error); ok && errors.Is(err, syscall.ENOSPC) {
			return true
		}
	}
	return strings.Contains(msg, syscall.ENOSPC.Error())
}

// DiskAvail is the space free on the engine's filesystem, in bytes.
func (e *Engine) DiskAvail() (uint64, error) {
	u, err := e.opts.FS.GetDiskUsage(e.dir)
	return u.AvailBytes, err
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fatal{fmt.Sprintf(format, args...)})
}

// fsOrDefault is the operating system's filesystem when fs is nil. Pebble would wrap a nil FS
// with its disk-health checks, which run a ticker per open log file: on a node holding a
// thousand engines that is a thousand timers firing, for events nothing here listens to.
func fsOrDefault(fs vfs.FS) vfs.FS {
	if fs == nil {
		return vfs.Default
	}
	return fs
}
