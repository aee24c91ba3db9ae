package engine

import (
	"fmt"
	"log/slog"

	crerrors "github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

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
	opts := &pebble.Options{FS: fs, ReadOnly: true, Logger: pebbleLogger{l: slog.New(slog.DiscardHandler)}}
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
