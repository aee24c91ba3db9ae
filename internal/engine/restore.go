package engine

import (
	"fmt"
	"log/slog"

	crerrors "github.com/cockroachdb/errors"
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
	_ = fs.Remove(fs.PathJoin(e.dir, checksumsFile)) // describes the copy, not the engine
	if err := SyncDir(fs, fs.PathDir(e.dir)); err != nil {
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

// VerifyCheckpoint checks a checkpoint (a snapshot received from another node) before it is
// installed: every file against the checksums Checkpoint wrote (a write-ahead log damaged in
// its last record would otherwise read as a torn tail, silently shorter), then Pebble's own
// checks, reading every block of every table read-only. fs nil is the operating system's.
func VerifyCheckpoint(dir string, fs vfs.FS) error {
	if fs == nil {
		fs = vfs.Default
	}
	if err := verifyChecksums(fs, dir); err != nil {
		return err
	}
	opts := &pebble.Options{FS: fs, ReadOnly: true, Logger: pebbleLogger{slog.New(slog.DiscardHandler)}}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return fmt.Errorf("open checkpoint: %w", err)
	}
	err = checkLevels(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkLevels reads every key of every level, turning a fatal error into an error.
func checkLevels(db *pebble.DB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(fatal)
			if !ok {
				panic(p)
			}
			err = fmt.Errorf("%w: %s", pebble.ErrCorruption, f.msg)
		}
	}()
	return db.CheckLevels(nil)
}

// IsCorruption reports whether err is Pebble's report of data failing its checksums. Pebble
// marks those with cockroachdb/errors, which the standard errors.Is does not see through.
func IsCorruption(err error) bool { return crerrors.Is(err, pebble.ErrCorruption) }
