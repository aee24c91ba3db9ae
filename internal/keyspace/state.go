package keyspace

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// State is the keyspace-wide state kept beside the records: which physical database each SELECT
// number maps to (so SWAPDB is O(1)) and how many keys, and keys with an expiry, each holds (so
// DBSIZE is O(1)).
//
// Apply is the only writer: it stages changes into its batch, and publishes them to readers once
// the batch is committed. Readers load atomically.
type State struct {
	dbmap   [NumDBs]atomic.Uint32 // logical → physical, as published
	keys    [NumDBs]atomic.Int64  // per physical database
	expires [NumDBs]atomic.Int64

	// pending is apply's view of the map, ahead of dbmap while a batch is open.
	pending [NumDBs]byte
}

var (
	dbmapKey   = SystemKey("dbmap")
	countsKey  = SystemKey("counts")
	appliedKey = SystemKey("applied")
)

// LoadState reads the state from r.
func LoadState(r pebble.Reader) (*State, error) {
	s := &State{}
	for i := range s.pending {
		s.pending[i] = byte(i)
	}
	if v, closer, err := r.Get(dbmapKey); err == nil {
		if len(v) == NumDBs {
			copy(s.pending[:], v)
		}
		closer.Close()
	} else if err != pebble.ErrNotFound {
		return nil, err
	}
	for i := range s.pending {
		s.dbmap[i].Store(uint32(s.pending[i]))
	}
	if v, closer, err := r.Get(countsKey); err == nil {
		for i := 0; i < NumDBs && len(v) >= 16*(i+1); i++ {
			s.keys[i].Store(int64(binary.BigEndian.Uint64(v[16*i:])))
			s.expires[i].Store(int64(binary.BigEndian.Uint64(v[16*i+8:])))
		}
		closer.Close()
	} else if err != pebble.ErrNotFound {
		return nil, err
	}
	return s, nil
}

// Physical maps a SELECT number to its physical database, as published.
func (s *State) Physical(logical int) byte { return byte(s.dbmap[logical].Load()) }

// PendingPhysical maps a SELECT number as apply sees it mid-batch.
func (s *State) PendingPhysical(logical int) byte { return s.pending[logical] }

// Keys is the number of keys in a physical database (expired ones not yet removed included, as
// in Redis).
func (s *State) Keys(phys byte) int64 { return s.keys[phys].Load() }

// TotalKeys is the number of keys in all databases.
func (s *State) TotalKeys() int64 {
	var n int64
	for i := range s.keys {
		n += s.keys[i].Load()
	}
	return n
}

// Expires is the number of keys with an expiry in a physical database.
func (s *State) Expires(phys byte) int64 { return s.expires[phys].Load() }

// Swap exchanges two logical databases in apply's pending map.
func (s *State) Swap(a, b int, eff *Effects) {
	s.pending[a], s.pending[b] = s.pending[b], s.pending[a]
	if eff != nil {
		eff.Remapped = true
	}
}

// FlushDelta sets eff's count change for phys so the database ends the batch empty.
func (s *State) FlushDelta(eff *Effects, phys byte) {
	eff.Counts[phys] = CountDelta{Keys: -s.keys[phys].Load(), Expires: -s.expires[phys].Load()}
	eff.Flushed = append(eff.Flushed, phys)
}

// Stage writes the state as it will be after the batch into b, with the applied log index.
func (s *State) Stage(b *pebble.Batch, eff *Effects, applied uint64, opTime int64) error {
	var buf [16*NumDBs + 8]byte
	changed, zero := false, true
	for i := 0; i < NumDBs; i++ {
		d := eff.Counts[i]
		if d.Keys != 0 || d.Expires != 0 {
			changed = true
		}
		keys, expires := s.keys[i].Load()+d.Keys, s.expires[i].Load()+d.Expires
		zero = zero && keys == 0 && expires == 0
		binary.BigEndian.PutUint64(buf[16*i:], uint64(keys))
		binary.BigEndian.PutUint64(buf[16*i+8:], uint64(expires))
	}
	// The record exists exactly when some count is not zero (an absent one reads as zeros), so
	// replicas that applied the same entries in different batches hold the same bytes: one
	// whose batch took keys in and out again writes nothing, and one that applied them apart
	// deletes the record again.
	switch {
	case changed && zero:
		if err := b.Delete(countsKey, nil); err != nil {
			return err
		}
	case changed:
		if err := b.Set(countsKey, buf[:16*NumDBs], nil); err != nil {
			return err
		}
	}
	for i := range s.pending {
		if uint32(s.pending[i]) != s.dbmap[i].Load() {
			if err := b.Set(dbmapKey, s.pending[:], nil); err != nil {
				return err
			}
			break
		}
	}
	// One record holds the applied index and the operation time (replication.go): every batch
	// writes both, and each record a batch writes is one more memtable insertion.
	rec := binary.BigEndian.AppendUint64(buf[:0], applied)
	rec = binary.BigEndian.AppendUint64(rec, uint64(opTime))
	return b.Set(appliedKey, rec, nil)
}

// Publish makes a committed batch's changes visible to readers.
func (s *State) Publish(eff *Effects) {
	for i := 0; i < NumDBs; i++ {
		d := eff.Counts[i]
		if d.Keys != 0 {
			s.keys[i].Add(d.Keys)
		}
		if d.Expires != 0 {
			s.expires[i].Add(d.Expires)
		}
	}
	for i := range s.pending {
		s.dbmap[i].Store(uint32(s.pending[i]))
	}
}

// Abandon drops apply's pending changes after a failed commit.
func (s *State) Abandon() {
	for i := range s.pending {
		s.pending[i] = byte(s.dbmap[i].Load())
	}
}

// LoadApplied reads the applied log index recorded with the last committed batch.
func LoadApplied(r pebble.Reader) (uint64, error) {
	v, closer, err := r.Get(appliedKey)
	if err == pebble.ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 && len(v) != 16 { // 8: written before the record held the operation time
		return 0, errCorrupt
	}
	return binary.BigEndian.Uint64(v), nil
}

// FlushDB removes every record of a physical database. Expiry index entries (key and hash field)
// of the removed keys are left behind; the sweeper finds them pointing at nothing and removes them.
func (tx *Tx) FlushDB(s *State) error {
	for _, kind := range []byte{prefixMeta, prefixElem, prefixScore, prefixFieldTime} {
		start := []byte{kind, tx.db}
		if err := tx.w.DeleteRange(start, []byte{kind, tx.db + 1}, nil); err != nil {
			return err
		}
	}
	if tx.Effects != nil {
		s.FlushDelta(tx.Effects, tx.db)
	}
	if o := tx.overlay; o != nil {
		o.flushed = true
		o.flushDB[tx.db] = true
		o.writes.dropIf(func(k string) bool { return len(k) >= 2 && k[0] == prefixMeta && k[1] == tx.db })
		o.elems.dropIf(func(k string) bool { return len(k) >= 2 && k[0] == prefixElem && k[1] == tx.db })
	}
	return nil
}
