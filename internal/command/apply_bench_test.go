package command

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

func openBench(b *testing.B) (*engine.Engine, *Applier) {
	b.Helper()
	eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	eng.SetSyncPolicy(engine.SyncNo)
	st, err := keyspace.LoadState(eng.DB())
	if err != nil {
		b.Fatal(err)
	}
	fs, err := keyspace.NewFilters(eng.DB(), 1<<20) // as the server sizes it after a restart with 1M keys
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewApplier(Storage{Engine: eng, State: st, Cache: keyspace.NewCache(64 << 20), Filters: fs}, DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	return eng, a
}

// BenchmarkApplySet measures the apply path of SET: decode, look up the old record, write the
// new one, commit. Runs of 16 operations per batch, as group commit produces under load; keys
// drawn from a space of 1M as redis-benchmark -r 1000000 does.
func BenchmarkApplySet(b *testing.B) {
	for _, space := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("keys=%d", space), func(b *testing.B) {
			_, a := openBench(b)
			rng := rand.New(rand.NewPCG(1, 2))
			const run = 16
			entries := make([]replica.Entry, run)
			results := make([][]byte, run)
			var index uint64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += run {
				for j := range entries {
					key := fmt.Appendf(nil, "key:%012d", rng.IntN(space))
					index++
					entries[j] = replica.Entry{Index: index, Data: AppendOp(nil, 2, 0, 0, 1, [][]byte{[]byte("SET"), key, []byte("xxx")})}
				}
				if err := a.Apply(entries, results); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
