package server

import (
	"flag"
	"math"
	"math/rand"
	"testing"
	"time"
)

var hdrSeed = flag.Int64("hdrseed", 0, "seed of the randomized HDR histogram tests (0: time)")

// refHDR follows hdr_histogram.c step by step, with its configuration derived as
// hdr_calculate_bucket_config derives it for Redis's hdr_init(1, 10^9, 2), so the tests compare
// the shortcuts of hdrhist.go with the C code's own formulas.
type refHDR struct {
	unitMagnitude, subBucketHalfCountMagnitude int
	subBucketCount, subBucketHalfCount         int
	subBucketMask                              int64
	bucketCount, countsLen                     int
}

func newRefHDR(lowest, highest int64, sigfigs int) refHDR {
	var r refHDR
	largest := 2 * int64(math.Pow(10, float64(sigfigs)))
	subBucketCountMagnitude := int(math.Ceil(math.Log(float64(largest)) / math.Log(2)))
	r.subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
	r.unitMagnitude = int(math.Log(float64(lowest)) / math.Log(2))
	r.subBucketCount = int(math.Pow(2, float64(r.subBucketHalfCountMagnitude+1)))
	r.subBucketHalfCount = r.subBucketCount / 2
	r.subBucketMask = int64(r.subBucketCount-1) << r.unitMagnitude
	untrackable := int64(r.subBucketCount) << r.unitMagnitude
	r.bucketCount = 1
	for untrackable <= highest {
		untrackable <<= 1
		r.bucketCount++
	}
	r.countsLen = (r.bucketCount + 1) * (r.subBucketCount / 2)
	return r
}

func clz64(v int64) int {
	n := 0
	for u := uint64(v); u&(1<<63) == 0 && n < 64; u <<= 1 {
		n++
	}
	return n
}

func (r refHDR) bucketIndex(v int64) int {
	pow2ceiling := 64 - clz64(v|r.subBucketMask)
	return pow2ceiling - r.unitMagnitude - (r.subBucketHalfCountMagnitude + 1)
}

func (r refHDR) subBucketIndex(v int64, b int) int { return int(v >> (b + r.unitMagnitude)) }

func (r refHDR) countsIndex(v int64) int {
	b := r.bucketIndex(v)
	sub := r.subBucketIndex(v, b)
	return (b+1)<<r.subBucketHalfCountMagnitude + sub - r.subBucketHalfCount
}

func (r refHDR) valueAtIndex(idx int) int64 {
	b := (idx >> r.subBucketHalfCountMagnitude) - 1
	sub := (idx & (r.subBucketHalfCount - 1)) + r.subBucketHalfCount
	if b < 0 {
		sub -= r.subBucketHalfCount
		b = 0
	}
	return int64(sub) << (b + r.unitMagnitude)
}

func (r refHDR) sizeOfRange(v int64) int64 {
	b := r.bucketIndex(v)
	sub := r.subBucketIndex(v, b)
	if sub >= r.subBucketCount {
		b++
	}
	return 1 << (r.unitMagnitude + b)
}

func (r refHDR) lowest(v int64) int64 {
	b := r.bucketIndex(v)
	return int64(r.subBucketIndex(v, b)) << (b + r.unitMagnitude)
}

func (r refHDR) highest(v int64) int64 { return r.lowest(v) + r.sizeOfRange(v) - 1 }

// logCDF runs hdr_iter_log_init(h, 1024, 2) and fillCommandCDF's loop over it.
func (r refHDR) logCDF(counts []int64, total int64) (keys, cums []int64) {
	idx, cum, value, highest := -1, int64(0), int64(0), int64(0)
	level := int64(1024)
	levelLowest := r.lowest(level)
	moveNext := func() bool {
		idx++
		if idx >= r.countsLen {
			return false
		}
		cum += counts[idx]
		value = r.valueAtIndex(idx)
		highest = r.highest(value)
		return true
	}
	next := func() bool {
		nextGreater := idx < r.countsLen && r.valueAtIndex(idx+1) > levelLowest
		if !(cum < total || nextGreater) {
			return false
		}
		for {
			if value >= levelLowest {
				level *= 2
				levelLowest = r.lowest(level)
				return true
			}
			if !moveNext() {
				return true
			}
		}
	}
	var prev int64
	for next() {
		if cum > prev {
			keys = append(keys, highest/1000)
			cums = append(cums, cum)
		}
		prev = cum
	}
	return keys, cums
}

// valueAtPercentile is HdrHistogram_c 0.11.5's hdr_value_at_percentile.
func (r refHDR) valueAtPercentile(counts []int64, total int64, p float64) int64 {
	requested := p
	if requested >= 100 {
		requested = 100
	}
	at := int64((requested/100)*float64(total) + 0.5)
	if at < 1 {
		at = 1
	}
	var sum int64
	for idx := 0; idx < r.countsLen; idx++ {
		sum += counts[idx]
		if sum >= at {
			v := r.valueAtIndex(idx)
			if p == 0 {
				return r.lowest(v)
			}
			return r.highest(v)
		}
	}
	return 0
}

var redisHDR = newRefHDR(1, 1_000_000_000, 2)

func TestHDRConfig(t *testing.T) {
	r := redisHDR
	if r.unitMagnitude != 0 || r.subBucketHalfCountMagnitude != hdrSubBucketHalfCountMagnitude ||
		r.subBucketCount != hdrSubBucketCount || r.subBucketMask != hdrSubBucketMask ||
		r.bucketCount != hdrBucketCount || r.countsLen != hdrCountsLen {
		t.Fatalf("hdr_calculate_bucket_config = %+v, constants say half magnitude %d, sub-buckets %d, buckets %d, counts %d",
			r, hdrSubBucketHalfCountMagnitude, hdrSubBucketCount, hdrBucketCount, hdrCountsLen)
	}
}

func hdrRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := *hdrSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (-hdrseed to repeat)", seed)
	return rand.New(rand.NewSource(seed))
}

// TestHDRBuckets compares every counter's value and, for every value to 2^20 and random ones to
// 10^9, the counter and its range with the C formulas.
func TestHDRBuckets(t *testing.T) {
	r := redisHDR
	for idx := 0; idx < hdrCountsLen; idx++ {
		if got, want := hdrValueAt(idx), r.valueAtIndex(idx); got != want {
			t.Fatalf("hdrValueAt(%d) = %d, want %d", idx, got, want)
		}
	}
	check := func(v int64) {
		t.Helper()
		if got, want := hdrIndex(v), r.countsIndex(v); got != want {
			t.Fatalf("hdrIndex(%d) = %d, want %d", v, got, want)
		}
		if got, want := hdrLowest(v), r.lowest(v); got != want {
			t.Fatalf("hdrLowest(%d) = %d, want %d", v, got, want)
		}
		if got, want := hdrHighest(v), r.highest(v); got != want {
			t.Fatalf("hdrHighest(%d) = %d, want %d", v, got, want)
		}
	}
	for v := int64(1); v <= 1<<20; v++ {
		check(v)
	}
	rng := hdrRand(t)
	for i := 0; i < 100000; i++ {
		check(1 + rng.Int63n(hdrMaxValue))
	}
	for e := 1; e < 30; e++ {
		check(1<<e - 1)
		check(1 << e)
		check(1<<e + 1)
	}
	check(hdrMaxValue)
	if got := hdrIndex(hdrMaxValue); got >= hdrCountsLen {
		t.Fatalf("hdrIndex(10^9) = %d, past %d counters", got, hdrCountsLen)
	}
}

// TestHDRRedisValues checks values redis-server 7.0 reported: GETs of 6 and 7 µs, a SET of
// 16 µs, an EVAL of 29 µs and one of 0.6 s (INFO latencystats), and LATENCY HISTOGRAM's keys.
func TestHDRRedisValues(t *testing.T) {
	for _, c := range []struct{ us, want int64 }{
		{6, 6015}, {7, 7007}, {8, 8031}, {16, 16063}, {29, 29055}, {600_123, 603979775},
	} {
		if got := hdrHighest(c.us * 1000); got != c.want {
			t.Errorf("top of the counter of %d µs = %d ns, want %d", c.us, got, c.want)
		}
	}
	if got := hdrLowest(31 * 1000); got != 30976 {
		t.Errorf("bottom of the counter of 31 µs = %d, want 30976 (p0 of a single call)", got)
	}
	var h latencyHist
	h.record(6 * time.Microsecond)
	h.record(600 * time.Millisecond)
	keys, cums := h.snapshot().cdf()
	if len(keys) != 2 || keys[0] != 8 || cums[0] != 1 || keys[1] != 1073741 || cums[1] != 2 {
		t.Fatalf("cdf = %v %v, want [8 1073741] [1 2] as redis-server replied", keys, cums)
	}
}

// TestHDRCDF compares LATENCY HISTOGRAM's walk and the percentiles with the C iterators on
// random histograms.
func TestHDRCDF(t *testing.T) {
	r := redisHDR
	rng := hdrRand(t)
	percentiles := []float64{0, 0.001, 0.1, 1, 25, 50, 75, 90, 99, 99.9, 99.99, 100}
	for round := 0; round < 300; round++ {
		var h latencyHist
		n := 1 + rng.Intn(200)
		for i := 0; i < n; i++ {
			// Log-uniform from 1 ns to past 1 s, so every level and the clamp are hit.
			d := time.Duration(math.Exp(rng.Float64() * math.Log(3e9)))
			h.record(d)
		}
		snap := h.snapshot()
		if snap.total != int64(n) {
			t.Fatalf("total = %d, want %d", snap.total, n)
		}
		keys, cums := snap.cdf()
		wantKeys, wantCums := r.logCDF(snap.counts[:], snap.total)
		if len(keys) != len(wantKeys) {
			t.Fatalf("round %d: cdf = %v %v, want %v %v", round, keys, cums, wantKeys, wantCums)
		}
		for i := range keys {
			if keys[i] != wantKeys[i] || cums[i] != wantCums[i] {
				t.Fatalf("round %d: cdf = %v %v, want %v %v", round, keys, cums, wantKeys, wantCums)
			}
		}
		if cums[len(cums)-1] != snap.total {
			t.Fatalf("round %d: cdf ends at %d, want %d", round, cums[len(cums)-1], snap.total)
		}
		for _, p := range percentiles {
			if got, want := snap.percentile(p), r.valueAtPercentile(snap.counts[:], snap.total, p); got != want {
				t.Fatalf("round %d: p%v = %d, want %d", round, p, got, want)
			}
		}
	}
}

// TestLatencyHistMemory checks the counters exist only once a command ran and go on reset, and
// that durations are recorded as whole microseconds clamped to 1 ns..1 s.
func TestLatencyHistMemory(t *testing.T) {
	var h latencyHist
	if h.snapshot() != nil || h.counts.Load() != nil {
		t.Fatalf("counters allocated before the first call")
	}
	h.record(500 * time.Nanosecond) // 0 µs: clamped to 1 ns
	h.record(7900 * time.Nanosecond)
	h.record(5 * time.Second)
	snap := h.snapshot()
	if snap == nil || snap.total != 3 || snap.counts[hdrIndex(1)] != 1 || snap.counts[hdrIndex(7000)] != 1 ||
		snap.counts[hdrIndex(hdrMaxValue)] != 1 {
		t.Fatalf("snapshot after 0.5 µs, 7.9 µs and 5 s: not one call each at 1 ns, 7000 ns and 10^9 ns")
	}
	h.reset()
	if h.snapshot() != nil || h.counts.Load() != nil {
		t.Fatalf("counters kept after reset")
	}
}

func TestPercentileLabel(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want string
	}{{50, "50"}, {99, "99"}, {99.9, "99.9"}, {0, "0"}, {100, "100"}, {0.1, "0.1"}, {99.99, "99.99"}, {12.3456789, "12.345679"}, {1e-7, "0"}} {
		if got := percentileLabel(c.p); got != c.want {
			t.Errorf("percentileLabel(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}
