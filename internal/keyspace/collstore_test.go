package keyspace

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// collStore is a keyspace over an in-memory engine that runs writes the way apply does: one
// indexed batch per write, versions from a counter, effects collected.
type collStore struct {
	t   testing.TB
	db  *pebble.DB
	ver uint64
	eff Effects
}

func newCollStore(t *testing.T) *collStore {
	return &collStore{t: t, db: openMem(t)}
}

// write runs fn in a writing Tx at time now and commits.
func (s *collStore) write(now int64, fn func(tx *Tx)) {
	s.t.Helper()
	b := s.db.NewIndexedBatch()
	var tx Tx
	tx.Reset(b, b, 0, now)
	tx.Versions = func() uint64 { s.ver++; return s.ver }
	s.eff.Reset()
	tx.Effects = &s.eff
	fn(&tx)
	if err := b.Commit(pebble.NoSync); err != nil {
		s.t.Fatal(err)
	}
}

// read runs fn in a read-only Tx over a snapshot at time now.
func (s *collStore) read(now int64, fn func(tx *Tx)) {
	s.t.Helper()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	var tx Tx
	tx.Reset(snap, nil, 0, now)
	fn(&tx)
}

// keys returns every record key that starts with prefix.
func (s *collStore) keys(prefix []byte) [][]byte {
	s.t.Helper()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		s.t.Fatal(err)
	}
	defer it.Close()
	var out [][]byte
	for valid := it.First(); valid; valid = it.Next() {
		out = append(out, bytes.Clone(it.Key()))
	}
	return out
}

func (s *collStore) events() []string {
	var out []string
	for _, e := range s.eff.Events {
		out = append(out, string(e.Class)+":"+e.Name+":"+string(e.Key))
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
