package command

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPQSortRange checks that positions lr..rr hold the keys a full sort puts there, for random
// inputs with many equal keys.
func TestPQSortRange(t *testing.T) {
	seed := uint64(*seedFlag)
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	cmp := func(a, b *int) int { return *a - *b }
	for round := 0; round < 2000; round++ {
		n := 1 + rng.IntN(120)
		p := make([]int, n)
		for i := range p {
			p[i] = rng.IntN(1 + rng.IntN(50))
		}
		want := slices.Clone(p)
		slices.Sort(want)
		lr := rng.IntN(n)
		rr := lr + rng.IntN(n-lr)
		pqsort(p, cmp, lr, rr)
		if !slices.Equal(p[lr:rr+1], want[lr:rr+1]) {
			t.Fatalf("seed %d round %d: positions %d..%d = %v, want %v", seed, round, lr, rr, p[lr:rr+1], want[lr:rr+1])
		}
		got := slices.Clone(p)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d round %d: elements changed", seed, round)
		}
	}
}
