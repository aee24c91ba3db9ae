package script

import (
	"math"
	"math/bits"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// openBit builds the LuaBitOp library ("bit") Redis ships: 32-bit operations on numbers.
func openBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	reduce := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			r := toBit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				r = op(r, toBit(L, i))
			}
			L.Push(lua.LNumber(int32(r)))
			return 1
		}
	}
	shift := func(op func(a uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			a, n := toBit(L, 1), uint(toBit(L, 2)&31)
			L.Push(lua.LNumber(int32(op(a, n))))
			return 1
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit":   func(L *lua.LState) int { L.Push(lua.LNumber(int32(toBit(L, 1)))); return 1 },
		"bnot":    func(L *lua.LState) int { L.Push(lua.LNumber(int32(^toBit(L, 1)))); return 1 },
		"band":    reduce(func(a, b uint32) uint32 { return a & b }),
		"bor":     reduce(func(a, b uint32) uint32 { return a | b }),
		"bxor":    reduce(func(a, b uint32) uint32 { return a ^ b }),
		"lshift":  shift(func(a uint32, n uint) uint32 { return a << n }),
		"rshift":  shift(func(a uint32, n uint) uint32 { return a >> n }),
		"arshift": shift(func(a uint32, n uint) uint32 { return uint32(int32(a) >> n) }),
		"rol":     shift(func(a uint32, n uint) uint32 { return bits.RotateLeft32(a, int(n)) }),
		"ror":     shift(func(a uint32, n uint) uint32 { return bits.RotateLeft32(a, -int(n)) }),
		"bswap":   func(L *lua.LState) int { L.Push(lua.LNumber(int32(bits.ReverseBytes32(toBit(L, 1))))); return 1 },
		"tohex":   bitToHex,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// toBit converts argument i to 32 bits as LuaBitOp does: rounded, then taken modulo 2^32.
func toBit(L *lua.LState, i int) uint32 {
	f := float64(L.CheckNumber(i))
	return uint32(int64(math.RoundToEven(math.Mod(f, 1<<32))))
}

func bitToHex(L *lua.LState) int {
	x := toBit(L, 1)
	n := 8
	if L.GetTop() >= 2 {
		n = int(int32(toBit(L, 2)))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n = -n
		digits = strings.ToUpper(digits)
	}
	if n > 8 {
		n = 8
	}
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[x&15]
		x >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
