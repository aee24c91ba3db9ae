package engine

import (
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func TestRestoreReplacesContents(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(Options{Dir: filepath.Join(dir, "engine")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.DB().Set([]byte("k"), []byte("before"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "ck")
	if err := e.Checkpoint(ck); err != nil {
		t.Fatal(err)
	}
	if err := e.DB().Set([]byte("k"), []byte("after"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := e.DB().Set([]byte("only-after"), []byte("x"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(ck); err != nil {
		t.Fatal(err)
	}
	v, closer, err := e.DB().Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if string(v) != "before" {
		t.Fatalf("k = %q after restore, want before", v)
	}
	closer.Close()
	if _, _, err := e.DB().Get([]byte("only-after")); !IsNotFound(err) {
		t.Fatalf("a key written after the checkpoint survived the restore: err = %v", err)
	}
	if err := e.Sync(); err != nil {
		t.Fatalf("sync after restore: %v", err)
	}
}
