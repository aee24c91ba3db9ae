package keyspace

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Reload replaces the published state with what r holds, after the engine under it was
// replaced by a snapshot. Apply must not be running.
func (s *State) Reload(r pebble.Reader) error {
	n, err := LoadState(r)
	if err != nil {
		return err
	}
	for i := range s.dbmap {
		s.dbmap[i].Store(n.dbmap[i].Load())
		s.keys[i].Store(n.keys[i].Load())
		s.expires[i].Store(n.expires[i].Load())
	}
	s.pending = n.pending
	return nil
}

var (
	opTimeKey   = SystemKey("optime")
	versionsKey = SystemKey("versions")
)

// StageVersions records in b the last collection version counter handed out (see VersionOf). It
// is part of the replicated state, so every replica hands out the same versions.
func StageVersions(b *pebble.Batch, counter uint64) error {
	var buf [8]byte
	return b.Set(versionsKey, binary.BigEndian.AppendUint64(buf[:0], counter), nil)
}

// LoadVersions reads the last collection version counter handed out (0 if none).
func LoadVersions(r pebble.Reader) (uint64, error) {
	t, err := loadUint64(r, versionsKey)
	return uint64(t), err
}

// The time of the last applied operation is recorded with the applied index (State.Stage).
// Apply never lets time go back (each operation runs at the later of its own time and this one),
// and since the value is part of the replicated state every replica computes the same times.

// LoadOpTime reads the time of the last applied operation (0 if none). Data written before the
// applied-index record held it has it in a record of its own.
func LoadOpTime(r pebble.Reader) (int64, error) {
	v, closer, err := r.Get(appliedKey)
	if err == nil {
		defer closer.Close()
		if len(v) == 16 {
			return int64(binary.BigEndian.Uint64(v[8:])), nil
		}
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return 0, err
	}
	return loadUint64(r, opTimeKey)
}

func loadUint64(r pebble.Reader, key []byte) (int64, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// Reset replaces the key filter with one built from r, after the engine was replaced by a
// snapshot: the old filter would deny keys the snapshot brought. Apply must not be running.
func (fs *Filters) Reset(r pebble.Reader, expected int64) error {
	if fs == nil {
		return nil
	}
	f, err := BuildKeyFilter(r, expected)
	if err != nil {
		return err
	}
	fs.active.Store(f)
	return nil
}
