package keyspace

import (
	"github.com/cockroachdb/pebble/v2"
)

// ElemIter iterates the element records of one version of a collection in byte order of the
// element suffix. Close it when done.
type ElemIter struct {
	it     *pebble.Iterator
	prefix int
	seek   []byte // the prefix, then the element sought
}

// Elems opens an iterator over the elements of (key, version) in the E space; Scores does the
// same over the Z space of a sorted set. Use the iterator's Seek/First/Last/Next/Prev with
// element suffixes (ElemIter.SeekGE takes the suffix, not the full key).
func (tx *Tx) Elems(key []byte, version uint64) (*ElemIter, error) {
	return tx.openElems(ElemPrefix(nil, tx.db, version))
}

// Scores is Elems over a sorted set's score-ordered records.
func (tx *Tx) Scores(key []byte, version uint64) (*ElemIter, error) {
	return tx.openElems(ScorePrefix(nil, tx.db, version))
}

func (tx *Tx) openElems(prefix []byte) (*ElemIter, error) {
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	return &ElemIter{it: it, prefix: len(prefix), seek: prefix}, nil
}

// First moves to the first element.
func (e *ElemIter) First() bool { return e.it.First() }

// Last moves to the last element.
func (e *ElemIter) Last() bool { return e.it.Last() }

// Next moves forward.
func (e *ElemIter) Next() bool { return e.it.Next() }

// Prev moves backward.
func (e *ElemIter) Prev() bool { return e.it.Prev() }

// Valid reports whether the iterator is at an element.
func (e *ElemIter) Valid() bool { return e.it.Valid() }

// SeekGE moves to the first element whose suffix is >= elem.
func (e *ElemIter) SeekGE(elem []byte) bool {
	e.seek = append(e.seek[:e.prefix], elem...)
	return e.it.SeekGE(e.seek)
}

// SeekLT moves to the last element whose suffix is < elem.
func (e *ElemIter) SeekLT(elem []byte) bool {
	e.seek = append(e.seek[:e.prefix], elem...)
	return e.it.SeekLT(e.seek)
}

// Elem is the current element's suffix (field, member, position...), valid until the iterator
// moves.
func (e *ElemIter) Elem() []byte { return e.it.Key()[e.prefix:] }

// Value is the current element's value, valid until the iterator moves.
func (e *ElemIter) Value() ([]byte, error) { return e.it.ValueAndErr() }

// Close closes the iterator and reports any error it met.
func (e *ElemIter) Close() error {
	err := e.it.Error()
	if cerr := e.it.Close(); err == nil {
		err = cerr
	}
	return err
}
