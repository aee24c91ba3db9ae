package keyspace

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Clients blocked on keys (BLPOP and friends) are part of the replicated state, not of one
// server's memory: a waiter is registered, served and removed by operations in the log, so every
// replica pops the same elements for the same waiters, and a snapshot carries them. Records:
//
//	W db len(key) key seq   → token        one per key the waiter waits on, FIFO by seq
//	V token                 → db seq nkeys {len key} payload
//
// The token names the waiter (the node and client it belongs to); the payload is what to run to
// serve it (the blocked command and its reply protocol), opaque to this package.
//
// Waiters also keeps, in memory, which keys have waiters, so apply can skip the check for the
// common case of a key nobody waits on. Apply is its only user; it is rebuilt from the records
// when a node starts or installs a snapshot.
type Waiters struct {
	keys map[string]int // db+key → number of waiters
}

const (
	prefixWaitKey   = 'W'
	prefixWaitToken = 'V'
)

// LoadWaiters rebuilds the in-memory index from the records in r.
func LoadWaiters(r pebble.Reader) (*Waiters, error) {
	w := &Waiters{keys: map[string]int{}}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixWaitKey}, UpperBound: []byte{prefixWaitKey + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		db, key, _, err := parseWaitKey(it.Key())
		if err != nil {
			return nil, err
		}
		w.keys[waitIndexKey(db, key)]++
	}
	return w, it.Error()
}

// Empty reports whether nobody waits on anything.
func (w *Waiters) Empty() bool { return len(w.keys) == 0 }

// Has reports whether someone waits on key in physical database db.
func (w *Waiters) Has(db byte, key []byte) bool {
	if len(w.keys) == 0 {
		return false
	}
	return w.keys[waitIndexKey(db, key)] > 0
}

// Count is the number of (waiter, key) pairs, for tests.
func (w *Waiters) Count() int {
	n := 0
	for _, c := range w.keys {
		n += c
	}
	return n
}

func waitIndexKey(db byte, key []byte) string {
	return string(append([]byte{db}, key...))
}

func waitKey(dst []byte, db byte, key []byte, seq uint64) []byte {
	dst = append(dst, prefixWaitKey, db)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(key)))
	dst = append(dst, key...)
	return binary.BigEndian.AppendUint64(dst, seq)
}

func waitKeyPrefix(db byte, key []byte) []byte {
	k := waitKey(nil, db, key, 0)
	return k[:len(k)-8]
}

var errCorruptWaiter = errors.New("keyspace: corrupt waiter record")

func parseWaitKey(k []byte) (db byte, key []byte, seq uint64, err error) {
	if len(k) < 2+4+8 || k[0] != prefixWaitKey {
		return 0, nil, 0, errCorruptWaiter
	}
	db = k[1]
	n := int(binary.BigEndian.Uint32(k[2:]))
	if len(k) != 2+4+n+8 {
		return 0, nil, 0, errCorruptWaiter
	}
	return db, k[6 : 6+n], binary.BigEndian.Uint64(k[6+n:]), nil
}

func tokenKey(token uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixWaitToken}, token)
}

// AddWaiter registers waiter token on keys of the Tx's database, in FIFO position seq.
// A token already registered is replaced.
func (tx *Tx) AddWaiter(w *Waiters, token, seq uint64, keys [][]byte, payload []byte) error {
	if _, err := tx.RemoveWaiter(w, token); err != nil {
		return err
	}
	v := []byte{tx.db}
	v = binary.BigEndian.AppendUint64(v, seq)
	v = binary.AppendUvarint(v, uint64(len(keys)))
	for _, k := range keys {
		v = binary.AppendUvarint(v, uint64(len(k)))
		v = append(v, k...)
	}
	v = append(v, payload...)
	if err := tx.w.Set(tokenKey(token), v, nil); err != nil {
		return err
	}
	tok := binary.BigEndian.AppendUint64(nil, token)
	for _, k := range keys {
		if err := tx.w.Set(waitKey(nil, tx.db, k, seq), tok, nil); err != nil {
			return err
		}
		w.keys[waitIndexKey(tx.db, k)]++
	}
	return nil
}

// waiterRecord is a decoded V record.
type waiterRecord struct {
	db      byte
	seq     uint64
	keys    [][]byte
	payload []byte
}

func (tx *Tx) readWaiter(token uint64) (waiterRecord, bool, error) {
	v, closer, err := tx.r.Get(tokenKey(token))
	if err == pebble.ErrNotFound {
		return waiterRecord{}, false, nil
	}
	if err != nil {
		return waiterRecord{}, false, err
	}
	v = append([]byte(nil), v...)
	closer.Close()
	if len(v) < 9 {
		return waiterRecord{}, false, errCorruptWaiter
	}
	rec := waiterRecord{db: v[0], seq: binary.BigEndian.Uint64(v[1:])}
	v = v[9:]
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)) {
		return waiterRecord{}, false, errCorruptWaiter
	}
	v = v[k:]
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(v)
		if k <= 0 || l > uint64(len(v)-k) {
			return waiterRecord{}, false, errCorruptWaiter
		}
		rec.keys = append(rec.keys, v[k:k+int(l)])
		v = v[k+int(l):]
	}
	rec.payload = v
	return rec, true, nil
}

// WaiterPayload returns the payload of a registered waiter and its physical database.
func (tx *Tx) WaiterPayload(token uint64) (payload []byte, db byte, found bool, err error) {
	rec, found, err := tx.readWaiter(token)
	return rec.payload, rec.db, found, err
}

// RemoveWaiter unregisters a waiter, reporting whether it was registered.
func (tx *Tx) RemoveWaiter(w *Waiters, token uint64) (bool, error) {
	rec, found, err := tx.readWaiter(token)
	if err != nil || !found {
		return false, err
	}
	for _, k := range rec.keys {
		if err := tx.w.Delete(waitKey(nil, rec.db, k, rec.seq), nil); err != nil {
			return false, err
		}
		ik := waitIndexKey(rec.db, k)
		if w.keys[ik]--; w.keys[ik] <= 0 {
			delete(w.keys, ik)
		}
	}
	return true, tx.w.Delete(tokenKey(token), nil)
}

// WaitersOn returns the tokens waiting on key in the Tx's database, oldest first.
func (tx *Tx) WaitersOn(key []byte) ([]uint64, error) {
	prefix := waitKeyPrefix(tx.db, key)
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []uint64
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if len(v) != 8 {
			return nil, errCorruptWaiter
		}
		out = append(out, binary.BigEndian.Uint64(v))
	}
	return out, it.Error()
}

// AllWaiters returns every registered token.
func (tx *Tx) AllWaiters() ([]uint64, error) {
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixWaitToken}, UpperBound: []byte{prefixWaitToken + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []uint64
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 9 {
			return nil, errCorruptWaiter
		}
		out = append(out, binary.BigEndian.Uint64(k[1:]))
	}
	return out, it.Error()
}
