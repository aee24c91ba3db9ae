package server

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyHist is a command's latency histogram for LATENCY HISTOGRAM and INFO latencystats,
// laid out as the HDR histogram Redis keeps per command (hdr_init(1, 10^9, 2): nanoseconds from
// 1 to 1 s, two significant digits), so both report the numbers Redis reports for the same
// durations. With two digits the histogram has 256 sub-buckets (half count 128) and 23 buckets;
// bucket 0 counts 0..255 one by one, bucket b>0 counts 128<<b..256<<b-1 in steps of 1<<b, and the
// counters are stored flat, bucket 0 whole and each later bucket's upper half, 3072 in all.
//
// The 24 KiB of counters are allocated on a command's first call and dropped by CONFIG
// RESETSTAT, as Redis allocates and frees the C histogram, so commands never run cost nothing.
type latencyHist struct {
	counts atomic.Pointer[[hdrCountsLen]atomic.Int64]
}

const (
	hdrSubBucketHalfCountMagnitude = 7
	hdrSubBucketHalfCount          = 1 << hdrSubBucketHalfCountMagnitude
	hdrSubBucketCount              = 2 * hdrSubBucketHalfCount
	hdrSubBucketMask               = hdrSubBucketCount - 1
	hdrBucketCount                 = 23
	hdrCountsLen                   = (hdrBucketCount + 1) * hdrSubBucketHalfCount
	hdrMinValue                    = 1
	hdrMaxValue                    = 1_000_000_000
)

// hdrBucketIndex is the bucket holding v (get_bucket_index).
func hdrBucketIndex(v int64) int {
	return 64 - bits.LeadingZeros64(uint64(v)|hdrSubBucketMask) - (hdrSubBucketHalfCountMagnitude + 1)
}

// hdrIndex is the counter that counts v (counts_index_for).
func hdrIndex(v int64) int {
	b := hdrBucketIndex(v)
	return (b+1)<<hdrSubBucketHalfCountMagnitude + int(v>>b) - hdrSubBucketHalfCount
}

// hdrValueAt is the lowest value counter idx counts (hdr_value_at_index).
func hdrValueAt(idx int) int64 {
	b := idx>>hdrSubBucketHalfCountMagnitude - 1
	sub := idx&(hdrSubBucketHalfCount-1) + hdrSubBucketHalfCount
	if b < 0 {
		sub -= hdrSubBucketHalfCount
		b = 0
	}
	return int64(sub) << b
}

// hdrLowest and hdrHighest bound the values counted together with v
// (lowest_equivalent_value, highest_equivalent_value). v>>b is always below the sub-bucket
// count, so the range is 1<<b wide.
func hdrLowest(v int64) int64 {
	b := hdrBucketIndex(v)
	return v >> b << b
}

func hdrHighest(v int64) int64 { return hdrLowest(v) + 1<<hdrBucketIndex(v) - 1 }

// record counts one call that took d. Redis times a command in whole microseconds and records
// that times 1000, clamped to the histogram's range; so does this, so a call lands in the
// counter Redis would use for it.
func (h *latencyHist) record(d time.Duration) {
	c := h.counts.Load()
	if c == nil {
		c = new([hdrCountsLen]atomic.Int64)
		if !h.counts.CompareAndSwap(nil, c) {
			c = h.counts.Load()
		}
	}
	ns := min(max(d.Microseconds()*1000, hdrMinValue), hdrMaxValue)
	c[hdrIndex(ns)].Add(1)
}

// reset drops the counters. A record racing with it may land in the dropped array: that call is
// lost, as it would be had it finished just before the reset.
func (h *latencyHist) reset() { h.counts.Store(nil) }

// snapshot copies the counters; it returns nil for a command that has not run since the last
// reset.
func (h *latencyHist) snapshot() *hdrSnapshot {
	c := h.counts.Load()
	if c == nil {
		return nil
	}
	s := &hdrSnapshot{}
	for i := range c {
		s.counts[i] = c[i].Load()
		s.total += s.counts[i]
	}
	if s.total == 0 {
		return nil
	}
	return s
}

// hdrSnapshot is a copy of a histogram's counters, read without atomics.
type hdrSnapshot struct {
	counts [hdrCountsLen]int64
	total  int64
}

// cdf is LATENCY HISTOGRAM's view, as fillCommandCDF walks hdr_iter_log from 1024 ns by
// doubling: at each level the calls counted up to the counter holding the level, keyed by the
// highest value of that counter in microseconds, listed only where the count grew. A level past
// the last counter (2^30 ns; values are clamped to 10^9) takes in the rest, keyed by the last
// counter's highest value, as the C iterator reports when it runs out of counters.
func (s *hdrSnapshot) cdf() (keys, cums []int64) {
	var cum, prev int64
	idx := -1
	for level := int64(1024); cum < s.total; level *= 2 {
		last := hdrIndex(level)
		if last >= hdrCountsLen {
			last = hdrCountsLen - 1
		}
		for idx < last {
			idx++
			cum += s.counts[idx]
		}
		if cum > prev {
			keys = append(keys, hdrHighest(hdrValueAt(idx))/1000)
			cums = append(cums, cum)
		}
		prev = cum
	}
	return keys, cums
}

// percentile is hdr_value_at_percentile: the calls up to p percent (rounded, at least one)
// end in some counter; p is reported as that counter's highest value, or its lowest for p=0.
// The "at least one" is HdrHistogram_c 0.11.5's, which redis-server 7.0 reports: p0 is the
// bottom of the fastest call's counter, not 0.
func (s *hdrSnapshot) percentile(p float64) int64 {
	at := int64(min(p, 100)/100*float64(s.total) + 0.5)
	at = max(at, 1)
	var cum int64
	for i, c := range s.counts {
		cum += c
		if cum >= at {
			if p == 0 {
				return hdrLowest(hdrValueAt(i))
			}
			return hdrHighest(hdrValueAt(i))
		}
	}
	return 0
}
