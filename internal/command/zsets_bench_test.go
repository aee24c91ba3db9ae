package command

import (
	"context"
	"strconv"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// The cost of a single-member sorted-set command must not grow with the set: ZADD and ZSCORE on
// sets of 1k, 100k and 1M members should take about the same time per operation.

var zbenchSizes = []int{1_000, 100_000, 1_000_000}

// zbenchSet fills the sorted set "z" with n members m0..m(n-1), scored by index. b is the parent
// benchmark: a sub-benchmark's function runs more than once (b.N=1 first), and the set should be
// built once.
func zbenchSet(b *testing.B, n int) *zharness {
	b.Helper()
	h := newZHarness(b, 512<<20)
	const perOp, opsPerBatch = 1000, 50
	var batch [][][]byte
	for i := 0; i < n; i += perOp {
		args := [][]byte{[]byte("zadd"), []byte("z")}
		for j := i; j < min(i+perOp, n); j++ {
			args = append(args, []byte(strconv.Itoa(j)), []byte("m"+strconv.Itoa(j)))
		}
		batch = append(batch, args)
		if len(batch) == opsPerBatch {
			h.applyOps(batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		h.applyOps(batch...)
	}
	// Settle the LSM tree (flush and compact everything) so every size is measured in the same
	// steady state rather than with a varying number of unflushed tables.
	if err := h.eng.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := h.eng.Compact(context.Background(), []byte{0}, []byte{0xff}); err != nil {
		b.Fatal(err)
	}
	return h
}

func BenchmarkZAdd(b *testing.B) {
	for _, n := range zbenchSizes {
		h := zbenchSet(b, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			// Half the commands add new members, half move existing ones (1024 of them, spread
			// over the set and read once beforehand, as a working set would be).
			existing := make([]string, 1024)
			for i := range existing {
				existing[i] = "m" + strconv.Itoa(i*(n/1024))
				h.do("zscore", "z", existing[i])
			}
			const perBatch = 100
			cmds := make([][][]byte, perBatch)
			b.ResetTimer()
			for i := 0; i < b.N; i += perBatch {
				for j := range cmds {
					k := i + j
					member := existing[k%len(existing)]
					if k%2 == 0 {
						member = "new" + strconv.Itoa(k)
					}
					cmds[j] = [][]byte{[]byte("zadd"), []byte("z"), []byte(strconv.Itoa(-k)), []byte(member)}
				}
				h.applyOps(cmds...)
			}
		})
	}
}

func BenchmarkZScore(b *testing.B) {
	for _, n := range zbenchSizes {
		h := zbenchSet(b, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var w resp.Writer
			w.Proto = 2
			tx := keyspace.NewTx(h.eng.DB(), nil, 0, h.now)
			args := [][]byte{[]byte("zscore"), []byte("z"), nil}
			c := Ctx{Cmd: Lookup(args[0]), Args: args, W: &w, Tx: tx, Limits: DefaultLimits()}
			members := make([][]byte, 1024)
			for i := range members {
				members[i] = []byte("m" + strconv.Itoa(i*(n/1024)))
				args[2] = members[i]
				runZScore(&c) // warm the block cache for the members read
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.Reset()
				args[2] = members[i%len(members)]
				runZScore(&c)
				if w.Buf[0] != '$' || w.Buf[1] == '-' {
					b.Fatalf("ZSCORE = %q", w.Buf)
				}
			}
		})
	}
}
