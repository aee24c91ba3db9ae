package keyspace

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestCountsRecordIndependentOfBatching applies the same two changes of the key count (+2 then
// -2) in two batches on one store and in one batch on another: both must end with the same
// records, whatever the batching (replicas batch the same log entries differently).
func TestCountsRecordIndependentOfBatching(t *testing.T) {
	open := func() (*pebble.DB, *State) {
		t.Helper()
		db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := LoadState(db)
		if err != nil {
			t.Fatal(err)
		}
		return db, s
	}
	stage := func(db *pebble.DB, s *State, applied uint64, deltas ...int64) {
		t.Helper()
		var eff Effects
		for _, d := range deltas {
			eff.Counts[0].Keys += d
		}
		b := db.NewBatch()
		if err := s.Stage(b, &eff, applied, 0); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(pebble.Sync); err != nil {
			t.Fatal(err)
		}
		s.Publish(&eff)
	}
	counts := func(db *pebble.DB) (bool, []byte) {
		t.Helper()
		v, closer, err := db.Get(countsKey)
		if err == pebble.ErrNotFound {
			return false, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		return true, append([]byte(nil), v...)
	}

	apart, s1 := open()
	stage(apart, s1, 1, 2)
	if has, _ := counts(apart); !has {
		t.Fatal("no count record after keys were added")
	}
	stage(apart, s1, 2, -2)
	together, s2 := open()
	stage(together, s2, 2, 2, -2)
	h1, v1 := counts(apart)
	h2, v2 := counts(together)
	if h1 || h2 {
		t.Fatalf("count record with no keys: applied apart %v %x, together %v %x; want none", h1, v1, h2, v2)
	}
	if s1.keys[0].Load() != 0 || s2.keys[0].Load() != 0 {
		t.Fatalf("counts %d and %d, want 0", s1.keys[0].Load(), s2.keys[0].Load())
	}
}
