package search

import (
	"math"
	"strconv"
	"strings"
)

// Expressions of APPLY and FILTER: numbers, 'strings', @properties, + - * / % ^, comparisons
// (== != < <= > >=), ! && ||, parentheses, and the functions upper, lower, abs, floor, ceil,
// sqrt, log, log2, exp, exists.

type value struct {
	num   float64
	str   string
	isNum bool
	null  bool
}

func (v value) String() string {
	switch {
	case v.null:
		return ""
	case v.isNum:
		return fmtNum(v.num)
	}
	return v.str
}

func (v value) number() (float64, bool) {
	if v.isNum {
		return v.num, true
	}
	f, err := strconv.ParseFloat(v.str, 64)
	return f, err == nil
}

func (v value) truthy() bool {
	if v.null {
		return false
	}
	if f, ok := v.number(); ok {
		return f != 0
	}
	return v.str != ""
}

func numVal(f float64) value { return value{num: f, isNum: true} }

func boolVal(b bool) value {
	if b {
		return numVal(1)
	}
	return numVal(0)
}

type expr struct {
	op   string // literal, prop, call, or an operator
	val  value
	name string
	args []*expr
}

type exprParser struct {
	s   string
	pos int
}

func parseExpr(s string) (*expr, error) {
	p := &exprParser{s: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, p.err()
	}
	return e, nil
}

func (p *exprParser) err() error {
	return &QueryError{"Syntax error at offset " + strconv.Itoa(p.pos) + " near " + p.s[p.pos:]}
}

func (p *exprParser) space() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *exprParser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *exprParser) binary(next func() (*expr, error), ops ...string) (*expr, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for {
		matched := ""
		for _, op := range ops {
			if p.eat(op) {
				matched = op
				break
			}
		}
		if matched == "" {
			return l, nil
		}
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = &expr{op: matched, args: []*expr{l, r}}
	}
}

func (p *exprParser) or() (*expr, error)  { return p.binary(p.and, "||") }
func (p *exprParser) and() (*expr, error) { return p.binary(p.cmp, "&&") }
func (p *exprParser) cmp() (*expr, error) {
	return p.binary(p.add, "==", "!=", "<=", ">=", "<", ">")
}
func (p *exprParser) add() (*expr, error) { return p.binary(p.mul, "+", "-") }
func (p *exprParser) mul() (*expr, error) { return p.binary(p.unary, "*", "/", "%", "^") }

func (p *exprParser) unary() (*expr, error) {
	if p.eat("-") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &expr{op: "neg", args: []*expr{e}}, nil
	}
	if p.eat("!") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &expr{op: "!", args: []*expr{e}}, nil
	}
	return p.primary()
}

func (p *exprParser) primary() (*expr, error) {
	p.space()
	if p.pos >= len(p.s) {
		return nil, p.err()
	}
	c := p.s[p.pos]
	switch {
	case c == '(':
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.err()
		}
		return e, nil
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.pos+1:], c)
		if end < 0 {
			return nil, p.err()
		}
		s := p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return &expr{op: "lit", val: value{str: s}}, nil
	case c == '@':
		p.pos++
		start := p.pos
		for p.pos < len(p.s) && isIdent(p.s[p.pos]) {
			p.pos++
		}
		if start == p.pos {
			return nil, p.err()
		}
		return &expr{op: "prop", name: p.s[start:p.pos]}, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.pos
		for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '.' || p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
			p.pos++
		}
		f, err := strconv.ParseFloat(p.s[start:p.pos], 64)
		if err != nil {
			return nil, p.err()
		}
		return &expr{op: "lit", val: numVal(f)}, nil
	case isIdent(c):
		start := p.pos
		for p.pos < len(p.s) && isIdent(p.s[p.pos]) {
			p.pos++
		}
		name := strings.ToLower(p.s[start:p.pos])
		if !p.eat("(") {
			return nil, p.err()
		}
		e := &expr{op: "call", name: name}
		if !p.eat(")") {
			for {
				a, err := p.or()
				if err != nil {
					return nil, err
				}
				e.args = append(e.args, a)
				if p.eat(")") {
					break
				}
				if !p.eat(",") {
					return nil, p.err()
				}
			}
		}
		switch name {
		case "upper", "lower", "abs", "floor", "ceil", "sqrt", "log", "log2", "exp", "exists":
			if len(e.args) != 1 {
				return nil, &QueryError{"Function " + name + " takes one argument"}
			}
		default:
			return nil, &QueryError{"ERR function " + name + " is not supported by cairn"}
		}
		return e, nil
	}
	return nil, p.err()
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (e *expr) eval(r *aggRow) (value, error) {
	switch e.op {
	case "lit":
		return e.val, nil
	case "prop":
		s, ok := r.get(e.name)
		if !ok {
			return value{null: true}, nil
		}
		return value{str: s}, nil
	}
	args := make([]value, len(e.args))
	for i, a := range e.args {
		v, err := a.eval(r)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	switch e.op {
	case "neg":
		f, _ := args[0].number()
		return numVal(-f), nil
	case "!":
		return boolVal(!args[0].truthy()), nil
	case "&&":
		return boolVal(args[0].truthy() && args[1].truthy()), nil
	case "||":
		return boolVal(args[0].truthy() || args[1].truthy()), nil
	case "==", "!=", "<", "<=", ">", ">=":
		c := compareValues(args[0].String(), args[1].String())
		switch e.op {
		case "==":
			return boolVal(c == 0), nil
		case "!=":
			return boolVal(c != 0), nil
		case "<":
			return boolVal(c < 0), nil
		case "<=":
			return boolVal(c <= 0), nil
		case ">":
			return boolVal(c > 0), nil
		}
		return boolVal(c >= 0), nil
	case "call":
		return call(e.name, args[0]), nil
	}
	x, ok1 := args[0].number()
	y, ok2 := args[1].number()
	if !ok1 || !ok2 {
		return numVal(math.NaN()), nil
	}
	switch e.op {
	case "+":
		return numVal(x + y), nil
	case "-":
		return numVal(x - y), nil
	case "*":
		return numVal(x * y), nil
	case "/":
		return numVal(x / y), nil
	case "%":
		return numVal(math.Mod(x, y)), nil
	}
	return numVal(math.Pow(x, y)), nil
}

func call(name string, a value) value {
	switch name {
	case "upper":
		return value{str: strings.ToUpper(a.String())}
	case "lower":
		return value{str: strings.ToLower(a.String())}
	case "exists":
		return boolVal(!a.null)
	}
	f, ok := a.number()
	if !ok {
		return numVal(math.NaN())
	}
	switch name {
	case "abs":
		f = math.Abs(f)
	case "floor":
		f = math.Floor(f)
	case "ceil":
		f = math.Ceil(f)
	case "sqrt":
		f = math.Sqrt(f)
	case "log":
		f = math.Log(f)
	case "log2":
		f = math.Log2(f)
	case "exp":
		f = math.Exp(f)
	}
	return numVal(f)
}
