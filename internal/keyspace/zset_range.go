package keyspace

import "bytes"

// ScoreRange is an interval of scores whose ends may be open, as ZRANGEBYSCORE takes it.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// GteMin reports whether s is not below the range.
func (r *ScoreRange) GteMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

// LteMax reports whether s is not above the range.
func (r *ScoreRange) LteMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

// LexBound is one end of a range of members: a value, open or closed, or one of the infinite
// strings "-" (Inf < 0) and "+" (Inf > 0).
type LexBound struct {
	Value []byte
	Ex    bool
	Inf   int
}

// LexRange is an interval of members, as ZRANGEBYLEX takes it.
type LexRange struct{ Min, Max LexBound }

// GteMin reports whether m is not below the range.
func (r *LexRange) GteMin(m []byte) bool {
	switch {
	case r.Min.Inf < 0:
		return true
	case r.Min.Inf > 0:
		return false
	}
	c := bytes.Compare(m, r.Min.Value)
	return c > 0 || (c == 0 && !r.Min.Ex)
}

// LteMax reports whether m is not above the range.
func (r *LexRange) LteMax(m []byte) bool {
	switch {
	case r.Max.Inf > 0:
		return true
	case r.Max.Inf < 0:
		return false
	}
	c := bytes.Compare(m, r.Max.Value)
	return c < 0 || (c == 0 && !r.Max.Ex)
}

// lexCmp compares two bounds as Redis's sdscmplex: "-" is below and "+" above every string.
func lexCmp(a, b *LexBound) int {
	switch {
	case a.Inf == b.Inf && a.Inf != 0:
		return 0
	case a.Inf < 0 || b.Inf > 0:
		return -1
	case a.Inf > 0 || b.Inf < 0:
		return 1
	}
	return bytes.Compare(a.Value, b.Value)
}

// Empty reports whether no string can be in the range.
func (r *LexRange) Empty() bool {
	c := lexCmp(&r.Min, &r.Max)
	return c > 0 || (c == 0 && (r.Min.Ex || r.Max.Ex))
}

// ZVisitor receives the members of a range in order, until it returns false. member is valid
// only during the call.
type ZVisitor func(member []byte, score float64) bool

// ZScoreRange visits the members of the sorted set e whose scores are in r, from the lowest
// score up, or from the highest down when reverse. It seeks to the first one.
func (tx *Tx) ZScoreRange(e *Entry, r *ScoreRange, reverse bool, fn ZVisitor) error {
	return tx.ZScoreRangeSkip(e, r, reverse, 0, fn)
}

// ZScoreRangeSkip is ZScoreRange after stepping over skip members from the first one without
// testing them against the range, as Redis applies a LIMIT offset.
func (tx *Tx) ZScoreRangeSkip(e *Entry, r *ScoreRange, reverse bool, skip int64, fn ZVisitor) error {
	it, err := tx.ZOrder(e)
	if err != nil {
		return err
	}
	var ok bool
	if reverse {
		ok = it.SeekScoreBefore(r.Max, r.MaxEx)
	} else {
		ok = it.SeekScore(r.Min, r.MinEx)
	}
	for ; ok && skip > 0; skip-- {
		ok = it.Step(reverse)
	}
	for ; ok; ok = it.Step(reverse) {
		s := it.Score()
		inRange := r.LteMax(s)
		if reverse {
			inRange = r.GteMin(s)
		}
		if !inRange || !fn(it.Member(), s) {
			break
		}
	}
	return it.Close()
}

// Step moves forward, or backward when reverse.
func (z *ZIter) Step(reverse bool) bool {
	if reverse {
		return z.Prev()
	}
	return z.Next()
}

// ZLexRange visits the members of the sorted set e that are in r, in score order (or reverse).
// Lexicographic ranges are meant for sets whose members all have the same score; then this
// seeks to the first member in range. With mixed scores Redis leaves the result unspecified; this
// does what Redis does for a small set: walk from the start (or end) to the first member in
// range, then visit while members stay in range — which costs a walk over the set.
func (tx *Tx) ZLexRange(e *Entry, r *LexRange, reverse bool, fn ZVisitor) error {
	return tx.ZLexRangeSkip(e, r, reverse, 0, fn)
}

// ZLexRangeSkip is ZLexRange after stepping over skip members from the first one without testing
// them against the range, as Redis applies a LIMIT offset (which matters with mixed scores).
func (tx *Tx) ZLexRangeSkip(e *Entry, r *LexRange, reverse bool, skip int64, fn ZVisitor) error {
	it, err := tx.ZOrder(e)
	if err != nil {
		return err
	}
	ok := tx.zLexStart(it, r, reverse)
	for ; ok && skip > 0; skip-- {
		ok = it.Step(reverse)
	}
	for ; ok; ok = it.Step(reverse) {
		m := it.Member()
		inRange := r.LteMax(m)
		if reverse {
			inRange = r.GteMin(m)
		}
		if !inRange || !fn(m, it.Score()) {
			break
		}
	}
	return it.Close()
}

// zLexStart positions it at the first member of a lexicographic walk: the first member (in
// score order) not below r.Min, or when reverse the last one not above r.Max.
func (tx *Tx) zLexStart(it *ZIter, r *LexRange, reverse bool) bool {
	if !it.First() {
		return false
	}
	lo := it.Score()
	it.Last()
	if lo != it.Score() {
		// Mixed scores: walk, as Redis walks a listpack, after its quick test that the range
		// can hold anything: not empty, the last member not below it, the first not above it.
		if r.Empty() || !r.GteMin(it.Member()) {
			return false
		}
		it.First()
		if !r.LteMax(it.Member()) {
			return false
		}
		if !reverse {
			ok := true // at First
			for ok && !r.GteMin(it.Member()) {
				ok = it.Next()
			}
			return ok
		}
		ok := it.Last()
		for ok && !r.LteMax(it.Member()) {
			ok = it.Prev()
		}
		return ok
	}
	// One score: members are in byte order, so seek.
	if !reverse {
		switch {
		case r.Min.Inf < 0:
			return it.First()
		case r.Min.Inf > 0:
			return false
		}
		ok := it.SeekMember(lo, r.Min.Value)
		if ok && r.Min.Ex && bytes.Equal(it.Member(), r.Min.Value) {
			ok = it.Next()
		}
		return ok
	}
	switch {
	case r.Max.Inf > 0:
		return it.Last()
	case r.Max.Inf < 0:
		return false
	}
	return it.SeekMemberBefore(lo, r.Max.Value, r.Max.Ex)
}

// ZRankRange visits the members of the sorted set e whose 0-based ranks are start..stop
// (0 <= start <= stop < e.Count), in ascending order, or with reverse the ranks counted from the
// highest score, in descending order (ZREVRANGE). There is no rank index, so it walks from the
// nearer end of the set: O(min(stop, count-start)) steps plus the range itself. When that end
// is the far end of the output order, the range is collected and visited backwards.
func (tx *Tx) ZRankRange(e *Entry, start, stop int64, reverse bool, fn ZVisitor) error {
	n := e.Count
	if reverse {
		start, stop = n-1-stop, n-1-start
	}
	fromFront := stop+1 <= n-start
	it, err := tx.ZOrder(e)
	if err != nil {
		return err
	}
	var ok bool
	var skip int64
	if fromFront {
		ok, skip = it.First(), start
	} else {
		ok, skip = it.Last(), n-1-stop
	}
	walkBack := !fromFront
	for ; ok && skip > 0; skip-- {
		ok = it.Step(walkBack)
	}
	want := stop - start + 1
	if walkBack == reverse {
		for ; ok && want > 0 && fn(it.Member(), it.Score()); want-- {
			ok = it.Step(walkBack)
		}
		return it.Close()
	}
	type entry struct {
		member []byte
		score  float64
	}
	got := make([]entry, 0, want)
	for ; ok && want > 0; want-- {
		got = append(got, entry{append([]byte(nil), it.Member()...), it.Score()})
		ok = it.Step(walkBack)
	}
	if err := it.Close(); err != nil {
		return err
	}
	for i := len(got) - 1; i >= 0; i-- {
		if !fn(got[i].member, got[i].score) {
			break
		}
	}
	return nil
}

// ZScoreCount counts the members of the sorted set e whose scores are in r.
func (tx *Tx) ZScoreCount(e *Entry, r *ScoreRange) (int64, error) {
	lo := EncodeScore(nil, r.Min)
	if r.MinEx {
		if lo = PrefixEnd(lo); lo == nil {
			return 0, nil
		}
	}
	hi := EncodeScore(nil, r.Max)
	if !r.MaxEx {
		hi = PrefixEnd(hi) // nil: no upper bound
	}
	return tx.zcountBetween(e, lo, hi)
}

// ZLexCount counts the members of the sorted set e that ZLexRange would visit.
func (tx *Tx) ZLexCount(e *Entry, r *LexRange) (int64, error) {
	it, err := tx.ZOrder(e)
	if err != nil {
		return 0, err
	}
	ok := it.First()
	var lo float64
	if ok {
		lo = it.Score()
		it.Last()
		ok = lo == it.Score()
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if !ok { // empty, or mixed scores: walk
		var n int64
		err := tx.ZLexRange(e, r, false, func([]byte, float64) bool { n++; return true })
		return n, err
	}
	// One score: the range is a contiguous run of keys.
	prefix := EncodeScore(nil, lo)
	var start, end []byte
	switch {
	case r.Min.Inf > 0 || r.Max.Inf < 0:
		return 0, nil
	case r.Min.Inf < 0:
		start = prefix
	default:
		start = append(append([]byte(nil), prefix...), r.Min.Value...)
		if r.Min.Ex {
			start = append(start, 0)
		}
	}
	if r.Max.Inf > 0 {
		end = PrefixEnd(prefix)
	} else {
		end = append(append([]byte(nil), prefix...), r.Max.Value...)
		if !r.Max.Ex {
			end = append(end, 0)
		}
	}
	return tx.zcountBetween(e, start, end)
}

// zcountBetween counts the entries of the score order with lo <= key < hi (hi nil: no bound).
// Nothing counts entries for it, so it walks the range and, at the same time, what lies outside
// it from both ends, and stops at whichever finishes first: O(min(m, count-m)) steps for m
// entries in range.
func (tx *Tx) zcountBetween(e *Entry, lo, hi []byte) (int64, error) {
	if hi != nil && bytes.Compare(lo, hi) >= 0 {
		return 0, nil
	}
	below := func(k []byte) bool { return bytes.Compare(k, lo) < 0 }
	above := func(k []byte) bool { return hi != nil && bytes.Compare(k, hi) >= 0 }
	var its [3]*ZIter
	for i := range its {
		it, err := tx.ZOrder(e)
		if err != nil {
			for _, o := range its[:i] {
				o.Close()
			}
			return 0, err
		}
		its[i] = it
	}
	in, lower, upper := its[0], its[1], its[2]
	okIn := in.SeekGE(lo) && !above(in.Elem())
	okLower := lower.First() && below(lower.Elem())
	okUpper := upper.Last() && above(upper.Elem())
	var inside, outside, n int64
	for {
		if !okIn {
			n = inside
			break
		}
		if !okLower && !okUpper {
			n = e.Count - outside
			break
		}
		inside++
		okIn = in.Next() && !above(in.Elem())
		if okLower {
			outside++
			okLower = lower.Next() && below(lower.Elem())
		}
		if okUpper {
			outside++
			okUpper = upper.Prev() && above(upper.Elem())
		}
	}
	var err error
	for _, it := range its {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}
	return n, err
}
