package keyspace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func TestListpackEntrySize(t *testing.T) {
	long := func(n int) string { return string(bytes.Repeat([]byte("x"), n)) }
	tests := []struct {
		value string
		want  uint64
	}{
		{"", 2},
		{"hello", 7},
		{"0", 2},
		{"127", 2},
		{"128", 3},
		{"-1", 3},
		{"-4096", 3},
		{"4096", 4},
		{"32767", 4},
		{"-32769", 5},
		{"8388607", 5},
		{"8388608", 6},
		{"2147483647", 6},
		{"2147483648", 10},
		{"9223372036854775807", 10},
		{"-9223372036854775808", 10},
		{"9223372036854775808", 21}, // overflows int64: a string
		{"01", 4},                   // not canonical: a string
		{"+1", 4},
		{"-0", 4},
		{" 1", 4},
		{long(63), 65},
		{long(64), 67},
		{long(125), 128},
		{long(126), 130}, // the entry passes 127 bytes: a 2-byte back-length
		{long(4095), 4099},
		{long(4096), 4103},
	}
	for _, tt := range tests {
		if got := listpackEntrySize([]byte(tt.value)); got != tt.want {
			t.Errorf("listpackEntrySize(%.20q (len %d)) = %d, want %d", tt.value, len(tt.value), got, tt.want)
		}
	}
}

// listHarness runs list operations on one key of an in-memory engine, in batches as apply does,
// and checks them against a slice.
type listHarness struct {
	t     *testing.T
	db    *pebble.DB
	b     *pebble.Batch
	tx    Tx
	ver   uint64
	key   []byte
	model [][]byte
}

func newListHarness(t *testing.T) *listHarness {
	h := &listHarness{t: t, db: openMem(t), key: []byte("list")}
	h.tx.Versions = func() uint64 { h.ver++; return h.ver }
	h.begin()
	return h
}

func (h *listHarness) begin() {
	h.b = h.db.NewIndexedBatch()
	h.tx.Reset(h.b, h.b, 0, 1000)
}

// commit commits the open batch and opens another.
func (h *listHarness) commit() {
	h.t.Helper()
	if err := h.b.Commit(pebble.NoSync); err != nil {
		h.t.Fatal(err)
	}
	h.begin()
}

func (h *listHarness) entry() Entry {
	h.t.Helper()
	e, err := h.tx.Lookup(h.key)
	if err != nil {
		h.t.Fatal(err)
	}
	if e.Exists() && e.Type != TypeList {
		h.t.Fatalf("key holds a %v", e.Type)
	}
	return e
}

func (h *listHarness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// check compares the list with the model: contents, count, the records under the version
// (exactly one per element, at head+i), the key disappearing when empty, and the listpack size
// where it is tracked.
func (h *listHarness) check(what string) {
	h.t.Helper()
	e := h.entry()
	if len(h.model) == 0 {
		if e.Exists() {
			h.t.Fatalf("%s: empty list still exists (count %d)", what, e.Count)
		}
		return
	}
	if !e.Exists() || e.Count != int64(len(h.model)) {
		h.t.Fatalf("%s: count = %d (exists %v), want %d", what, e.Count, e.Exists(), len(h.model))
	}
	st, err := decodeListState(&e.Meta)
	h.must(err)
	prefix := ElemPrefix(nil, 0, e.Version)
	it, err := h.b.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	h.must(err)
	i := 0
	for ok := it.First(); ok; ok = it.Next() {
		pos := binary.BigEndian.Uint64(it.Key()[len(prefix):])
		if i >= len(h.model) || pos != st.head+uint64(i) || !bytes.Equal(it.Value(), h.model[i]) {
			it.Close()
			h.t.Fatalf("%s: record %d at position head%+d = %s; model %s", what, i, int64(pos-st.head), short(it.Value()), shortAll(h.model))
		}
		i++
	}
	h.must(it.Close())
	if i != len(h.model) {
		h.t.Fatalf("%s: %d records, want %d", what, i, len(h.model))
	}
	var got [][]byte
	h.must(h.tx.ListRange(&e, 0, e.Count-1, false, func(_ int64, v []byte) bool {
		got = append(got, append([]byte(nil), v...))
		return true
	}))
	if !slices.EqualFunc(got, h.model, bytes.Equal) {
		h.t.Fatalf("%s: ListRange = %s, want %s", what, shortAll(got), shortAll(h.model))
	}
	if st.lpBytes != listBytesUnknown {
		want := uint64(listpackEmpty)
		for _, v := range h.model {
			want += listpackEntrySize(v)
		}
		if st.lpBytes != want {
			h.t.Fatalf("%s: listpack size %d, want %d", what, st.lpBytes, want)
		}
	} else if !st.quick {
		h.t.Fatalf("%s: a listpack without a known size", what)
	}
}

// short formats a value for a failure message, eliding the middle of long ones.
func short(v []byte) string {
	if len(v) > 24 {
		return fmt.Sprintf("%q...(%d bytes)", v[:16], len(v))
	}
	return fmt.Sprintf("%q", v)
}

func shortAll(vs [][]byte) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = short(v)
	}
	return fmt.Sprint(out)
}

func randValue(r *rand.Rand) []byte {
	switch r.IntN(10) {
	case 0:
		return bytes.Repeat([]byte{'v'}, 100+r.IntN(3000)) // pushes lists past 8 KB quickly
	case 1, 2:
		return []byte(fmt.Sprint(r.IntN(100000) - 50000))
	}
	return []byte{'a' + byte(r.IntN(4))} // few distinct values, so LREM/LINSERT find them
}

// TestListModel runs random list operations against a slice model.
func TestListModel(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, seed))
	h := newListHarness(t)
	for step := 0; step < 3000; step++ {
		h.randomOp(r, step)
		if r.IntN(4) == 0 {
			h.commit()
		}
	}
}

func (h *listHarness) randomOp(r *rand.Rand, step int) {
	e := h.entry()
	n := int64(len(h.model))
	var what string
	switch op := r.IntN(10); {
	case op <= 1 || n == 0:
		values := make([][]byte, 1+r.IntN(20))
		for i := range values {
			values[i] = randValue(r)
		}
		left := r.IntN(2) == 0
		what = fmt.Sprintf("push left=%v %d", left, len(values))
		h.must(h.tx.ListPush(h.key, &e, left, values...))
		for _, v := range values {
			if left {
				h.model = slices.Insert(h.model, 0, v)
			} else {
				h.model = append(h.model, v)
			}
		}
	case op == 2:
		k := 1 + r.Int64N(min(n, 80))
		left := r.IntN(2) == 0
		what = fmt.Sprintf("pop left=%v %d", left, k)
		var got [][]byte
		popped, err := h.tx.ListPop(h.key, &e, left, k, func(v []byte) { got = append(got, append([]byte(nil), v...)) })
		h.must(err)
		var want [][]byte
		if left {
			want = slices.Clone(h.model[:k])
			h.model = h.model[k:]
		} else {
			want = slices.Clone(h.model[n-k:])
			slices.Reverse(want)
			h.model = h.model[:n-k]
		}
		if popped != k || !slices.EqualFunc(got, want, bytes.Equal) {
			h.t.Fatalf("step %d %s: popped %d %s, want %s", step, what, popped, shortAll(got), shortAll(want))
		}
	case op == 3:
		i := r.Int64N(n)
		v := randValue(r)
		what = fmt.Sprintf("set %d", i)
		var got []byte
		h.must(h.tx.ListGet(&e, i, func(v []byte) { got = append(got, v...) }))
		if !bytes.Equal(got, h.model[i]) {
			h.t.Fatalf("step %d: get %d = %s, want %s", step, i, short(got), short(h.model[i]))
		}
		h.must(h.tx.ListSet(h.key, &e, i, v))
		h.model[i] = v
	case op == 4:
		pivot, v, after := randValue(r), randValue(r), r.IntN(2) == 0
		what = fmt.Sprintf("insert after=%v %s", after, short(pivot))
		found, err := h.tx.ListInsert(h.key, &e, pivot, v, after)
		h.must(err)
		i := slices.IndexFunc(h.model, func(x []byte) bool { return bytes.Equal(x, pivot) })
		if found != (i >= 0) {
			h.t.Fatalf("step %d %s: found = %v", step, what, found)
		}
		if i >= 0 {
			if after {
				i++
			}
			h.model = slices.Insert(h.model, i, v)
		}
	case op == 5:
		v, count := randValue(r), r.Int64N(7)-3
		what = fmt.Sprintf("remove %d %s", count, short(v))
		removed, err := h.tx.ListRemove(h.key, &e, count, v)
		h.must(err)
		if want := h.modelRemove(count, v); removed != want {
			h.t.Fatalf("step %d %s: removed %d, want %d", step, what, removed, want)
		}
	case op == 6:
		ltrim, rtrim := r.Int64N(n/4+2), r.Int64N(n/4+2)
		if r.IntN(20) == 0 {
			ltrim = n // drop everything
		}
		what = fmt.Sprintf("trim %d %d", ltrim, rtrim)
		h.must(h.tx.ListTrim(h.key, &e, ltrim, rtrim))
		if ltrim+rtrim >= n {
			h.model = nil
		} else {
			h.model = h.model[ltrim : n-rtrim]
		}
	case op == 7:
		fromLeft, toLeft := r.IntN(2) == 0, r.IntN(2) == 0
		what = fmt.Sprintf("rotate %v %v", fromLeft, toLeft)
		var got []byte
		h.must(h.tx.ListRotate(h.key, &e, fromLeft, toLeft, func(v []byte) { got = append(got, v...) }))
		var v []byte
		if fromLeft {
			v, h.model = h.model[0], h.model[1:]
		} else {
			v, h.model = h.model[n-1], h.model[:n-1]
		}
		if toLeft {
			h.model = slices.Insert(h.model, 0, v)
		} else {
			h.model = append(h.model, v)
		}
		if !bytes.Equal(got, v) {
			h.t.Fatalf("step %d %s: moved %s, want %s", step, what, short(got), short(v))
		}
	default:
		from := r.Int64N(n)
		to := from + r.Int64N(n-from)
		what = fmt.Sprintf("range %d %d", from, to)
		var got [][]byte
		h.must(h.tx.ListRange(&e, from, to, true, func(_ int64, v []byte) bool {
			got = append(got, append([]byte(nil), v...))
			return true
		}))
		want := slices.Clone(h.model[from : to+1])
		slices.Reverse(want)
		if !slices.EqualFunc(got, want, bytes.Equal) {
			h.t.Fatalf("step %d %s reversed = %s, want %s", step, what, shortAll(got), shortAll(want))
		}
	}
	h.check(fmt.Sprintf("step %d %s", step, what))
}

// modelRemove applies LREM semantics to the model.
func (h *listHarness) modelRemove(count int64, v []byte) int64 {
	var removed int64
	limit := count
	if limit < 0 {
		limit = -limit
	}
	keep := make([]bool, len(h.model))
	for j := range h.model {
		i := j
		if count < 0 {
			i = len(h.model) - 1 - j
		}
		keep[i] = true
		if bytes.Equal(h.model[i], v) && (limit == 0 || removed < limit) {
			keep[i] = false
			removed++
		}
	}
	var out [][]byte
	for i, x := range h.model {
		if keep[i] {
			out = append(out, x)
		}
	}
	h.model = out
	return removed
}

// TestListEncodingThresholds follows Redis's listpack/quicklist rules: convert when the
// listpack would pass 8 KB, convert back only under 4 KB.
func TestListEncodingThresholds(t *testing.T) {
	h := newListHarness(t)
	enc := func() string {
		e := h.entry()
		return ListEncoding(&e.Meta)
	}
	e := h.entry()
	// 100 elements of 80 bytes: 7 + 100*(2+80+1) = 8307 bytes as a listpack, but the check
	// counts the raw 80 bytes of each push against the size so far.
	val := bytes.Repeat([]byte("x"), 80)
	for i := 0; i < 98; i++ {
		h.must(h.tx.ListPush(h.key, &e, false, val))
	}
	if got := enc(); got != "listpack" { // 7 + 98*83 = 8141
		t.Fatalf("98 elements of 80 bytes: %s, want listpack", got)
	}
	h.must(h.tx.ListPush(h.key, &e, false, val)) // 8141 + 80 > 8192
	if got := enc(); got != "quicklist" {
		t.Fatalf("99 elements: %s, want quicklist", got)
	}
	// Shrink to 49 elements (7 + 49*83 = 4074 <= 4096).
	_, err := h.tx.ListPop(h.key, &e, true, 49, func([]byte) {})
	h.must(err)
	if got := enc(); got != "quicklist" { // 50 elements: 4157 bytes
		t.Fatalf("50 elements: %s, want quicklist", got)
	}
	_, err = h.tx.ListPop(h.key, &e, true, 1, func([]byte) {})
	h.must(err)
	if got := enc(); got != "listpack" {
		t.Fatalf("49 elements: %s, want listpack", got)
	}
	// One big element makes a new list a quicklist at once.
	h2 := []byte("big")
	e2, err := h.tx.Lookup(h2)
	h.must(err)
	h.must(h.tx.ListPush(h2, &e2, true, bytes.Repeat([]byte("y"), 9000)))
	if got := ListEncoding(&e2.Meta); got != "quicklist" {
		t.Fatalf("9000-byte element: %s, want quicklist", got)
	}
}

// TestListTrimUnknownSize: a long quicklist trimmed with a range deletion forgets its size,
// and measures it again when it gets small.
func TestListTrimUnknownSize(t *testing.T) {
	h := newListHarness(t)
	e := h.entry()
	for i := 0; i < 3000; i++ {
		v := []byte(fmt.Sprint("element-", i))
		h.must(h.tx.ListPush(h.key, &e, false, v))
		h.model = append(h.model, v)
	}
	h.commit()
	e = h.entry()
	h.must(h.tx.ListTrim(h.key, &e, 500, 100))
	h.model = h.model[500 : 3000-100]
	st, err := decodeListState(&e.Meta)
	h.must(err)
	if st.lpBytes != listBytesUnknown || !st.quick {
		t.Fatalf("after a large trim: size %d quick %v, want unknown quicklist", st.lpBytes, st.quick)
	}
	h.check("large trim")
	h.must(h.tx.ListTrim(h.key, &e, 2000, 200)) // 100 elements left: measured, back to listpack
	h.model = h.model[2000 : 2400-200]
	h.check("trim to 200")
	if got := ListEncoding(&e.Meta); got != "listpack" {
		t.Fatalf("200 short elements: %s, want listpack", got)
	}
}

func TestStoreList(t *testing.T) {
	h := newListHarness(t)
	setString(t, &h.tx, "list", "a string")
	values := [][]byte{[]byte("x"), []byte("y"), []byte("z")}
	deleted, err := h.tx.StoreList(h.key, values)
	h.must(err)
	if deleted {
		t.Fatal("StoreList with values reported a deletion")
	}
	h.model = values
	h.check("store")
	e := h.entry()
	got, err := h.tx.ListValues(&e)
	h.must(err)
	if !slices.EqualFunc(got, values, bytes.Equal) {
		t.Fatalf("ListValues = %q, want %q", got, values)
	}
	deleted, err = h.tx.StoreList(h.key, nil)
	h.must(err)
	if !deleted {
		t.Fatal("StoreList with no values did not delete the key")
	}
	h.model = nil
	h.check("store nothing")
}
