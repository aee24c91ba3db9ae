package shard

import (
	"log/slog"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// View is one generation of a shard's storage: the engine and the structures derived from its
// contents. It stays valid, and its engine open, until the last holder releases it.
type View struct {
	Engine  *engine.Engine
	State   *keyspace.State
	Cache   *keyspace.Cache
	Filters *keyspace.Filters

	gen    uint64
	dir    string
	fs     vfs.FS
	logger *slog.Logger
	// refs counts the holders: the shard while the view is current, plus each reader. At zero
	// the engine closes; it never rises from zero.
	refs   atomic.Int64
	closed chan struct{}
	// remove is set when the view was replaced: closing it also deletes its directory.
	remove atomic.Bool
}

// storage is the view as the applier writes to it.
func (v *View) storage() command.Storage {
	return command.Storage{Engine: v.Engine, State: v.State, Cache: v.Cache, Filters: v.Filters}
}

// tryAcquire adds a reference unless the view is already closing.
func (v *View) tryAcquire() bool {
	for {
		r := v.refs.Load()
		if r <= 0 {
			return false
		}
		if v.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// Release gives back a reference taken by Shard.Acquire.
func (v *View) Release() {
	if v.refs.Add(-1) != 0 {
		return
	}
	if err := v.Engine.Close(); err != nil {
		v.logger.Warn("closing a shard engine", "dir", v.dir, "err", err)
	}
	if v.remove.Load() {
		if err := v.fs.RemoveAll(v.dir); err != nil {
			v.logger.Warn("removing a replaced shard engine", "dir", v.dir, "err", err)
		}
	}
	close(v.closed)
}
