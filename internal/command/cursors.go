package command

import (
	"container/list"
	"math/rand/v2"
	"sync"
)

// ScanCursors maps SCAN cursors to the position where each scan resumes. It serves SCAN and
// can serve the collection scans (HSCAN, SSCAN, ZSCAN) too: each cursor carries a scope (which
// keyspace or collection it walks), and a cursor presented for another scope is unknown.
//
// Redis's cursor is a position in its hash table; cairn's keys are ordered bytes, and a scan
// resumes at a key, which does not fit in the 64-bit integer clients expect (go-redis parses
// cursors as uint64). So the server keeps the resume keys and hands out random 63-bit ids for
// them. The table is shared by every connection (a cursor may be continued on any connection, as
// in Redis) and bounded: the least recently used cursors are dropped beyond maxCursors entries or
// maxBytes of keys. A cursor that is unknown — dropped, issued before a restart, or made up —
// starts the scan over from the beginning, so the scan still returns every key that was present
// throughout, possibly with more duplicates than Redis would give.
type ScanCursors struct {
	mu       sync.Mutex
	ids      map[uint64]*list.Element
	lru      list.List // *cursor, most recently used first
	bytes    int
	maxIDs   int
	maxBytes int
}

type cursor struct {
	id    uint64
	scope string
	key   []byte // never modified after insertion, so lookups may share it
}

// Default bounds of the cursor table: enough for thousands of concurrent scans.
const (
	defaultMaxCursors     = 1 << 16
	defaultMaxCursorBytes = 64 << 20
)

// CursorBits bounds cursor values: they are below 2^CursorBits.
const CursorBits = 47

// NewScanCursors returns an empty table that keeps at most maxIDs cursors and maxBytes of keys
// (0 for the defaults).
func NewScanCursors(maxIDs, maxBytes int) *ScanCursors {
	if maxIDs <= 0 {
		maxIDs = defaultMaxCursors
	}
	if maxBytes <= 0 {
		maxBytes = defaultMaxCursorBytes
	}
	return &ScanCursors{ids: map[uint64]*list.Element{}, maxIDs: maxIDs, maxBytes: maxBytes}
}

// Put stores the resume position of a scan of scope (the table keeps key; the caller must not
// modify it) and returns a new cursor for it: never 0, which means "start" and "done", and below
// 2^CursorBits, so that clients parsing cursors as signed integers cope too and a cluster node
// can add the shard to it (SCAN over several shards).
func (t *ScanCursors) Put(scope string, key []byte) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var id uint64
	for {
		id = rand.Uint64() >> (64 - CursorBits)
		if _, taken := t.ids[id]; id != 0 && !taken {
			break
		}
	}
	t.ids[id] = t.lru.PushFront(&cursor{id: id, scope: scope, key: key})
	t.bytes += len(scope) + len(key)
	// Evict down to the bounds, but keep the cursor just made even if its key alone is over
	// them: dropping it would make its scan start over forever.
	for t.lru.Len() > 1 && (t.lru.Len() > t.maxIDs || t.bytes > t.maxBytes) {
		old := t.lru.Remove(t.lru.Back()).(*cursor)
		delete(t.ids, old.id)
		t.bytes -= len(old.scope) + len(old.key)
	}
	return id
}

// Get returns the resume position of a cursor of scope, or ok=false if the table does not know
// it (for that scope). The key must not be modified.
func (t *ScanCursors) Get(id uint64, scope string) (key []byte, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.ids[id]
	if !ok || el.Value.(*cursor).scope != scope {
		return nil, false
	}
	t.lru.MoveToFront(el)
	return el.Value.(*cursor).key, true
}

// Len is the number of cursors kept.
func (t *ScanCursors) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}
