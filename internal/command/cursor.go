package command

import (
	"strconv"
	"sync"
)

// SCAN-family cursors. Redis's cursor is a position in a hash table that a client hands back as
// an integer; ours is a position in byte order (the next element or key to visit), which does not
// fit in 64 bits. So a cursor names an entry of a table that remembers where to resume: the
// entry's scope (the collection version or database it belongs to) and the resume bytes.
//
// The table is a ring; a cursor older than cursorSlots later cursors, or one from before a
// restart or from another node, is not found, and the scan restarts from the beginning. Elements
// may then be returned again (SCAN allows duplicates), but none present throughout is missed.

const cursorSlots = 1 << 14

type cursorEntry struct {
	id     uint64
	scope  string
	resume []byte
}

type cursorTable struct {
	mu    sync.Mutex
	next  uint64
	slots [cursorSlots]cursorEntry
}

var cursors = cursorTable{next: 1}

// saveCursor remembers that the scan of scope resumes at resume and returns the cursor for it.
func saveCursor(scope string, resume []byte) uint64 {
	t := &cursors
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.next
	t.next++
	if t.next >= 1<<62 {
		t.next = 1
	}
	s := &t.slots[id%cursorSlots]
	s.id, s.scope = id, scope
	s.resume = append(s.resume[:0], resume...)
	return id
}

// loadCursor returns where the scan of scope named by id resumes; ok is false when the cursor
// is unknown, and the scan should start over.
func loadCursor(id uint64, scope string) (resume []byte, ok bool) {
	t := &cursors
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.slots[id%cursorSlots]
	if s.id != id || s.scope != scope {
		return nil, false
	}
	return append([]byte(nil), s.resume...), true
}

// parseCursor parses a SCAN cursor as Redis does (an unsigned 64-bit decimal).
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}
