package keyspace

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// SystemRecord reads the system record name (see SystemKey): nil if there is none. The value
// is a copy.
func (tx *Tx) SystemRecord(name string) ([]byte, error) {
	v, closer, err := tx.r.Get(SystemKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// SetSystemRecord writes the system record name in apply's batch; an empty value deletes it.
// System records are replicated state like data (FUNCTION LOAD's libraries are one).
func (tx *Tx) SetSystemRecord(name string, v []byte) error {
	if len(v) == 0 {
		return tx.w.Delete(SystemKey(name), nil)
	}
	return tx.w.Set(SystemKey(name), v, nil)
}
