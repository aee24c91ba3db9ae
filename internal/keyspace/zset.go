package keyspace

import (
	"bytes"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// A sorted set keeps each member twice: its element record (E db version member → score, 8
// bytes in EncodeScore form) answers "what is the score of m" with one point read, and its
// score record (Z db version score member → empty) keeps the members in Redis's order, score
// first and then member bytes, so ranges by score are seeks. Meta.Count is the cardinality.
// Changing one member touches at most three records, whatever the size of the set.
//
// Rank has no index: an LSM tree keeps no subtree counts, so ZRANK and ranges by index walk
// from the nearer end of the score order, O(rank) steps.

var errCorruptScore = errors.New("keyspace: corrupt sorted-set score record")

// ZScore reads member's score in the sorted set e.
func (tx *Tx) ZScore(e *Entry, member []byte) (score float64, found bool, err error) {
	tx.kbuf = ElemPrefix(tx.kbuf[:0], tx.db, e.Version)
	tx.kbuf = append(tx.kbuf, member...)
	v, found, closer, err := tx.elemRecord(tx.kbuf)
	if err != nil || !found {
		return 0, false, err
	}
	if closer != nil {
		defer closer.Close()
	}
	if len(v) != 8 {
		return 0, false, errCorruptScore
	}
	return DecodeScore(v), true, nil
}

// ZPut sets member's score in the sorted set e, writing both of its records and counting it in
// e.Count if it is new. old and had are what ZScore said of member in this command, so the old
// score record can be removed without reading it again. The caller writes e afterwards — also
// when only a score changed, if e had pop bounds (ZHasBounds), which ZPut may have dropped.
func (tx *Tx) ZPut(e *Entry, member []byte, score, old float64, had bool) error {
	if had {
		if old == score { // -0 and +0 are one record
			return nil
		}
		if err := tx.w.Delete(tx.scoreKey(e.Version, old, member), nil); err != nil {
			return err
		}
	} else {
		e.Count++
	}
	sk := tx.scoreKey(e.Version, score, member)
	if b := zsetBoundsOf(e); (b.floor != nil || b.ceil != nil) && !b.inside(sk[len(sk)-8-len(member):]) {
		setZsetBounds(e, zbounds{}) // a record outside the pop bounds: open them again
	}
	if err := tx.w.Set(sk, nil, nil); err != nil {
		return err
	}
	tx.kbuf = ElemPrefix(tx.kbuf[:0], tx.db, e.Version)
	tx.kbuf = append(tx.kbuf, member...)
	tx.sbuf = EncodeScore(tx.sbuf[:0], score)
	return tx.setElemKey(tx.kbuf, tx.sbuf)
}

// ZRemove deletes member, whose score is score, from the sorted set e and uncounts it. The
// caller writes or deletes e afterwards.
func (tx *Tx) ZRemove(e *Entry, member []byte, score float64) error {
	if err := tx.w.Delete(tx.scoreKey(e.Version, score, member), nil); err != nil {
		return err
	}
	tx.kbuf = ElemPrefix(tx.kbuf[:0], tx.db, e.Version)
	tx.kbuf = append(tx.kbuf, member...)
	if err := tx.delElemKey(tx.kbuf); err != nil {
		return err
	}
	e.Count--
	return nil
}

func (tx *Tx) scoreKey(version uint64, score float64, member []byte) []byte {
	tx.kb2 = ScorePrefix(tx.kb2[:0], tx.db, version)
	tx.kb2 = EncodeScore(tx.kb2, score)
	tx.kb2 = append(tx.kb2, member...)
	return tx.kb2
}

// ZIter walks a sorted set in score order (score, then member bytes). Close it when done.
type ZIter struct {
	ElemIter
	seek []byte
}

// ZOrder opens an iterator over the score order of the sorted set e.
func (tx *Tx) ZOrder(e *Entry) (*ZIter, error) {
	prefix, lower, upper := tx.zorderBounds(e)
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return &ZIter{ElemIter: ElemIter{it: it, prefix: len(prefix), seek: prefix}}, nil
}

// Score is the current member's score.
func (z *ZIter) Score() float64 { return DecodeScore(z.Elem()[:8]) }

// Member is the current member, valid until the iterator moves.
func (z *ZIter) Member() []byte { return z.Elem()[8:] }

// SeekScore moves to the first member whose score is >= score (> score if exclusive).
func (z *ZIter) SeekScore(score float64, exclusive bool) bool {
	z.seek = EncodeScore(z.seek[:0], score)
	if exclusive {
		next := PrefixEnd(z.seek)
		if next == nil {
			return false
		}
		z.seek = append(z.seek[:0], next...)
	}
	return z.SeekGE(z.seek)
}

// SeekScoreBefore moves to the last member whose score is <= score (< score if exclusive).
func (z *ZIter) SeekScoreBefore(score float64, exclusive bool) bool {
	z.seek = EncodeScore(z.seek[:0], score)
	if !exclusive {
		next := PrefixEnd(z.seek)
		if next == nil {
			return z.Last()
		}
		z.seek = append(z.seek[:0], next...)
	}
	return z.SeekLT(z.seek)
}

// SeekMember moves to the first entry at or after (score, member).
func (z *ZIter) SeekMember(score float64, member []byte) bool {
	z.seek = EncodeScore(z.seek[:0], score)
	z.seek = append(z.seek, member...)
	return z.SeekGE(z.seek)
}

// SeekMemberBefore moves to the last entry at or before (score, member), or before it when
// exclusive.
func (z *ZIter) SeekMemberBefore(score float64, member []byte, exclusive bool) bool {
	z.seek = EncodeScore(z.seek[:0], score)
	z.seek = append(z.seek, member...)
	if !exclusive {
		z.seek = append(z.seek, 0) // the smallest key after (score, member)
	}
	return z.SeekLT(z.seek)
}

// ZRank returns the 0-based rank of member (whose score is score) in the sorted set e, counting
// from the lowest score. It walks from both ends at once and stops at whichever reaches member
// first, so it costs O(min(rank, count-rank)) steps.
func (tx *Tx) ZRank(e *Entry, member []byte, score float64) (int64, error) {
	target := EncodeScore(nil, score)
	target = append(target, member...)
	fwd, err := tx.ZOrder(e)
	if err != nil {
		return 0, err
	}
	defer fwd.Close()
	back, err := tx.ZOrder(e)
	if err != nil {
		return 0, err
	}
	defer back.Close()
	okF, okB := fwd.First(), back.Last()
	for steps := int64(0); okF || okB; steps++ {
		if okF {
			if bytes.Equal(fwd.Elem(), target) {
				return steps, nil
			}
			okF = fwd.Next()
		}
		if okB {
			if bytes.Equal(back.Elem(), target) {
				return e.Count - 1 - steps, nil
			}
			okB = back.Prev()
		}
	}
	if err := fwd.it.Error(); err != nil {
		return 0, err
	}
	if err := back.it.Error(); err != nil {
		return 0, err
	}
	return 0, errCorruptScore
}
