package engine

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// failingDisk is an in-memory disk that fails the operations of one kind while switched on.
type failingDisk struct {
	mem  *vfs.MemFS
	on   atomic.Bool
	fail func(errorfs.Op) error
}

func newFailingDisk(fail func(errorfs.Op) error) *failingDisk {
	return &failingDisk{mem: vfs.NewCrashableMem(), fail: fail}
}

func (d *failingDisk) fs() vfs.FS {
	return errorfs.Wrap(d.mem, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if d.on.Load() {
			return d.fail(op)
		}
		return nil
	}))
}

func isSync(op errorfs.Op) bool {
	return op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo
}

var diskFailures = []struct {
	name string
	fail func(errorfs.Op) error
}{
	{"write error", func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt {
			return fmt.Errorf("injected: %w", syscall.EIO)
		}
		return nil
	}},
	{"fsync error", func(op errorfs.Op) error {
		if isSync(op) {
			return fmt.Errorf("injected: %w", syscall.EIO)
		}
		return nil
	}},
	{"disk full", func(op errorfs.Op) error {
		if op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return fmt.Errorf("injected: %w", syscall.ENOSPC)
		}
		return nil
	}},
}

// A write the disk fails returns ErrFailed (Pebble's fatal error, not a panic), the engine
// reports it once and refuses every later write, closes cleanly, and what it acknowledged
// before is there after a crash while the failed write is not.
func TestDiskFailureFailsWritesCleanly(t *testing.T) {
	for _, tc := range diskFailures {
		t.Run(tc.name, func(t *testing.T) {
			disk := newFailingDisk(tc.fail)
			var reported atomic.Int32
			e, err := Open(Options{Dir: "/engine", FS: disk.fs(), OnFailure: func(error) { reported.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			e.SetSyncPolicy(SyncAlways)
			commit := func(k, v string) error {
				b := e.NewBatch()
				defer b.Close()
				if err := b.Set([]byte(k), []byte(v), nil); err != nil {
					t.Fatal(err)
				}
				return e.Commit(b)
			}
			for i := range 10 {
				if err := commit(fmt.Sprintf("acked%d", i), "v"); err != nil {
					t.Fatalf("commit before the failure: %v", err)
				}
			}
			disk.on.Store(true)
			if err := commit("failed", "v"); !errors.Is(err, ErrFailed) {
				t.Fatalf("commit on a failing disk = %v, want ErrFailed", err)
			}
			disk.on.Store(false)
			if err := commit("after", "v"); !errors.Is(err, ErrFailed) {
				t.Fatalf("commit after the failure = %v, want ErrFailed", err)
			}
			if err := e.Sync(); !errors.Is(err, ErrFailed) {
				t.Fatalf("sync after the failure = %v, want ErrFailed", err)
			}
			if got := reported.Load(); got != 1 {
				t.Fatalf("OnFailure called %d times, want 1", got)
			}
			if e.Failed() == nil {
				t.Fatal("Failed() = nil after a failure")
			}
			_ = e.Close() // may report the failure again; must not panic

			crashed := disk.mem.CrashClone(vfs.CrashCloneCfg{})
			e2, err := Open(Options{Dir: "/engine", FS: crashed})
			if err != nil {
				t.Fatalf("reopen after the failure: %v", err)
			}
			defer e2.Close()
			for i := range 10 {
				k := fmt.Sprintf("acked%d", i)
				if _, closer, err := e2.DB().Get([]byte(k)); err != nil {
					t.Fatalf("acknowledged %s lost: %v", k, err)
				} else {
					closer.Close()
				}
			}
			for _, k := range []string{"failed", "after"} {
				if _, closer, err := e2.DB().Get([]byte(k)); err == nil {
					closer.Close()
					t.Fatalf("%s, never acknowledged, survived the crash", k)
				}
			}
		})
	}
}

// A checkpoint on a failing disk fails with an error; the engine goes on if its log is intact.
func TestCheckpointOnFullDiskFails(t *testing.T) {
	disk := newFailingDisk(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpCreate || op.Kind == errorfs.OpLink {
			return fmt.Errorf("injected: %w", syscall.ENOSPC)
		}
		return nil
	})
	e, err := Open(Options{Dir: "/engine", FS: disk.fs()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	disk.on.Store(true)
	if err := e.Checkpoint("/ck"); err == nil {
		t.Fatal("checkpoint on a full disk succeeded")
	}
	disk.on.Store(false)
	b := e.NewBatch()
	defer b.Close()
	_ = b.Set([]byte("k"), []byte("v"), nil)
	if err := e.Commit(b); err != nil {
		t.Fatalf("commit after a failed checkpoint: %v", err)
	}
}
