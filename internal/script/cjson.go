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

// openCJSON builds the lua-cjson library Redis ships: encode, decode and null.
func openCJSON(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	null := L.NewUserData() // cjson.null: decode's value for JSON null
	t.RawSetString("null", null)
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var buf bytes.Buffer
		if err := cjsonEncode(&buf, L.Get(1), null, 0); err != nil {
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
		L.Push(jsonToLua(L, v, null))
		return 1
	}))
	return t
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

func cjsonEncode(buf *bytes.Buffer, v lua.LValue, null lua.LValue, depth int) error {
	if depth > cjsonMaxDepth {
		return fmt.Errorf("Cannot serialise, excessive nesting (%d)", depth)
	}
	switch v := v.(type) {
	case lua.LString:
		cjsonString(buf, string(v))
	case lua.LNumber:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("Cannot serialise number: must not be NaN or Inf")
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
		return cjsonTable(buf, v, null, depth)
	default:
		if v == null {
			buf.WriteString("null")
			return nil
		}
		return fmt.Errorf("Cannot serialise %s: type not supported", v.Type().String())
	}
	return nil
}

func cjsonTable(buf *bytes.Buffer, t *lua.LTable, null lua.LValue, depth int) error {
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
			if err := cjsonEncode(buf, t.RawGetInt(i), null, depth+1); err != nil {
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
		if err := cjsonEncode(buf, f.v, null, depth+1); err != nil {
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
