package script

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// cjsonMaxDepth is lua-cjson's default nesting limit for encode and decode.
const cjsonMaxDepth = 1000

// cjsonConfig holds lua-cjson's settings, changed by its configuration functions for the
// rest of the script.
type cjsonConfig struct {
	encodeDepth, decodeDepth int
	invalidNumbers           bool
}

// openCJSON builds the lua-cjson library Redis ships: encode, decode, null and the settings
// functions.
func openCJSON(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	null := L.NewUserData() // cjson.null: decode's value for JSON null
	t.RawSetString("null", null)
	cfg := &cjsonConfig{encodeDepth: cjsonMaxDepth, decodeDepth: cjsonMaxDepth}
	depth := func(p *int) lua.LGFunction {
		return func(L *lua.LState) int {
			if L.GetTop() > 0 {
				n := L.CheckInt(1)
				if n < 1 {
					L.ArgError(1, "expected integer between 1 and 2147483647")
				}
				*p = n
			}
			L.Push(lua.LNumber(*p))
			return 1
		}
	}
	t.RawSetString("encode_max_depth", L.NewFunction(depth(&cfg.encodeDepth)))
	t.RawSetString("decode_max_depth", L.NewFunction(depth(&cfg.decodeDepth)))
	t.RawSetString("encode_invalid_numbers", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() > 0 {
			cfg.invalidNumbers = L.ToBool(1)
		}
		L.Push(lua.LBool(cfg.invalidNumbers))
		return 1
	}))
	// Buffer reuse is an allocation detail of the C library: the setting is accepted and
	// reported, and changes nothing here.
	keep := true
	t.RawSetString("encode_keep_buffer", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() > 0 {
			keep = L.ToBool(1)
		}
		L.Push(lua.LBool(keep))
		return 1
	}))
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var buf bytes.Buffer
		if err := cjsonEncode(&buf, L.Get(1), null, cfg, 1); err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(buf.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		s := L.CheckString(1)
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			L.RaiseError("Expected value but found invalid token at character 1")
		}
		if dec.More() {
			L.RaiseError("Expected the end but found invalid token at character %d", dec.InputOffset()+1)
		}
		if d := jsonDepth(v); d > cfg.decodeDepth {
			L.RaiseError("Found too many nested data structures (%d) at character 1", d)
		}
		L.Push(jsonToLua(L, v, null))
		return 1
	}))
	return t
}

func jsonDepth(v any) int {
	d := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range v {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	}
	return 0
}

func jsonToLua(L *lua.LState, v any, null lua.LValue) lua.LValue {
	switch v := v.(type) {
	case nil:
		return null
	case bool:
		return lua.LBool(v)
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		return lua.LNumber(f)
	case string:
		return lua.LString(v)
	case []any:
		t := L.CreateTable(len(v), 0)
		for i, e := range v {
			t.RawSetInt(i+1, jsonToLua(L, e, null))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			t.RawSetString(k, jsonToLua(L, e, null))
		}
		return t
	}
	return lua.LNil
}

func cjsonEncode(buf *bytes.Buffer, v lua.LValue, null lua.LValue, cfg *cjsonConfig, depth int) error {
	if _, ok := v.(*lua.LTable); ok && depth > cfg.encodeDepth {
		return fmt.Errorf("Cannot serialise, excessive nesting (%d)", depth)
	}
	switch v := v.(type) {
	case lua.LString:
		cjsonString(buf, string(v))
	case lua.LNumber:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			if !cfg.invalidNumbers {
				return fmt.Errorf("Cannot serialise number: must not be NaN or Inf")
			}
			if math.IsNaN(f) {
				buf.WriteString("nan")
			} else {
				buf.WriteString(formatNumber(f))
			}
			return nil
		}
		buf.WriteString(formatNumber(f))
	case lua.LBool:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case *lua.LNilType:
		buf.WriteString("null")
	case *lua.LTable:
		return cjsonTable(buf, v, null, cfg, depth)
	default:
		if v == null {
			buf.WriteString("null")
			return nil
		}
		return fmt.Errorf("Cannot serialise %s: type not supported", v.Type().String())
	}
	return nil
}

func cjsonTable(buf *bytes.Buffer, t *lua.LTable, null lua.LValue, cfg *cjsonConfig, depth int) error {
	// An array has only positive integer keys, and is not too sparse (lua-cjson's defaults:
	// more than 10 entries and over half of them holes makes it an error).
	n, max, isArray := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n++
		if f, ok := k.(lua.LNumber); ok && float64(f) == math.Floor(float64(f)) && f >= 1 {
			if int(f) > max {
				max = int(f)
			}
			return
		}
		isArray = false
	})
	if isArray && n > 0 {
		if max > 10 && max > 2*n {
			return fmt.Errorf("Cannot serialise table: excessively sparse array")
		}
		buf.WriteByte('[')
		for i := 1; i <= max; i++ {
			if i > 1 {
				buf.WriteByte(',')
			}
			if err := cjsonEncode(buf, t.RawGetInt(i), null, cfg, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	type kv struct {
		k string
		v lua.LValue
	}
	var fields []kv
	var bad error
	t.ForEach(func(k, v lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			fields = append(fields, kv{string(k), v})
		case lua.LNumber:
			fields = append(fields, kv{formatNumber(float64(k)), v})
		default:
			bad = fmt.Errorf("Cannot serialise %s: table key must be a number or string", k.Type().String())
		}
	})
	if bad != nil {
		return bad
	}
	// Lua's table order is not defined; a stable order keeps replies reproducible.
	sort.Slice(fields, func(i, j int) bool { return fields[i].k < fields[j].k })
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		cjsonString(buf, f.k)
		buf.WriteByte(':')
		if err := cjsonEncode(buf, f.v, null, cfg, depth+1); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// cjsonString writes s as lua-cjson escapes strings: '/' too, control characters as \uXXXX,
// other bytes as they are.
func cjsonString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '/':
			buf.WriteString(`\/`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(buf, `\u%04x`, c)
			} else {
				buf.WriteByte(c)
			}
		}
	}
	buf.WriteByte('"')
}
