package shard

import (
	"strconv"
	"testing"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// Size reads a key's size from its metadata without counting a hit or a miss.
func TestReaderSize(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	write(t, s, "RPUSH", "l", "a", "b", "c")
	write(t, s, "SET", "str", "hello")
	write(t, s, "HSET", "h", "f", "v")
	write(t, s, "SET", "gone", "x", "PXAT", "1500")
	v := s.Acquire()
	defer v.Release()
	var r Reader
	for _, tc := range []struct {
		key      string
		n        int64
		isString bool
	}{
		{"l", 3, false}, {"str", 5, true}, {"h", 1, false}, {"none", 0, false}, {"gone", 0, false},
	} {
		n, isString := r.Size(v, 0, []byte(tc.key), 2000)
		if n != tc.n || isString != tc.isString {
			t.Errorf("Size(%s) = %d, %v; want %d, %v", tc.key, n, isString, tc.n, tc.isString)
		}
	}
	if r.Hits != 0 || r.Misses != 0 {
		t.Errorf("Size counted %d hits, %d misses", r.Hits, r.Misses)
	}
	if got := Keys(v, 0); got != 4 {
		t.Errorf("Keys = %d, want 4", got)
	}
}

// BenchmarkReaderSize is what deciding whether a read runs off the event loop costs, beside
// the reads it is decided for: GET, and LRANGE of 100 elements.
func BenchmarkReaderSize(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	args := []string{"RPUSH", "l"}
	for i := range 1000 {
		args = append(args, strconv.Itoa(i))
	}
	write(b, s, args...)
	write(b, s, "SET", "k", "v")
	v := s.Acquire()
	defer v.Release()
	run := func(b *testing.B, argv ...string) {
		a := make([][]byte, len(argv))
		for i, x := range argv {
			a[i] = []byte(x)
		}
		cmd := command.Lookup(a[0])
		var r Reader
		w := &resp.Writer{Proto: 2}
		b.ReportAllocs()
		for b.Loop() {
			w.Reset()
			r.Run(s, v, cmd, a, 0, w, 1000)
		}
	}
	b.Run("size", func(b *testing.B) {
		var r Reader
		key := []byte("l")
		b.ReportAllocs()
		for b.Loop() {
			vv := s.Acquire()
			r.Size(vv, 0, key, 1000)
			vv.Release()
		}
	})
	b.Run("get", func(b *testing.B) { run(b, "GET", "k") })
	b.Run("lrange100", func(b *testing.B) { run(b, "LRANGE", "l", "0", "99") })
}
