package keyspace

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

type modelField struct {
	value string
	at    int64
}

// hashModel is what a hash should hold: every field record, expired or not yet swept.
type hashModel map[string]modelField

func (m hashModel) live(now int64) []string {
	var out []string
	for f, v := range m {
		if v.at == 0 || v.at > now {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// TestHashAgainstModel runs random field writes, expiries, deletions, clock moves and sweeps
// against a hash and a map, checking after each step every read and every record: the element
// records, the field-time order, the field expiry index and the metadata count.
func TestHashAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	s := newCollStore(t)
	key := []byte("h")
	model := hashModel{}
	now := int64(1000)
	fieldName := func() string { return fmt.Sprintf("f%02d", rng.IntN(24)) }
	for step := 0; step < 3000; step++ {
		op := rng.IntN(10)
		switch {
		case op < 4: // set, maybe with an expiry or keeping it
			f, v := fieldName(), fmt.Sprint(rng.IntN(1000))
			at := int64(0)
			if rng.IntN(3) == 0 {
				at = now + 1 + rng.Int64N(40)
			}
			keep := rng.IntN(4) == 0
			s.write(now, func(tx *Tx) {
				h, err := tx.OpenHash(key)
				must(t, err)
				created, err := h.Set([]byte(f), []byte(v), at, keep)
				must(t, err)
				old, present := model[f]
				live := present && (old.at == 0 || old.at > now)
				if created != !live {
					t.Fatalf("step %d: Set(%s) created = %v, want %v", step, f, created, !live)
				}
				if keep && live {
					at = old.at
				}
				model[f] = modelField{v, at}
				_, err = h.Save()
				must(t, err)
			})
		case op < 6: // delete
			f := fieldName()
			s.write(now, func(tx *Tx) {
				h, err := tx.OpenHash(key)
				must(t, err)
				wasLive, err := h.Del([]byte(f))
				must(t, err)
				old, present := model[f]
				if want := present && (old.at == 0 || old.at > now); wasLive != want {
					t.Fatalf("step %d: Del(%s) = %v, want %v", step, f, wasLive, want)
				}
				delete(model, f)
				_, err = h.Save()
				must(t, err)
			})
		case op < 7: // change a live field's expiry
			live := model.live(now)
			if len(live) == 0 {
				continue
			}
			f := live[rng.IntN(len(live))]
			at := int64(0)
			if rng.IntN(2) == 0 {
				at = now + 1 + rng.Int64N(40)
			}
			s.write(now, func(tx *Tx) {
				h, err := tx.OpenHash(key)
				must(t, err)
				must(t, h.SetExpire([]byte(f), at))
				_, err = h.Save()
				must(t, err)
			})
			model[f] = modelField{model[f].value, at}
		case op < 9:
			now += rng.Int64N(15)
		default: // the sweeper
			limit := 1 + rng.IntN(4)
			var due []string
			for f, v := range model {
				if v.at != 0 && v.at <= now {
					due = append(due, f)
				}
			}
			sort.Slice(due, func(i, j int) bool {
				a, b := model[due[i]], model[due[j]]
				return a.at < b.at || (a.at == b.at && due[i] < due[j])
			})
			due = due[:min(limit, len(due))]
			s.write(now, func(tx *Tx) {
				removed, deleted, err := tx.ExpireFields(key, limit)
				must(t, err)
				if removed != len(due) {
					t.Fatalf("step %d: ExpireFields removed %d, want %d", step, removed, len(due))
				}
				for _, f := range due {
					delete(model, f)
				}
				if deleted != (len(due) > 0 && len(model) == 0) {
					t.Fatalf("step %d: ExpireFields deleted = %v with %d fields left", step, deleted, len(model))
				}
			})
		}
		checkHash(t, s, key, model, now, step)
	}
}

func checkHash(t *testing.T, s *collStore, key []byte, model hashModel, now int64, step int) {
	t.Helper()
	var version uint64
	s.read(now, func(tx *Tx) {
		h, err := tx.OpenHash(key)
		must(t, err)
		if h.Exists() != (len(model) > 0) {
			t.Fatalf("step %d: Exists = %v with %d records in the model", step, h.Exists(), len(model))
		}
		if !h.Exists() {
			return
		}
		version = h.Entry().Version
		if got := h.Records(); got != int64(len(model)) {
			t.Fatalf("step %d: Records = %d, want %d", step, got, len(model))
		}
		live := model.live(now)
		n, err := h.Len()
		must(t, err)
		if n != int64(len(live)) {
			t.Fatalf("step %d: Len = %d, want %d", step, n, len(live))
		}
		var seen []string
		must(t, h.Each(func(f, v []byte, at int64) bool {
			m := model[string(f)]
			if string(v) != m.value || at != m.at {
				t.Fatalf("step %d: Each gave %s=%q@%d, want %q@%d", step, f, v, at, m.value, m.at)
			}
			seen = append(seen, string(f))
			return true
		}))
		if !slices.Equal(seen, live) {
			t.Fatalf("step %d: Each visited %v, want %v", step, seen, live)
		}
		for f, m := range model {
			v, at, ok, err := h.Get([]byte(f))
			must(t, err)
			wantLive := m.at == 0 || m.at > now
			if ok != wantLive || (ok && (string(v) != m.value || at != m.at)) {
				t.Fatalf("step %d: Get(%s) = %q@%d %v, want %q@%d %v", step, f, v, at, ok, m.value, m.at, wantLive)
			}
		}
	})
	// The records behind the hash: one element per field, one time entry per volatile field,
	// one index entry at the earliest expiry.
	var wantTimes []string
	minAt := int64(0)
	for f, m := range model {
		if m.at != 0 {
			wantTimes = append(wantTimes, fmt.Sprintf("%d/%s", m.at, f))
			if minAt == 0 || m.at < minAt {
				minAt = m.at
			}
		}
	}
	sort.Strings(wantTimes)
	var gotTimes []string
	if version != 0 {
		if n := len(s.keys(ElemPrefix(nil, 0, version))); n != len(model) {
			t.Fatalf("step %d: %d element records, want %d", step, n, len(model))
		}
		prefix := FieldTimePrefix(nil, 0, version)
		for _, k := range s.keys(prefix) {
			k = k[len(prefix):]
			gotTimes = append(gotTimes, fmt.Sprintf("%d/%s", binary.BigEndian.Uint64(k), k[8:]))
		}
	}
	sort.Strings(gotTimes)
	if !slices.Equal(gotTimes, wantTimes) {
		t.Fatalf("step %d: field-time records %v, want %v", step, gotTimes, wantTimes)
	}
	var index []string
	for _, k := range s.keys(FieldExpirePrefix()) {
		at, _, key, _ := ParseFieldExpireKey(k)
		index = append(index, fmt.Sprintf("%d/%s", at, key))
	}
	var wantIndex []string
	if minAt != 0 {
		wantIndex = []string{fmt.Sprintf("%d/%s", minAt, key)}
	}
	if !slices.Equal(index, wantIndex) {
		t.Fatalf("step %d: field expiry index %v, want %v", step, index, wantIndex)
	}
}

// TestHashReplacedLeavesNothing: deleting or overwriting a hash with volatile fields removes its
// elements, its field-time order and its index entry.
func TestHashReplacedLeavesNothing(t *testing.T) {
	s := newCollStore(t)
	key := []byte("h")
	s.write(1000, func(tx *Tx) {
		h, err := tx.OpenHash(key)
		must(t, err)
		for i := range 10 {
			_, err := h.Set(fmt.Appendf(nil, "f%d", i), []byte("v"), int64(2000+i), false)
			must(t, err)
		}
		_, err = h.Save()
		must(t, err)
	})
	if n := len(s.keys(FieldExpirePrefix())); n != 1 {
		t.Fatalf("%d field expiry index entries, want 1", n)
	}
	s.write(1000, func(tx *Tx) {
		e, err := tx.Lookup(key)
		must(t, err)
		e.Type, e.Value, e.Version, e.Count, e.Extra = TypeString, []byte("x"), 0, 0, nil
		must(t, tx.Put(key, &e))
	})
	for _, p := range [][]byte{{prefixElem}, {prefixFieldTime}, {prefixFieldExpire}} {
		if n := len(s.keys(p)); n != 0 {
			t.Fatalf("%d %q records left after the hash was overwritten", n, p)
		}
	}
}

// TestHashSweepDeletesEmptied: the sweeper removing the last fields deletes the key and reports
// the events Redis sends.
func TestHashSweepDeletesEmptied(t *testing.T) {
	s := newCollStore(t)
	key := []byte("h")
	s.write(1000, func(tx *Tx) {
		h, err := tx.OpenHash(key)
		must(t, err)
		_, err = h.Set([]byte("a"), []byte("1"), 1500, false)
		must(t, err)
		_, err = h.Set([]byte("b"), []byte("2"), 1600, false)
		must(t, err)
		_, err = h.Save()
		must(t, err)
	})
	s.write(1550, func(tx *Tx) {
		removed, deleted, err := tx.ExpireFields(key, 10)
		must(t, err)
		if removed != 1 || deleted {
			t.Fatalf("ExpireFields at 1550 = %d, %v; want 1, false", removed, deleted)
		}
	})
	if got, want := s.events(), []string{"h:hexpired:h"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	s.write(1600, func(tx *Tx) {
		removed, deleted, err := tx.ExpireFields(key, 10)
		must(t, err)
		if removed != 1 || !deleted {
			t.Fatalf("ExpireFields at 1600 = %d, %v; want 1, true", removed, deleted)
		}
	})
	if got, want := s.events(), []string{"h:hexpired:h", "g:del:h"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for _, p := range [][]byte{{prefixMeta}, {prefixElem}, {prefixFieldTime}, {prefixFieldExpire}} {
		if n := len(s.keys(p)); n != 0 {
			t.Fatalf("%d %q records left after the last field expired", n, p)
		}
	}
}

func TestFieldValueEncoding(t *testing.T) {
	for _, tc := range []struct {
		value string
		at    int64
	}{{"", 0}, {"v", 0}, {"", 1}, {"value", 1 << 47}} {
		v, at, err := DecodeFieldValue(appendFieldValue(nil, []byte(tc.value), tc.at))
		if err != nil || string(v) != tc.value || at != tc.at {
			t.Fatalf("round trip of %q@%d = %q@%d, %v", tc.value, tc.at, v, at, err)
		}
	}
	for _, bad := range [][]byte{nil, {9}, {fieldVolatile, 1, 2}} {
		if _, _, err := DecodeFieldValue(bad); err == nil {
			t.Fatalf("DecodeFieldValue(%v) succeeded", bad)
		}
	}
}

func TestHashStats(t *testing.T) {
	s := newCollStore(t)
	key := []byte("h")
	s.write(1000, func(tx *Tx) {
		h, err := tx.OpenHash(key)
		must(t, err)
		h.NoteSize(3)
		for _, f := range []string{"a", "bb"} {
			_, err := h.Set([]byte(f), []byte("0123456789"), 0, false)
			must(t, err)
		}
		_, err = h.Save()
		must(t, err)
	})
	s.write(1000, func(tx *Tx) {
		h, err := tx.OpenHash(key)
		must(t, err)
		_, err = h.Del([]byte("a"))
		must(t, err)
		_, err = h.Save()
		must(t, err)
	})
	s.read(1000, func(tx *Tx) {
		e, err := tx.Lookup(key)
		must(t, err)
		if got, want := HashStatsOf(&e.Meta), (HashStats{Peak: 3, Longest: 10}); got != want {
			t.Fatalf("stats %+v, want %+v", got, want)
		}
	})
	s.write(1000, func(tx *Tx) {
		h, err := tx.OpenHash(key)
		must(t, err)
		must(t, h.SetExpire([]byte("bb"), 5000))
		must(t, h.SetExpire([]byte("bb"), 0))
		_, err = h.Save()
		must(t, err)
	})
	s.read(1000, func(tx *Tx) {
		e, err := tx.Lookup(key)
		must(t, err)
		if st := HashStatsOf(&e.Meta); !st.Volatile {
			t.Fatalf("stats %+v: a field had an expiry, Volatile should stay set", st)
		}
	})
}
