package command

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// Single-node mode on a disk that fails (fsync errors, a full disk): the write that hits the
// failure is answered with an error, so is every write after it, the node is told to stop
// (engine OnFailure; the server shuts down), and after a restart on what the disk kept every
// acknowledged write is there and no refused one is.
func TestDiskFailureSingleNode(t *testing.T) {
	modes := []struct {
		name string
		fail func(errorfs.Op) error
	}{
		{"fsync error", func(op errorfs.Op) error {
			if op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo {
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
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			var on atomic.Bool
			fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op) error {
				if on.Load() {
					return m.fail(op)
				}
				return nil
			}))
			var stop atomic.Int32
			log, eng := openSingleNode(t, fs, func(error) { stop.Add(1) })
			set := func(k string) error {
				data := AppendOp(nil, 2, 0, 0, 1_700_000_000_000, [][]byte{[]byte("SET"), []byte(k), []byte("v")})
				done := make(chan error, 1)
				if err := log.Propose(replica.Proposal{Data: data, Done: func(_ []byte, err error) { done <- err }}); err != nil {
					return err
				}
				return <-done
			}
			for i := range 20 {
				if err := set(fmt.Sprintf("acked%d", i)); err != nil {
					t.Fatalf("write before the failure: %v", err)
				}
			}
			on.Store(true)
			if err := set("refused"); !errors.Is(err, engine.ErrFailed) {
				t.Fatalf("write on a failing disk = %v, want engine.ErrFailed", err)
			}
			on.Store(false)
			if err := set("after"); !errors.Is(err, engine.ErrFailed) {
				t.Fatalf("write after the failure = %v, want engine.ErrFailed", err)
			}
			if stop.Load() != 1 {
				t.Fatalf("the node was told to stop %d times, want 1", stop.Load())
			}
			log.Close()
			eng.Close()

			log2, eng2 := openSingleNode(t, mem.CrashClone(vfs.CrashCloneCfg{}), nil)
			defer eng2.Close()
			defer log2.Close()
			for i := range 20 {
				k := fmt.Sprintf("acked%d", i)
				if _, closer, err := eng2.DB().Get(keyspace.MetaKey(nil, 0, []byte(k))); err != nil {
					t.Fatalf("acknowledged %s lost: %v", k, err)
				} else {
					closer.Close()
				}
			}
			for _, k := range []string{"refused", "after"} {
				if _, closer, err := eng2.DB().Get(keyspace.MetaKey(nil, 0, []byte(k))); err == nil {
					closer.Close()
					t.Fatalf("%s, answered with an error, is there after a restart", k)
				}
			}
		})
	}
}

// openSingleNode opens what server.New opens in single-node mode, on fs, with appendfsync always.
func openSingleNode(t *testing.T, fs vfs.FS, onFailure func(error)) (*replica.Local, *engine.Engine) {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: "/data/engine", FS: fs, CacheSize: 8 << 20, OnFailure: onFailure})
	if err != nil {
		t.Fatal(err)
	}
	eng.SetSyncPolicy(engine.SyncAlways)
	state, err := keyspace.LoadState(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	applied, err := keyspace.LoadApplied(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	filters, err := keyspace.NewFilters(eng.DB(), state.TotalKeys())
	if err != nil {
		t.Fatal(err)
	}
	app, err := NewApplier(Storage{Engine: eng, State: state, Cache: keyspace.NewCache(1 << 20), Filters: filters}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return replica.NewLocal(app, applied), eng
}
