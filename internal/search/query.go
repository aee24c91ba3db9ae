package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The query language of FT.SEARCH and FT.AGGREGATE, as clients send it:
//
//	hello world          both terms (AND)        hello | world   either (OR, binds looser)
//	-hello               not                     ~hello          optional (scores, never filters)
//	(a | b) c            grouping                "a b c"         phrase: the words in order, adjacent
//	hel*                 words starting so       *               every document
//	@title:hello         a term in one field     @a|b:(x y)      a group in either field
//	@tags:{red | blue*}  a tag, or a tag prefix  @n:[10 (20]     a numeric range; inf, +inf, -inf
//	@loc:[lon lat r km]  points within r of (lon, lat); units m, km, mi, ft
//	$name                a parameter (DIALECT 2 and PARAMS)

type nodeKind int

const (
	nAnd nodeKind = iota
	nOr
	nNot
	nOptional
	nTerm
	nPrefix
	nPhrase
	nTag
	nNumeric
	nGeo
	nAll
)

type tagMatch struct {
	value  string
	prefix bool
}

// node is one node of a parsed query.
type node struct {
	kind     nodeKind
	children []*node
	fields   []string // attribute restriction; nil means any text field
	term     string
	words    []string // phrase words, with stopwords kept for their positions
	tags     []tagMatch
	lo, hi   float64
	loEx     bool
	hiEx     bool
	geo      *geoFilter
}

// QueryError is a query the parser refuses; its message is the Redis error reply.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

type parser struct {
	s      string
	pos    int
	params map[string]string
}

// Parse parses a query. params are the PARAMS values (DIALECT 2 and up).
func Parse(q string, params map[string]string) (*node, error) {
	p := &parser{s: q, params: params}
	n, err := p.union()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, p.syntax()
	}
	if n == nil {
		return &node{kind: nAnd}, nil // only stopwords: matches nothing
	}
	return n, nil
}

func (p *parser) syntax() error {
	near := p.s[p.pos:]
	if len(near) > 10 {
		near = near[:10]
	}
	return &QueryError{fmt.Sprintf("Syntax error at offset %d near %s", p.pos, near)}
}

func (p *parser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) union() (*node, error) {
	var alts []*node
	for {
		n, err := p.intersect()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
		p.space()
		if p.peek() != '|' {
			break
		}
		p.pos++
	}
	var kept []*node
	for _, a := range alts {
		if a != nil {
			kept = append(kept, a)
		}
	}
	switch len(kept) {
	case 0:
		return nil, nil
	case 1:
		return kept[0], nil
	}
	return &node{kind: nOr, children: kept}, nil
}

func (p *parser) intersect() (*node, error) {
	var parts []*node
	p.space()
	start := p.pos
	for {
		p.space()
		c := p.peek()
		if c == 0 || c == ')' || c == '|' {
			break
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		if n != nil {
			parts = append(parts, n)
		}
	}
	if p.pos == start && p.peek() != ')' {
		if p.peek() == '|' || p.pos >= len(p.s) {
			return nil, p.syntax()
		}
	}
	switch len(parts) {
	case 0:
		return nil, nil
	case 1:
		return parts[0], nil
	}
	return &node{kind: nAnd, children: parts}, nil
}

func (p *parser) unary() (*node, error) {
	switch p.peek() {
	case '-':
		p.pos++
		n, err := p.unary()
		if err != nil || n == nil {
			return nil, err
		}
		return &node{kind: nNot, children: []*node{n}}, nil
	case '~':
		p.pos++
		n, err := p.unary()
		if err != nil || n == nil {
			return nil, err
		}
		return &node{kind: nOptional, children: []*node{n}}, nil
	}
	return p.atom(nil)
}

func (p *parser) atom(fields []string) (*node, error) {
	p.space()
	switch c := p.peek(); {
	case c == '@' && fields == nil:
		p.pos++
		var names []string
		for {
			name := p.word(false)
			if name == "" {
				return nil, p.syntax()
			}
			names = append(names, name)
			if p.peek() != '|' {
				break
			}
			p.pos++
		}
		if p.peek() != ':' {
			return nil, p.syntax()
		}
		p.pos++
		p.space()
		return p.atom(names)
	case c == '(':
		p.pos++
		n, err := p.union()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.peek() != ')' {
			return nil, p.syntax()
		}
		p.pos++
		applyFields(n, fields)
		return n, nil
	case c == '-' && fields != nil:
		p.pos++
		n, err := p.atom(fields)
		if err != nil || n == nil {
			return nil, err
		}
		return &node{kind: nNot, children: []*node{n}}, nil
	case c == '{':
		if fields == nil {
			return nil, p.syntax()
		}
		return p.tagList(fields)
	case c == '[':
		if fields == nil {
			return nil, p.syntax()
		}
		return p.numeric(fields)
	case c == '"' || c == '\'':
		return p.phrase(fields, c)
	case c == '*' && fields == nil:
		p.pos++
		return &node{kind: nAll}, nil
	case c == '%':
		return nil, &QueryError{"ERR fuzzy matching (%term%) is not supported by cairn"}
	case c == '$':
		p.pos++
		name := p.word(false)
		v, err := p.param(name)
		if err != nil {
			return nil, err
		}
		return termNode(v, false, fields), nil
	}
	w := p.word(true)
	if w == "" {
		return nil, p.syntax()
	}
	if p.peek() == '*' {
		p.pos++
		return termNode(w, true, fields), nil
	}
	if strings.HasPrefix(p.s[p.pos:], "=>") {
		return nil, &QueryError{"ERR vector queries (=>) are not supported by cairn"}
	}
	return termNode(w, false, fields), nil
}

func (p *parser) param(name string) (string, error) {
	if p.params == nil {
		return "", &QueryError{"Syntax error: parameters need DIALECT 2 and PARAMS"}
	}
	v, ok := p.params[name]
	if !ok {
		return "", &QueryError{"No such parameter `" + name + "`"}
	}
	return v, nil
}

// termNode makes the node of one query term (nil for a stopword-free empty term).
func termNode(raw string, prefix bool, fields []string) *node {
	toks := tokenize(raw)
	if len(toks) == 0 {
		return nil
	}
	if len(toks) > 1 && !prefix {
		return &node{kind: nPhrase, words: toks, fields: fields}
	}
	t := strings.Join(toks, "")
	if prefix {
		return &node{kind: nPrefix, term: t, fields: fields}
	}
	return &node{kind: nTerm, term: t, fields: fields}
}

func applyFields(n *node, fields []string) {
	if n == nil || fields == nil {
		return
	}
	switch n.kind {
	case nTerm, nPrefix, nPhrase:
		if n.fields == nil {
			n.fields = fields
		}
	}
	for _, c := range n.children {
		applyFields(c, fields)
	}
}

// word reads a run of term characters (a backslash escapes the next one).
func (p *parser) word(allowEscape bool) string {
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '\\' && p.pos+1 < len(p.s) {
			b.WriteByte(c)
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		}
		if c < 0x80 && (isSeparator(rune(c)) || c == '*') && !(c == '_') {
			break
		}
		b.WriteByte(c)
		p.pos++
	}
	return b.String()
}

func (p *parser) phrase(fields []string, quote byte) (*node, error) {
	p.pos++
	end := strings.IndexByte(p.s[p.pos:], quote)
	if end < 0 {
		return nil, p.syntax()
	}
	text := p.s[p.pos : p.pos+end]
	p.pos += end + 1
	toks := tokenize(text)
	switch len(toks) {
	case 0:
		return nil, nil
	case 1:
		return &node{kind: nTerm, term: toks[0], fields: fields}, nil
	}
	return &node{kind: nPhrase, words: toks, fields: fields}, nil
}

func (p *parser) tagList(fields []string) (*node, error) {
	p.pos++
	n := &node{kind: nTag, fields: fields}
	var cur strings.Builder
	escaped := false
	flush := func() error {
		v := strings.TrimSpace(cur.String())
		cur.Reset()
		prefix := false
		if strings.HasSuffix(v, "*") && !escaped {
			prefix, v = true, strings.TrimSpace(v[:len(v)-1])
		}
		if strings.HasPrefix(v, "$") && p.params != nil {
			pv, err := p.param(v[1:])
			if err != nil {
				return err
			}
			v = pv
		}
		if v == "" {
			return p.syntax()
		}
		n.tags = append(n.tags, tagMatch{value: v, prefix: prefix})
		return nil
	}
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == '\\' && p.pos < len(p.s):
			cur.WriteByte(p.s[p.pos])
			p.pos++
			escaped = true
			continue
		case c == '|':
			if err := flush(); err != nil {
				return nil, err
			}
		case c == '}':
			if err := flush(); err != nil {
				return nil, err
			}
			return n, nil
		default:
			cur.WriteByte(c)
		}
		escaped = false
	}
	return nil, p.syntax()
}

func (p *parser) numeric(fields []string) (*node, error) {
	p.pos++
	end := strings.IndexByte(p.s[p.pos:], ']')
	if end < 0 {
		return nil, p.syntax()
	}
	body := strings.ReplaceAll(p.s[p.pos:p.pos+end], ",", " ")
	p.pos += end + 1
	parts := strings.Fields(body)
	if len(parts) == 4 {
		for i, part := range parts {
			if strings.HasPrefix(part, "$") && p.params != nil {
				v, err := p.param(part[1:])
				if err != nil {
					return nil, err
				}
				parts[i] = v
			}
		}
		g, err := parseGeoFilter(parts[0], parts[1], parts[2], parts[3])
		if err != nil {
			return nil, err
		}
		return &node{kind: nGeo, fields: fields, geo: g}, nil
	}
	if len(parts) != 2 {
		return nil, &QueryError{"Syntax error: a numeric range is [min max]"}
	}
	n := &node{kind: nNumeric, fields: fields}
	var err error
	if n.lo, n.loEx, err = p.bound(parts[0]); err != nil {
		return nil, err
	}
	if n.hi, n.hiEx, err = p.bound(parts[1]); err != nil {
		return nil, err
	}
	return n, nil
}

func (p *parser) bound(s string) (float64, bool, error) {
	ex := strings.HasPrefix(s, "(")
	if ex {
		s = s[1:]
	}
	if strings.HasPrefix(s, "$") && p.params != nil {
		v, err := p.param(s[1:])
		if err != nil {
			return 0, false, err
		}
		s = v
		if strings.HasPrefix(s, "(") {
			ex, s = true, s[1:]
		}
	}
	switch strings.ToLower(s) {
	case "inf", "+inf":
		return math.Inf(1), ex, nil
	case "-inf":
		return math.Inf(-1), ex, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false, &QueryError{"Expected a number but got `" + s + "`"}
	}
	return f, ex, nil
}

// String renders the parsed query tree, for FT.EXPLAIN.
func (n *node) String() string {
	var b strings.Builder
	n.explain(&b, 0)
	return b.String()
}

func (n *node) explain(b *strings.Builder, depth int) {
	ind := strings.Repeat("  ", depth)
	field := ""
	if n.fields != nil {
		field = "@" + strings.Join(n.fields, "|") + ":"
	}
	switch n.kind {
	case nAnd, nOr:
		name := "INTERSECT"
		if n.kind == nOr {
			name = "UNION"
		}
		b.WriteString(ind + name + " {\n")
		for _, c := range n.children {
			c.explain(b, depth+1)
		}
		b.WriteString(ind + "}\n")
	case nNot, nOptional:
		name := "NOT"
		if n.kind == nOptional {
			name = "OPTIONAL"
		}
		b.WriteString(ind + name + "{\n")
		n.children[0].explain(b, depth+1)
		b.WriteString(ind + "}\n")
	case nTerm:
		b.WriteString(ind + field + n.term + "\n")
	case nPrefix:
		b.WriteString(ind + "PREFIX{" + field + n.term + "*}\n")
	case nPhrase:
		b.WriteString(ind + field + "EXACT {\n")
		for _, w := range n.words {
			b.WriteString(ind + "  " + w + "\n")
		}
		b.WriteString(ind + "}\n")
	case nTag:
		b.WriteString(ind + "TAG:" + field + " {\n")
		for _, t := range n.tags {
			s := t.value
			if t.prefix {
				s += "*"
			}
			b.WriteString(ind + "  " + s + "\n")
		}
		b.WriteString(ind + "}\n")
	case nNumeric:
		lo, hi := "[", "]"
		if n.loEx {
			lo = "("
		}
		if n.hiEx {
			hi = ")"
		}
		b.WriteString(ind + "NUMERIC {" + lo + formatNum(n.lo) + " " + formatNum(n.hi) + hi + "} " + field + "\n")
	case nGeo:
		g := n.geo
		fmt.Fprintf(b, "%sGEO %s{%f,%f --> %f %s}\n", ind, field, g.shape.Long, g.shape.Lat, g.shape.Radius, g.unit)
	case nAll:
		b.WriteString(ind + "<WILDCARD>\n")
	}
}

func formatNum(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
