package keyspace

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

type zmodelEntry struct {
	member string
	score  float64
}

// zmodel is a sorted set held in memory, the reference for the records.
type zmodel map[string]float64

func (m zmodel) sorted() []zmodelEntry {
	out := make([]zmodelEntry, 0, len(m))
	for k, v := range m {
		out = append(out, zmodelEntry{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return out[i].member < out[j].member
	})
	return out
}

func collect(t *testing.T, visit func(ZVisitor) error) []zmodelEntry {
	t.Helper()
	var got []zmodelEntry
	if err := visit(func(m []byte, s float64) bool {
		got = append(got, zmodelEntry{string(m), s})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func equalEntries(a, b []zmodelEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestZSetRecordsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	db := openMem(t)
	b := db.NewIndexedBatch()
	tx := NewTx(b, b, 0, 0)
	e := Entry{Meta: Meta{Type: TypeZSet, Version: 7}}
	model := zmodel{}
	scores := []float64{math.Inf(-1), -2.5, -1, 0, 0, 1, 1, 2, 3.75, math.Inf(1)}
	for i := 0; i < 2000; i++ {
		member := fmt.Sprintf("m%02d", rng.IntN(60))
		old, had, err := tx.ZScore(&e, []byte(member))
		if err != nil {
			t.Fatal(err)
		}
		if want, ok := model[member]; ok != had || (ok && want != old) {
			t.Fatalf("step %d: ZScore(%s) = %v, %v; want %v, %v", i, member, old, had, want, ok)
		}
		if had && rng.IntN(3) == 0 {
			if err := tx.ZRemove(&e, []byte(member), old); err != nil {
				t.Fatal(err)
			}
			delete(model, member)
		} else {
			s := scores[rng.IntN(len(scores))]
			if err := tx.ZPut(&e, []byte(member), s, old, had); err != nil {
				t.Fatal(err)
			}
			model[member] = s
		}
		if e.Count != int64(len(model)) {
			t.Fatalf("step %d: Count = %d, want %d", i, e.Count, len(model))
		}
		if i%50 == 0 {
			checkZSet(t, tx, &e, model, rng)
		}
	}
	checkZSet(t, tx, &e, model, rng)
}

func checkZSet(t *testing.T, tx *Tx, e *Entry, model zmodel, rng *rand.Rand) {
	t.Helper()
	want := model.sorted()
	all := collect(t, func(fn ZVisitor) error {
		return tx.ZScoreRange(e, &ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, false, fn)
	})
	if !equalEntries(all, want) {
		t.Fatalf("score order = %v, want %v", all, want)
	}
	for rank, w := range want {
		got, err := tx.ZRank(e, []byte(w.member), w.score)
		if err != nil {
			t.Fatal(err)
		}
		if got != int64(rank) {
			t.Fatalf("ZRank(%s) = %d, want %d", w.member, got, rank)
		}
	}
	n := int64(len(want))
	if n == 0 {
		return
	}
	for k := 0; k < 10; k++ {
		start := rng.Int64N(n)
		stop := start + rng.Int64N(n-start)
		for _, rev := range []bool{false, true} {
			got := collect(t, func(fn ZVisitor) error { return tx.ZRankRange(e, start, stop, rev, fn) })
			var exp []zmodelEntry
			if !rev {
				exp = want[start : stop+1]
			} else {
				for r := start; r <= stop; r++ {
					exp = append(exp, want[n-1-r])
				}
			}
			if !equalEntries(got, exp) {
				t.Fatalf("ZRankRange(%d, %d, rev=%v) = %v, want %v", start, stop, rev, got, exp)
			}
		}
	}
	bounds := []float64{math.Inf(-1), -2.5, -1, 0, 0.5, 1, 3.75, math.Inf(1)}
	for k := 0; k < 10; k++ {
		r := ScoreRange{Min: bounds[rng.IntN(len(bounds))], Max: bounds[rng.IntN(len(bounds))],
			MinEx: rng.IntN(2) == 0, MaxEx: rng.IntN(2) == 0}
		var exp []zmodelEntry
		for _, w := range want {
			if r.GteMin(w.score) && r.LteMax(w.score) {
				exp = append(exp, w)
			}
		}
		got := collect(t, func(fn ZVisitor) error { return tx.ZScoreRange(e, &r, false, fn) })
		if !equalEntries(got, exp) {
			t.Fatalf("ZScoreRange(%+v) = %v, want %v", r, got, exp)
		}
		if n, err := tx.ZScoreCount(e, &r); err != nil || n != int64(len(exp)) {
			t.Fatalf("ZScoreCount(%+v) = %d, %v; want %d", r, n, err, len(exp))
		}
		rev := collect(t, func(fn ZVisitor) error { return tx.ZScoreRange(e, &r, true, fn) })
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		if !equalEntries(rev, exp) {
			t.Fatalf("reverse ZScoreRange(%+v) = %v, want %v", r, rev, exp)
		}
	}
}

// lexModel is what Redis does over a listpack: walk to the first member in range, then take
// members while they stay in range.
func lexModel(want []zmodelEntry, r *LexRange, reverse bool) []zmodelEntry {
	var out []zmodelEntry
	if len(want) == 0 || r.Empty() || !r.GteMin([]byte(want[len(want)-1].member)) ||
		!r.LteMax([]byte(want[0].member)) {
		return nil
	}
	if !reverse {
		i := 0
		for i < len(want) && !r.GteMin([]byte(want[i].member)) {
			i++
		}
		for ; i < len(want) && r.LteMax([]byte(want[i].member)); i++ {
			out = append(out, want[i])
		}
		return out
	}
	i := len(want) - 1
	for i >= 0 && !r.LteMax([]byte(want[i].member)) {
		i--
	}
	for ; i >= 0 && r.GteMin([]byte(want[i].member)); i-- {
		out = append(out, want[i])
	}
	return out
}

func TestZLexRange(t *testing.T) {
	db := openMem(t)
	b := db.NewIndexedBatch()
	tx := NewTx(b, b, 0, 0)
	bounds := []LexBound{{Inf: -1}, {Inf: 1}, {Value: []byte("b")}, {Value: []byte("b"), Ex: true},
		{Value: []byte("bb")}, {Value: []byte("c"), Ex: true}, {Value: []byte("")},
		{Value: []byte(""), Ex: true}, {Value: []byte("zz")}, {Value: []byte("d"), Ex: true}}
	for _, mixed := range []bool{false, true} {
		e := Entry{Meta: Meta{Type: TypeZSet, Version: 9}}
		if mixed {
			e.Version = 10
		}
		model := zmodel{}
		for i, m := range []string{"a", "b", "ba", "bb", "c", "d"} {
			s := 1.0
			if mixed {
				s = float64((i * 5) % 4) // d and a low, c high: the quick test matters
			}
			if err := tx.ZPut(&e, []byte(m), s, 0, false); err != nil {
				t.Fatal(err)
			}
			model[m] = s
		}
		want := model.sorted()
		for _, lo := range bounds {
			for _, hi := range bounds {
				r := LexRange{Min: lo, Max: hi}
				for _, rev := range []bool{false, true} {
					got := collect(t, func(fn ZVisitor) error { return tx.ZLexRange(&e, &r, rev, fn) })
					exp := lexModel(want, &r, rev)
					if !equalEntries(got, exp) {
						t.Fatalf("mixed=%v ZLexRange(%+v, rev=%v) = %v, want %v", mixed, r, rev, got, exp)
					}
					if rev {
						continue
					}
					if n, err := tx.ZLexCount(&e, &r); err != nil || n != int64(len(exp)) {
						t.Fatalf("mixed=%v ZLexCount(%+v) = %d, %v; want %d", mixed, r, n, err, len(exp))
					}
				}
			}
		}
	}
}

func TestScoreEncodingOrder(t *testing.T) {
	vals := []float64{math.Inf(-1), -math.MaxFloat64, -1e10, -1, -math.SmallestNonzeroFloat64, 0,
		math.SmallestNonzeroFloat64, 1, 1e10, math.MaxFloat64, math.Inf(1)}
	for i := 1; i < len(vals); i++ {
		a, b := EncodeScore(nil, vals[i-1]), EncodeScore(nil, vals[i])
		if bytes.Compare(a, b) >= 0 {
			t.Fatalf("EncodeScore(%v) >= EncodeScore(%v)", vals[i-1], vals[i])
		}
		if got := DecodeScore(b); got != vals[i] {
			t.Fatalf("DecodeScore(EncodeScore(%v)) = %v", vals[i], got)
		}
	}
	if !bytes.Equal(EncodeScore(nil, math.Copysign(0, -1)), EncodeScore(nil, 0)) {
		t.Fatal("-0 and +0 encode differently")
	}
}
