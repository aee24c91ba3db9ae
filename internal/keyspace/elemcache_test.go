package keyspace

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Apply reads hash fields, set members and sorted-set scores through the overlay and the
// cache (Tx.elemRecord). This drives random batches of element writes, deletions, whole-key
// deletions and FLUSHDB against a model, abandoning some batches as apply does when a batch
// fails, and checks every read — in the batch, through the cache afterwards, and straight
// from the engine — against the model.
func TestElemCacheModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	db := openMem(t)
	c := NewCache(1 << 16) // small: entries are evicted too
	state, err := LoadState(db)
	if err != nil {
		t.Fatal(err)
	}
	type model map[string]map[string]string // key → field → value ("" for a set member)
	kinds := map[string]Type{"h0": TypeHash, "h1": TypeHash, "s0": TypeSet, "s1": TypeSet, "z0": TypeZSet}
	keys := []string{"h0", "h1", "s0", "s1", "z0"}
	m := model{}
	clone := func(m model) model {
		out := model{}
		for k, v := range m {
			out[k] = maps.Clone(v)
		}
		return out
	}
	field := func() string { return fmt.Sprintf("f%d", rng.IntN(12)) }

	// read returns what tx sees of key's field.
	read := func(tx *Tx, key, f string) (string, bool) {
		t.Helper()
		switch kinds[key] {
		case TypeHash:
			h, err := tx.OpenHash([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			v, _, ok, err := h.Get([]byte(f))
			if err != nil {
				t.Fatal(err)
			}
			return string(v), ok
		case TypeSet:
			s, err := tx.OpenSet([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			ok, err := s.Has([]byte(f))
			if err != nil {
				t.Fatal(err)
			}
			return "", ok
		default:
			e, err := tx.Lookup([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			if !e.Exists() {
				return "", false
			}
			score, ok, err := tx.ZScore(&e, []byte(f))
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return "", false
			}
			return fmt.Sprint(score), true
		}
	}
	check := func(tx *Tx, m model, where string) {
		t.Helper()
		for _, key := range keys {
			for i := 0; i < 12; i++ {
				f := fmt.Sprintf("f%d", i)
				want, wantOK := m[key][f]
				if got, ok := read(tx, key, f); ok != wantOK || got != want {
					t.Fatalf("%s: %s %s = %q, %v; want %q, %v", where, key, f, got, ok, want, wantOK)
				}
			}
		}
	}
	write := func(tx *Tx, m model) {
		key := keys[rng.IntN(len(keys))]
		f := field()
		switch op := rng.IntN(10); {
		case op == 0: // the whole key
			if _, err := tx.DeleteKey([]byte(key)); err != nil {
				t.Fatal(err)
			}
			delete(m, key)
		case kinds[key] == TypeHash:
			h, err := tx.OpenHash([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			if op < 7 {
				v := fmt.Sprint(rng.IntN(1000))
				if _, err := h.Set([]byte(f), []byte(v), 0, false); err != nil {
					t.Fatal(err)
				}
				if m[key] == nil {
					m[key] = map[string]string{}
				}
				m[key][f] = v
			} else if _, err := h.Del([]byte(f)); err != nil {
				t.Fatal(err)
			} else {
				delete(m[key], f)
			}
			if _, err := h.Save(); err != nil {
				t.Fatal(err)
			}
		case kinds[key] == TypeSet:
			s, err := tx.OpenSet([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			if op < 7 {
				if _, err := s.Add([]byte(f)); err != nil {
					t.Fatal(err)
				}
				if m[key] == nil {
					m[key] = map[string]string{}
				}
				m[key][f] = ""
			} else if _, err := s.Rem([]byte(f)); err != nil {
				t.Fatal(err)
			} else {
				delete(m[key], f)
			}
			if _, err := s.Save(); err != nil {
				t.Fatal(err)
			}
		default:
			e, err := tx.Lookup([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			if !e.Exists() {
				e.Type, e.Version = TypeZSet, tx.NewVersion([]byte(key))
			}
			old, had, err := tx.ZScore(&e, []byte(f))
			if err != nil {
				t.Fatal(err)
			}
			if op < 7 {
				score := float64(rng.IntN(1000))
				if err := tx.ZPut(&e, []byte(f), score, old, had); err != nil {
					t.Fatal(err)
				}
				if m[key] == nil {
					m[key] = map[string]string{}
				}
				m[key][f] = fmt.Sprint(score)
			} else if had {
				if err := tx.ZRemove(&e, []byte(f), old); err != nil {
					t.Fatal(err)
				}
				delete(m[key], f)
			}
			if e.Count == 0 {
				if _, err := tx.Delete([]byte(key), &e); err != nil {
					t.Fatal(err)
				}
			} else if err := tx.Put([]byte(key), &e); err != nil {
				t.Fatal(err)
			}
		}
		if len(m[key]) == 0 {
			delete(m, key)
		}
	}

	applyBatches(t, db, c, rng, func(tx *Tx, batch int) func() {
		next := clone(m)
		for i := rng.IntN(20); i >= 0; i-- {
			if rng.IntN(200) == 0 {
				if err := tx.FlushDB(state); err != nil {
					t.Fatal(err)
				}
				next = model{}
			} else {
				write(tx, next)
			}
			if rng.IntN(4) == 0 {
				check(tx, next, fmt.Sprintf("batch %d, in the batch", batch))
			}
		}
		return func() { m = next }
	}, func(tx *Tx, where string) { check(tx, m, where) })
}

// applyBatches runs 300 batches as apply does: batch writes through a Tx with an overlay and
// the cache and returns what to do if the batch commits; a fifth of the batches are abandoned
// (nothing committed, nothing published). After each, check runs through apply's view (overlay
// and cache) and through a plain reader of the engine.
func applyBatches(t *testing.T, db *pebble.DB, c *Cache, rng *rand.Rand, batch func(tx *Tx, n int) (committed func()), check func(tx *Tx, where string)) {
	t.Helper()
	version := uint64(0)
	for n := 0; n < 300; n++ {
		b := db.NewIndexedBatch()
		o := NewOverlay()
		var tx Tx
		tx.Reset(b, b, 0, 1000)
		tx.Versions = func() uint64 { version++; return version }
		tx.UseCache(c, o)
		committed := batch(&tx, n)
		if rng.IntN(5) == 0 {
			b.Close()
		} else {
			if err := b.Commit(pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			b.Close()
			c.Publish(o)
			committed()
		}
		ab := db.NewIndexedBatch()
		var atx Tx
		atx.Reset(ab, ab, 0, 1000)
		atx.UseCache(c, NewOverlay())
		check(&atx, fmt.Sprintf("after batch %d, through the cache", n))
		ab.Close()
		var rtx Tx
		rtx.Reset(db, nil, 0, 1000)
		check(&rtx, fmt.Sprintf("after batch %d, from the engine", n))
	}
}

// Lists read their elements through the overlay and the cache in apply too. A range deletion
// (LTRIM, a big LPOP) leaves entries of the positions it dropped behind, and pushes reuse
// positions: this checks, against a model, that no read ever sees such an entry.
func TestElemCacheListModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	db := openMem(t)
	c := NewCache(1 << 16)
	key := []byte("l")
	var m []string
	value := func() string { return fmt.Sprintf("v%d", rng.IntN(50)) }
	check := func(tx *Tx, m []string, where string) {
		t.Helper()
		e, err := tx.Lookup(key)
		if err != nil {
			t.Fatal(err)
		}
		if e.Count != int64(len(m)) || e.Exists() != (len(m) > 0) {
			t.Fatalf("%s: %d elements, want %d", where, e.Count, len(m))
		}
		for i, want := range m {
			var got string
			if err := tx.ListGet(&e, int64(i), func(v []byte) { got = string(v) }); err != nil {
				t.Fatalf("%s: LINDEX %d: %v", where, i, err)
			}
			if got != want {
				t.Fatalf("%s: LINDEX %d = %q, want %q (model %v)", where, i, got, want, m)
			}
		}
	}
	write := func(tx *Tx, m []string) []string {
		e, err := tx.Lookup(key)
		if err != nil {
			t.Fatal(err)
		}
		op := rng.IntN(9)
		if len(m) == 0 {
			op = 0
		}
		switch op {
		case 0, 1: // LPUSH or RPUSH of up to 100 values
			left := rng.IntN(2) == 0
			var vs [][]byte
			for i := rng.IntN(100); i >= 0; i-- {
				v := value()
				vs = append(vs, []byte(v))
				if left {
					m = append([]string{v}, m...)
				} else {
					m = append(m, v)
				}
			}
			err = tx.ListPush(key, &e, left, vs...)
		case 2: // LPOP or RPOP of up to 80
			left := rng.IntN(2) == 0
			n := min(int64(1+rng.IntN(80)), int64(len(m)))
			var popped []string
			_, err = tx.ListPop(key, &e, left, n, func(v []byte) { popped = append(popped, string(v)) })
			for i := range popped {
				want := m[i]
				if !left {
					want = m[len(m)-1-i]
				}
				if popped[i] != want {
					t.Fatalf("popped %q, want %q", popped[i], want)
				}
			}
			if left {
				m = m[n:]
			} else {
				m = m[:len(m)-int(n)]
			}
		case 3: // LSET
			i := rng.IntN(len(m))
			v := value()
			err = tx.ListSet(key, &e, int64(i), []byte(v))
			m[i] = v
		case 4: // LTRIM
			l, r := rng.IntN(len(m)/2+1), rng.IntN(len(m)/2+1)
			err = tx.ListTrim(key, &e, int64(l), int64(r))
			if l+r >= len(m) {
				m = nil
			} else {
				m = m[l : len(m)-r]
			}
		case 5: // LINSERT
			pivot := m[rng.IntN(len(m))]
			after := rng.IntN(2) == 0
			v := value()
			var ok bool
			ok, err = tx.ListInsert(key, &e, []byte(pivot), []byte(v), after)
			if !ok {
				t.Fatalf("LINSERT found no pivot %q", pivot)
			}
			at := slices.Index(m, pivot)
			if after {
				at++
			}
			m = slices.Insert(m, at, v)
		case 6: // LREM of all copies of one value
			v := m[rng.IntN(len(m))]
			_, err = tx.ListRemove(key, &e, 0, []byte(v))
			m = slices.DeleteFunc(m, func(x string) bool { return x == v })
		case 7: // rotate
			left := rng.IntN(2) == 0
			err = tx.ListRotate(key, &e, left, !left, func([]byte) {})
			if left {
				m = append(m[1:], m[0])
			} else {
				m = append([]string{m[len(m)-1]}, m[:len(m)-1]...)
			}
		case 8:
			if rng.IntN(10) == 0 {
				_, err = tx.Delete(key, &e)
				m = nil
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	applyBatches(t, db, c, rng, func(tx *Tx, batch int) func() {
		next := slices.Clone(m)
		for i := rng.IntN(6); i >= 0; i-- {
			next = write(tx, next)
			if rng.IntN(3) == 0 {
				check(tx, next, fmt.Sprintf("batch %d, in the batch", batch))
			}
		}
		return func() { m = next }
	}, func(tx *Tx, where string) { check(tx, m, where) })
}
