package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestSetAgainstModel runs random adds, removals and replacements against a set and a map,
// checking reads, the metadata count and the element records after each step.
func TestSetAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	s := newCollStore(t)
	key := []byte("s")
	model := map[string]bool{}
	for step := 0; step < 2000; step++ {
		m := fmt.Sprint(rng.IntN(40))
		if rng.IntN(2) == 0 {
			m = "m" + m
		}
		switch op := rng.IntN(10); {
		case op < 5:
			s.write(1, func(tx *Tx) {
				set, err := tx.OpenSet(key)
				must(t, err)
				added, err := set.Add([]byte(m))
				must(t, err)
				if added == model[m] {
					t.Fatalf("step %d: Add(%s) = %v with the member present = %v", step, m, added, model[m])
				}
				model[m] = true
				_, err = set.Save()
				must(t, err)
			})
		case op < 9:
			s.write(1, func(tx *Tx) {
				set, err := tx.OpenSet(key)
				must(t, err)
				removed, err := set.Rem([]byte(m))
				must(t, err)
				if removed != model[m] {
					t.Fatalf("step %d: Rem(%s) = %v, want %v", step, m, removed, model[m])
				}
				delete(model, m)
				deleted, err := set.Save()
				must(t, err)
				if deleted != (removed && len(model) == 0) {
					t.Fatalf("step %d: Save deleted = %v with %d members left", step, deleted, len(model))
				}
			})
		default: // replace with a fresh set, as the *STORE commands do
			members := []string{}
			for i := rng.IntN(4); i > 0; i-- {
				members = append(members, fmt.Sprint("r", i))
			}
			s.write(1, func(tx *Tx) {
				set, err := tx.ReplaceSet(key)
				must(t, err)
				for _, m := range members {
					must(t, set.AddNew([]byte(m)))
				}
				_, err = set.Save()
				must(t, err)
			})
			model = map[string]bool{}
			for _, m := range members {
				model[m] = true
			}
		}
		checkSet(t, s, key, model, step)
	}
}

func checkSet(t *testing.T, s *collStore, key []byte, model map[string]bool, step int) {
	t.Helper()
	var want []string
	for m := range model {
		want = append(want, m)
	}
	sort.Strings(want)
	var version uint64
	s.read(1, func(tx *Tx) {
		set, err := tx.OpenSet(key)
		must(t, err)
		if set.Exists() != (len(model) > 0) || set.Len() != int64(len(model)) {
			t.Fatalf("step %d: Exists %v, Len %d; want %d members", step, set.Exists(), set.Len(), len(model))
		}
		version = set.Version()
		var got []string
		must(t, set.Each(func(m []byte) bool {
			got = append(got, string(m))
			return true
		}))
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: members %v, want %v", step, got, want)
		}
		for _, probe := range []string{"m1", "1", "r1", "zz"} {
			has, err := set.Has([]byte(probe))
			must(t, err)
			if has != model[probe] {
				t.Fatalf("step %d: Has(%s) = %v", step, probe, has)
			}
		}
	})
	if version != 0 {
		if n := len(s.keys(ElemPrefix(nil, 0, version))); n != len(model) {
			t.Fatalf("step %d: %d element records, want %d", step, n, len(model))
		}
	}
	if n := len(s.keys([]byte{prefixElem})); n != len(model) {
		t.Fatalf("step %d: %d element records in all, want %d (old versions must be dropped)", step, n, len(model))
	}
}

func TestIsInt(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"0", true}, {"1", true}, {"-1", true}, {"9223372036854775807", true},
		{"-9223372036854775808", true}, {"9223372036854775808", false}, {"-9223372036854775809", false},
		{"", false}, {"-", false}, {"-0", false}, {"01", false}, {"+1", false}, {" 1", false},
		{"1a", false}, {"1.0", false}, {"99999999999999999999", false},
	} {
		if got := isInt([]byte(tc.s)); got != tc.want {
			t.Errorf("isInt(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestSetStats follows the history OBJECT ENCODING is computed from.
func TestSetStats(t *testing.T) {
	s := newCollStore(t)
	key := []byte("s")
	add := func(members ...string) SetStats {
		var st SetStats
		s.write(1, func(tx *Tx) {
			set, err := tx.OpenSet(key)
			must(t, err)
			set.NoteSize(len(members), []byte(members[0]))
			for _, m := range members {
				_, err := set.Add([]byte(m))
				must(t, err)
			}
			_, err = set.Save()
			must(t, err)
			st = SetStatsOf(&set.Entry().Meta)
		})
		return st
	}
	if got, want := add("1", "2", "3"), (SetStats{IntPeak: 3, Longest: 1}); got != want {
		t.Fatalf("after ints: %+v, want %+v", got, want)
	}
	if got, want := add("abcd"), (SetStats{NonInt: true, IntPeak: 3, Peak: 4, Longest: 4}); got != want {
		t.Fatalf("after a string: %+v, want %+v", got, want)
	}
	s.write(1, func(tx *Tx) {
		set, err := tx.OpenSet([]byte("t"))
		must(t, err)
		set.NoteSize(200, []byte("x"))
		_, err = set.Add([]byte("x"))
		must(t, err)
		_, err = set.Save()
		must(t, err)
		if got, want := SetStatsOf(&set.Entry().Meta), (SetStats{NonInt: true, Peak: 200, Longest: 1}); got != want {
			t.Fatalf("new set announced with 200 members: %+v, want %+v", got, want)
		}
	})
}

// TestOpenedEntryKeepsStats: the entry a handle exposes carries the encoding history, for OBJECT
// ENCODING and the scans that depend on it.
func TestOpenedEntryKeepsStats(t *testing.T) {
	s := newCollStore(t)
	s.write(1, func(tx *Tx) {
		set, err := tx.OpenSet([]byte("s"))
		must(t, err)
		_, err = set.Add([]byte("abc"))
		must(t, err)
		_, err = set.Save()
		must(t, err)
		h, err := tx.OpenHash([]byte("h"))
		must(t, err)
		_, err = h.Set([]byte("f"), []byte("12345"), 0, false)
		must(t, err)
		_, err = h.Save()
		must(t, err)
	})
	s.read(1, func(tx *Tx) {
		set, err := tx.OpenSet([]byte("s"))
		must(t, err)
		if got, want := SetStatsOf(&set.Entry().Meta), (SetStats{NonInt: true, Peak: 1, Longest: 3}); got != want {
			t.Fatalf("set stats through the handle %+v, want %+v", got, want)
		}
		h, err := tx.OpenHash([]byte("h"))
		must(t, err)
		if got, want := HashStatsOf(&h.Entry().Meta), (HashStats{Peak: 1, Longest: 5}); got != want {
			t.Fatalf("hash stats through the handle %+v, want %+v", got, want)
		}
	})
}
