package search

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/resp"
)

// Cluster mode. Each shard indexes its own keys, so a query is answered by every shard over
// its documents and merged by the node that took it (the coordinator). The shard's side of a
// query (ShardSearch, ShardAggregate, ShardInfo) replies with one bulk string holding its part
// as JSON (byte strings base64, so binary keys and values survive); the Merge functions read
// the parts and write the reply the client would have had from a single node.
//
// Costs: FT.SEARCH asks each shard for at most offset+limit results, already in result order,
// so a page costs shards × (offset+limit) results whatever the number of matches. Scores are
// each shard's TF-IDF over its own documents, as in Redis's coordinator. FT.AGGREGATE fetches
// every matching document's hash and runs the whole pipeline on the coordinator, so
// COUNT_DISTINCT, AVG and the rest are exact.

// shardSearch is one shard's part of an FT.SEARCH.
type shardSearch struct {
	Total   int64      `json:"total"`
	Numeric bool       `json:"numeric,omitempty"` // the SORTBY attribute is numeric
	Hits    []shardHit `json:"hits"`
	// NoFields: the hits' fields are left out (ShardKeys), to be fetched for the page.
	NoFields bool `json:"nofields,omitempty"`
}

type shardHit struct {
	Key     []byte   `json:"k"`
	Score   string   `json:"s"` // formatted: JSON has no infinities
	Sort    []byte   `json:"o,omitempty"`
	HasSort bool     `json:"h,omitempty"`
	Fields  [][]byte `json:"f,omitempty"` // name, value, name, value...
}

// ValidateSearch checks FT.SEARCH's arguments (after the command name) as a shard would,
// returning the error reply for bad ones, so a coordinator refuses them before asking shards.
func ValidateSearch(args [][]byte) string {
	if len(args) < 2 {
		return "ERR wrong number of arguments for 'FT.SEARCH' command"
	}
	_, msg := parseSearchOpts(args[2:])
	return msg
}

// Scores. A text term's score weighs it by its inverse document frequency, which a shard
// knows only over its own documents. Where scores show (WITHSCORES) or order the results (no
// SORTBY) and the query has terms, the coordinator first asks every shard for its corpus
// statistics — its number of documents and each term's document frequency — and sends their
// sums with the query, so every shard scores as a single node holding all documents would.

// corpusStats are the statistics a term's score depends on.
type corpusStats struct {
	Docs int64          `json:"n"`
	DF   map[string]int `json:"df"` // by termStatKey
}

// termStatKey names a term searched in a set of fields.
func termStatKey(term string, fields []int) string {
	b := []byte(term)
	b = append(b, 0)
	for _, f := range fields {
		b = append(b, byte(f))
	}
	return string(b)
}

// The modes of a shard's part of FT.SEARCH.
const (
	ShardStats  = "stats"  // the shard's corpus statistics for the query
	ShardPage   = "page"   // the shard's first offset+limit results, with their fields
	ShardKeys   = "keys"   // the same without fields (for a page past offset 0)
	ShardFields = "fields" // the fields of the keys given in place of the statistics
)

// SearchMode is the mode a coordinator asks shards for FT.SEARCH's results in (args after the
// command name, valid): with their fields when the page starts at the first result, else
// without, the fields of the page's keys alone being fetched once the page is known — so a
// page deep into the results does not carry every skipped result's fields.
func SearchMode(args [][]byte) string {
	o, msg := parseSearchOpts(args[2:])
	if msg == "" && o.offset > 0 && !o.noFields() {
		return ShardKeys
	}
	return ShardPage
}

// shardFields is a shard's reply in ShardFields mode: each key's fields, name, value...
type shardFields struct {
	Fields [][][]byte `json:"fields"`
}

// FetchFields asks the shards for the fields of keys: need maps a shard's position among the
// parts to its keys; the answer maps it to its ShardFields part, or is an error reply to give.
type FetchFields func(need map[int][][]byte) (map[int][]byte, []byte)

// SearchNeedsStats reports whether FT.SEARCH (args after the command name, valid) needs the
// cluster's corpus statistics: its results show or are ordered by scores of text terms.
func SearchNeedsStats(args [][]byte) bool {
	o, msg := parseSearchOpts(args[2:])
	if msg != "" || (o.sortBy != "" && !o.withScores) {
		return false
	}
	params := o.params
	if o.dialect >= 2 && params == nil {
		params = map[string]string{}
	} else if o.dialect < 2 {
		params = nil
	}
	root, err := Parse(string(args[1]), params)
	return err == nil && hasTerm(root)
}

func hasTerm(n *node) bool {
	if n.kind == nTerm {
		return true
	}
	for _, c := range n.children {
		if hasTerm(c) {
			return true
		}
	}
	return false
}

// MergeStats sums the shards' corpus statistics (their ShardStats parts) into the argument
// their ShardPage parts take.
func MergeStats(parts [][]byte) ([]byte, error) {
	sum := corpusStats{DF: map[string]int{}}
	for _, p := range parts {
		var one corpusStats
		if err := json.Unmarshal(p, &one); err != nil {
			return nil, err
		}
		sum.Docs += one.Docs
		for k, n := range one.DF {
			sum.DF[k] += n
		}
	}
	return json.Marshal(sum)
}

// ShardSearch runs a shard's part of FT.SEARCH. args are the mode (ShardStats or ShardPage),
// the cluster's corpus statistics (MergeStats; empty for the shard's own), then FT.SEARCH's
// arguments after the command name. A page is the number of the shard's matches and the first
// offset+limit of them in result order, with their fields.
func (v *View) ShardSearch(cat *Catalog, args [][]byte, w *resp.Writer) {
	mode, stats := string(args[0]), args[1]
	args = args[2:]
	if msg := ValidateSearch(args); msg != "" {
		w.Error(msg)
		return
	}
	ix := cat.Lookup(string(args[0]))
	if ix == nil {
		w.Error(NoSuchIndex(string(args[0])))
		return
	}
	o, _ := parseSearchOpts(args[2:])
	if mode == ShardFields {
		v.shardFields(ix, stats, o, w)
		return
	}
	if len(stats) > 0 {
		o.global = &corpusStats{}
		if err := json.Unmarshal(stats, o.global); err != nil {
			w.Error("ERR malformed corpus statistics")
			return
		}
	}
	if mode == ShardStats {
		o.seen = &corpusStats{DF: map[string]int{}}
	}
	ms, err := v.run(ix, string(args[1]), o)
	if err != nil {
		w.Error(err.Error())
		return
	}
	if mode == ShardStats {
		b, _ := json.Marshal(o.seen)
		w.Bulk(b)
		return
	}
	// The first offset+limit results (without overflow: LIMIT takes any non-negative int): the
	// page may start anywhere among them once the shards' results are merged.
	n := len(ms)
	switch {
	case o.num == 0:
		n = 0
	case o.offset < len(ms):
		n = o.offset + min(o.num, len(ms)-o.offset)
	}
	part := shardSearch{Total: int64(len(ms)), Hits: make([]shardHit, n), NoFields: mode == ShardKeys}
	if o.sortBy != "" {
		f := ix.FieldByAlias(o.sortBy)
		part.Numeric = f >= 0 && ix.Fields[f].Type == TypeNumeric
	}
	for i, m := range ms[:n] {
		h := shardHit{Key: []byte(m.key), Score: strconv.FormatFloat(m.score, 'g', -1, 64), Sort: m.sort, HasSort: m.sort != nil}
		if !o.noFields() && !part.NoFields {
			fs, err := v.fields(ix, m.key, o)
			if err != nil {
				w.Error("ERR " + err.Error())
				return
			}
			h.Fields = make([][]byte, 0, 2*len(fs))
			for _, f := range fs {
				h.Fields = append(h.Fields, f[0], f[1])
			}
		}
		part.Hits[i] = h
	}
	b, _ := json.Marshal(part)
	w.Bulk(b)
}

// shardFields writes the fields FT.SEARCH returns (RETURN) of the keys listed (JSON).
func (v *View) shardFields(ix *Index, list []byte, o *searchOpts, w *resp.Writer) {
	var keys [][]byte
	if err := json.Unmarshal(list, &keys); err != nil {
		w.Error("ERR malformed keys")
		return
	}
	part := shardFields{Fields: make([][][]byte, len(keys))}
	for i, k := range keys {
		fs, err := v.fields(ix, string(k), o)
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		for _, f := range fs {
			part.Fields[i] = append(part.Fields[i], f[0], f[1])
		}
	}
	b, _ := json.Marshal(part)
	w.Bulk(b)
}

// MergeSearch writes FT.SEARCH's reply (args after the command name) from the shards' parts:
// the matches counted over all shards, and the page cut from their results merged in order.
// Parts without fields (ShardKeys) have the page's fields fetched through fetch.
func MergeSearch(args [][]byte, parts [][]byte, fetch FetchFields, w *resp.Writer) {
	o, msg := parseSearchOpts(args[2:])
	if msg != "" {
		w.Error(msg)
		return
	}
	var total int64
	var all []match
	fields := map[string][][2][]byte{}
	from := map[string]int{} // the part each result came from, when fields are to be fetched
	numeric := false
	for i, p := range parts {
		var part shardSearch
		if err := json.Unmarshal(p, &part); err != nil {
			w.Error("ERR malformed shard reply: " + err.Error())
			return
		}
		total += part.Total
		numeric = numeric || part.Numeric
		for _, h := range part.Hits {
			// A key lives on one shard, but while its slot moves a query can read the source
			// before a batch leaves it and the target after the batch arrives: the key is then
			// in two parts. It is one document: counted and listed once.
			if _, dup := fields[string(h.Key)]; dup {
				total--
				continue
			}
			if part.NoFields {
				from[string(h.Key)] = i
			}
			m := match{key: string(h.Key)}
			m.score, _ = strconv.ParseFloat(h.Score, 64)
			if h.HasSort {
				m.sort = h.Sort
				if m.sort == nil {
					m.sort = []byte{}
				}
			}
			all = append(all, m)
			fs := make([][2][]byte, 0, len(h.Fields)/2)
			for i := 0; i+1 < len(h.Fields); i += 2 {
				fs = append(fs, [2][]byte{h.Fields[i], h.Fields[i+1]})
			}
			fields[m.key] = fs
		}
	}
	slices.SortFunc(all, func(a, b match) int { return compareMatches(a, b, o.sortBy != "", numeric, o.sortDesc) })
	off := min(o.offset, len(all))
	page := all[off : off+min(o.num, len(all)-off)]
	if len(from) > 0 && !o.noFields() {
		if failed := fetchPage(page, from, fetch, fields); failed != nil {
			w.Raw(failed)
			return
		}
	}
	rows := make([]searchRow, len(page))
	for i, m := range page {
		rows[i] = searchRow{key: m.key, score: m.score, fields: fields[m.key]}
	}
	writeSearch(w, o, total, rows)
}

// fetchPage fetches into fields the fields of the page's results that came without (from
// names their parts). It returns an error reply on failure.
func fetchPage(page []match, from map[string]int, fetch FetchFields, fields map[string][][2][]byte) []byte {
	need := map[int][][]byte{}
	for _, m := range page {
		if i, ok := from[m.key]; ok {
			need[i] = append(need[i], []byte(m.key))
		}
	}
	got, failed := fetch(need)
	if failed != nil {
		return failed
	}
	for i, keys := range need {
		var part shardFields
		if err := json.Unmarshal(got[i], &part); err != nil || len(part.Fields) != len(keys) {
			return []byte("-ERR malformed shard reply\r\n")
		}
		for j, k := range keys {
			fs := make([][2][]byte, 0, len(part.Fields[j])/2)
			for f := 0; f+1 < len(part.Fields[j]); f += 2 {
				fs = append(fs, [2][]byte{part.Fields[j][f], part.Fields[j][f+1]})
			}
			fields[string(k)] = fs
		}
	}
	return nil
}

// shardAggregate is one shard's part of an FT.AGGREGATE: when the pipeline starts with a
// GROUPBY whose reducers merge (groupPushdown), the shard's groups; else its matching documents
// in key order, each with its whole hash, and the index definition (for attribute names).
type shardAggregate struct {
	Index  json.RawMessage `json:"index,omitempty"`
	Docs   []shardDoc      `json:"docs,omitempty"`
	Groups []groupPart     `json:"groups,omitempty"`
}

// groupPart is one group of a shard's GROUPBY (groupAcc): numbers formatted, as JSON has no
// infinities.
type groupPart struct {
	Vals     [][]byte   `json:"v"`
	First    []byte     `json:"k"`
	Count    int        `json:"c"`
	Sums     []string   `json:"s"`
	Counts   []int      `json:"n"`
	Mins     []string   `json:"lo"`
	Maxs     []string   `json:"hi"`
	Distinct [][][]byte `json:"d,omitempty"` // COUNT_DISTINCT reducers' values
}

// groupPushdown is the position of a GROUPBY each shard can run over its own documents — the
// first step other than LOAD, with reducers whose states merge: COUNT, COUNT_DISTINCT, SUM,
// AVG, MIN, MAX (not TOLIST, whose order is the documents') — or -1. Groups come out in the
// order of their first documents' keys, so merging shards' groups by first key gives a single
// node's order. Sums are added per shard, then across shards: for values that are not whole
// numbers the last digits can differ from a single node's sum in key order.
func groupPushdown(steps []aggStep) int {
	for i, st := range steps {
		switch st.kind {
		case "load":
			continue
		case "groupby":
			for _, r := range st.reducers {
				if r.fn == "TOLIST" {
					return -1
				}
			}
			return i
		}
		return -1
	}
	return -1
}

func fmtFloats(fs []float64) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return out
}

func (st *aggStep) partOf(g *groupAcc) groupPart {
	p := groupPart{First: []byte(g.first), Count: g.count, Sums: fmtFloats(g.sums), Counts: g.counts,
		Mins: fmtFloats(g.mins), Maxs: fmtFloats(g.maxs)}
	for _, v := range g.vals {
		p.Vals = append(p.Vals, []byte(v))
	}
	for i, r := range st.reducers {
		var vs [][]byte
		if r.fn == "COUNT_DISTINCT" {
			for v := range g.distinct[i] {
				vs = append(vs, []byte(v))
			}
		}
		p.Distinct = append(p.Distinct, vs)
	}
	return p
}

// mergePart adds a shard's group to the merged groups.
func (st *aggStep) mergePart(byKey map[string]*groupAcc, p groupPart) (*groupAcc, bool, error) {
	nr := len(st.reducers)
	if len(p.Vals) != len(st.props) || len(p.Sums) != nr || len(p.Counts) != nr || len(p.Mins) != nr || len(p.Maxs) != nr || len(p.Distinct) != nr {
		return nil, false, errors.New("malformed group")
	}
	vals := make([]string, len(p.Vals))
	for i, v := range p.Vals {
		vals[i] = string(v)
	}
	gk := strings.Join(vals, "\x00")
	g, old := byKey[gk]
	if !old {
		g = st.newGroup(vals, string(p.First))
		byKey[gk] = g
	}
	g.first = min(g.first, string(p.First))
	g.count += p.Count
	for i := range st.reducers {
		sum, err1 := strconv.ParseFloat(p.Sums[i], 64)
		lo, err2 := strconv.ParseFloat(p.Mins[i], 64)
		hi, err3 := strconv.ParseFloat(p.Maxs[i], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, false, err
		}
		g.sums[i] += sum
		g.counts[i] += p.Counts[i]
		g.mins[i] = math.Min(g.mins[i], lo)
		g.maxs[i] = math.Max(g.maxs[i], hi)
		for _, v := range p.Distinct[i] {
			g.distinct[i][string(v)] = true
		}
	}
	return g, !old, nil
}

type shardDoc struct {
	Key    []byte   `json:"k"`
	Fields [][]byte `json:"f"` // name, value, name, value...
}

// ValidateAggregate checks FT.AGGREGATE's arguments (after the command name), returning the
// error reply for bad ones.
func ValidateAggregate(args [][]byte) string {
	if len(args) < 2 {
		return "ERR wrong number of arguments for 'FT.AGGREGATE' command"
	}
	_, _, msg := parseAggregate(args[2:])
	return msg
}

// ShardAggregate runs a shard's part of FT.AGGREGATE (args after the command name): the
// documents its query matches, with their hashes.
func (v *View) ShardAggregate(cat *Catalog, args [][]byte, w *resp.Writer) {
	if msg := ValidateAggregate(args); msg != "" {
		w.Error(msg)
		return
	}
	ix := cat.Lookup(string(args[0]))
	if ix == nil {
		w.Error(NoSuchIndex(string(args[0])))
		return
	}
	steps, o, _ := parseAggregate(args[2:])
	o.num = math.MaxInt
	ms, err := v.run(ix, string(args[1]), o)
	if err != nil {
		w.Error(err.Error())
		return
	}
	slices.SortFunc(ms, func(a, b match) int { return strings.Compare(a.key, b.key) })
	if at := groupPushdown(steps); at >= 0 {
		rows := make([]*aggRow, len(ms))
		for i, m := range ms {
			rows[i] = &aggRow{vals: map[string]string{}, key: m.key, view: v, ix: ix}
		}
		st := &steps[at]
		part := shardAggregate{Groups: []groupPart{}}
		for _, g := range st.groups(rows) {
			part.Groups = append(part.Groups, st.partOf(g))
		}
		b, _ := json.Marshal(part)
		w.Bulk(b)
		return
	}
	part := shardAggregate{Index: ix.encode(), Docs: make([]shardDoc, len(ms))}
	all := &searchOpts{}
	for i, m := range ms {
		fs, err := v.fields(ix, m.key, all)
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		d := shardDoc{Key: []byte(m.key), Fields: make([][]byte, 0, 2*len(fs))}
		for _, f := range fs {
			d.Fields = append(d.Fields, f[0], f[1])
		}
		part.Docs[i] = d
	}
	b, _ := json.Marshal(part)
	w.Bulk(b)
}

// MergeAggregate writes FT.AGGREGATE's reply (args after the command name) by running its
// pipeline over the documents of every shard's part, in key order as on a single node.
func MergeAggregate(args [][]byte, parts [][]byte, w *resp.Writer) {
	steps, _, msg := parseAggregate(args[2:])
	if msg != "" {
		w.Error(msg)
		return
	}
	if at := groupPushdown(steps); at >= 0 {
		mergeGroups(steps, at, parts, w)
		return
	}
	var ix *Index
	var rows []*aggRow
	for _, p := range parts {
		var part shardAggregate
		if err := json.Unmarshal(p, &part); err != nil {
			w.Error("ERR malformed shard reply: " + err.Error())
			return
		}
		if ix == nil {
			var err error
			if ix, err = decodeIndex(part.Index); err != nil {
				w.Error("ERR malformed shard reply: " + err.Error())
				return
			}
		}
		for _, d := range part.Docs {
			src := make(map[string]string, len(d.Fields)/2)
			for i := 0; i+1 < len(d.Fields); i += 2 {
				src[string(d.Fields[i])] = string(d.Fields[i+1])
			}
			rows = append(rows, &aggRow{vals: map[string]string{}, key: string(d.Key), src: src, ix: ix})
		}
	}
	slices.SortFunc(rows, func(a, b *aggRow) int { return strings.Compare(a.key, b.key) })
	for _, st := range steps {
		var err error
		if rows, err = st.run(rows, ix); err != nil {
			w.Error(err.Error())
			return
		}
	}
	writeAggregate(w, rows)
}

// mergeGroups writes FT.AGGREGATE's reply from the shards' groups of steps[at] (a GROUPBY
// groupPushdown allows): merged, in the order of their first documents, then the rest of the
// pipeline over them.
func mergeGroups(steps []aggStep, at int, parts [][]byte, w *resp.Writer) {
	st := &steps[at]
	byKey := map[string]*groupAcc{}
	var gs []*groupAcc
	for _, p := range parts {
		var part shardAggregate
		if err := json.Unmarshal(p, &part); err != nil {
			w.Error("ERR malformed shard reply: " + err.Error())
			return
		}
		for _, gp := range part.Groups {
			g, added, err := st.mergePart(byKey, gp)
			if err != nil {
				w.Error("ERR malformed shard reply: " + err.Error())
				return
			}
			if added {
				gs = append(gs, g)
			}
		}
	}
	slices.SortFunc(gs, func(a, b *groupAcc) int { return strings.Compare(a.first, b.first) })
	rows := make([]*aggRow, len(gs))
	for i, g := range gs {
		rows[i] = st.row(g)
	}
	for _, st := range steps[at+1:] {
		var err error
		if rows, err = st.run(rows, nil); err != nil {
			w.Error(err.Error())
			return
		}
	}
	writeAggregate(w, rows)
}

// shardInfo is one shard's part of FT.INFO.
type shardInfo struct {
	Index json.RawMessage `json:"index"`
	Docs  int64           `json:"docs"`
}

// ShardInfo runs a shard's part of FT.INFO: its definition of the index (with its build's
// progress) and its number of documents.
func (v *View) ShardInfo(cat *Catalog, name string, w *resp.Writer) {
	ix, n, ok := v.indexDocs(cat, name, w)
	if !ok {
		return
	}
	b, _ := json.Marshal(shardInfo{Index: ix.encode(), Docs: n})
	w.Bulk(b)
}

// MergeInfo writes FT.INFO's reply from the shards' parts: documents summed, indexing while
// any shard still builds, percent_indexed the least any shard reached.
func MergeInfo(parts [][]byte, w *resp.Writer) {
	var ix *Index
	var docs int64
	building, percent := false, 1.0
	for _, p := range parts {
		var part shardInfo
		if err := json.Unmarshal(p, &part); err != nil {
			w.Error("ERR malformed shard reply: " + err.Error())
			return
		}
		one, err := decodeIndex(part.Index)
		if err != nil {
			w.Error("ERR malformed shard reply: " + err.Error())
			return
		}
		if ix == nil {
			ix = one
		}
		docs += part.Docs
		building = building || one.Building
		percent = min(percent, one.PercentIndexed())
	}
	if ix == nil {
		w.Error("Unknown index name")
		return
	}
	writeInfo(w, ix, docs, building, percent)
}
