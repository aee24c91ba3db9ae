package keyspace

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/engine"
)

// Single-element operations on hashes and sets of 1k, 100k and 1M elements. Each costs a few
// point reads and writes (the metadata record and one element record), so the time per operation
// should not grow with the collection: compare the sub-benchmarks of one benchmark.
//
// The collections are built once per size, outside the timed loop, with batched writes. Writes
// are committed every 64 operations, as apply's group commit does under load, without syncing.

var benchSizes = []int{1_000, 100_000, 1_000_000}

type benchStore struct {
	db    *pebble.DB
	ver   uint64
	added int
}

// openBenchStore opens an engine as the server does (block cache, bloom filters) in a temporary
// directory.
func openBenchStore(b *testing.B) *benchStore {
	b.Helper()
	eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return &benchStore{db: eng.DB()}
}

// batch runs fn in a writing Tx over a new indexed batch and commits it.
func (s *benchStore) batch(b *testing.B, fn func(tx *Tx)) {
	wb := s.db.NewIndexedBatch()
	var tx Tx
	tx.Reset(wb, wb, 0, 1)
	tx.Versions = func() uint64 { s.ver++; return s.ver }
	fn(&tx)
	if err := wb.Commit(pebble.NoSync); err != nil {
		b.Fatal(err)
	}
}

func elemName(prefix string, i int) []byte { return fmt.Appendf(nil, "%s%09d", prefix, i) }

// fill builds a collection of n elements at key, 10,000 per batch.
func (s *benchStore) fill(b *testing.B, key []byte, n int, add func(tx *Tx, i int)) {
	b.Helper()
	for start := 0; start < n; start += 10_000 {
		s.batch(b, func(tx *Tx) {
			for i := start; i < min(n, start+10_000); i++ {
				add(tx, i)
			}
		})
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
}

// timedWrites runs b.N writes, 64 to a batch.
func (s *benchStore) timedWrites(b *testing.B, op func(tx *Tx, i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 64 {
		s.batch(b, func(tx *Tx) {
			for j := i; j < min(b.N, i+64); j++ {
				op(tx, j)
			}
		})
	}
}

// timedReads runs b.N reads straight off the engine, as point reads on an event loop do.
func (s *benchStore) timedReads(b *testing.B, op func(tx *Tx, i int)) {
	var tx Tx
	tx.Reset(s.db, nil, 0, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op(&tx, i)
	}
}

func benchHash(b *testing.B, run func(b *testing.B, s *benchStore, key []byte, n int)) {
	for _, n := range benchSizes {
		s := openBenchStore(b)
		key := []byte("hash")
		s.fill(b, key, n, func(tx *Tx, i int) {
			h, err := tx.OpenHash(key)
			must(b, err)
			_, err = h.Set(elemName("field:", i), []byte("value"), 0, false)
			must(b, err)
			_, err = h.Save()
			must(b, err)
		})
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) { run(b, s, key, n) })
	}
}

func benchSet(b *testing.B, run func(b *testing.B, s *benchStore, key []byte, n int)) {
	for _, n := range benchSizes {
		s := openBenchStore(b)
		key := []byte("set")
		s.fill(b, key, n, func(tx *Tx, i int) {
			set, err := tx.OpenSet(key)
			must(b, err)
			_, err = set.Add(elemName("member:", i))
			must(b, err)
			_, err = set.Save()
			must(b, err)
		})
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) { run(b, s, key, n) })
	}
}

// BenchmarkHashSet overwrites random existing fields (HSET of one field).
func BenchmarkHashSet(b *testing.B) {
	benchHash(b, func(b *testing.B, s *benchStore, key []byte, n int) {
		rng := rand.New(rand.NewPCG(1, 2))
		s.timedWrites(b, func(tx *Tx, _ int) {
			h, err := tx.OpenHash(key)
			must(b, err)
			_, err = h.Set(elemName("field:", rng.IntN(n)), []byte("value2"), 0, false)
			must(b, err)
			_, err = h.Save()
			must(b, err)
		})
	})
}

// BenchmarkHashGet reads random existing fields (HGET).
func BenchmarkHashGet(b *testing.B) {
	benchHash(b, func(b *testing.B, s *benchStore, key []byte, n int) {
		rng := rand.New(rand.NewPCG(1, 2))
		s.timedReads(b, func(tx *Tx, _ int) {
			h, err := tx.OpenHash(key)
			must(b, err)
			if _, _, ok, err := h.Get(elemName("field:", rng.IntN(n))); err != nil || !ok {
				b.Fatalf("field missing: %v", err)
			}
		})
	})
}

// BenchmarkSetAdd adds new members (SADD of one member).
func BenchmarkSetAdd(b *testing.B) {
	benchSet(b, func(b *testing.B, s *benchStore, key []byte, n int) {
		s.timedWrites(b, func(tx *Tx, _ int) {
			set, err := tx.OpenSet(key)
			must(b, err)
			s.added++ // the framework runs this more than once on the same set
			if added, err := set.Add(elemName("new:", s.added)); err != nil || !added {
				b.Fatalf("SADD of a new member: %v, %v", added, err)
			}
			_, err = set.Save()
			must(b, err)
		})
	})
}

// BenchmarkSetIsMember tests random members, half of them absent (SISMEMBER).
func BenchmarkSetIsMember(b *testing.B) {
	benchSet(b, func(b *testing.B, s *benchStore, key []byte, n int) {
		rng := rand.New(rand.NewPCG(1, 2))
		s.timedReads(b, func(tx *Tx, i int) {
			set, err := tx.OpenSet(key)
			must(b, err)
			m := elemName("member:", rng.IntN(n))
			if i%2 == 1 {
				m = elemName("absent:", i)
			}
			if has, err := set.Has(m); err != nil || has != (i%2 == 0) {
				b.Fatalf("SISMEMBER = %v, %v", has, err)
			}
		})
	})
}
