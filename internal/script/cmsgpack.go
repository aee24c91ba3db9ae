package script

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpackMaxDepth bounds nesting in pack and unpack (lua-cmsgpack's LUACMSGPACK_MAX_NESTING).
const cmsgpackMaxDepth = 16

// openCMsgpack builds the lua-cmsgpack library Redis ships: pack and unpack.
func openCMsgpack(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			L.ArgError(1, "MessagePack pack needs input.")
		}
		var out []byte
		for i := 1; i <= n; i++ {
			out = mpEncode(out, L.Get(i), 0)
		}
		L.Push(lua.LString(out))
		return 1
	}))
	unpack := func(limit int) lua.LGFunction {
		return func(L *lua.LState) int {
			b := []byte(L.CheckString(1))
			count := 0
			for len(b) > 0 && (limit == 0 || count < limit) {
				v, rest, ok := mpDecode(L, b, 0)
				if !ok {
					L.RaiseError("Bad data format in input.")
				}
				L.Push(v)
				b = rest
				count++
			}
			return count
		}
	}
	t.RawSetString("unpack", L.NewFunction(unpack(0)))
	// unpack_limit(s, limit, offset) and unpack_one(s, offset) decode up to limit values (0:
	// all) from byte offset, returning the offset after them (-1 at the end) and the values.
	limited := func(L *lua.LState, limit, offset int) int {
		b := []byte(L.CheckString(1))
		if offset < 0 || offset > len(b) {
			L.ArgError(3, "Start offset greater than input length.")
		}
		rest := b[offset:]
		var vals []lua.LValue
		for len(rest) > 0 && (limit <= 0 || len(vals) < limit) {
			v, r, ok := mpDecode(L, rest, 0)
			if !ok {
				L.RaiseError("Bad data format in input.")
			}
			vals = append(vals, v)
			rest = r
		}
		next := len(b) - len(rest)
		if len(rest) == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals) + 1
	}
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		return limited(L, L.OptInt(2, 0), L.OptInt(3, 0))
	}))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		return limited(L, 1, L.OptInt(2, 0))
	}))
	return t
}

func mpEncode(out []byte, v lua.LValue, depth int) []byte {
	switch v := v.(type) {
	case lua.LBool:
		if v {
			return append(out, 0xc3)
		}
		return append(out, 0xc2)
	case lua.LNumber:
		return mpNumber(out, float64(v))
	case lua.LString:
		return mpString(out, string(v))
	case *lua.LTable:
		if depth >= cmsgpackMaxDepth {
			return append(out, 0xc0)
		}
		return mpTable(out, v, depth)
	}
	return append(out, 0xc0)
}

func mpNumber(out []byte, f float64) []byte {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		if float64(float32(f)) == f || math.IsNaN(f) {
			out = append(out, 0xca)
			return binary.BigEndian.AppendUint32(out, math.Float32bits(float32(f)))
		}
		out = append(out, 0xcb)
		return binary.BigEndian.AppendUint64(out, math.Float64bits(f))
	}
	n := int64(f)
	switch {
	case n >= 0 && n <= 127:
		return append(out, byte(n))
	case n >= 0 && n <= math.MaxUint8:
		return append(out, 0xcc, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(out, 0xcd), uint16(n))
	case n >= 0 && n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(out, 0xce), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(out, 0xcf), uint64(n))
	case n >= -32:
		return append(out, byte(int8(n)))
	case n >= math.MinInt8:
		return append(out, 0xd0, byte(int8(n)))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(out, 0xd1), uint16(int16(n)))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(out, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(out, 0xd3), uint64(n))
}

func mpString(out []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		out = append(out, 0xa0|byte(n))
	case n <= math.MaxUint8:
		out = append(out, 0xd9, byte(n))
	case n <= math.MaxUint16:
		out = binary.BigEndian.AppendUint16(append(out, 0xda), uint16(n))
	default:
		out = binary.BigEndian.AppendUint32(append(out, 0xdb), uint32(n))
	}
	return append(out, s...)
}

// mpTable encodes a table as an array when its keys are exactly 1..n, as a map otherwise.
func mpTable(out []byte, t *lua.LTable, depth int) []byte {
	n, max, isArray := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n++
		if f, ok := k.(lua.LNumber); ok && float64(f) == math.Trunc(float64(f)) && f >= 1 {
			max = int(math.Max(float64(max), float64(f)))
			return
		}
		isArray = false
	})
	if isArray && max == n {
		out = mpHeader(out, n, 0x90, 0xdc, 0xdd)
		for i := 1; i <= n; i++ {
			out = mpEncode(out, t.RawGetInt(i), depth+1)
		}
		return out
	}
	out = mpHeader(out, n, 0x80, 0xde, 0xdf)
	t.ForEach(func(k, v lua.LValue) {
		out = mpEncode(out, k, depth+1)
		out = mpEncode(out, v, depth+1)
	})
	return out
}

func mpHeader(out []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 16:
		return append(out, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(out, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(out, b32), uint32(n))
}

// mpDecode decodes one value from b, returning it and what follows.
func mpDecode(L *lua.LState, b []byte, depth int) (lua.LValue, []byte, bool) {
	if len(b) == 0 || depth > 1000 {
		return nil, nil, false
	}
	c := b[0]
	b = b[1:]
	need := func(n int) ([]byte, bool) {
		if len(b) < n {
			return nil, false
		}
		return b[:n], true
	}
	switch {
	case c <= 0x7f:
		return lua.LNumber(c), b, true
	case c >= 0xe0:
		return lua.LNumber(int8(c)), b, true
	case c&0xe0 == 0xa0:
		return mpStr(b, int(c&0x1f))
	case c&0xf0 == 0x90:
		return mpArray(L, b, int(c&0x0f), depth)
	case c&0xf0 == 0x80:
		return mpMap(L, b, int(c&0x0f), depth)
	}
	sizes := map[byte]int{0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xca: 4, 0xcb: 8,
		0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4, 0xdc: 2, 0xdd: 4, 0xde: 2, 0xdf: 4}
	switch c {
	case 0xc0:
		return lua.LNil, b, true
	case 0xc2:
		return lua.LFalse, b, true
	case 0xc3:
		return lua.LTrue, b, true
	}
	size, ok := sizes[c]
	if !ok {
		return nil, nil, false
	}
	raw, ok := need(size)
	if !ok {
		return nil, nil, false
	}
	var u uint64
	for _, x := range raw {
		u = u<<8 | uint64(x)
	}
	rest := b[size:]
	switch c {
	case 0xcc, 0xcd, 0xce, 0xcf:
		return lua.LNumber(float64(u)), rest, true
	case 0xd0:
		return lua.LNumber(int8(u)), rest, true
	case 0xd1:
		return lua.LNumber(int16(u)), rest, true
	case 0xd2:
		return lua.LNumber(int32(u)), rest, true
	case 0xd3:
		return lua.LNumber(float64(int64(u))), rest, true
	case 0xca:
		return lua.LNumber(math.Float32frombits(uint32(u))), rest, true
	case 0xcb:
		return lua.LNumber(math.Float64frombits(u)), rest, true
	case 0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6:
		return mpStr(rest, int(u))
	case 0xdc, 0xdd:
		return mpArray(L, rest, int(u), depth)
	}
	return mpMap(L, rest, int(u), depth)
}

func mpStr(b []byte, n int) (lua.LValue, []byte, bool) {
	if n < 0 || len(b) < n {
		return nil, nil, false
	}
	return lua.LString(b[:n]), b[n:], true
}

func mpArray(L *lua.LState, b []byte, n int, depth int) (lua.LValue, []byte, bool) {
	if n < 0 || n > len(b) {
		return nil, nil, false
	}
	t := L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		v, rest, ok := mpDecode(L, b, depth+1)
		if !ok {
			return nil, nil, false
		}
		t.RawSetInt(i, v)
		b = rest
	}
	return t, b, true
}

func mpMap(L *lua.LState, b []byte, n int, depth int) (lua.LValue, []byte, bool) {
	if n < 0 || 2*n > len(b) {
		return nil, nil, false
	}
	t := L.CreateTable(0, n)
	for i := 0; i < n; i++ {
		k, rest, ok := mpDecode(L, b, depth+1)
		if !ok {
			return nil, nil, false
		}
		v, rest, ok := mpDecode(L, rest, depth+1)
		if !ok {
			return nil, nil, false
		}
		if k != lua.LNil {
			t.RawSet(k, v)
		}
		b = rest
	}
	return t, b, true
}
