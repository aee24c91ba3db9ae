package search

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/kljensen/snowball/english"

	"github.com/cairn-db/cairn/internal/geo"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// hits maps each matching key to its score.
type hits map[string]float64

// evaluator runs a parsed query over one index in a read view. Every node costs a seek and a
// step per matching entry: tag and numeric lookups read only their matches, never the keyspace.
type evaluator struct {
	r        pebble.Reader
	ix       *Index
	inFields map[int]bool // INFIELDS: the text fields an unqualified term searches (nil: all)
	verbatim bool         // VERBATIM: no stemming
	noStop   bool         // NOSTOPWORDS
	ndocs    int64
	all      hits // every document, read once when needed
	// global, when set, holds the corpus statistics of every shard together (search/cluster.go)
	// and replaces this shard's own in scores; seen, when set, collects this shard's.
	global, seen *corpusStats
}

func (e *evaluator) eval(n *node) (hits, error) {
	switch n.kind {
	case nAll:
		return e.universe()
	case nAnd:
		return e.and(n)
	case nOr:
		out := hits{}
		for _, c := range n.children {
			h, err := e.eval(c)
			if err != nil {
				return nil, err
			}
			for k, s := range h {
				out[k] += s
			}
		}
		return out, nil
	case nNot:
		return e.and(&node{kind: nAnd, children: []*node{n}})
	case nOptional:
		return e.universe()
	case nTerm:
		return e.term(n)
	case nPrefix:
		return e.prefix(n)
	case nPhrase:
		return e.phrase(n)
	case nTag:
		return e.tag(n)
	case nNumeric:
		return e.numeric(n)
	case nGeo:
		return e.geo(n)
	}
	return hits{}, nil
}

func (e *evaluator) universe() (hits, error) {
	if e.all != nil {
		return e.all, nil
	}
	all := hits{}
	err := EachDoc(e.r, e.ix, func(k []byte) bool { all[string(k)] = 1; return true })
	e.all = all
	return all, err
}

// and intersects the positive children, then removes what the negated ones match; optional
// children only add to scores.
func (e *evaluator) and(n *node) (hits, error) {
	var out hits
	var nots, opts []*node
	for _, c := range n.children {
		switch c.kind {
		case nNot:
			nots = append(nots, c.children[0])
			continue
		case nOptional:
			opts = append(opts, c.children[0])
			continue
		}
		h, err := e.eval(c)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = hits{}
			for k, s := range h {
				out[k] = s
			}
			continue
		}
		for k := range out {
			if s, ok := h[k]; ok {
				out[k] += s
			} else {
				delete(out, k)
			}
		}
	}
	if out == nil {
		if len(n.children) == 0 {
			return hits{}, nil
		}
		all, err := e.universe()
		if err != nil {
			return nil, err
		}
		out = hits{}
		for k, s := range all {
			out[k] = s
		}
	}
	for _, c := range nots {
		h, err := e.eval(c)
		if err != nil {
			return nil, err
		}
		for k := range h {
			delete(out, k)
		}
	}
	for _, c := range opts {
		h, err := e.eval(c)
		if err != nil {
			return nil, err
		}
		for k, s := range h {
			if _, ok := out[k]; ok {
				out[k] += s
			}
		}
	}
	return out, nil
}

// textFields resolves the fields a text node searches.
func (e *evaluator) textFields(n *node) ([]int, error) {
	var out []int
	if n.fields == nil {
		for i := range e.ix.Fields {
			if e.ix.Fields[i].Type == TypeText && !e.ix.Fields[i].NoIndex && (e.inFields == nil || e.inFields[i]) {
				out = append(out, i)
			}
		}
		return out, nil
	}
	for _, name := range n.fields {
		i := e.ix.FieldByAlias(name)
		if i < 0 {
			return nil, &QueryError{"Unknown field `" + name + "`"}
		}
		if e.ix.Fields[i].Type == TypeText {
			out = append(out, i)
		}
	}
	return out, nil
}

// scan visits the entries under prefix p, passing each one's remainder and value.
func (e *evaluator) scan(p []byte, fn func(rest, value []byte) error) error {
	it, err := e.r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keyspace.PrefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key()[len(p):], v); err != nil {
			return err
		}
	}
	return it.Error()
}

// termPositions collects, for one query term, each document's positions per field.
func (e *evaluator) termPositions(term string, fields []int) (map[string]map[int][]uint32, error) {
	out := map[string]map[int][]uint32{}
	// As RediSearch's stemming expander: the term, the stem record of every word with the
	// term's stem, and the stem as a word itself ("climbers" finds "climber", which has no
	// stem record of its own). A word found by two forms keeps each position once.
	forms := []string{term}
	if !e.verbatim {
		if s := english.Stem(term, false); s != "" {
			forms = append(forms, "+"+s)
			if s != term {
				forms = append(forms, s)
			}
		}
	}
	for _, fi := range fields {
		f := &e.ix.Fields[fi]
		for j, form := range forms {
			if j > 0 && f.NoStem {
				continue
			}
			err := e.scan(valuePrefix(nil, e.ix.ID, kindTerm, fi, []byte(form)), func(key, v []byte) error {
				m := out[string(key)]
				if m == nil {
					m = map[int][]uint32{}
					out[string(key)] = m
				}
				for len(v) > 0 {
					p, w := binary.Uvarint(v)
					if w <= 0 {
						return errCorruptDoc
					}
					m[fi] = append(m[fi], uint32(p))
					v = v[w:]
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (e *evaluator) idf(df int) float64 {
	if df == 0 {
		return 0
	}
	return math.Log2(1 + float64(max(e.ndocs, int64(df)))/float64(df))
}

func (e *evaluator) term(n *node) (hits, error) {
	if !e.noStop && e.ix.stop[n.term] {
		return e.universe() // a stopword constrains nothing
	}
	fields, err := e.textFields(n)
	if err != nil {
		return nil, err
	}
	pos, err := e.termPositions(n.term, fields)
	if err != nil {
		return nil, err
	}
	df := len(pos)
	if e.seen != nil || e.global != nil {
		key := termStatKey(n.term, fields)
		if e.seen != nil {
			e.seen.DF[key] = df
		}
		if e.global != nil {
			df = e.global.DF[key]
		}
	}
	idf := e.idf(df)
	out := make(hits, len(pos))
	for k, m := range pos {
		s := 0.0
		for fi, p := range m {
			s += float64(len(uniq(p))) * e.ix.Fields[fi].Weight
		}
		out[k] = s * idf
	}
	return out, nil
}

func uniq(p []uint32) map[uint32]bool {
	m := make(map[uint32]bool, len(p))
	for _, x := range p {
		m[x] = true
	}
	return m
}

func (e *evaluator) prefix(n *node) (hits, error) {
	fields, err := e.textFields(n)
	if err != nil {
		return nil, err
	}
	out := hits{}
	for _, fi := range fields {
		w := e.ix.Fields[fi].Weight
		err := e.scan(valueOpenPrefix(e.ix.ID, kindTerm, fi, []byte(n.term)), func(rest, v []byte) error {
			_, key, ok := splitEscaped(append([]byte(n.term), rest...))
			if !ok {
				return errCorruptDoc
			}
			out[string(key)] += w
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *evaluator) phrase(n *node) (hits, error) {
	fields, err := e.textFields(n)
	if err != nil {
		return nil, err
	}
	type word struct {
		off int
		pos map[string]map[int][]uint32
	}
	var words []word
	for i, t := range n.words {
		if !e.noStop && e.ix.stop[t] {
			continue
		}
		p, err := e.termPositions(t, fields)
		if err != nil {
			return nil, err
		}
		words = append(words, word{off: i, pos: p})
	}
	out := hits{}
	if len(words) == 0 {
		return out, nil
	}
	for key, first := range words[0].pos {
		for fi, starts := range first {
			found := false
			for _, s := range starts {
				ok := true
				for _, w := range words[1:] {
					want := s + uint32(w.off-words[0].off)
					if !containsPos(w.pos[key][fi], want) {
						ok = false
						break
					}
				}
				if ok {
					found = true
					break
				}
			}
			if found {
				out[key] += e.ix.Fields[fi].Weight * float64(len(words))
			}
		}
	}
	return out, nil
}

func containsPos(ps []uint32, p uint32) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// fieldOf resolves a tag or numeric node's attribute.
func (e *evaluator) fieldOf(n *node, t FieldType) ([]int, error) {
	var out []int
	for _, name := range n.fields {
		i := e.ix.FieldByAlias(name)
		if i < 0 {
			return nil, &QueryError{"Unknown field `" + name + "`"}
		}
		if e.ix.Fields[i].Type != t {
			return nil, &QueryError{"Field `" + name + "` is not a " + string(t) + " field"}
		}
		out = append(out, i)
	}
	return out, nil
}

func (e *evaluator) tag(n *node) (hits, error) {
	fields, err := e.fieldOf(n, TypeTag)
	if err != nil {
		return nil, err
	}
	out := hits{}
	for _, fi := range fields {
		f := &e.ix.Fields[fi]
		for _, t := range n.tags {
			v := t.value
			if !f.CaseSensitive {
				v = strings.ToLower(v)
			}
			if !t.prefix {
				err = e.scan(valuePrefix(nil, e.ix.ID, kindTag, fi, []byte(v)), func(key, _ []byte) error {
					out[string(key)] = 1
					return nil
				})
			} else {
				err = e.scan(valueOpenPrefix(e.ix.ID, kindTag, fi, []byte(v)), func(rest, _ []byte) error {
					_, key, ok := splitEscaped(append([]byte(v), rest...))
					if !ok {
						return errCorruptDoc
					}
					out[string(key)] = 1
					return nil
				})
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (e *evaluator) numeric(n *node) (hits, error) {
	fields, err := e.fieldOf(n, TypeNumeric)
	if err != nil {
		return nil, err
	}
	out := hits{}
	for _, fi := range fields {
		if err := e.numRange(fi, n.lo, n.hi, n.loEx, n.hiEx, func(key []byte, _ float64) { out[string(key)] = 1 }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// numRange visits the documents whose field fi is within the bounds, in numeric order.
func (e *evaluator) numRange(fi int, lo, hi float64, loEx, hiEx bool, fn func(key []byte, v float64)) error {
	fp := fieldPrefix(e.ix.ID, kindNum, fi)
	lower := keyspace.EncodeScore(append([]byte{}, fp...), lo)
	upper := keyspace.PrefixEnd(keyspace.EncodeScore(append([]byte{}, fp...), hi))
	if math.IsInf(hi, 1) || upper == nil {
		upper = keyspace.PrefixEnd(fp)
	}
	it, err := e.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()[len(fp):]
		if len(k) < 8 {
			return errCorruptDoc
		}
		v := keyspace.DecodeScore(k[:8])
		if v < lo || loEx && v == lo || v > hi || hiEx && v == hi {
			continue
		}
		fn(k[8:], v)
	}
	return it.Error()
}

// geo finds the points within a radius: one seek per geohash cell the search covers (the
// centre's cell and its neighbours, sized to the radius, as GEOSEARCH reads a geo set), then
// a walk over that cell's entries keeping those whose distance is within the radius.
func (e *evaluator) geo(n *node) (hits, error) {
	fields, err := e.fieldOf(n, TypeGeo)
	if err != nil {
		return nil, err
	}
	out := hits{}
	s := &n.geo.shape
	if !geo.Valid(s.Long, s.Lat) {
		return out, nil // RediSearch finds nothing around a centre geohashes do not cover
	}
	for _, fi := range fields {
		fp := append(idPrefix(nil, e.ix.ID), kindGeo, byte(fi))
		for _, r := range s.Ranges() {
			lower := binary.BigEndian.AppendUint64(append([]byte{}, fp...), r.Min)
			upper := binary.BigEndian.AppendUint64(append([]byte{}, fp...), r.Max)
			it, err := e.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
			if err != nil {
				return nil, err
			}
			for valid := it.First(); valid; valid = it.Next() {
				k := it.Key()[len(fp):]
				if len(k) < 8 {
					it.Close()
					return nil, errCorruptDoc
				}
				long, lat := geo.DecodeHash(binary.BigEndian.Uint64(k[:8]))
				if _, in := s.Within(long, lat); in {
					out[string(k[8:])] = 1
				}
			}
			if err := it.Close(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
