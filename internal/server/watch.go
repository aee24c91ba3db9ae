package server

import (
	"sync"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/shard"
	"github.com/cairn-db/cairn/internal/slot"
)

// WATCH on the server side: what each client saw of its watched keys (sent with EXEC and checked
// at apply, see command/watch.go), and a registry of who watches what, so an applied write marks
// its watchers dirty at once, as Redis's touchWatchedKey does.

// watchRegistry maps watched keys (by physical database) to the clients watching them.
type watchRegistry struct {
	mu   sync.Mutex
	keys map[string]map[*Client]struct{}
	n    atomic.Int64 // number of watched keys, to skip the lock when nobody watches
}

func watchKey(phys byte, key []byte) string { return string(append([]byte{phys}, key...)) }

func (r *watchRegistry) add(phys byte, key []byte, cl *Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]map[*Client]struct{}{}
	}
	k := watchKey(phys, key)
	set := r.keys[k]
	if set == nil {
		set = map[*Client]struct{}{}
		r.keys[k] = set
		r.n.Add(1)
	}
	set[cl] = struct{}{}
}

func (r *watchRegistry) remove(phys byte, key []byte, cl *Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := watchKey(phys, key)
	if set := r.keys[k]; set != nil {
		delete(set, cl)
		if len(set) == 0 {
			delete(r.keys, k)
			r.n.Add(-1)
		}
	}
}

// touched marks the watchers of modified keys dirty; flushed databases and a changed database
// map (SWAPDB) mark every watcher of the affected databases.
func (r *watchRegistry) touched(eff *keyspace.Effects, remapped bool) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if remapped || len(eff.Flushed) > 0 {
		for k, set := range r.keys {
			if remapped || containsByte(eff.Flushed, k[0]) {
				for cl := range set {
					cl.watchDirty.Store(true)
				}
			}
		}
	}
	for _, m := range eff.Modified {
		for cl := range r.keys[watchKey(m.DB, m.Key)] {
			cl.watchDirty.Store(true)
		}
	}
}

func containsByte(bs []byte, b byte) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

func cmdWatch(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if cl.multi {
		w.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	h := cl.target
	if h == nil {
		w.Error("ERR WATCH found no shard to read the keys from")
		return
	}
	if s.cluster != nil {
		for _, k := range args[1:] {
			cl.watchSlot = joinSlot(cl.watchSlot, slot.KeySlot(k))
		}
	}
	var tx keyspace.Tx
	v := h.sh.Acquire()
	defer v.Release()
	shard.PointTx(&tx, v, cl.db, nowMs())
	phys := tx.DB()
	for _, key := range args[1:] {
		seen, err := command.Observe(&tx, cl.db, key)
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		cl.watched = append(cl.watched, watched{Watched: seen, phys: phys})
		s.watches.add(phys, key, cl)
	}
	w.OK()
}

func cmdUnwatch(s *Server, cl *Client, args [][]byte) {
	s.unwatchAll(cl)
	cl.loop.w.OK()
}

// unwatchAll forgets cl's watched keys (after EXEC, DISCARD, UNWATCH, RESET, or a disconnect).
func (s *Server) unwatchAll(cl *Client) {
	for _, wk := range cl.watched {
		s.watches.remove(wk.phys, wk.Key, cl)
	}
	cl.watched = nil
	cl.watchSlot = noSlot
	cl.watchDirty.Store(false)
}

// watched is one key a client watches.
type watched struct {
	command.Watched
	phys byte
}

func init() {
	registerLocal("watch", cmdWatch)
	registerLocal("unwatch", cmdUnwatch)
}
