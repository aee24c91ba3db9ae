package cluster

// Where a shard splits: where its bytes (a size-triggered split) or its load (a load-triggered
// one) are half on each side, not in the middle of its slots. A shard's leader weighs its slots
// — bytes on disk per slot, commands per second per slot — and reports the slot it would split
// at (ShardLoad.BytesAt, OpsAt), so gossip carries one number per shard, not one per slot.
//
// A split is useless when one side keeps nearly all the weight: a shard whose load is in one
// slot (one hot key, say) would hand its cool slots away and stay as hot. Its leader reports
// NoSplit instead, and the shard does not split; a hot key's reads are better served by
// followers (eventual and session reads).

// NoSplit, as ShardLoad.BytesAt or OpsAt, says the shard's weight cannot be split usefully.
const NoSplit = -1

// maxSplitShare is the largest share of a shard's weight the heavier side of a split may keep
// for the split to be worth its moves.
const maxSplitShare = 0.8

// BalancedSplit returns the slot at which to split a shard owning ranges (sorted, disjoint)
// so that the weight of its slots below it and from it on are as even as can be, and the
// heavier side's share of the whole. before(s) is the weight of the shard's slots below slot
// s; it must not decrease as s grows, and before(last owned slot + 1) is the total. It is
// called O(log n) times for n slots, so it may be costly (an engine estimate). at is 0 when
// the shard has fewer than two slots or no weight.
func BalancedSplit(ranges []SlotRange, before func(s int) float64) (at int, share float64) {
	n := 0
	for _, r := range ranges {
		n += r.End - r.Start + 1
	}
	if n < 2 {
		return 0, 0
	}
	// nth is the shard's i-th slot (0-based) in order.
	nth := func(i int) int {
		for _, r := range ranges {
			if size := r.End - r.Start + 1; i >= size {
				i -= size
				continue
			}
			return r.Start + i
		}
		return ranges[len(ranges)-1].End + 1
	}
	total := before(ranges[len(ranges)-1].End + 1)
	if total <= 0 {
		return 0, 0
	}
	// The first split index k in [1, n-1] whose lower side holds at least half; the best split
	// is there or just below.
	lo, hi := 1, n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if before(nth(mid)) >= total/2 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	heavier := func(k int) float64 {
		below := before(nth(k))
		return max(below, total-below)
	}
	best, w := lo, heavier(lo)
	if lo > 1 {
		if w2 := heavier(lo - 1); w2 < w {
			best, w = lo-1, w2
		}
	}
	return nth(best), w / total
}

// SplitAt is BalancedSplit for a leader's report: the split slot, or NoSplit when the heavier
// side would keep more than maxSplitShare of the weight, or 0 when there is no weight to go by.
func SplitAt(ranges []SlotRange, before func(s int) float64) int {
	at, share := BalancedSplit(ranges, before)
	if at == 0 {
		return 0
	}
	if share > maxSplitShare {
		return NoSplit
	}
	return at
}

// validSplit reports whether a shard can split at slot at: it owns it and a slot below it.
func validSplit(sh *Shard, at int) bool {
	return at > 0 && len(sh.Ranges) > 0 && at > sh.Ranges[0].Start && owns(sh, at)
}
