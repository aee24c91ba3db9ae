package cluster

import (
	"math/rand/v2"
	"testing"
)

func sr(start, end int) []SlotRange { return []SlotRange{{Start: start, End: end}} }

// weights gives slots weights and answers BalancedSplit's before(s) from prefix sums.
func weights(w map[int]float64) func(s int) float64 {
	return func(s int) float64 {
		sum := 0.0
		for slot, v := range w {
			if slot < s {
				sum += v
			}
		}
		return sum
	}
}

// The split point is where the weight is half on each side, whatever the shape of the shard's
// ranges; a shard with no weight or one slot has none, and one whose weight sits in one slot
// cannot split usefully.
func TestBalancedSplit(t *testing.T) {
	even := func(ranges []SlotRange) map[int]float64 {
		w := map[int]float64{}
		for _, r := range ranges {
			for s := r.Start; s <= r.End; s++ {
				w[s] = 1
			}
		}
		return w
	}
	for _, tc := range []struct {
		name   string
		ranges []SlotRange
		w      map[int]float64
		at     int // SplitAt's answer
		share  float64
	}{
		{"even", sr(0, 1023), even(sr(0, 1023)), 512, 0.5},
		{"even, two ranges", []SlotRange{{0, 99}, {1000, 1099}}, even([]SlotRange{{0, 99}, {1000, 1099}}), 1000, 0.5},
		{"even, odd count", sr(10, 12), even(sr(10, 12)), 12, 2.0 / 3},
		{"hot slots low", sr(0, 1023), map[int]float64{100: 10, 110: 10, 120: 10, 130: 10, 900: 1}, 120, 21.0 / 41},
		{"hot slots high", sr(0, 1023), map[int]float64{5: 1, 1000: 10, 1010: 10}, 1001, 11.0 / 21},
		{"lopsided but worth it", sr(0, 99), map[int]float64{10: 7, 50: 3}, 11, 0.7},
		{"one hot slot", sr(0, 1023), map[int]float64{300: 100, 700: 1}, NoSplit, 100.0 / 101},
		{"all in the first slot", sr(0, 1023), map[int]float64{0: 5}, NoSplit, 1},
		{"all in the last slot", sr(0, 1023), map[int]float64{1023: 5}, NoSplit, 1},
		{"no weight", sr(0, 1023), nil, 0, 0},
		{"one slot", sr(7, 7), map[int]float64{7: 5}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			before := weights(tc.w)
			counted := func(s int) float64 { calls++; return before(s) }
			at, share := BalancedSplit(tc.ranges, counted)
			if got := SplitAt(tc.ranges, before); got != tc.at {
				t.Fatalf("SplitAt = %d, want %d (BalancedSplit: %d, share %.3f)", got, tc.at, at, share)
			}
			if diff := share - tc.share; diff > 1e-9 || diff < -1e-9 {
				t.Fatalf("share = %.4f, want %.4f", share, tc.share)
			}
			if calls > 20 {
				t.Fatalf("before called %d times", calls)
			}
		})
	}
}

// On random weights, no other split slot leaves the heavier side lighter than BalancedSplit's.
func TestBalancedSplitRandom(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 200 {
		ranges := []SlotRange{}
		for s := rng.IntN(50); s < 2000 && len(ranges) < 4; {
			n := 1 + rng.IntN(300)
			ranges = append(ranges, SlotRange{Start: s, End: s + n - 1})
			s += n + rng.IntN(100)
		}
		w := map[int]float64{}
		for range 1 + rng.IntN(20) {
			r := ranges[rng.IntN(len(ranges))]
			w[r.Start+rng.IntN(r.End-r.Start+1)] += float64(1 + rng.IntN(100))
		}
		before := weights(w)
		at, share := BalancedSplit(ranges, before)
		if n := (&Shard{Ranges: ranges}).SlotCount(); n < 2 {
			continue
		}
		total := before(ranges[len(ranges)-1].End + 1)
		best := total
		sh := &Shard{Ranges: ranges}
		for _, r := range ranges {
			for s := r.Start; s <= r.End; s++ {
				if validSplit(sh, s) {
					best = min(best, max(before(s), total-before(s)))
				}
			}
		}
		if !validSplit(sh, at) {
			t.Fatalf("ranges %v weights %v: split at %d, not a valid split", ranges, w, at)
		}
		if got := max(before(at), total-before(at)); got != best || share != best/total {
			t.Fatalf("ranges %v weights %v: split at %d keeps %v (share %v), the best keeps %v", ranges, w, at, got, share, best)
		}
	}
}
