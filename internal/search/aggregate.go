package search

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// FT.AGGREGATE: the documents a query matches flow through a pipeline of steps in the order
// given — LOAD, GROUPBY with REDUCE (COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX, TOLIST), SORTBY,
// APPLY, FILTER, LIMIT — and the rows that come out are the reply.

// aggRow is one row: its properties in the order they were made, and the document it came
// from (for @references to attributes not loaded), if any.
type aggRow struct {
	names []string
	vals  map[string]string
	key   string
	src   map[string]string // the document's hash, read on first use
	view  *View
	ix    *Index
}

func (r *aggRow) set(name, v string) {
	if _, ok := r.vals[name]; !ok {
		r.names = append(r.names, name)
	}
	r.vals[name] = v
}

// get reads a property: the row's own, else the document's field (by attribute or hash name).
func (r *aggRow) get(name string) (string, bool) {
	if v, ok := r.vals[name]; ok {
		return v, true
	}
	if r.key == "" {
		return "", false
	}
	if r.src == nil {
		r.src = map[string]string{}
		tx := keyspace.NewTx(r.view.R, nil, r.ix.DB, r.view.Now)
		if h, err := tx.OpenHash([]byte(r.key)); err == nil {
			_ = h.Each(func(f, v []byte, _ int64) bool { r.src[string(f)] = string(v); return true })
		}
	}
	if i := r.ix.FieldByAlias(name); i >= 0 {
		name = r.ix.Fields[i].Name
	}
	v, ok := r.src[name]
	return v, ok
}

type reducer struct {
	fn   string
	arg  string
	name string
}

type aggStep struct {
	kind     string // load, groupby, sortby, apply, filter, limit
	props    []string
	reducers []reducer
	sortKeys []sortKey
	max      int
	expr     *expr
	as       string
	off, num int
}

type sortKey struct {
	prop string
	desc bool
}

func prop(s string) (string, bool) {
	if !strings.HasPrefix(s, "@") || len(s) < 2 {
		return "", false
	}
	return s[1:], true
}

func parseAggregate(args [][]byte) ([]aggStep, *searchOpts, string) {
	var steps []aggStep
	var rest [][]byte
	for i := 0; i < len(args); {
		a := strings.ToUpper(string(args[i]))
		i++
		switch a {
		case "LOAD":
			if i < len(args) && string(args[i]) == "*" {
				steps = append(steps, aggStep{kind: "load", props: nil})
				i++
				continue
			}
			items, next, msg := parseCount(args, i, "LOAD")
			if msg != "" {
				return nil, nil, msg
			}
			i = next
			st := aggStep{kind: "load"}
			for j := 0; j < len(items); j++ {
				st.props = append(st.props, strings.TrimPrefix(items[j], "@"))
				if j+2 < len(items) && strings.EqualFold(items[j+1], "AS") {
					j += 2 // the loaded name stays the field's; aliases in LOAD are not kept apart
				}
			}
			steps = append(steps, st)
		case "GROUPBY":
			items, next, msg := parseCount(args, i, "GROUPBY")
			if msg != "" {
				return nil, nil, msg
			}
			i = next
			st := aggStep{kind: "groupby"}
			for _, it := range items {
				p, ok := prop(it)
				if !ok {
					return nil, nil, "Bad arguments for GROUPBY: Unknown property `" + it + "`. Did you mean `@" + it + "`?"
				}
				st.props = append(st.props, p)
			}
			for i < len(args) && strings.EqualFold(string(args[i]), "REDUCE") {
				if i+1 >= len(args) {
					return nil, nil, "Bad arguments for REDUCE: Expected an argument"
				}
				fn := strings.ToUpper(string(args[i+1]))
				rargs, next, msg := parseCount(args, i+2, "REDUCE")
				if msg != "" {
					return nil, nil, msg
				}
				i = next
				r := reducer{fn: fn}
				switch fn {
				case "COUNT":
					if len(rargs) != 0 {
						return nil, nil, "Count accepts 0 values only"
					}
				case "SUM", "AVG", "MIN", "MAX", "COUNT_DISTINCT", "TOLIST":
					if len(rargs) != 1 {
						return nil, nil, "Bad arguments for " + fn + ": Expected 1 argument"
					}
					p, ok := prop(rargs[0])
					if !ok {
						return nil, nil, "Bad arguments for " + fn + ": Unknown property `" + rargs[0] + "`"
					}
					r.arg = p
				default:
					return nil, nil, "ERR reducer " + fn + " is not supported by cairn"
				}
				r.name = "__generated_alias" + strings.ToLower(fn) + r.arg
				if i+1 < len(args) && strings.EqualFold(string(args[i]), "AS") {
					r.name = string(args[i+1])
					i += 2
				}
				st.reducers = append(st.reducers, r)
			}
			steps = append(steps, st)
		case "SORTBY":
			items, next, msg := parseCount(args, i, "SORTBY")
			if msg != "" {
				return nil, nil, msg
			}
			i = next
			st := aggStep{kind: "sortby"}
			for j := 0; j < len(items); j++ {
				p, ok := prop(items[j])
				if !ok {
					return nil, nil, "Bad arguments for SORTBY: Unknown property `" + items[j] + "`"
				}
				k := sortKey{prop: p}
				if j+1 < len(items) {
					switch strings.ToUpper(items[j+1]) {
					case "ASC":
						j++
					case "DESC":
						k.desc = true
						j++
					}
				}
				st.sortKeys = append(st.sortKeys, k)
			}
			if i+1 < len(args) && strings.EqualFold(string(args[i]), "MAX") {
				m, err := strconv.Atoi(string(args[i+1]))
				if err != nil || m < 0 {
					return nil, nil, "Bad arguments for MAX: Could not convert argument to expected type"
				}
				st.max = m
				i += 2
			}
			steps = append(steps, st)
		case "APPLY", "FILTER":
			if i >= len(args) {
				return nil, nil, "Bad arguments for " + a + ": Expected an argument"
			}
			e, err := parseExpr(string(args[i]))
			if err != nil {
				return nil, nil, err.Error()
			}
			i++
			st := aggStep{kind: strings.ToLower(a), expr: e}
			if a == "APPLY" {
				if i+1 >= len(args) || !strings.EqualFold(string(args[i]), "AS") {
					return nil, nil, "Bad arguments for APPLY: AS is required"
				}
				st.as = string(args[i+1])
				i += 2
			}
			steps = append(steps, st)
		case "LIMIT":
			if i+1 >= len(args) {
				return nil, nil, "Bad arguments for LIMIT: Expected an argument"
			}
			off, err1 := strconv.Atoi(string(args[i]))
			num, err2 := strconv.Atoi(string(args[i+1]))
			if err1 != nil || err2 != nil || off < 0 || num < 0 {
				return nil, nil, "Bad arguments for LIMIT: Could not convert argument to expected type"
			}
			steps = append(steps, aggStep{kind: "limit", off: off, num: num})
			i += 2
		case "WITHCURSOR", "ADDSCORES", "SCORER":
			return nil, nil, "ERR " + a + " is not supported by cairn in FT.AGGREGATE"
		default:
			rest = append(rest, args[i-1])
			// Options FT.SEARCH shares (VERBATIM, PARAMS, DIALECT, TIMEOUT) take their values.
			for i < len(args) && !isAggKeyword(string(args[i])) {
				rest = append(rest, args[i])
				i++
			}
		}
	}
	o, msg := parseSearchOpts(rest)
	if msg != "" {
		return nil, nil, msg
	}
	return steps, o, ""
}

func isAggKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "LOAD", "GROUPBY", "SORTBY", "APPLY", "FILTER", "LIMIT", "WITHCURSOR", "ADDSCORES", "VERBATIM", "PARAMS", "DIALECT", "TIMEOUT", "SCORER":
		return true
	}
	return false
}

// Aggregate runs FT.AGGREGATE (args after the command name) and writes its reply.
func (v *View) Aggregate(cat *Catalog, args [][]byte, w *resp.Writer) {
	ix := cat.Lookup(string(args[0]))
	if ix == nil {
		w.Error(NoSuchIndex(string(args[0])))
		return
	}
	steps, o, msg := parseAggregate(args[2:])
	if msg != "" {
		w.Error(msg)
		return
	}
	o.num = math.MaxInt
	ms, err := v.run(ix, string(args[1]), o)
	if err != nil {
		w.Error(err.Error())
		return
	}
	slices.SortFunc(ms, func(a, b match) int { return strings.Compare(a.key, b.key) })
	rows := make([]*aggRow, len(ms))
	for i, m := range ms {
		rows[i] = &aggRow{vals: map[string]string{}, key: m.key, view: v, ix: ix}
	}
	for _, st := range steps {
		if rows, err = st.run(rows, ix); err != nil {
			w.Error(err.Error())
			return
		}
	}
	writeAggregate(w, rows)
}

// writeAggregate writes FT.AGGREGATE's reply: the rows the pipeline produced.
func writeAggregate(w *resp.Writer, rows []*aggRow) {
	writeRow := func(r *aggRow) {
		if w.RESP3() {
			w.Map(2)
			w.BulkString("extra_attributes")
			w.Map(len(r.names))
		} else {
			w.Array(2 * len(r.names))
		}
		for _, n := range r.names {
			w.BulkString(n)
			w.BulkString(r.vals[n])
		}
		if w.RESP3() {
			w.BulkString("values")
			w.Array(0)
		}
	}
	if w.RESP3() {
		w.Map(5)
		w.BulkString("attributes")
		w.Array(0)
		w.BulkString("format")
		w.BulkString("STRING")
		w.BulkString("results")
		w.Array(len(rows))
		for _, r := range rows {
			writeRow(r)
		}
		w.BulkString("total_results")
		w.Int(int64(len(rows)))
		w.BulkString("warning")
		w.Array(0)
		return
	}
	w.Array(1 + len(rows))
	w.Int(int64(len(rows)))
	for _, r := range rows {
		writeRow(r)
	}
}

func (st *aggStep) run(rows []*aggRow, ix *Index) ([]*aggRow, error) {
	switch st.kind {
	case "load":
		for _, r := range rows {
			if st.props == nil {
				r.get("") // reads the document
				names := make([]string, 0, len(r.src))
				for n := range r.src {
					names = append(names, n)
				}
				slices.Sort(names)
				for _, n := range names {
					r.set(n, r.src[n])
				}
				continue
			}
			for _, p := range st.props {
				if val, ok := r.get(p); ok {
					r.set(p, val)
				}
			}
		}
		return rows, nil
	case "groupby":
		return st.group(rows), nil
	case "sortby":
		slices.SortStableFunc(rows, func(a, b *aggRow) int {
			for _, k := range st.sortKeys {
				x, _ := a.get(k.prop)
				y, _ := b.get(k.prop)
				c := compareValues(x, y)
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		if st.max > 0 && len(rows) > st.max {
			rows = rows[:st.max]
		}
		return rows, nil
	case "apply":
		for _, r := range rows {
			val, err := st.expr.eval(r)
			if err != nil {
				return nil, err
			}
			r.set(st.as, val.String())
		}
		return rows, nil
	case "filter":
		out := rows[:0]
		for _, r := range rows {
			val, err := st.expr.eval(r)
			if err != nil {
				return nil, err
			}
			if val.truthy() {
				out = append(out, r)
			}
		}
		return out, nil
	case "limit":
		off := min(st.off, len(rows))
		return rows[off : off+min(st.num, len(rows)-off)], nil
	}
	return rows, nil
}

// compareValues orders two property values: numerically when both are numbers.
func compareValues(a, b string) int {
	x, errX := strconv.ParseFloat(a, 64)
	y, errY := strconv.ParseFloat(b, 64)
	if errX == nil && errY == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

// groupAcc is one group of a GROUPBY as its rows are added: its properties' values, the key of
// its first row, and each reducer's state.
type groupAcc struct {
	vals     []string
	first    string
	count    int
	sums     []float64
	counts   []int // numeric values seen, for AVG
	mins     []float64
	maxs     []float64
	distinct []map[string]bool
	lists    [][]string
}

func (st *aggStep) newGroup(vals []string, first string) *groupAcc {
	nr := len(st.reducers)
	g := &groupAcc{vals: vals, first: first, sums: make([]float64, nr), counts: make([]int, nr),
		mins: make([]float64, nr), maxs: make([]float64, nr), distinct: make([]map[string]bool, nr), lists: make([][]string, nr)}
	for i := range g.mins {
		g.mins[i], g.maxs[i] = math.Inf(1), math.Inf(-1)
		g.distinct[i] = map[string]bool{}
	}
	return g
}

// groups sorts rows into groups, in the order of their first rows.
func (st *aggStep) groups(rows []*aggRow) []*groupAcc {
	byKey := map[string]*groupAcc{}
	var out []*groupAcc
	for _, r := range rows {
		vals := make([]string, len(st.props))
		for i, p := range st.props {
			vals[i], _ = r.get(p)
		}
		gk := strings.Join(vals, "\x00")
		g := byKey[gk]
		if g == nil {
			g = st.newGroup(vals, r.key)
			byKey[gk] = g
			out = append(out, g)
		}
		g.count++
		for i, red := range st.reducers {
			if red.arg == "" {
				continue
			}
			s, ok := r.get(red.arg)
			if !ok {
				continue
			}
			if !g.distinct[i][s] {
				g.distinct[i][s] = true
				g.lists[i] = append(g.lists[i], s)
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				g.sums[i] += f
				g.counts[i]++
				g.mins[i] = math.Min(g.mins[i], f)
				g.maxs[i] = math.Max(g.maxs[i], f)
			}
		}
	}
	return out
}

// row is the row a group makes: its properties, then the reducers' values.
func (st *aggStep) row(g *groupAcc) *aggRow {
	row := &aggRow{vals: map[string]string{}}
	for i, p := range st.props {
		row.set(p, g.vals[i])
	}
	for i, red := range st.reducers {
		var v string
		switch red.fn {
		case "COUNT":
			v = strconv.Itoa(g.count)
		case "COUNT_DISTINCT":
			v = strconv.Itoa(len(g.distinct[i]))
		case "SUM":
			v = fmtNum(g.sums[i])
		case "AVG":
			if g.counts[i] > 0 {
				v = fmtNum(g.sums[i] / float64(g.counts[i]))
			} else {
				v = "nan"
			}
		case "MIN":
			v = fmtNum(g.mins[i])
		case "MAX":
			v = fmtNum(g.maxs[i])
		case "TOLIST":
			v = strings.Join(g.lists[i], ",")
		}
		row.set(red.name, v)
	}
	return row
}

func (st *aggStep) group(rows []*aggRow) []*aggRow {
	gs := st.groups(rows)
	out := make([]*aggRow, len(gs))
	for i, g := range gs {
		out[i] = st.row(g)
	}
	return out
}

// fmtNum formats a number as RediSearch does: integers without a fraction.
func fmtNum(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}
