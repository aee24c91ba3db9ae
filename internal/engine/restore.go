package engine

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Restore replaces the engine's contents with the checkpoint in dir (on the same filesystem),
// which it takes over: the Pebble instance is closed, the checkpoint moved into its place and
// reopened. The caller keeps every reader and writer of DB() away while it runs; anything
// obtained from the old instance is invalid afterwards.
//
// A crash midway leaves either the old directory or the new one in place: Open finishes or
// rolls back the swap.
func (e *Engine) Restore(dir string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	fs := e.opts.FS
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("close engine for restore: %w", err)
	}
	old := e.dir + ".old"
	_ = fs.RemoveAll(old)
	if err := fs.Rename(e.dir, old); err != nil {
		return e.reopen(err)
	}
	if err := fs.Rename(dir, e.dir); err != nil {
		_ = fs.Rename(old, e.dir)
		return e.reopen(err)
	}
	if err := syncParent(fs, e.dir); err != nil {
		return e.reopen(err)
	}
	db, err := pebble.Open(e.dir, e.opts)
	if err != nil {
		return fmt.Errorf("open restored engine: %w", err)
	}
	e.db = db
	_ = fs.RemoveAll(old)
	return nil
}

// reopen reopens whatever is at the engine's directory after a failed restore.
func (e *Engine) reopen(cause error) error {
	db, err := pebble.Open(e.dir, e.opts)
	if err != nil {
		return fmt.Errorf("restore: %v; reopen: %w", cause, err)
	}
	e.db = db
	return fmt.Errorf("restore: %w", cause)
}

func syncParent(fs vfs.FS, path string) error {
	d, err := fs.OpenDir(fs.PathDir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// recoverRestore finishes a restore a crash interrupted: if the engine directory is missing
// but the one it was moved aside to exists, that one is still the engine.
func recoverRestore(fs vfs.FS, dir string) {
	if _, err := fs.Stat(dir); err == nil {
		_ = fs.RemoveAll(dir + ".old")
		return
	}
	if _, err := fs.Stat(dir + ".old"); err == nil {
		_ = fs.Rename(dir+".old", dir)
	}
}
