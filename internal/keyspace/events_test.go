package keyspace

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// writeTx runs fn in a writing Tx at time now with effects recorded, and commits.
func writeTx(t *testing.T, db *pebble.DB, now int64, eff *Effects, fn func(tx *Tx)) {
	t.Helper()
	b := db.NewIndexedBatch()
	var tx Tx
	tx.Reset(b, b, 0, now)
	tx.Versions = func() uint64 { return 1 }
	tx.Effects = eff
	fn(&tx)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

func eventNames(eff *Effects) []string {
	var out []string
	for _, ev := range eff.Events {
		out = append(out, string(ev.Class)+":"+ev.Name+":"+string(ev.Key))
	}
	return out
}

// A write that comes across an expired record removes it first, as Redis's lazy expiry does:
// an expired event, the key counted as modified, then the write sees a new key.
func TestWriteExpiresOnAccess(t *testing.T) {
	db := openMem(t)
	var eff Effects
	writeTx(t, db, 1000, &eff, func(tx *Tx) {
		e, _ := tx.Lookup([]byte("k"))
		e.Type, e.Value, e.ExpireAt = TypeString, []byte("old"), 1500
		if err := tx.Put([]byte("k"), &e); err != nil {
			t.Fatal(err)
		}
	})
	eff.Reset()
	eff.Client = 42
	writeTx(t, db, 2000, &eff, func(tx *Tx) {
		e, err := tx.Peek([]byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Exists() {
			t.Fatalf("expired key looks live")
		}
		setString(t, tx, "k", "new")
	})
	got := eventNames(&eff)
	want := []string{"x:expired:k", "n:new:k"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if d := eff.Counts[0]; d.Keys != 0 || d.Expires != -1 {
		t.Fatalf("count delta = %+v, want keys 0 (one removed, one added), expires -1", d)
	}
	if len(eff.Modified) == 0 || eff.Modified[0].Client != 42 {
		t.Fatalf("modified = %+v, want the key attributed to client 42", eff.Modified)
	}
	// A read-only view reports the expired key missing without touching it.
	var tx Tx
	tx.Reset(db, nil, 0, 3000)
	var missed []string
	tx.OnMiss = func(key []byte) { missed = append(missed, string(key)) }
	e, err := tx.Lookup([]byte("absent"))
	if err != nil || e.Exists() {
		t.Fatalf("Lookup(absent) = %v, %v", e.Exists(), err)
	}
	if len(missed) != 1 || missed[0] != "absent" || tx.Misses != 1 {
		t.Fatalf("misses = %v (%d), want [absent]", missed, tx.Misses)
	}
}
