package keyspace

import "unsafe"

// arena hands out copies of small byte strings from large chunks, so that apply's per-batch
// bookkeeping (the overlay's records, the effects' keys) costs no allocation per write. What it
// hands out stays valid until reset; reset reuses the last chunk, so nothing it handed out may
// be kept past the batch. Chunks outgrown are left to the garbage collector with whatever still
// points into them.
type arena struct{ buf []byte }

const (
	arenaChunk = 64 << 10
	// arenaMax is the largest copy taken from a chunk; bigger ones get their own allocation.
	arenaMax = 4 << 10
)

// copy returns a copy of b whose capacity ends at its length (an append to it reallocates).
func (a *arena) copy(b []byte) []byte {
	n := len(b)
	if n == 0 {
		return b[:0:0] // nil stays nil, empty stays empty
	}
	if n > arenaMax {
		return append(make([]byte, 0, n), b...)
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, arenaChunk)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// str is copy as a string, for a map key that lives no longer than the arena's batch.
func (a *arena) str(b []byte) string {
	c := a.copy(b)
	if len(c) == 0 {
		return ""
	}
	return unsafe.String(&c[0], len(c))
}

// reset makes the arena's memory reusable: everything it handed out is dead.
func (a *arena) reset() { a.buf = a.buf[:0] }

// overlayMap maps byte-string keys to values for one batch with no allocation per write once
// warm: keys are copied into an arena and the map indexes a slice of entries, so setting a key
// already present (a map assignment would allocate its key again) touches only the slice.
type overlayMap struct {
	idx  map[string]int
	ents []overlayEnt
}

type overlayEnt struct {
	key  string
	val  []byte
	gone bool // dropped (dropIf): not in idx any more
}

func newOverlayMap() overlayMap { return overlayMap{idx: map[string]int{}} }

func (m *overlayMap) get(k []byte) ([]byte, bool) {
	i, ok := m.idx[string(k)]
	if !ok {
		return nil, false
	}
	return m.ents[i].val, true
}

// set maps k to v; a new key is copied into mem.
func (m *overlayMap) set(mem *arena, k, v []byte) {
	if i, ok := m.idx[string(k)]; ok {
		m.ents[i].val = v
		return
	}
	key := mem.str(k)
	m.idx[key] = len(m.ents)
	m.ents = append(m.ents, overlayEnt{key: key, val: v})
}

// dropIf removes the keys drop selects.
func (m *overlayMap) dropIf(drop func(key string) bool) {
	for i := range m.ents {
		if e := &m.ents[i]; !e.gone && drop(e.key) {
			e.gone = true
			delete(m.idx, e.key)
		}
	}
}

// each calls f for every key present, in the order they were first set.
func (m *overlayMap) each(f func(key string, v []byte)) {
	for i := range m.ents {
		if e := &m.ents[i]; !e.gone {
			f(e.key, e.val)
		}
	}
}

func (m *overlayMap) reset() {
	clear(m.idx)
	clear(m.ents)
	m.ents = m.ents[:0]
}
