package search

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// View is what a query reads: a consistent view of one shard, at a time.
type View struct {
	R   pebble.Reader
	Now int64
}

// NoSuchIndex is the error reply for a query on an unknown index.
func NoSuchIndex(name string) string { return name + ": no such index" }

// searchOpts are FT.SEARCH's options.
type searchOpts struct {
	noContent, withScores, verbatim, noStop bool
	inKeys                                  map[string]bool
	inFields                                []string
	ret                                     []retField // nil: every field; empty: none
	retSet                                  bool
	sortBy                                  string
	sortDesc                                bool
	offset, num                             int
	params                                  map[string]string
	dialect                                 int
	filters                                 []*node
	// global and seen are the corpus statistics of a query over several shards (cluster.go).
	global, seen *corpusStats
}

type retField struct{ name, as string }

// parseCount reads "n item..." at args[i], returning the items.
func parseCount(args [][]byte, i int, what string) ([]string, int, string) {
	if i >= len(args) {
		return nil, i, "Bad arguments for " + what + ": Expected an argument"
	}
	n, err := strconv.Atoi(string(args[i]))
	if err != nil || n < 0 {
		return nil, i, "Bad arguments for " + what + ": Could not convert argument to expected type"
	}
	if i+1+n > len(args) {
		return nil, i, "Bad arguments for " + what + ": Expected " + strconv.Itoa(n) + " arguments"
	}
	out := make([]string, n)
	for j := range out {
		out[j] = string(args[i+1+j])
	}
	return out, i + 1 + n, ""
}

func parseSearchOpts(args [][]byte) (*searchOpts, string) {
	o := &searchOpts{num: 10, dialect: 1}
	for i := 0; i < len(args); {
		a := strings.ToUpper(string(args[i]))
		i++
		var msg string
		var items []string
		switch a {
		case "NOCONTENT":
			o.noContent = true
		case "WITHSCORES":
			o.withScores = true
		case "VERBATIM":
			o.verbatim = true
		case "NOSTOPWORDS":
			o.noStop = true
		case "INKEYS":
			items, i, msg = parseCount(args, i, "INKEYS")
			if o.inKeys == nil {
				o.inKeys = map[string]bool{}
			}
			for _, k := range items {
				o.inKeys[k] = true
			}
		case "INFIELDS":
			items, i, msg = parseCount(args, i, "INFIELDS")
			o.inFields = append(o.inFields, items...)
		case "RETURN":
			items, i, msg = parseCount(args, i, "RETURN")
			o.retSet = true
			o.ret = []retField{}
			for j := 0; j < len(items); j++ {
				f := retField{name: items[j], as: items[j]}
				if j+2 < len(items) && strings.EqualFold(items[j+1], "AS") {
					f.as = items[j+2]
					j += 2
				}
				o.ret = append(o.ret, f)
			}
		case "SORTBY":
			if i >= len(args) {
				return nil, "Bad arguments for SORTBY: Expected an argument"
			}
			o.sortBy = strings.TrimPrefix(string(args[i]), "@")
			i++
			if i < len(args) {
				switch strings.ToUpper(string(args[i])) {
				case "ASC":
					i++
				case "DESC":
					o.sortDesc = true
					i++
				}
			}
		case "LIMIT":
			if i+1 >= len(args) {
				return nil, "Bad arguments for LIMIT: Expected an argument"
			}
			off, err1 := strconv.Atoi(string(args[i]))
			num, err2 := strconv.Atoi(string(args[i+1]))
			if err1 != nil || err2 != nil || off < 0 || num < 0 {
				return nil, "Bad arguments for LIMIT: Could not convert argument to expected type"
			}
			o.offset, o.num = off, num
			i += 2
		case "PARAMS":
			items, i, msg = parseCount(args, i, "PARAMS")
			if len(items)%2 != 0 {
				return nil, "Bad arguments for PARAMS: Expected an even number of arguments"
			}
			o.params = map[string]string{}
			for j := 0; j < len(items); j += 2 {
				o.params[items[j]] = items[j+1]
			}
		case "DIALECT":
			if i >= len(args) {
				return nil, "Bad arguments for DIALECT: Expected an argument"
			}
			d, err := strconv.Atoi(string(args[i]))
			if err != nil || d < 1 || d > 4 {
				return nil, "DIALECT requires a non negative integer >=1 and <= 4"
			}
			o.dialect = d
			i++
		case "FILTER":
			if i+2 >= len(args) {
				return nil, "Bad arguments for FILTER: Expected 3 arguments"
			}
			p := &parser{}
			n := &node{kind: nNumeric, fields: []string{strings.TrimPrefix(string(args[i]), "@")}}
			var err error
			if n.lo, n.loEx, err = p.bound(string(args[i+1])); err == nil {
				n.hi, n.hiEx, err = p.bound(string(args[i+2]))
			}
			if err != nil {
				return nil, err.Error()
			}
			o.filters = append(o.filters, n)
			i += 3
		case "GEOFILTER":
			if i+5 > len(args) {
				return nil, "GEOFILTER requires 5 arguments"
			}
			g, err := parseGeoFilter(string(args[i+1]), string(args[i+2]), string(args[i+3]), string(args[i+4]))
			if err != nil {
				return nil, err.Error()
			}
			o.filters = append(o.filters, &node{kind: nGeo, fields: []string{strings.TrimPrefix(string(args[i]), "@")}, geo: g})
			i += 5
		case "TIMEOUT":
			// cairn does not cut queries short; the value is checked and otherwise unused.
			if i >= len(args) {
				return nil, "Bad arguments for TIMEOUT: Expected an argument"
			}
			if _, err := strconv.Atoi(string(args[i])); err != nil {
				return nil, "Bad arguments for TIMEOUT: Could not convert argument to expected type"
			}
			i++
		case "LANGUAGE":
			if i >= len(args) || !strings.EqualFold(string(args[i]), "english") {
				return nil, "ERR only LANGUAGE english is supported by cairn"
			}
			i++
		case "SCORER":
			if i >= len(args) || !strings.EqualFold(string(args[i]), "TFIDF") {
				return nil, "ERR only SCORER TFIDF is supported by cairn"
			}
			i++
		case "WITHPAYLOADS", "WITHSORTKEYS", "SUMMARIZE", "HIGHLIGHT", "SLOP", "INORDER", "EXPANDER", "EXPLAINSCORE", "PAYLOAD":
			return nil, "ERR " + a + " is not supported by cairn"
		default:
			return nil, "Unknown argument `" + string(args[i-1]) + "`"
		}
		if msg != "" {
			return nil, msg
		}
	}
	if o.dialect < 2 && o.params != nil {
		// RediSearch substitutes parameters from dialect 2 on; earlier dialects take PARAMS too.
		o.dialect = 2
	}
	return o, ""
}

// match is one document a query found.
type match struct {
	key   string
	score float64
	sort  []byte // the SORTBY field's indexed value (nil when the document lacks it)
}

// run evaluates a query over ix, returning the live matching documents in result order.
func (v *View) run(ix *Index, query string, o *searchOpts) ([]match, error) {
	var params map[string]string
	if o.dialect >= 2 {
		params = o.params
		if params == nil {
			params = map[string]string{}
		}
	}
	root, err := Parse(query, params)
	if err != nil {
		return nil, err
	}
	if len(o.filters) > 0 {
		root = &node{kind: nAnd, children: append([]*node{root}, o.filters...)}
	}
	e := &evaluator{r: v.R, ix: ix, verbatim: o.verbatim, noStop: o.noStop, global: o.global, seen: o.seen}
	if e.ndocs, err = DocCount(v.R, ix); err != nil {
		return nil, err
	}
	if e.seen != nil {
		e.seen.Docs = e.ndocs
	}
	if e.global != nil {
		e.ndocs = e.global.Docs
	}
	if o.inFields != nil {
		e.inFields = map[int]bool{}
		for _, f := range o.inFields {
			if i := ix.FieldByAlias(f); i >= 0 {
				e.inFields[i] = true
			}
		}
	}
	h, err := e.eval(root)
	if err != nil {
		return nil, err
	}
	sortField := -1
	if o.sortBy != "" {
		if sortField = ix.FieldByAlias(o.sortBy); sortField < 0 {
			return nil, &QueryError{"Property `" + o.sortBy + "` not loaded nor in schema"}
		}
	}
	// The index changes with the data in one batch; only expiry, which reads see at once and
	// the sweeper removes later, can leave a document whose key is gone.
	expired, err := expiredDocs(v.R, ix, v.Now)
	if err != nil {
		return nil, err
	}
	out := make([]match, 0, len(h))
	for k, s := range h {
		if o.inKeys != nil && !o.inKeys[k] || expired[k] {
			continue
		}
		m := match{key: k, score: s}
		if sortField >= 0 {
			d, err := v.doc(ix, k)
			if err != nil {
				return nil, err
			}
			if d != nil {
				m.sort = d[sortField]
			}
		}
		out = append(out, m)
	}
	numeric := sortField >= 0 && ix.Fields[sortField].Type == TypeNumeric
	slices.SortFunc(out, func(a, b match) int { return compareMatches(a, b, sortField >= 0, numeric, o.sortDesc) })
	return out, nil
}

// compareMatches is the order of results: by the SORTBY value if sorted, else by score, best
// first; then by key, so the order is total and shards' results merge into the same order.
func compareMatches(a, b match, sorted, numeric, desc bool) int {
	if sorted {
		if c := compareSort(a.sort, b.sort, numeric, desc); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	}
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

// compareSort orders two SORTBY values; documents without one come last either way.
func compareSort(a, b []byte, numeric, desc bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	var c int
	if numeric {
		x, _ := parseNumber(string(a))
		y, _ := parseNumber(string(b))
		c = cmp.Compare(x, y)
	} else {
		c = strings.Compare(strings.ToLower(string(a)), strings.ToLower(string(b)))
	}
	if desc {
		return -c
	}
	return c
}

func (v *View) doc(ix *Index, key string) (doc, error) {
	raw, closer, err := v.R.Get(docKey(nil, ix.ID, []byte(key)))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return decodeDoc(raw, len(ix.Fields))
}

// fields reads the hash fields a result returns: all of them, or those RETURN names.
func (v *View) fields(ix *Index, key string, o *searchOpts) ([][2][]byte, error) {
	tx := keyspace.NewTx(v.R, nil, ix.DB, v.Now)
	h, err := tx.OpenHash([]byte(key))
	if err != nil {
		return nil, err
	}
	var out [][2][]byte
	if !o.retSet {
		err = h.Each(func(f, val []byte, _ int64) bool {
			out = append(out, [2][]byte{append([]byte{}, f...), append([]byte{}, val...)})
			return true
		})
		return out, err
	}
	for _, r := range o.ret {
		name := r.name
		if i := ix.FieldByAlias(name); i >= 0 {
			name = ix.Fields[i].Name
		}
		val, _, ok, err := h.Get([]byte(name))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, [2][]byte{[]byte(r.as), append([]byte{}, val...)})
		}
	}
	return out, nil
}

// Search runs FT.SEARCH (args after the command name) and writes its reply.
func (v *View) Search(cat *Catalog, args [][]byte, w *resp.Writer) {
	if len(args) < 2 {
		w.Error("ERR wrong number of arguments for 'FT.SEARCH' command")
		return
	}
	ix := cat.Lookup(string(args[0]))
	if ix == nil {
		w.Error(NoSuchIndex(string(args[0])))
		return
	}
	o, msg := parseSearchOpts(args[2:])
	if msg != "" {
		w.Error(msg)
		return
	}
	ms, err := v.run(ix, string(args[1]), o)
	if err != nil {
		w.Error(err.Error())
		return
	}
	off := min(o.offset, len(ms))
	page := ms[off : off+min(o.num, len(ms)-off)]
	rows := make([]searchRow, len(page))
	for i, m := range page {
		rows[i] = searchRow{key: m.key, score: m.score}
		if !o.noFields() {
			if rows[i].fields, err = v.fields(ix, m.key, o); err != nil {
				w.Error("ERR " + err.Error())
				return
			}
		}
	}
	writeSearch(w, o, int64(len(ms)), rows)
}

// noFields reports whether results carry no fields (NOCONTENT, or RETURN 0).
func (o *searchOpts) noFields() bool { return o.noContent || (o.retSet && len(o.ret) == 0) }

// searchRow is one result of FT.SEARCH's reply.
type searchRow struct {
	key    string
	score  float64
	fields [][2][]byte
}

// writeSearch writes FT.SEARCH's reply: the number of matches and one page of them.
func writeSearch(w *resp.Writer, o *searchOpts, total int64, rows []searchRow) {
	noFields := o.noFields()
	if w.RESP3() {
		w.Map(5)
		w.BulkString("attributes")
		w.Array(0)
		w.BulkString("warning")
		w.Array(0)
		w.BulkString("total_results")
		w.Int(total)
		w.BulkString("format")
		w.BulkString("STRING")
		w.BulkString("results")
		w.Array(len(rows))
		for _, r := range rows {
			n := 2
			if o.withScores {
				n++
			}
			if !noFields {
				n++
			}
			w.Map(n)
			w.BulkString("id")
			w.BulkString(r.key)
			if o.withScores {
				w.BulkString("score")
				w.Double(r.score)
			}
			if !noFields {
				w.BulkString("extra_attributes")
				w.Map(len(r.fields))
				for _, f := range r.fields {
					w.Bulk(f[0])
					w.Bulk(f[1])
				}
			}
			w.BulkString("values")
			w.Array(0)
		}
		return
	}
	per := 1
	if o.withScores {
		per++
	}
	if !noFields {
		per++
	}
	w.Array(1 + per*len(rows))
	w.Int(total)
	for _, r := range rows {
		w.BulkString(r.key)
		if o.withScores {
			w.BulkString(strconv.FormatFloat(r.score, 'g', -1, 64))
		}
		if !noFields {
			w.Array(2 * len(r.fields))
			for _, f := range r.fields {
				w.Bulk(f[0])
				w.Bulk(f[1])
			}
		}
	}
}

// Explain writes FT.EXPLAIN's reply: the parsed query tree.
func (v *View) Explain(cat *Catalog, args [][]byte, w *resp.Writer) {
	ix := cat.Lookup(string(args[0]))
	if ix == nil {
		w.Error(NoSuchIndex(string(args[0])))
		return
	}
	o, msg := parseSearchOpts(args[2:])
	if msg != "" {
		w.Error(msg)
		return
	}
	var params map[string]string
	if o.dialect >= 2 {
		params = o.params
		if params == nil {
			params = map[string]string{}
		}
	}
	root, err := Parse(string(args[1]), params)
	if err != nil {
		w.Error(err.Error())
		return
	}
	w.BulkString(root.String())
}
