package keyspace

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cairn-db/cairn/internal/slot"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// memTx opens an in-memory store and returns a writable Tx over an indexed batch on database 0,
// as apply uses one.
func memTx(t *testing.T, now int64) (*pebble.DB, *pebble.Batch, *Tx) {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := db.NewIndexedBatch()
	t.Cleanup(func() { b.Close() })
	tx := NewTx(b, b, 0, now)
	var seq uint64 = 100
	tx.Versions = func() uint64 { seq++; return seq }
	tx.Effects = &Effects{}
	return db, b, tx
}

// putZSet builds a sorted set by hand, as the zset commands lay it out: E version member →
// score, Z version score member → empty.
func putZSet(t *testing.T, tx *Tx, key []byte, members map[string]float64) Entry {
	t.Helper()
	e, err := tx.Lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	e.Meta = Meta{Type: TypeZSet, Version: tx.NewVersion(key), Count: int64(len(members))}
	_, w := tx.Raw()
	for m, s := range members {
		if err := tx.SetElem(key, e.Version, []byte(m), EncodeScore(nil, s)); err != nil {
			t.Fatal(err)
		}
		zk := append(EncodeScore(ScorePrefix(nil, tx.DB(), e.Version), s), m...)
		if err := w.Set(zk, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Put(key, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// records lists the records under a prefix with the prefix cut off, as "suffix=value".
func records(t *testing.T, r pebble.Reader, prefix []byte) []string {
	t.Helper()
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for valid := it.First(); valid; valid = it.Next() {
		out = append(out, fmt.Sprintf("%x=%x", it.Key()[len(prefix):], it.Value()))
	}
	return out
}

func sameRecords(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestCopyElementsZSet(t *testing.T) {
	_, b, tx := memTx(t, 1000)
	src := putZSet(t, tx, []byte("z"), map[string]float64{"a": 1, "b": -2.5, "c": 1e9})
	// A neighbouring version must not leak into the copy.
	putZSet(t, tx, []byte("other"), map[string]float64{"x": 0})

	for _, toDB := range []byte{0, 3} {
		to := tx.NewVersion([]byte("z"))
		if err := tx.CopyElements(TypeZSet, 0, src.Version, toDB, to); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []byte{prefixElem, prefixScore} {
			want := records(t, b, collectionPrefix(nil, kind, 0, src.Version))
			got := records(t, b, collectionPrefix(nil, kind, toDB, to))
			if len(want) != 3 {
				t.Fatalf("source %c records = %v, want 3", kind, want)
			}
			sameRecords(t, fmt.Sprintf("copied %c records in db %d", kind, toDB), got, want)
		}
	}
}

func TestCopyElementsHashSkipsZ(t *testing.T) {
	_, b, tx := memTx(t, 1000)
	v := tx.NewVersion([]byte("h"))
	for i := 0; i < 50; i++ {
		if err := tx.SetElem(nil, v, fmt.Appendf(nil, "f%03d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A stray Z record under the same version must not be copied for a hash.
	_, w := tx.Raw()
	if err := w.Set(append(ScorePrefix(nil, 0, v), 'x'), nil, nil); err != nil {
		t.Fatal(err)
	}
	to := tx.NewVersion([]byte("h"))
	if err := tx.CopyElements(TypeHash, 0, v, 5, to); err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "copied E records", records(t, b, ElemPrefix(nil, 5, to)), records(t, b, ElemPrefix(nil, 0, v)))
	if got := records(t, b, ScorePrefix(nil, 5, to)); len(got) != 0 {
		t.Fatalf("Z records copied for a hash: %v", got)
	}
}

func TestRenameKeepsElements(t *testing.T) {
	_, b, tx := memTx(t, 1000)
	e := putZSet(t, tx, []byte("src"), map[string]float64{"a": 1, "b": 2})
	e.ExpireAt = 5000
	if err := tx.Put([]byte("src"), &e); err != nil {
		t.Fatal(err)
	}
	old := putZSet(t, tx, []byte("dst"), map[string]float64{"gone": 3})
	elems := records(t, b, ElemPrefix(nil, 0, e.Version))

	se, _ := tx.Lookup([]byte("src"))
	de, _ := tx.Lookup([]byte("dst"))
	before := tx.Effects.Counts[0]
	if err := tx.Rename([]byte("src"), &se, []byte("dst"), &de); err != nil {
		t.Fatal(err)
	}
	if se.Exists() {
		t.Fatalf("source entry still exists after Rename")
	}
	got, _ := tx.Lookup([]byte("dst"))
	if got.Type != TypeZSet || got.Version != e.Version || got.Count != 2 || got.ExpireAt != 5000 {
		t.Fatalf("dst = %+v, want the zset of version %d, 2 elements, expiring at 5000", got.Meta, e.Version)
	}
	if s, _ := tx.Lookup([]byte("src")); s.Exists() {
		t.Fatalf("src still exists after Rename")
	}
	sameRecords(t, "elements after rename", records(t, b, ElemPrefix(nil, 0, e.Version)), elems)
	if r := records(t, b, ElemPrefix(nil, 0, old.Version)); len(r) != 0 {
		t.Fatalf("replaced collection's elements still there: %v", r)
	}
	if r := records(t, b, ScorePrefix(nil, 0, old.Version)); len(r) != 0 {
		t.Fatalf("replaced zset's score records still there: %v", r)
	}
	// The expiry index follows the key.
	if r := records(t, b, ExpireKey(nil, 5000, 0, []byte("src"))); len(r) != 0 {
		t.Fatalf("expiry index entry of src left behind")
	}
	if r := records(t, b, ExpireKey(nil, 5000, 0, []byte("dst"))); len(r) != 1 {
		t.Fatalf("expiry index entry of dst = %v, want one", r)
	}
	d := tx.Effects.Counts[0]
	if d.Keys-before.Keys != -1 || d.Expires-before.Expires != 0 {
		t.Fatalf("count change = %+v, want one key fewer and the same expires", CountDelta{d.Keys - before.Keys, d.Expires - before.Expires})
	}
	if err := tx.Rename([]byte("dst"), &got, []byte("dst"), &got); err == nil {
		t.Fatalf("Rename onto itself succeeded")
	}
}

func TestRandomKey(t *testing.T) {
	_, _, tx := memTx(t, 1000)
	if k, err := tx.RandomKey(42); err != nil || k != nil {
		t.Fatalf("RandomKey of an empty database = %q, %v; want nil", k, err)
	}
	put := func(key string, expireAt int64) {
		t.Helper()
		e, _ := tx.Lookup([]byte(key))
		e.Meta = Meta{Type: TypeString, Value: []byte("v"), ExpireAt: expireAt}
		if err := tx.Put([]byte(key), &e); err != nil {
			t.Fatal(err)
		}
	}
	live := map[string]bool{}
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("key:%06d", i*37)
		if i%10 == 3 {
			put(k, 999) // expired
			continue
		}
		put(k, 0)
		live[k] = true
	}
	for _, k := range []string{"a", "user:1", "user:2", "user:10", "user:1000", "zzz"} {
		put(k, 0)
		live[k] = true
	}
	put("zzzz-expired", 1)
	seen := map[string]int{}
	const draws = 4000
	for seed := uint64(0); seed < draws; seed++ {
		k, err := tx.RandomKey(seed)
		if err != nil {
			t.Fatal(err)
		}
		if !live[string(k)] {
			t.Fatalf("RandomKey = %q, which is not a live key", k)
		}
		seen[string(k)]++
	}
	// Not uniform, but every group of keys is reached and no key takes a large share.
	if len(seen) < len(live)*9/10 {
		t.Fatalf("RandomKey picked %d distinct keys of %d in %d draws", len(seen), len(live), draws)
	}
	for k, n := range seen {
		if n > draws/50 {
			t.Fatalf("RandomKey picked %q %d times in %d draws", k, n, draws)
		}
	}
}

func TestRandomKeyOnlyExpired(t *testing.T) {
	_, _, tx := memTx(t, 1000)
	for _, k := range []string{"x", "y", "yy"} {
		e, _ := tx.Lookup([]byte(k))
		e.Meta = Meta{Type: TypeString, ExpireAt: 10}
		if err := tx.Put([]byte(k), &e); err != nil {
			t.Fatal(err)
		}
	}
	for seed := uint64(0); seed < 20; seed++ {
		if k, err := tx.RandomKey(seed); err != nil || k != nil {
			t.Fatalf("RandomKey with only expired keys = %q, %v; want nil", k, err)
		}
	}
}

// TestScanKeysSkipsSlots checks a prefix scan across slots: it finds the keys with the prefix in
// every slot, resumes from any key a scan returned, and starting below the prefix in a slot
// finds the prefix there.
func TestScanKeysSkipsSlots(t *testing.T) {
	_, _, tx := memTx(t, 1000)
	var want []string
	for i := 0; i < 200; i++ {
		for _, k := range []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b:%d", i), fmt.Sprintf("c%d", i)} {
			e, _ := tx.Lookup([]byte(k))
			e.Meta = Meta{Type: TypeString}
			if err := tx.Put([]byte(k), &e); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, fmt.Sprintf("b:%d", i))
	}
	scan := func(start []byte, limit int) (got []string, next []byte) {
		t.Helper()
		next, err := tx.ScanKeys([]byte("b:"), start, 0, func(k []byte, _ Type, _ int64) bool {
			got = append(got, string(k))
			return limit == 0 || len(got) < limit
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, next
	}
	all, next := scan(nil, 0)
	if next != nil || len(all) != len(want) {
		t.Fatalf("ScanKeys(prefix b:) = %d keys, next %q; want %d keys, nil", len(all), next, len(want))
	}
	slices.Sort(all)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("ScanKeys(prefix b:) = %v, want %v", all, want)
	}
	// Page through ten at a time: every key once.
	var paged []string
	var start []byte
	for {
		got, next := scan(start, 10)
		paged = append(paged, got...)
		if next == nil {
			break
		}
		start = next
	}
	slices.Sort(paged)
	if !slices.Equal(paged, want) {
		t.Fatalf("paged ScanKeys = %v, want %v", paged, want)
	}
	// A start below the prefix in its slot ("a..." sorts before "b:") resumes at the prefix in
	// that slot: the keys of earlier slots are not visited again.
	from := []byte("a7")
	got, _ := scan(from, 0)
	for _, k := range got {
		if slot.KeySlot([]byte(k)) < slot.KeySlot(from) {
			t.Fatalf("ScanKeys from %q returned %q of an earlier slot", from, k)
		}
	}
	for _, k := range want {
		if slot.KeySlot([]byte(k)) > slot.KeySlot(from) && !slices.Contains(got, k) {
			t.Fatalf("ScanKeys from %q missed %q", from, k)
		}
	}
}
