package engine

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// countingFS counts the table files opened under checkpoint directories.
type countingFS struct {
	vfs.FS
	tableOpens atomic.Int64
}

func (fs *countingFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	if strings.Contains(name, "/ck") && strings.HasSuffix(name, ".sst") {
		fs.tableOpens.Add(1)
	}
	return fs.FS.Open(name, opts...)
}

// TestCheckpointChecksumsTablesOnce: a table is read for its checksum by the first checkpoint
// that holds it, never again, and the later checkpoint still verifies.
func TestCheckpointChecksumsTablesOnce(t *testing.T) {
	fs := &countingFS{FS: vfs.NewMem()}
	e, err := Open(Options{Dir: "/engine", FS: fs, CacheSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i := 0; i < 100; i++ {
		if err := e.DB().Set([]byte{byte(i)}, []byte("value"), pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := e.Checkpoint("/ck1"); err != nil {
		t.Fatal(err)
	}
	first := fs.tableOpens.Load()
	if first == 0 {
		t.Fatal("the first checkpoint read no table: the test does not see what it means to")
	}
	if err := e.Checkpoint("/ck2"); err != nil {
		t.Fatal(err)
	}
	if n := fs.tableOpens.Load() - first; n != 0 {
		t.Fatalf("the second checkpoint read %d tables again", n)
	}
	if err := VerifyCheckpoint("/ck2", fs); err != nil {
		t.Fatalf("the second checkpoint fails verification: %v", err)
	}
}
