package command

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// WATCH is checked when EXEC is applied, so that every replica takes the same decision: the
// server records what each watched key looked like when WATCH ran (present or not, its ModIndex,
// its expiry), and EXEC's operation carries that as its first command (flag OpWatch). Apply
// compares it with the keys as they are at that point of the log; any difference — the key
// was written (its ModIndex moved), created, deleted, or has expired since — aborts the
// transaction, which then replies with a null array and runs nothing.
//
// The server also marks a watching client dirty as soon as an applied write touches one of its
// keys, as Redis does, and aborts EXEC without proposing it; that also catches a key created and
// deleted again between WATCH and EXEC, which leaves no trace in the records.

const watchName = "__watch"

// OpWatch marks an operation whose first command is the WATCH check.
const OpWatch = 1 << 2

func init() {
	Register(&Command{Name: watchName, Arity: -1, Flags: FlagReadOnly | FlagInternal, Run: func(c *Ctx) {
		c.Err("ERR " + watchName + " is only valid as the first command of EXEC")
	}})
}

// Watched is what WATCH saw of one key.
type Watched struct {
	DB       int // logical database
	Key      []byte
	Exists   bool
	ModIndex uint64
	ExpireAt int64
}

// Observe records what a key looks like now, through a read view.
func Observe(tx *keyspace.Tx, db int, key []byte) (Watched, error) {
	e, err := tx.Peek(key)
	if err != nil {
		return Watched{}, err
	}
	w := Watched{DB: db, Key: append([]byte(nil), key...), Exists: e.Exists()}
	if w.Exists {
		w.ModIndex, w.ExpireAt = e.ModIndex, e.ExpireAt
	}
	return w, nil
}

// WatchArgs encodes watched keys as the first command of an EXEC operation.
func WatchArgs(ws []Watched) [][]byte {
	args := make([][]byte, 0, len(ws)+1)
	args = append(args, []byte(watchName))
	for _, w := range ws {
		b := []byte{byte(w.DB), 0}
		if w.Exists {
			b[1] = 1
		}
		b = binary.BigEndian.AppendUint64(b, w.ModIndex)
		b = binary.BigEndian.AppendUint64(b, uint64(w.ExpireAt))
		args = append(args, append(b, w.Key...))
	}
	return args
}

// watchHolds reports whether every watched key is as it was when WATCH ran.
func (a *Applier) watchHolds(b *pebble.Batch, args [][]byte) bool {
	for _, enc := range args[1:] {
		if len(enc) < 18 || int(enc[0]) >= keyspace.NumDBs {
			return false
		}
		db, existed := int(enc[0]), enc[1] == 1
		mod := binary.BigEndian.Uint64(enc[2:])
		key := enc[18:]
		a.resetTx(b, a.state.PendingPhysical(db))
		e, err := a.tx.Peek(key)
		if err != nil || e.Exists() != existed || (existed && e.ModIndex != mod) {
			return false
		}
	}
	return true
}
