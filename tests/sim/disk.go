package sim

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// diskMode is a failing disk's behaviour.
type diskMode int32

const (
	diskOK diskMode = iota
	// diskSyncErrors fails every fsync with EIO.
	diskSyncErrors
	// diskFull fails file creations and every fsync with ENOSPC.
	diskFull
)

func (m diskMode) String() string {
	return [...]string{"ok", "fsync errors", "full"}[m]
}

// diskFault injects a node's disk errors through Pebble's errorfs. Faults hit only operations
// a writer waits for (creating a file, fsync), never the write-ahead log's background writes,
// so where they surface is the same on every replay.
type diskFault struct {
	mode atomic.Int32
}

func (f *diskFault) set(m diskMode) { f.mode.Store(int32(m)) }
func (f *diskFault) active() bool   { return diskMode(f.mode.Load()) != diskOK }

func (f *diskFault) wrap(fs vfs.FS) vfs.FS {
	return errorfs.Wrap(fs, errorfs.InjectorFunc(f.maybeError))
}

func (f *diskFault) maybeError(op errorfs.Op) error {
	sync := op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo
	if sync && diskMode(f.mode.Load()) != diskOK && rotatingWAL() {
		// Pebble panics when the sync of the write-ahead log it closes to rotate fails, then
		// dies of a fatal error (sync: unlock of unlocked mutex) that kills the process, test
		// binary and all: a crash, which the crash fault covers. The node's next sync fails
		// instead. Found by seed 1653.
		return nil
	}
	switch diskMode(f.mode.Load()) {
	case diskSyncErrors:
		if sync {
			return fmt.Errorf("injected fsync failure on %s: %w", op.Path, syscall.EIO)
		}
	case diskFull:
		// Not the creation of a write-ahead log: Pebble cannot take that error (rotateWAL panics
		// holding its mutex, a fatal error that kills the process outright). A full disk then is
		// a crash, which the crash fault covers.
		if sync || (op.Kind == errorfs.OpCreate && !strings.HasSuffix(op.Path, ".log")) {
			return fmt.Errorf("injected on %s: %w", op.Path, syscall.ENOSPC)
		}
	}
	return nil
}

// rotatingWAL reports whether the caller is Pebble rotating its write-ahead log (closing the
// old one syncs it on the rotating goroutine).
func rotatingWAL() bool {
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs[:])])
	for {
		fr, more := frames.Next()
		if strings.HasSuffix(fr.Function, ".(*DB).rotateWAL") {
			return true
		}
		if !more {
			return false
		}
	}
}
