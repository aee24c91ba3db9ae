package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/geo"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/slot"
)

// Catalog is a shard's index definitions and aliases as of one view.
type Catalog struct {
	list    []*Index
	byName  map[string]*Index
	aliases map[string]string
}

// LoadCatalog reads the definitions from r.
func LoadCatalog(r pebble.Reader) (*Catalog, error) {
	c := &Catalog{byName: map[string]*Index{}, aliases: map[string]string{}}
	lower := idPrefix(nil, 0)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: idPrefix(nil, 1)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()[len(lower):]
		if len(k) == 0 {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		switch k[0] {
		case kindDef:
			ix, err := decodeIndex(v)
			if err != nil {
				return nil, err
			}
			c.list = append(c.list, ix)
			c.byName[ix.Name] = ix
		case kindAlias:
			c.aliases[string(k[1:])] = string(v)
		}
	}
	return c, it.Error()
}

// Lookup finds an index by name or alias.
func (c *Catalog) Lookup(name string) *Index {
	if ix := c.byName[name]; ix != nil {
		return ix
	}
	if n, ok := c.aliases[name]; ok {
		return c.byName[n]
	}
	return nil
}

// Indexes lists the definitions in name order.
func (c *Catalog) Indexes() []*Index { return c.list }

// Aliases of the index named name.
func (c *Catalog) Aliases(name string) []string {
	var out []string
	for a, n := range c.aliases {
		if n == name {
			out = append(out, a)
		}
	}
	return out
}

// Maintainer keeps a shard's indexes in step with its data; it lives in the applier and runs
// after each operation, inside the operation's batch.
type Maintainer struct {
	cat *Catalog
}

// Invalidate forgets the cached definitions (after a dropped batch or a new engine).
func (m *Maintainer) Invalidate() { m.cat = nil }

// HasIndexes reports whether any index is defined, reading the definitions if need be.
func (m *Maintainer) catalog(r pebble.Reader) (*Catalog, error) {
	if m.cat == nil {
		c, err := LoadCatalog(r)
		if err != nil {
			return nil, err
		}
		m.cat = c
	}
	return m.cat, nil
}

// AfterOp brings every index up to date with what one operation did: the keys it modified and
// the databases it emptied. defsChanged says the operation may have changed definitions (an
// FT.* command ran), so they are read again from the batch.
func (m *Maintainer) AfterOp(b *pebble.Batch, now int64, modified []keyspace.KeyRef, flushed []byte, defsChanged bool) error {
	if defsChanged {
		m.cat = nil
	}
	if len(modified) == 0 && len(flushed) == 0 {
		return nil
	}
	cat, err := m.catalog(b)
	if err != nil || len(cat.list) == 0 {
		return err
	}
	for _, db := range flushed {
		for _, ix := range cat.list {
			if ix.DB == db {
				if err := clearIndex(b, ix); err != nil {
					return err
				}
				if ix.Building {
					ix.Building = false
					if err := b.Set(defKey(ix.Name), ix.encode(), nil); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, ref := range modified {
		for _, ix := range cat.list {
			if ix.DB == ref.DB && ix.Matches(ref.Key) {
				if err := reindex(b, ix, ref.Key, now); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// clearIndex drops every record of an index but its definition.
func clearIndex(b *pebble.Batch, ix *Index) error {
	return b.DeleteRange(idPrefix(nil, ix.ID), idPrefix(nil, ix.ID+1), nil)
}

// doc is a document's indexed values: by schema position, nil where the hash lacks the field.
type doc [][]byte

func (d doc) encode() []byte {
	var out []byte
	for i, v := range d {
		if v == nil {
			continue
		}
		out = append(out, byte(i))
		out = binary.AppendUvarint(out, uint64(len(v)))
		out = append(out, v...)
	}
	return out
}

var errCorruptDoc = errors.New("search: corrupt document record")

func decodeDoc(b []byte, nfields int) (doc, error) {
	d := make(doc, nfields)
	for len(b) > 0 {
		i := int(b[0])
		n, w := binary.Uvarint(b[1:])
		if w <= 0 || uint64(len(b)-1-w) < n {
			return nil, errCorruptDoc
		}
		if i < nfields {
			d[i] = append([]byte{}, b[1+w:1+w+int(n)]...)
		}
		b = b[1+w+int(n):]
	}
	return d, nil
}

// reindex replaces the index records of key with those of its current value.
func reindex(b *pebble.Batch, ix *Index, key []byte, now int64) error {
	dk := docKey(nil, ix.ID, key)
	delta := int64(0)
	old, closer, err := b.Get(dk)
	switch {
	case err == nil:
		d, derr := decodeDoc(old, len(ix.Fields))
		closer.Close()
		if derr != nil {
			return derr
		}
		if err := writeEntries(b, ix, key, d, true); err != nil {
			return err
		}
		if err := b.Delete(dk, nil); err != nil {
			return err
		}
		delta--
	case !errors.Is(err, pebble.ErrNotFound):
		return err
	}
	d, expireAt, ok, err := readDoc(b, ix, key, now)
	if err != nil {
		return err
	}
	// Volatile documents are listed apart, so a query skips the expired ones without looking
	// up every match.
	vk := volatileKey(nil, ix.ID, key)
	if err := b.Delete(vk, nil); err != nil {
		return err
	}
	if ok && expireAt != 0 {
		if err := b.Set(vk, binary.BigEndian.AppendUint64(nil, uint64(expireAt)), nil); err != nil {
			return err
		}
	}
	if ok {
		if err := writeEntries(b, ix, key, d, false); err != nil {
			return err
		}
		if err := b.Set(dk, d.encode(), nil); err != nil {
			return err
		}
		delta++
	}
	if delta == 0 {
		return nil
	}
	n, err := DocCount(b, ix)
	if err != nil {
		return err
	}
	return b.Set(docCountKey(ix.ID), binary.BigEndian.AppendUint64(nil, uint64(n+delta)), nil)
}

// readDoc reads the schema's fields of the hash at key; ok is false when there is no live hash,
// or a numeric field does not hold a number or a geo field a point (RediSearch leaves such a
// document out).
func readDoc(r pebble.Reader, ix *Index, key []byte, now int64) (doc, int64, bool, error) {
	tx := keyspace.NewTx(r, nil, ix.DB, now)
	h, err := tx.OpenHash(key)
	if err != nil || !h.Exists() {
		return nil, 0, false, err
	}
	expireAt := h.Entry().ExpireAt
	// Point reads of the schema's fields: cheaper than iterating the hash over a batch, and
	// a hash often has fields no index reads.
	d := make(doc, len(ix.Fields))
	for i := range ix.Fields {
		v, _, ok, err := h.Get([]byte(ix.Fields[i].Name))
		if err != nil {
			return nil, 0, false, err
		}
		if ok {
			d[i] = append([]byte{}, v...)
		}
	}
	for i := range ix.Fields {
		if d[i] == nil {
			continue
		}
		ok := true
		switch ix.Fields[i].Type {
		case TypeNumeric:
			_, ok = parseNumber(string(d[i]))
		case TypeGeo:
			_, _, ok = parsePoint(string(d[i]))
		}
		if !ok {
			return nil, 0, false, nil
		}
	}
	return d, expireAt, true, nil
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parsePoint reads a GEO field's value, "lon,lat" (or "lon lat"), as RediSearch does: both
// numbers whole, the point within what geohashes cover.
func parsePoint(s string) (long, lat float64, ok bool) {
	i := strings.IndexAny(s, " ,")
	if i < 0 {
		return 0, 0, false
	}
	long, err1 := strconv.ParseFloat(s[:i], 64)
	lat, err2 := strconv.ParseFloat(s[i+1:], 64)
	if err1 != nil || err2 != nil || !geo.Valid(long, lat) {
		return 0, 0, false
	}
	return long, lat, true
}

// writeEntries writes (or, with del, deletes) the index entries of one document.
func writeEntries(b *pebble.Batch, ix *Index, key []byte, d doc, del bool) error {
	var k []byte
	put := func(k, v []byte) error {
		if del {
			return b.Delete(k, nil)
		}
		return b.Set(k, v, nil)
	}
	for i := range ix.Fields {
		f := &ix.Fields[i]
		if d[i] == nil || f.NoIndex {
			continue
		}
		switch f.Type {
		case TypeNumeric:
			v, _ := parseNumber(string(d[i]))
			if err := put(numKey(k[:0], ix.ID, i, v, key), nil); err != nil {
				return err
			}
		case TypeGeo:
			long, lat, _ := parsePoint(string(d[i]))
			if err := put(geoKey(k[:0], ix.ID, i, geo.Hash(long, lat), key), nil); err != nil {
				return err
			}
		case TypeTag:
			for _, t := range tagValues(f, string(d[i])) {
				k = valuePrefix(k[:0], ix.ID, kindTag, i, []byte(t))
				if err := put(append(k, key...), nil); err != nil {
					return err
				}
			}
		case TypeText:
			for t, pos := range ix.textTerms(f, string(d[i])) {
				k = valuePrefix(k[:0], ix.ID, kindTerm, i, []byte(t))
				var v []byte
				for _, p := range pos {
					v = binary.AppendUvarint(v, uint64(p))
				}
				if err := put(append(k, key...), v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// buildLimit is how many keys one build step visits.
const buildLimit = 1000

// BuildStep indexes the next keys of an index under construction, within b, and records how
// far it got. It reports whether the build is finished.
func BuildStep(b *pebble.Batch, name string, now int64) (done bool, err error) {
	v, closer, err := b.Get(defKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	ix, err := decodeIndex(v)
	closer.Close()
	if err != nil || !ix.Building {
		return true, err
	}
	tx := keyspace.NewTx(b, nil, ix.DB, now)
	var keys [][]byte
	visited := 0
	for ix.BuildPrefix < len(ix.Prefixes) && visited < buildLimit {
		resume, err := tx.ScanKeys([]byte(ix.Prefixes[ix.BuildPrefix]), ix.BuildCursor, buildLimit-visited, func(key []byte, t keyspace.Type, _ int64) bool {
			visited++
			if t == keyspace.TypeHash {
				keys = append(keys, append([]byte{}, key...))
			}
			return visited < buildLimit
		})
		if err != nil {
			return false, err
		}
		visited++ // a seek costs a step even when it finds nothing
		ix.BuildCursor = resume
		if resume == nil {
			ix.BuildPrefix++
		}
	}
	for _, k := range keys {
		if err := reindex(b, ix, k, now); err != nil {
			return false, err
		}
	}
	ix.BuildScanned += int64(len(keys))
	ix.Building = ix.BuildPrefix < len(ix.Prefixes)
	return !ix.Building, b.Set(defKey(name), ix.encode(), nil)
}

// PercentIndexed estimates how much of the initial build is done, from the slot it reached.
func (ix *Index) PercentIndexed() float64 {
	if !ix.Building || len(ix.Prefixes) == 0 {
		return 1
	}
	part := 0.0
	if ix.BuildCursor != nil {
		part = float64(slot.KeySlot(ix.BuildCursor)) / slot.Count
	}
	return (float64(ix.BuildPrefix) + part) / float64(len(ix.Prefixes))
}

// Building lists the indexes under construction in r.
func Building(r pebble.Reader) ([]string, error) {
	c, err := LoadCatalog(r)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ix := range c.list {
		if ix.Building {
			out = append(out, ix.Name)
		}
	}
	return out, nil
}

// Create stores a new index definition in b, giving it a fresh ID, and starts its build.
func Create(b *pebble.Batch, ix *Index) error {
	var last uint32
	v, closer, err := b.Get(countKey())
	if err == nil {
		if len(v) == 4 {
			last = binary.BigEndian.Uint32(v)
		}
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	ix.ID = last + 1
	ix.Building = true
	if err := b.Set(countKey(), binary.BigEndian.AppendUint32(nil, ix.ID), nil); err != nil {
		return err
	}
	return b.Set(defKey(ix.Name), ix.encode(), nil)
}

// Save rewrites a definition (FT.ALTER).
func Save(b *pebble.Batch, ix *Index) error { return b.Set(defKey(ix.Name), ix.encode(), nil) }

// Drop removes an index: its definition, aliases and records.
func Drop(b *pebble.Batch, c *Catalog, ix *Index) error {
	for _, a := range c.Aliases(ix.Name) {
		if err := b.Delete(aliasKey(a), nil); err != nil {
			return err
		}
	}
	if err := clearIndex(b, ix); err != nil {
		return err
	}
	return b.Delete(defKey(ix.Name), nil)
}

// SetAlias points alias at an index (name "" removes it).
func SetAlias(b *pebble.Batch, alias, name string) error {
	if name == "" {
		return b.Delete(aliasKey(alias), nil)
	}
	return b.Set(aliasKey(alias), []byte(name), nil)
}

// EachDoc visits the keys an index holds a document for, in key order.
func EachDoc(r pebble.Reader, ix *Index, fn func(key []byte) bool) error {
	p := docPrefix(ix.ID)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keyspace.PrefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		if !fn(it.Key()[len(p):]) {
			break
		}
	}
	return it.Error()
}

// hasPrefix is bytes.HasPrefix, named for the record code.
func hasPrefix(k, p []byte) bool { return bytes.HasPrefix(k, p) }

func docCountKey(id uint32) []byte { return append(idPrefix(nil, id), kindDocCount) }

// DocCount is the number of documents an index holds.
func DocCount(r pebble.Reader, ix *Index) (int64, error) {
	v, closer, err := r.Get(docCountKey(ix.ID))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, errCorruptDoc
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func volatileKey(dst []byte, id uint32, key []byte) []byte {
	dst = append(idPrefix(dst, id), kindVolatile)
	return append(dst, key...)
}

// expiredDocs lists the documents of ix whose keys have expired by now (reads no longer see
// them; the sweeper has not removed them yet).
func expiredDocs(r pebble.Reader, ix *Index, now int64) (map[string]bool, error) {
	p := append(idPrefix(nil, ix.ID), kindVolatile)
	out := map[string]bool{}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keyspace.PrefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) <= now {
			out[string(it.Key()[len(p):])] = true
		}
	}
	return out, it.Error()
}
