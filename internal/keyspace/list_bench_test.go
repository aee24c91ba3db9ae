package keyspace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/engine"
)

// The list benchmarks show that the point operations cost the same whatever the list's length:
// compare the sub-benchmarks of one operation across sizes. Each write runs in its own indexed
// batch, committed without sync, as apply does for one command.

var listBenchSizes = []int{1_000, 100_000, 1_000_000}

type listBench struct {
	b   *testing.B
	eng *engine.Engine
	tx  Tx
	ver uint64
	key []byte
}

func newListBench(b *testing.B, n int) *listBench {
	b.Helper()
	eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	lb := &listBench{b: b, eng: eng, key: []byte("list")}
	lb.tx.Versions = func() uint64 { lb.ver++; return lb.ver }
	lb.fill(n)
	// Start from a settled LSM, so background compaction of the fill does not run during the
	// timed loop.
	if err := eng.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := eng.Compact(context.Background(), []byte{0}, []byte{0xff}); err != nil {
		b.Fatal(err)
	}
	return lb
}

// fill appends n elements, in batches of 10,000.
func (lb *listBench) fill(n int) {
	lb.b.Helper()
	for done := 0; done < n; {
		k := min(10_000, n-done)
		values := make([][]byte, k)
		for i := range values {
			values[i] = []byte("element-" + strconv.Itoa(done+i))
		}
		lb.write(func(e *Entry) error { return lb.tx.ListPush(lb.key, e, false, values...) })
		done += k
	}
}

// write runs fn over the list in a batch of its own and commits it.
func (lb *listBench) write(fn func(e *Entry) error) {
	batch := lb.eng.NewBatch()
	lb.tx.Reset(batch, batch, 0, 0)
	e, err := lb.tx.Lookup(lb.key)
	if err == nil {
		err = fn(&e)
	}
	if err == nil {
		err = batch.Commit(pebble.NoSync)
	}
	batch.Close()
	if err != nil {
		lb.b.Fatal(err)
	}
}

func BenchmarkListPush(b *testing.B) {
	for _, n := range listBenchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			lb := newListBench(b, n)
			value := [][]byte{[]byte("pushed-element")}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lb.write(func(e *Entry) error { return lb.tx.ListPush(lb.key, e, true, value...) })
			}
		})
	}
}

func BenchmarkListPop(b *testing.B) {
	for _, n := range listBenchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			lb := newListBench(b, n)
			left := n
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if left <= n/2 { // keep the length between n/2 and n
					b.StopTimer()
					lb.fill(n / 2)
					left += n / 2
					b.StartTimer()
				}
				lb.write(func(e *Entry) error {
					_, err := lb.tx.ListPop(lb.key, e, true, 1, func([]byte) {})
					return err
				})
				left--
			}
		})
	}
}

// BenchmarkListIndex reads random elements: one metadata read and one point read each, so it
// costs what a point read costs in an LSM of that size (more of it misses the block cache as the
// list grows; the work per read does not grow).
func BenchmarkListIndex(b *testing.B) {
	for _, n := range listBenchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			benchIndex(b, n, func() int64 { return r.Int64N(int64(n)) })
		})
	}
}

// BenchmarkListIndexMiddle reads the middle element again and again: with the cache warm, the
// cost is the same for every length.
func BenchmarkListIndexMiddle(b *testing.B) {
	for _, n := range listBenchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchIndex(b, n, func() int64 { return int64(n / 2) })
		})
	}
}

func benchIndex(b *testing.B, n int, index func() int64) {
	lb := newListBench(b, n)
	lb.tx.Reset(lb.eng.DB(), nil, 0, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, err := lb.tx.Peek(lb.key)
		if err != nil {
			b.Fatal(err)
		}
		if err := lb.tx.ListGet(e, index(), func([]byte) {}); err != nil {
			b.Fatal(err)
		}
	}
}
