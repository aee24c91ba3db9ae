package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomized tests (0: from the clock)")

func TestCRC64CheckValue(t *testing.T) {
	if got := CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("CRC64(123456789) = %#x, want 0xe9c6d914c4b8d9ca", got)
	}
}

// Payloads taken from redis-server 7.0.15's DUMP, so the format is checked without a server.
func TestDecodeRedisPayloads(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		want    Value
	}{
		// SET s hello; DUMP s
		{"raw string", "\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a", Value{Kind: String, Str: []byte("hello")}},
		// SET n 12345; DUMP n
		{"int string", "\x00\xc1\x39\x30\x0a\x00\x9d\x94\xea\x27\x93\xfc\x08\xb9", Value{Kind: String, Str: []byte("12345")}},
		// RPUSH l a b 1; DUMP l
		{"quicklist", "\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81\x61\x02\x81\x62\x02\x01\x01\xff\x0a\x00\xe0\x1b\xab\x4a\x47\xce\x59\x22",
			Value{Kind: List, Elems: [][]byte{[]byte("a"), []byte("b"), []byte("1")}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("Decode = %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Encode(&Value{Kind: List, Elems: [][]byte{[]byte("a"), []byte("b")}})
	flip := append([]byte(nil), good...)
	flip[3] ^= 1
	newer := append([]byte(nil), good[:len(good)-10]...)
	newer = binary.LittleEndian.AppendUint16(newer, MaxVersion+1)
	newer = binary.LittleEndian.AppendUint64(newer, CRC64(newer))
	badBody := []byte{typeSet, 5, 1} // five members announced, one byte left
	badBody = binary.LittleEndian.AppendUint16(badBody, Version)
	badBody = binary.LittleEndian.AppendUint64(badBody, CRC64(badBody))
	stream := []byte{21, 0}
	stream = binary.LittleEndian.AppendUint16(stream, 11)
	stream = binary.LittleEndian.AppendUint64(stream, CRC64(stream))
	noCRC := append([]byte(nil), good[:len(good)-8]...)
	noCRC = append(noCRC, make([]byte, 8)...)
	cases := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"short", []byte("abc"), ErrChecksum},
		{"flipped bit", flip, ErrChecksum},
		{"newer version", newer, ErrChecksum},
		{"truncated value", badBody, ErrBadFormat},
		{"stream", stream, ErrUnsupported},
		{"no checksum", noCRC, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.payload)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestListpackIntegers(t *testing.T) {
	vals := []string{"0", "127", "128", "-1", "4095", "-4096", "4096", "32767", "-32768", "40000",
		"8388607", "-8388608", "8388608", "2147483647", "-2147483648", "2147483648",
		"9223372036854775807", "-9223372036854775808", "01", "-0", "12a", "", "x"}
	lp := newListpack()
	for _, v := range vals {
		lp = lpAppend(lp, []byte(v))
	}
	lp = lpFinish(lp, len(vals))
	got, ok := lpElems(lp)
	if !ok {
		t.Fatal("lpElems failed")
	}
	for i, v := range vals {
		if string(got[i]) != v {
			t.Fatalf("element %d = %q, want %q", i, got[i], v)
		}
	}
}

// randomValue makes a value of a random kind and size, crossing the encodings' limits.
func randomValue(r *rand.Rand) *Value {
	elem := func() []byte {
		switch r.IntN(4) {
		case 0:
			return strconv.AppendInt(nil, r.Int64N(1<<40)-1<<39, 10)
		case 1:
			return strconv.AppendInt(nil, int64(r.IntN(300)), 10)
		case 2:
			return bytes.Repeat([]byte{byte('a' + r.IntN(26))}, 1+r.IntN(100))
		}
		b := make([]byte, r.IntN(5000))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	sizes := []int{1, 5, 127, 128, 129, 600}
	n := sizes[r.IntN(len(sizes))]
	v := &Value{Kind: Kind(1 + r.IntN(5))}
	seen := map[string]bool{}
	distinct := func() []byte {
		for {
			e := elem()
			if !seen[string(e)] {
				seen[string(e)] = true
				return e
			}
		}
	}
	switch v.Kind {
	case String:
		v.Str = elem()
	case List:
		for i := 0; i < n; i++ {
			v.Elems = append(v.Elems, elem())
		}
	case Set:
		intOnly := r.IntN(2) == 0
		for i := 0; i < n; i++ {
			if intOnly {
				e := strconv.AppendInt(nil, int64(i*7919-1000), 10)
				v.Elems = append(v.Elems, e)
				continue
			}
			v.Elems = append(v.Elems, distinct())
		}
	case Hash:
		for i := 0; i < n; i++ {
			v.Elems = append(v.Elems, distinct(), elem())
		}
	case ZSet:
		for i := 0; i < n; i++ {
			v.Members = append(v.Members, distinct())
			s := []float64{float64(r.IntN(100)), r.NormFloat64() * 1e6, math.Inf(1), math.Inf(-1), 0.1}[r.IntN(5)]
			v.Scores = append(v.Scores, s)
		}
		sortZSet(v)
	}
	return v
}

// canonical orders what has no order (set members, hash fields), for comparing.
func canonical(v *Value) *Value {
	c := *v
	switch v.Kind {
	case Set:
		c.Elems = append([][]byte(nil), v.Elems...)
		sort.Slice(c.Elems, func(i, j int) bool { return bytes.Compare(c.Elems[i], c.Elems[j]) < 0 })
	case Hash:
		type pair struct{ f, v []byte }
		ps := make([]pair, 0, len(v.Elems)/2)
		for i := 0; i < len(v.Elems); i += 2 {
			ps = append(ps, pair{v.Elems[i], v.Elems[i+1]})
		}
		sort.Slice(ps, func(i, j int) bool { return bytes.Compare(ps[i].f, ps[j].f) < 0 })
		c.Elems = nil
		for _, p := range ps {
			c.Elems = append(c.Elems, p.f, p.v)
		}
	case ZSet:
		idx := make([]int, len(v.Members))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return bytes.Compare(v.Members[idx[i]], v.Members[idx[j]]) < 0 })
		c.Members, c.Scores = nil, nil
		for _, i := range idx {
			c.Members, c.Scores = append(c.Members, v.Members[i]), append(c.Scores, v.Scores[i])
		}
	}
	return &c
}

func seed(t *testing.T) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d)", s, s)
	return s
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 1))
	for i := 0; i < 100; i++ {
		v := randomValue(r)
		got, err := Decode(Encode(v))
		if err != nil {
			t.Fatalf("value %d (kind %d): %v", i, v.Kind, err)
		}
		if !sameValue(canonical(got), canonical(v)) {
			t.Fatalf("value %d (kind %d) came back different", i, v.Kind)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(&Value{Kind: Hash, Elems: [][]byte{[]byte("f"), []byte("1")}}))
	f.Add(Encode(&Value{Kind: ZSet, Members: [][]byte{[]byte("m")}, Scores: []float64{1.5}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err == nil && v == nil {
			t.Fatal("nil value without an error")
		}
	})
}

// sameValue compares values, an empty string equal to a nil one.
func sameValue(a, b *Value) bool {
	eq := func(x, y [][]byte) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !bytes.Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a.Kind == b.Kind && bytes.Equal(a.Str, b.Str) && eq(a.Elems, b.Elems) && eq(a.Members, b.Members) &&
		reflect.DeepEqual(a.Scores, b.Scores)
}

// sortZSet puts a sorted set in score order, then member order, as Encode takes it.
func sortZSet(v *Value) {
	idx := make([]int, len(v.Members))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool {
		a, b := idx[i], idx[j]
		if v.Scores[a] != v.Scores[b] {
			return v.Scores[a] < v.Scores[b]
		}
		return bytes.Compare(v.Members[a], v.Members[b]) < 0
	})
	ms, ss := make([][]byte, len(idx)), make([]float64, len(idx))
	for i, k := range idx {
		ms[i], ss[i] = v.Members[k], v.Scores[k]
	}
	v.Members, v.Scores = ms, ss
}
