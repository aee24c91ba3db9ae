package keyspace

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/cairn-db/cairn/internal/slot"
	"github.com/cockroachdb/pebble/v2"
)

// Tx is one command's view of one database: reads go to a reader (the engine, a snapshot, or an
// indexed batch), writes to a batch. A read-only Tx has no batch.
//
// A Tx is cheap and meant to be reused: the apply loop and each event loop keep one and Reset it
// per command.
type Tx struct {
	r   pebble.Reader
	w   *pebble.Batch
	db  byte
	Now int64 // Unix ms: the operation's time in apply, the wall clock for reads

	// Versions hands out the counter part of collection versions (NewVersion adds the slot);
	// set in apply. It never returns the same value twice in one shard.
	Versions func() uint64
	// Index is the log index of the operation being applied; records written get it as their
	// ModIndex. Zero outside apply.
	Index uint64
	// Effects collects what writes did besides changing data; set in apply.
	Effects *Effects
	// ChunkStrings lets Put store big strings in chunks (chunks.go); set in apply for
	// operations of a cluster version that has them. Reset clears it.
	ChunkStrings bool

	// Hits and Misses count reads of live and missing keys by read-only views, for INFO.
	Hits, Misses int64
	// OnMiss, if set, is called with each key a read-only view finds missing (keyspace 'm'
	// events). The key is only valid during the call.
	OnMiss func(key []byte)

	// cache is consulted for metadata when set: by apply, and by readers that read the engine
	// directly (never by readers over a snapshot). overlay holds apply's uncommitted writes.
	cache   *Cache
	overlay *Overlay
	// filters says which keys certainly do not exist.
	filters *Filters
	// access records key accesses for OBJECT IDLETIME and FREQ (access.go); NoTouch, set by
	// commands that inspect a key without using it (OBJECT, TYPE, TTL), leaves it alone.
	access  *Access
	NoTouch bool

	kbuf   []byte
	kb2    []byte
	vbuf   []byte
	sbuf   []byte // ZPut's encoded score
	ekey   []byte // element keys built by collection code
	peeked Entry
	// touched is set when the last record read recorded its access in the cache.
	touched bool
}

// NewTx returns a Tx over r, writing into w (nil for read-only), for physical database db.
func NewTx(r pebble.Reader, w *pebble.Batch, db byte, now int64) *Tx {
	return &Tx{r: r, w: w, db: db, Now: now}
}

// Reset points the Tx at another reader, batch, database and time, keeping its buffers. The
// cache is switched off; UseCache turns it on.
func (tx *Tx) Reset(r pebble.Reader, w *pebble.Batch, db byte, now int64) {
	tx.r, tx.w, tx.db, tx.Now = r, w, db, now
	tx.ChunkStrings = false
	tx.cache, tx.overlay, tx.filters = nil, nil, nil
	tx.access, tx.NoTouch = nil, false
}

// UseCache makes lookups consult c. A Tx that writes must also pass the batch's overlay; a Tx
// that reads over a snapshot must not use the cache at all.
func (tx *Tx) UseCache(c *Cache, o *Overlay) {
	if tx.w != nil && o == nil {
		panic("keyspace: a writing Tx needs an overlay to use the cache")
	}
	tx.cache, tx.overlay = c, o
	if c != nil {
		tx.access = c.Access
	}
}

// UseAccess makes lookups record key accesses in a (readers over a snapshot use no cache but
// still access keys).
func (tx *Tx) UseAccess(a *Access) { tx.access = a }

// Overlay is the batch's uncommitted records, nil outside apply.
func (tx *Tx) Overlay() *Overlay { return tx.overlay }

// Access is the access table lookups record in, nil if none.
func (tx *Tx) Access() *Access { return tx.access }

// UseFilters makes lookups skip the engine for keys the filter rules out. Every Tx that creates
// keys must use it, so that new keys enter the filter.
func (tx *Tx) UseFilters(fs *Filters) { tx.filters = fs }

// DB is the physical database number.
func (tx *Tx) DB() byte { return tx.db }

// SetDB switches the Tx to another physical database (for MOVE, COPY DB).
func (tx *Tx) SetDB(db byte) { tx.db = db }

// Reader is the Tx's reader, for callers that iterate element records.
func (tx *Tx) Reader() pebble.Reader { return tx.r }

// Batch is the Tx's batch, nil when read-only.
func (tx *Tx) Batch() *pebble.Batch { return tx.w }

// Writable reports whether the Tx can write.
func (tx *Tx) Writable() bool { return tx.w != nil }

// Entry is what Lookup found at a key. Meta describes the live record; when the key is missing or
// expired, Meta.Type is TypeNone. The fields behind it remember the record on disk, expired or
// not, so that a write can remove what it replaces.
type Entry struct {
	Meta
	onDisk     Type
	oldExpire  int64
	oldVersion uint64
	// oldFieldExp is the on-disk record's earliest hash field expiry (0 if none), which names
	// its field expiry index entry.
	oldFieldExp int64
}

// hadElems reports whether the record on disk has element records: a collection, or a chunked
// string (whose version is never 0, while an inline string's always is).
func (e *Entry) hadElems() bool {
	return e.onDisk.IsCollection() || e.onDisk == TypeString && e.oldVersion != 0
}

// Exists reports whether the key holds a live value.
func (e *Entry) Exists() bool { return e.Type != TypeNone }

// Lookup reads the metadata of key. The returned entry owns its memory.
func (tx *Tx) Lookup(key []byte) (Entry, error) {
	var e Entry
	err := tx.lookup(key, &e, true)
	if err == nil && e.expiredOnDisk() && tx.w != nil {
		err = tx.expireOnAccess(key, &e)
	}
	return e, err
}

func (e *Entry) expiredOnDisk() bool { return e.onDisk != TypeNone && e.Type == TypeNone }

// expireOnAccess removes an expired record a write has come across, as Redis deletes a key it
// finds expired on access: the 'expired' event fires and the key counts as modified before the
// command goes on to treat it as missing.
func (tx *Tx) expireOnAccess(key []byte, e *Entry) error {
	if _, err := tx.Delete(key, e); err != nil {
		return err
	}
	tx.Notify('x', "expired", key)
	tx.modified(key)
	return nil
}

// lookup fills e; with copyVal the value is copied, otherwise it aliases memory that stays valid
// until the next call on tx (or immutable cache memory).
func (tx *Tx) lookup(key []byte, e *Entry, copyVal bool) error {
	tx.kbuf = MetaKey(tx.kbuf[:0], tx.db, key)
	rec, found, err := tx.record(tx.kbuf)
	if err != nil {
		return err
	}
	if !found {
		*e = Entry{}
		if tx.w == nil {
			tx.miss(key)
		}
		return nil
	}
	if copyVal {
		if tx.w != nil && tx.overlay != nil {
			rec = tx.overlay.mem.copy(rec) // a write's entry lives no longer than its batch
		} else {
			rec = append([]byte(nil), rec...)
		}
	}
	if err := decodeMeta(rec, &e.Meta); err != nil {
		return err
	}
	e.onDisk, e.oldExpire, e.oldVersion = e.Type, e.ExpireAt, e.Version
	e.oldFieldExp = fieldMinOf(&e.Meta)
	if e.ExpireAt != 0 && e.ExpireAt <= tx.Now {
		e.Meta = Meta{}
	}
	if e.Type != TypeNone && tx.access != nil && !tx.NoTouch && !tx.touched {
		tx.access.Touch(tx.kbuf, tx.Now)
	}
	if tx.w == nil {
		if e.Type != TypeNone {
			tx.Hits++
		} else {
			tx.miss(key)
		}
	}
	return nil
}

func (tx *Tx) miss(key []byte) {
	tx.Misses++
	if tx.OnMiss != nil {
		tx.OnMiss(key)
	}
}

// record reads a metadata record: from the batch's own writes, the cache, or the engine. The
// returned bytes must not be modified; they stay valid until the next call on tx.
//
// Reading a record through the cache records the access too, under the same lock; tx.touched
// says whether it did.
func (tx *Tx) record(mk []byte) ([]byte, bool, error) {
	useCache := tx.cache != nil
	tx.touched = false
	touch := useCache && tx.access == tx.cache.Access && tx.access != nil && !tx.NoTouch
	if tx.overlay != nil {
		if rec, ok := tx.overlay.writes.get(mk); ok {
			return rec, rec != nil, nil
		}
		if tx.overlay.flushDB[tx.db] {
			useCache = false // the cache still holds what the uncommitted FLUSHDB removed
		}
	}
	var gen uint64
	if useCache {
		rec, ok, g := tx.cache.get(mk, touch, tx.Now)
		if ok {
			tx.touched = touch
			return rec, rec != nil, nil
		}
		gen = g
	}
	if f := tx.filters.Active(); f != nil && !f.MayContain(mk) {
		return nil, false, nil
	}
	v, closer, err := tx.r.Get(mk)
	if err == pebble.ErrNotFound {
		if useCache {
			tx.cache.fill(mk, nil, false, gen, false, tx.Now)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if useCache {
		rec, cached := tx.cache.fill(mk, v, true, gen, touch, tx.Now)
		tx.touched = touch
		if cached {
			closer.Close()
			return rec, true, nil
		}
	}
	tx.vbuf = append(tx.vbuf[:0], v...)
	closer.Close()
	return tx.vbuf, true, nil
}

// Peek reads the metadata of key without copying: the entry's Value and Extra are valid only
// until the next call on tx. For hot read paths (GET, MGET, EXISTS, TTL).
func (tx *Tx) Peek(key []byte) (*Entry, error) {
	e := &tx.peeked
	err := tx.lookup(key, e, false)
	if err == nil && e.expiredOnDisk() && tx.w != nil {
		err = tx.expireOnAccess(key, e)
	}
	return e, err
}

// Put writes the metadata of key, replacing what e was looked up with: a replaced collection's
// elements are dropped when the type or version changes, and the expiry index follows
// ExpireAt. Afterwards e describes the new record.
func (tx *Tx) Put(key []byte, e *Entry) error {
	if e.Type == TypeNone {
		panic("keyspace: Put of a record without a type")
	}
	if e.Type == TypeString {
		if err := tx.putString(key, e); err != nil {
			return err
		}
	} else {
		e.Chunked = false
	}
	if e.hadElems() && (e.onDisk != e.Type || e.oldVersion != e.Version) {
		if err := tx.dropElements(key, e.onDisk, e.oldVersion); err != nil {
			return err
		}
	}
	if e.oldExpire != e.ExpireAt {
		if e.oldExpire != 0 {
			tx.kb2 = ExpireKey(tx.kb2[:0], e.oldExpire, tx.db, key)
			if err := tx.w.Delete(tx.kb2, nil); err != nil {
				return err
			}
		}
		if e.ExpireAt != 0 {
			tx.kb2 = ExpireKey(tx.kb2[:0], e.ExpireAt, tx.db, key)
			if err := tx.w.Set(tx.kb2, nil, nil); err != nil {
				return err
			}
		}
	}
	fieldExp := fieldMinOf(&e.Meta)
	if err := tx.moveFieldExpire(key, e.oldFieldExp, fieldExp); err != nil {
		return err
	}
	tx.account(e.onDisk != TypeNone, e.oldExpire != 0, true, e.ExpireAt != 0)
	if tx.Index != 0 {
		e.ModIndex = tx.Index
	}
	tx.kbuf = MetaKey(tx.kbuf[:0], tx.db, key)
	if e.onDisk == TypeNone && tx.filters != nil {
		tx.filters.add(tx.kbuf)
	}
	if e.onDisk == TypeNone || (e.oldExpire != 0 && e.oldExpire <= tx.Now) {
		tx.Notify('n', "new", key) // Redis's dbAdd: the key did not exist (or had expired)
	}
	rec, inBatch, err := tx.putMeta(&e.Meta)
	if err != nil {
		return err
	}
	if tx.access != nil && tx.overlay == nil {
		tx.access.Touch(tx.kbuf, tx.Now) // with an overlay, Publish records the access
	}
	if tx.overlay != nil {
		tx.overlay.record(tx.kbuf, rec, tx.Now, inBatch)
	}
	e.onDisk, e.oldExpire, e.oldVersion, e.oldFieldExp = e.Type, e.ExpireAt, e.Version, fieldExp
	tx.modified(key)
	return nil
}

// bigRecord is the size of a string value from which Put writes its record straight into the
// batch instead of encoding it in a buffer of its own first.
const bigRecord = 1 << 20

// putMeta writes the metadata record m under tx.kbuf and returns the record. A big string's
// record is encoded straight into the batch (one copy of the value, not two; a reused buffer
// would also keep the biggest value ever written); the record returned then aliases the
// batch's bytes, which stay as they are until the batch is dropped, and inBatch is true.
// Otherwise it is tx's buffer, valid until the next Put.
func (tx *Tx) putMeta(m *Meta) (rec []byte, inBatch bool, err error) {
	if m.Type != TypeString || m.Chunked || len(m.Value) < bigRecord {
		tx.vbuf = appendMeta(tx.vbuf[:0], m)
		return tx.vbuf, false, tx.w.Set(tx.kbuf, tx.vbuf, nil)
	}
	v := m.Value
	m.Value = nil
	tx.vbuf = appendMeta(tx.vbuf[:0], m)
	m.Value = v
	op := tx.w.SetDeferred(len(tx.kbuf), len(tx.vbuf)+len(v))
	copy(op.Key, tx.kbuf)
	copy(op.Value[copy(op.Value, tx.vbuf):], v)
	return op.Value, true, op.Finish()
}

// Delete removes key and everything under it. It reports whether a live value was removed;
// an expired record is removed too but does not count.
func (tx *Tx) Delete(key []byte, e *Entry) (bool, error) {
	live := e.Type != TypeNone
	if e.onDisk == TypeNone {
		return false, nil
	}
	if e.hadElems() {
		if err := tx.dropElements(key, e.onDisk, e.oldVersion); err != nil {
			return false, err
		}
	}
	if err := tx.deleteMeta(key, e); err != nil {
		return false, err
	}
	if live {
		tx.modified(key)
	}
	return live, nil
}

// deleteMeta removes the metadata record e was looked up from, and its expiry index entries (key
// and hash field), but not a collection's elements (RENAME keeps them under their version). Afterwards e is empty.
func (tx *Tx) deleteMeta(key []byte, e *Entry) error {
	if e.oldExpire != 0 {
		tx.kb2 = ExpireKey(tx.kb2[:0], e.oldExpire, tx.db, key)
		if err := tx.w.Delete(tx.kb2, nil); err != nil {
			return err
		}
	}
	if err := tx.moveFieldExpire(key, e.oldFieldExp, 0); err != nil {
		return err
	}
	tx.account(true, e.oldExpire != 0, false, false)
	tx.kbuf = MetaKey(tx.kbuf[:0], tx.db, key)
	if err := tx.w.Delete(tx.kbuf, nil); err != nil {
		return err
	}
	if tx.overlay != nil {
		tx.overlay.record(tx.kbuf, nil, tx.Now, false)
	}
	*e = Entry{}
	return nil
}

// DeleteKey looks key up and deletes it, reporting whether a live value was removed.
func (tx *Tx) DeleteKey(key []byte) (bool, error) {
	e, err := tx.Lookup(key)
	if err != nil {
		return false, err
	}
	return tx.Delete(key, &e)
}

// dropElements deletes every element record of one version of a collection, in O(1) with range
// deletions.
func (tx *Tx) dropElements(key []byte, t Type, version uint64) error {
	tx.kb2 = ElemPrefix(tx.kb2[:0], tx.db, version)
	if err := tx.w.DeleteRange(tx.kb2, PrefixEnd(tx.kb2), nil); err != nil {
		return err
	}
	if t == TypeZSet {
		tx.kb2 = ScorePrefix(tx.kb2[:0], tx.db, version)
		if err := tx.w.DeleteRange(tx.kb2, PrefixEnd(tx.kb2), nil); err != nil {
			return err
		}
	}
	if t == TypeHash {
		tx.kb2 = FieldTimePrefix(tx.kb2[:0], tx.db, version)
		if err := tx.w.DeleteRange(tx.kb2, PrefixEnd(tx.kb2), nil); err != nil {
			return err
		}
	}
	return nil
}

// NewVersion returns a fresh version for a collection at key. Its top bits are the key's hash
// slot, so the collection's element records sort under that slot (see VersionSlot).
func (tx *Tx) NewVersion(key []byte) uint64 {
	if tx.Versions == nil {
		panic("keyspace: NewVersion outside apply")
	}
	return VersionOf(slot.KeySlot(key), tx.Versions())
}

func (tx *Tx) modified(key []byte) {
	if tx.Effects != nil {
		tx.Effects.modified(tx.db, key)
	}
}

func (tx *Tx) account(hadKey, hadExpire, hasKey, hasExpire bool) {
	if tx.Effects == nil {
		return
	}
	d := &tx.Effects.Counts[tx.db]
	d.Keys += b2i(hasKey) - b2i(hadKey)
	d.Expires += b2i(hasExpire) - b2i(hadExpire)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Touch records that a collection's elements changed while its metadata did not (HSET of an
// existing field, LSET, ZADD of a new score): the metadata is rewritten so its ModIndex moves,
// which WATCH relies on, and the key is reported modified.
func (tx *Tx) Touch(key []byte) error {
	var e Entry
	if err := tx.lookup(key, &e, true); err != nil {
		return err
	}
	if !e.Exists() {
		tx.modified(key)
		return nil
	}
	return tx.Put(key, &e)
}

// Notify records a keyspace event for notifications.
func (tx *Tx) Notify(class byte, event string, key []byte) {
	if tx.Effects != nil {
		tx.Effects.notify(tx.db, class, event, key)
	}
}

// ElemKey appends the key of one element of the collection e at key.
func (tx *Tx) ElemKey(dst []byte, key []byte, version uint64, elem []byte) []byte {
	dst = ElemPrefix(dst, tx.db, version)
	return append(dst, elem...)
}

// GetElem reads one element record, appending its value to dst. found is false if it is absent.
func (tx *Tx) GetElem(dst []byte, key []byte, version uint64, elem []byte) ([]byte, bool, error) {
	tx.kbuf = tx.ElemKey(tx.kbuf[:0], key, version, elem)
	v, found, closer, err := tx.elemRecord(tx.kbuf)
	if err != nil || !found {
		return dst, false, err
	}
	dst = append(dst, v...)
	if closer != nil {
		closer.Close()
	}
	return dst, true, nil
}

// elemRecord reads the element record at ek. In apply it goes through the batch's overlay and
// the cache before the engine, and fills the cache with what the engine has: with the overlay
// consulted first, what the engine (the indexed batch) returns is committed state, since every
// write of a cached kind of element (hash fields, set members, sorted-set members) in the
// batch is recorded in the overlay (setElemKey, delElemKey). Collections get fresh versions
// when they are created, replaced or imported, so an element key never names the records of
// two collections and the entries of a dropped version are merely unreachable until evicted.
// Readers outside apply read the engine. closer, when not nil, must be closed after v is used.
func (tx *Tx) elemRecord(ek []byte) (v []byte, found bool, closer io.Closer, err error) {
	useCache := tx.overlay != nil && tx.cache != nil
	var gen uint64
	if useCache {
		if v, ok := tx.overlay.elems.get(ek); ok {
			return v, v != nil, nil, nil
		}
		if tx.overlay.flushDB[tx.db] {
			useCache = false // the cache still holds what the uncommitted FLUSHDB removed
		} else {
			rec, ok, g := tx.cache.get(ek, false, 0)
			if ok {
				return rec, rec != nil, nil, nil
			}
			gen = g
		}
	}
	v, closer, err = tx.r.Get(ek)
	if err == pebble.ErrNotFound {
		if useCache {
			tx.cache.fill(ek, nil, false, gen, false, 0)
		}
		return nil, false, nil, nil
	}
	if err != nil {
		return nil, false, nil, err
	}
	if useCache {
		if rec, cached := tx.cache.fill(ek, v, true, gen, false, 0); cached {
			closer.Close()
			return rec, true, nil, nil
		}
	}
	return v, true, closer, nil
}

// SetElem writes one element record.
func (tx *Tx) SetElem(key []byte, version uint64, elem, value []byte) error {
	tx.kbuf = tx.ElemKey(tx.kbuf[:0], key, version, elem)
	return tx.setElemKey(tx.kbuf, value)
}

// DelElem deletes one element record.
func (tx *Tx) DelElem(key []byte, version uint64, elem []byte) error {
	tx.kbuf = tx.ElemKey(tx.kbuf[:0], key, version, elem)
	return tx.delElemKey(tx.kbuf)
}

// setElemKey writes the element record at ek and notes it in the overlay (see elemRecord).
func (tx *Tx) setElemKey(ek, value []byte) error {
	if err := tx.w.Set(ek, value, nil); err != nil {
		return err
	}
	if tx.overlay != nil {
		tx.overlay.recordElem(ek, value, false)
	}
	return nil
}

// delElemKey deletes the element record at ek and notes it in the overlay.
func (tx *Tx) delElemKey(ek []byte) error {
	if err := tx.w.Delete(ek, nil); err != nil {
		return err
	}
	if tx.overlay != nil {
		tx.overlay.recordElem(ek, nil, true)
	}
	return nil
}

// Raw gives collection code direct access to records by full key.
func (tx *Tx) Raw() (pebble.Reader, *pebble.Batch) { return tx.r, tx.w }

// EncodeUint64 is a helper for big-endian integers in records.
func EncodeUint64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// equalPrefix reports whether k starts with p.
func equalPrefix(k, p []byte) bool { return bytes.HasPrefix(k, p) }
