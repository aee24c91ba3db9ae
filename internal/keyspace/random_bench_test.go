package keyspace

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// benchDB returns a committed store of n string keys "key:%012d" in database 0 and a read-only
// Tx over it.
func benchDB(b *testing.B, n int) *Tx {
	b.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	batch := db.NewBatch()
	tx := NewTx(db, batch, 0, 1000)
	for i := 0; i < n; i++ {
		key := fmt.Appendf(nil, "key:%012d", i)
		e := Entry{Meta: Meta{Type: TypeString, Value: []byte("v")}}
		if err := tx.Put(key, &e); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		b.Fatal(err)
	}
	return NewTx(db, nil, 0, 1000)
}

func BenchmarkRandomKey(b *testing.B) {
	tx := benchDB(b, 100000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if k, err := tx.RandomKey(uint64(i) * 0x9E3779B97F4A7C15); err != nil || k == nil {
			b.Fatalf("RandomKey = %q, %v", k, err)
		}
	}
}

// BenchmarkScanKeysPage measures one SCAN page of 10 keys resumed in the middle of the database.
func BenchmarkScanKeysPage(b *testing.B) {
	tx := benchDB(b, 100000)
	start := []byte("key:000000050000")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if _, err := tx.ScanKeys(nil, start, 0, func([]byte, Type, int64) bool { n++; return n < 10 }); err != nil {
			b.Fatal(err)
		}
	}
}
