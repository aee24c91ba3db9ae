package keyspace

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func openMem(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// applyTx runs fn in a writing Tx with the cache, commits, and publishes, as apply does.
func applyTx(t *testing.T, db *pebble.DB, c *Cache, fn func(tx *Tx)) {
	t.Helper()
	b := db.NewIndexedBatch()
	o := NewOverlay()
	var tx Tx
	tx.Reset(b, b, 0, 1000)
	tx.Versions = func() uint64 { return 1 }
	tx.UseCache(c, o)
	fn(&tx)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	c.Publish(o)
}

func readString(t *testing.T, db *pebble.DB, c *Cache, key string) (string, bool) {
	t.Helper()
	var tx Tx
	tx.Reset(db, nil, 0, 1000)
	tx.UseCache(c, nil)
	e, err := tx.Lookup([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return string(e.Value), e.Exists()
}

func setString(t *testing.T, tx *Tx, key, value string) {
	t.Helper()
	e, err := tx.Lookup([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	e.Type, e.Value = TypeString, []byte(value)
	if err := tx.Put([]byte(key), &e); err != nil {
		t.Fatal(err)
	}
}

func TestCacheWriteThrough(t *testing.T) {
	db, c := openMem(t), NewCache(1<<20)
	applyTx(t, db, c, func(tx *Tx) {
		setString(t, tx, "a", "1")
		// Apply's own later reads in the batch see its uncommitted write (the overlay).
		if e, _ := tx.Lookup([]byte("a")); string(e.Value) != "1" {
			t.Fatalf("read in batch = %q, want 1", e.Value)
		}
	})
	if n, _ := c.Len(); n != 1 {
		t.Fatalf("cache entries after publish = %d, want 1", n)
	}
	if v, ok := readString(t, db, c, "a"); !ok || v != "1" {
		t.Fatalf("GET a = %q, %v; want 1", v, ok)
	}
	applyTx(t, db, c, func(tx *Tx) { setString(t, tx, "a", "2") })
	if v, _ := readString(t, db, c, "a"); v != "2" {
		t.Fatalf("GET a after overwrite = %q, want 2", v)
	}
	applyTx(t, db, c, func(tx *Tx) {
		if _, err := tx.DeleteKey([]byte("a")); err != nil {
			t.Fatal(err)
		}
	})
	if _, ok := readString(t, db, c, "a"); ok {
		t.Fatal("deleted key still visible through the cache")
	}
}

// A reader's fill must be refused when a commit touched the shard between the reader's miss
// and its fill, or the cache could keep a value older than what is committed.
func TestCacheFillRaceRejected(t *testing.T) {
	db, c := openMem(t), NewCache(1<<20)
	key := MetaKey(nil, 0, []byte("k"))
	_, ok, gen := c.get(key, false, 0)
	if ok {
		t.Fatal("empty cache hit")
	}
	applyTx(t, db, c, func(tx *Tx) { setString(t, tx, "k", "new") })
	old := appendMeta(nil, &Meta{Type: TypeString, Value: []byte("old")})
	c.fill(key, old, true, gen, false, 0)
	if v, _ := readString(t, db, c, "k"); v != "new" {
		t.Fatalf("GET k = %q after a stale fill; want new", v)
	}
}

func TestCacheFlushDB(t *testing.T) {
	db, c := openMem(t), NewCache(1<<20)
	st, err := LoadState(db)
	if err != nil {
		t.Fatal(err)
	}
	applyTx(t, db, c, func(tx *Tx) { setString(t, tx, "x", "1") })
	applyTx(t, db, c, func(tx *Tx) {
		setString(t, tx, "y", "before")
		if err := tx.FlushDB(st); err != nil {
			t.Fatal(err)
		}
		// After an uncommitted FLUSHDB the cache is stale for this db: reads must not use it.
		if e, _ := tx.Lookup([]byte("x")); e.Exists() {
			t.Fatal("key visible in the batch after FLUSHDB")
		}
		setString(t, tx, "z", "after")
	})
	for key, want := range map[string]bool{"x": false, "y": false, "z": true} {
		if _, ok := readString(t, db, c, key); ok != want {
			t.Errorf("after FLUSHDB, %s exists = %v, want %v", key, ok, want)
		}
	}
}

func TestCacheEviction(t *testing.T) {
	c := NewCache(cacheShards * 4096)
	for i := 0; i < 10000; i++ {
		key := MetaKey(nil, 0, []byte{byte(i), byte(i >> 8)})
		_, _, gen := c.get(key, false, 0)
		c.fill(key, make([]byte, 100), true, gen, false, 0)
	}
	if _, bytes := c.Len(); bytes > cacheShards*4096 {
		t.Fatalf("cache holds %d bytes, over its budget of %d", bytes, cacheShards*4096)
	}
}

// Two keys whose hashes collide share a slot: the one installed last has it, and the other
// misses instead of reading the wrong record.
func TestCacheHashCollision(t *testing.T) {
	c := NewCache(1 << 20)
	a, b := MetaKey(nil, 0, []byte("a")), MetaKey(nil, 0, []byte("b"))
	s, h := c.shard(a)
	s.mu.Lock()
	s.install(h, newEntryBuf(a, []byte("rec-a"), true, accessData{}), c.shardMax)
	// b forced into a's slot, as a collision would put it.
	s.install(h, newEntryBuf(b, []byte("rec-b"), true, accessData{}), c.shardMax)
	if e := s.find(h, a); e != nil {
		t.Fatalf("a found in the slot b took: %q", e.rec())
	}
	if e := s.find(h, b); e == nil || string(e.rec()) != "rec-b" {
		t.Fatalf("b's entry = %q, want rec-b", e.rec())
	}
	s.mu.Unlock()
	if _, bytes := c.Len(); bytes != newEntryBuf(b, []byte("rec-b"), true, accessData{}).cost() {
		t.Fatalf("cache counts %d bytes for one entry", bytes)
	}
}

// A big string's record is written straight into the batch and the overlay refers to it there:
// apply's later reads in the batch see it whole, however many other records are written after
// it (a small string, whose record goes through the Tx's reused buffer, another big one), and
// so do reads after the commit.
func TestBigRecordInBatch(t *testing.T) {
	db, c := openMem(t), NewCache(1<<20)
	big := make([]byte, bigRecord+123)
	for i := range big {
		big[i] = byte(i * 7)
	}
	other := bytes.Repeat([]byte("o"), bigRecord+5)
	applyTx(t, db, c, func(tx *Tx) {
		setString(t, tx, "big", string(big))
		setString(t, tx, "small", "s")
		setString(t, tx, "other", string(other))
		for _, k := range []struct {
			key  string
			want []byte
		}{{"big", big}, {"other", other}, {"small", []byte("s")}} {
			if e, _ := tx.Lookup([]byte(k.key)); !bytes.Equal(e.Value, k.want) {
				t.Fatalf("read of %s in the batch: %d bytes, want %d", k.key, len(e.Value), len(k.want))
			}
		}
	})
	if v, ok := readString(t, db, c, "big"); !ok || v != string(big) {
		t.Fatalf("GET big after commit: %d bytes, %v", len(v), ok)
	}
}
