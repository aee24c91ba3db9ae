package engine

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// A flush that fails for want of space is reported through OnNoSpace, not logged once per
// retry, and the engine carries on (writes and flushes succeed) once space returns.
func TestFlushOnFullDiskReportsNoSpace(t *testing.T) {
	disk := newFailingDisk(func(op errorfs.Op) error {
		if op.Kind.ReadOrWrite() == errorfs.OpIsWrite && strings.HasSuffix(op.Path, ".sst") {
			return fmt.Errorf("injected: %w", syscall.ENOSPC)
		}
		return nil
	})
	var log bytes.Buffer
	var reports atomic.Int64
	e, err := Open(Options{Dir: "db", FS: disk.fs(), CacheSize: 1 << 20, MemTableSize: 256 << 10,
		Logger:    slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelError})),
		OnNoSpace: func() { reports.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	put := func(i int) {
		b := e.NewBatch()
		defer b.Close()
		if err := b.Set([]byte(fmt.Sprintf("k%06d", i)), bytes.Repeat([]byte{'v'}, 1024), nil); err != nil {
			t.Fatal(err)
		}
		if err := e.Commit(b); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	disk.on.Store(true)
	for i := 0; i < 400; i++ { // over one memtable: a background flush starts and fails
		put(i)
	}
	deadline := time.Now().Add(20 * time.Second)
	for reports.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no OnNoSpace report for a flush that failed for want of space")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if strings.Contains(log.String(), "no space left") {
		t.Errorf("the full disk was logged as errors:\n%s", log.String())
	}
	disk.on.Store(false)
	flushed := make(chan error, 1)
	go func() { flushed <- e.Flush() }()
	select {
	case err := <-flushed:
		if err != nil {
			t.Fatalf("flush once space returned: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("flush once space returned did not finish")
	}
	put(1000)
	if v, closer, err := e.DB().Get([]byte("k000399")); err != nil || len(v) != 1024 {
		t.Fatalf("read after the disk was full: %d bytes, %v", len(v), err)
	} else {
		closer.Close()
	}
	if e.Failed() != nil {
		t.Fatalf("engine failed: %v", e.Failed())
	}
}
