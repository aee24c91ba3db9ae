package server

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// Client-side caching (CLIENT TRACKING), as Redis does it. In the default mode the server
// remembers which clients read which keys (the tracking table, keyed by key name alone, across
// databases, as Redis's); when a committed batch modifies a key, every client that read it gets
// one invalidation message and forgets it, until it reads the key again. In BCAST mode a client
// names key prefixes instead and hears about every modified key under them, with no table.
//
// Reads record their keys before they run, not after: a write that commits after the read saw
// the old value then finds the record and invalidates it. (Recording after the read would let a
// write commit, find nothing to invalidate, and leave the client caching the old value.)
//
// Invalidations go out from the apply goroutine after each committed batch, as pushes
// (push.go): RESP3 clients get ">2 invalidate [keys]" on their own connection; a client may
// instead redirect them to another connection, which in RESP2 receives them as messages of
// the __redis__:invalidate channel if it is subscribed to anything.

// trackMode is a client's tracking options; immutable once published.
type trackMode struct {
	bcast, optin, optout, noloop bool
	redirect                     int64
	prefixes                     []string
}

// tracking is a client's tracking state.
type tracking struct {
	mode        atomic.Pointer[trackMode] // nil when tracking is off
	brokenRedir atomic.Bool

	// Owned by the client's loop: CLIENT CACHING's flag, which lasts until the end of the next
	// command that is not CLIENT (or of the transaction), and whether that command has begun.
	caching, armed bool
}

// trackShards spreads the tracking table over locks so loops recording reads rarely contend.
const trackShards = 16

// trackingTable is the server's record of tracked keys and BCAST prefixes.
type trackingTable struct {
	shards [trackShards]struct {
		mu   sync.Mutex
		keys map[string]*idSet
	}
	keys, items atomic.Int64
	clients     atomic.Int64
	evictShard  atomic.Uint32

	prefixMu sync.RWMutex
	prefixes map[string]map[*Client]struct{}
	nprefix  atomic.Int64
}

// idSet is the clients that read one key: a short slice, a map when it grows.
type idSet struct {
	small []int64
	big   map[int64]struct{}
}

const idSetSmall = 16

func (s *idSet) add(id int64) bool {
	if s.big != nil {
		if _, ok := s.big[id]; ok {
			return false
		}
		s.big[id] = struct{}{}
		return true
	}
	for _, x := range s.small {
		if x == id {
			return false
		}
	}
	if len(s.small) < idSetSmall {
		s.small = append(s.small, id)
		return true
	}
	s.big = make(map[int64]struct{}, 2*idSetSmall)
	for _, x := range s.small {
		s.big[x] = struct{}{}
	}
	s.small = nil
	s.big[id] = struct{}{}
	return true
}

func (s *idSet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}

func (s *idSet) each(f func(id int64)) {
	if s.big != nil {
		for id := range s.big {
			f(id)
		}
		return
	}
	for _, id := range s.small {
		f(id)
	}
}

func newTrackingTable() *trackingTable {
	t := &trackingTable{prefixes: map[string]map[*Client]struct{}{}}
	for i := range t.shards {
		t.shards[i].keys = map[string]*idSet{}
	}
	return t
}

func shardOf(key []byte) int {
	h := uint32(2166136261)
	for _, c := range key {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % trackShards)
}

// remember records that client id read key.
func (t *trackingTable) remember(id int64, key []byte) {
	sh := &t.shards[shardOf(key)]
	sh.mu.Lock()
	set := sh.keys[string(key)]
	if set == nil {
		set = &idSet{}
		sh.keys[string(key)] = set
		t.keys.Add(1)
	}
	if set.add(id) {
		t.items.Add(1)
	}
	sh.mu.Unlock()
}

// take removes key's entry and returns the clients that read it.
func (t *trackingTable) take(key []byte) *idSet {
	sh := &t.shards[shardOf(key)]
	sh.mu.Lock()
	set := sh.keys[string(key)]
	if set != nil {
		delete(sh.keys, string(key))
		t.keys.Add(-1)
		t.items.Add(-int64(set.len()))
	}
	sh.mu.Unlock()
	return set
}

// takeAny removes some key's entry, for eviction: Go's map order makes it an arbitrary one.
func (t *trackingTable) takeAny() (string, *idSet) {
	for range trackShards {
		sh := &t.shards[t.evictShard.Add(1)%trackShards]
		sh.mu.Lock()
		for k, set := range sh.keys {
			delete(sh.keys, k)
			t.keys.Add(-1)
			t.items.Add(-int64(set.len()))
			sh.mu.Unlock()
			return k, set
		}
		sh.mu.Unlock()
	}
	return "", nil
}

// clear empties the table (FLUSHDB, FLUSHALL).
func (t *trackingTable) clear() {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, set := range sh.keys {
			t.keys.Add(-1)
			t.items.Add(-int64(set.len()))
		}
		sh.keys = map[string]*idSet{}
		sh.mu.Unlock()
	}
}

// trackRead records the keys of a read by a tracking client (not in BCAST mode), honouring
// OPTIN and OPTOUT. It runs on cl's loop, before the read.
func (s *Server) trackRead(cl *Client, cmd *command.Command, args [][]byte) {
	m := cl.ps.trk.mode.Load()
	if m == nil || m.bcast || cmd.Flags&command.FlagPubSub != 0 {
		return
	}
	if (m.optin && !cl.ps.trk.caching) || (m.optout && cl.ps.trk.caching) {
		return
	}
	pos := cmd.KeyPositions(args)
	if len(pos) == 0 && len(cmd.KeySpecs) > 0 {
		// Keys only the key specs find (ZUNION, SINTERCARD: a key count, then the keys).
		keys, _ := cmd.GetKeys(args)
		for _, k := range keys {
			pos = append(pos, k.Pos)
		}
	}
	for _, i := range pos {
		s.trk.remember(cl.id, args[i])
	}
	s.limitTracking(cl.loop)
}

// trackQueued records the keys of the reads queued in a transaction about to be executed.
func (s *Server) trackQueued(cl *Client) {
	if cl.ps.trk.mode.Load() == nil {
		return
	}
	for _, q := range cl.queued {
		if q.cmd.Flags&command.FlagReadOnly != 0 {
			s.trackRead(cl, q.cmd, q.args)
		}
	}
}

// beginCommand runs as each command starts, keeping CLIENT CACHING's flag for exactly one
// command: it is cleared when a command starts after one that was not CLIENT, outside a
// transaction.
func (t *tracking) beginCommand(isClient, inMulti bool) {
	if !t.caching {
		return
	}
	if t.armed && !inMulti {
		t.caching, t.armed = false, false
	}
	if !isClient {
		t.armed = true
	}
}

// limitTracking keeps the table within tracking-table-max-keys, invalidating arbitrary keys
// as Redis does (at most a bounded effort per call; the cron finishes the work). from is the
// caller's loop, nil off the loops.
func (s *Server) limitTracking(from *loop) {
	max := s.cfg.live.trackingMaxKeys.Load()
	if max == 0 || s.trk.keys.Load() <= max {
		return
	}
	var scratch []byte
	for effort := 100; effort > 0 && s.trk.keys.Load() > max; effort-- {
		key, set := s.trk.takeAny()
		if set == nil {
			return
		}
		s.invalidateReaders([]byte(key), set, 0, from, &scratch)
	}
}

// invalidateApplied sends the invalidations a committed batch calls for. It runs on the apply
// goroutine.
func (s *Server) invalidateApplied(eff *keyspace.Effects) {
	if len(eff.Flushed) == 0 && (s.trk.keys.Load() == 0 && s.trk.nprefix.Load() == 0) {
		return
	}
	scratch := &s.applyNotifier.frame
	var bcast map[bcastTarget]*bcastKeys
	for _, m := range eff.Modified {
		if set := s.trk.take(m.Key); set != nil {
			s.invalidateReaders(m.Key, set, int64(m.Client), nil, scratch)
		}
		if s.trk.nprefix.Load() > 0 {
			bcast = s.collectBcast(bcast, m)
		}
	}
	if len(eff.Flushed) > 0 {
		s.invalidateAll(scratch)
	}
	s.sendBcast(bcast, scratch)
}

// invalidateReaders tells the clients in set that key changed, but not a NOLOOP client whose
// own write changed it (by is the writer's ID).
func (s *Server) invalidateReaders(key []byte, set *idSet, by int64, from *loop, scratch *[]byte) {
	keys := [][]byte{key}
	set.each(func(id int64) {
		target := s.clientByID(id)
		if target == nil {
			return
		}
		m := target.ps.trk.mode.Load()
		if m == nil || m.bcast || (m.noloop && id == by) {
			return // stopped tracking, or switched to BCAST, since it read the key
		}
		s.sendInvalidation(target, m, keys, id == by, from, scratch)
	})
}

// invalidateAll tells every tracking client to drop its whole cache and clears the table.
func (s *Server) invalidateAll(scratch *[]byte) {
	s.trk.clear()
	if s.trk.clients.Load() == 0 {
		return
	}
	for _, cl := range s.snapshotClients() {
		if m := cl.ps.trk.mode.Load(); m != nil {
			s.sendInvalidation(cl, m, nil, false, nil, scratch)
		}
	}
}

type bcastTarget struct {
	cl     *Client
	prefix string
}

// bcastKeys is what one BCAST client hears about one prefix: the keys, and whether it wrote
// one of them itself.
type bcastKeys struct {
	keys []string
	self bool
}

// collectBcast adds the BCAST clients whose prefixes cover a modified key.
func (s *Server) collectBcast(acc map[bcastTarget]*bcastKeys, m keyspace.KeyRef) map[bcastTarget]*bcastKeys {
	s.trk.prefixMu.RLock()
	defer s.trk.prefixMu.RUnlock()
	for p, clients := range s.trk.prefixes {
		if !strings.HasPrefix(string(m.Key), p) {
			continue
		}
		for cl := range clients {
			if md := cl.ps.trk.mode.Load(); md == nil || (md.noloop && uint64(cl.id) == m.Client) {
				continue
			}
			if acc == nil {
				acc = map[bcastTarget]*bcastKeys{}
			}
			t := bcastTarget{cl, p}
			bk := acc[t]
			if bk == nil {
				bk = &bcastKeys{}
				acc[t] = bk
			}
			bk.keys = append(bk.keys, string(m.Key))
			bk.self = bk.self || uint64(cl.id) == m.Client
		}
	}
	return acc
}

// sendBcast sends each BCAST client one message per prefix with the batch's keys under it,
// sorted and without repeats, as Redis sends them once per event loop iteration.
func (s *Server) sendBcast(acc map[bcastTarget]*bcastKeys, scratch *[]byte) {
	if len(acc) == 0 {
		return
	}
	targets := make([]bcastTarget, 0, len(acc))
	for t := range acc {
		targets = append(targets, t)
	}
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].prefix != targets[j].prefix {
			return targets[i].prefix < targets[j].prefix
		}
		return targets[i].cl.id < targets[j].cl.id
	})
	for _, t := range targets {
		bk := acc[t]
		names := bk.keys
		sort.Strings(names)
		keys := make([][]byte, 0, len(names))
		for i, n := range names {
			if i == 0 || n != names[i-1] {
				keys = append(keys, []byte(n))
			}
		}
		if m := t.cl.ps.trk.mode.Load(); m != nil {
			s.sendInvalidation(t.cl, m, keys, bk.self, nil, scratch)
		}
	}
}

// sendInvalidation sends target (or the client it redirects to) one invalidation message for
// keys; nil keys mean everything (a flush). self says target wrote a key itself: its own
// invalidation then waits for its loop's next event, which delivers the write's reply first,
// so the reply comes before the invalidation as in Redis. from is the caller's loop, nil off
// the loops. Safe from any goroutine.
func (s *Server) sendInvalidation(target *Client, m *trackMode, keys [][]byte, self bool, from *loop, scratch *[]byte) {
	dest := target
	if m.redirect != 0 {
		dest = s.clientByID(m.redirect)
		if dest == nil {
			target.ps.trk.brokenRedir.Store(true)
			if target.ps.proto.Load() >= 3 {
				b := append((*scratch)[:0], ">2\r\n$21\r\ntracking-redir-broken\r\n"...)
				b = appendInt(b, m.redirect)
				*scratch = b
				s.push(target, b, from)
			}
			return
		}
	}
	b := (*scratch)[:0]
	switch {
	case dest.ps.proto.Load() >= 3:
		b = append(b, ">2\r\n$10\r\ninvalidate\r\n"...)
	case m.redirect != 0 && dest.ps.subscribed():
		b = append(b, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"...)
	default:
		return // RESP2 without a subscribed redirect: nowhere to send it, as in Redis
	}
	if keys == nil {
		// The null is in the tracking client's protocol, as Redis writes it.
		if target.ps.proto.Load() >= 3 {
			b = append(b, "_\r\n"...)
		} else {
			b = append(b, "$-1\r\n"...)
		}
	} else {
		b = append(b, '*')
		b = appendIntLine(b, int64(len(keys)))
		for _, k := range keys {
			b = appendBulk(b, k)
		}
	}
	*scratch = b
	if self && dest == target {
		from = dest.loop // queue without waking the loop: the write's reply will
	}
	s.push(dest, b, from)
}

func appendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	return appendIntLine(b, n)
}

func appendIntLine(b []byte, n int64) []byte {
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

func (s *Server) clientByID(id int64) *Client {
	s.clientsMu.Lock()
	cl := s.clients[id]
	s.clientsMu.Unlock()
	return cl
}

// enableTracking turns tracking on with mode, registering BCAST prefixes.
func (s *Server) enableTracking(cl *Client, m *trackMode) {
	old := cl.ps.trk.mode.Load()
	if old == nil {
		s.trk.clients.Add(1)
	}
	if m.bcast {
		// Prefixes accumulate across CLIENT TRACKING ON calls in BCAST mode.
		if old != nil && old.bcast {
			m.prefixes = append(append([]string(nil), old.prefixes...), m.prefixes...)
		}
		s.trk.prefixMu.Lock()
		for _, p := range m.prefixes {
			set := s.trk.prefixes[p]
			if set == nil {
				set = map[*Client]struct{}{}
				s.trk.prefixes[p] = set
				s.trk.nprefix.Add(1)
			}
			set[cl] = struct{}{}
		}
		s.trk.prefixMu.Unlock()
	}
	cl.ps.trk.brokenRedir.Store(false)
	cl.ps.trk.mode.Store(m)
}

// disableTracking turns tracking off. Keys the client read stay in the table until they are
// invalidated; the client is skipped then, as in Redis.
func (s *Server) disableTracking(cl *Client) {
	old := cl.ps.trk.mode.Swap(nil)
	if old == nil {
		return
	}
	s.trk.clients.Add(-1)
	cl.ps.trk.caching, cl.ps.trk.armed = false, false
	cl.ps.trk.brokenRedir.Store(false)
	if old.bcast {
		s.trk.prefixMu.Lock()
		for _, p := range old.prefixes {
			if set := s.trk.prefixes[p]; set != nil {
				delete(set, cl)
				if len(set) == 0 {
					delete(s.trk.prefixes, p)
					s.trk.nprefix.Add(-1)
				}
			}
		}
		s.trk.prefixMu.Unlock()
	}
}
