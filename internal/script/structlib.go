package script

import (
	"encoding/binary"
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// openStruct builds Roberto Ierusalimschy's struct library that Redis ships: pack, unpack and
// size over a format string of
//
//	> < = !n   big / little / native endian, alignment
//	b B h H l L T i[n] I[n]   signed and unsigned integers (1, 2, 8, 8, n bytes; i defaults to 4)
//	f d        float and double
//	c[n] s     fixed-size and zero-terminated strings
//	x          a padding byte
func openStruct(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

type structFmt struct {
	f      string
	i      int
	little bool
	align  int
}

// option reads the next option: its letter and size (0 for s and x-like options).
func (s *structFmt) option(L *lua.LState) (op byte, size int, ok bool) {
	for s.i < len(s.f) {
		c := s.f[s.i]
		s.i++
		switch c {
		case ' ':
			continue
		case '>':
			s.little = false
			continue
		case '<', '=':
			s.little = true
			continue
		case '!':
			s.align = s.number(8)
			continue
		case 'b', 'B', 'x':
			return c, 1, true
		case 'h', 'H':
			return c, 2, true
		case 'l', 'L', 'T':
			return c, 8, true
		case 'f':
			return c, 4, true
		case 'd':
			return c, 8, true
		case 'i', 'I':
			n := s.number(4)
			if n < 1 || n > 8 {
				L.RaiseError("integral size %d is larger than limit of 8", n)
			}
			return c, n, true
		case 'c':
			return c, s.number(1), true
		case 's':
			return c, 0, true
		default:
			L.RaiseError("invalid format option '%c'", c)
		}
	}
	return 0, 0, false
}

func (s *structFmt) number(def int) int {
	start := s.i
	for s.i < len(s.f) && s.f[s.i] >= '0' && s.f[s.i] <= '9' {
		s.i++
	}
	if start == s.i {
		return def
	}
	n, _ := strconv.Atoi(s.f[start:s.i])
	return n
}

// pad is the padding before an option of size n at offset off under '!' alignment.
func (s *structFmt) pad(op byte, size, off int) int {
	if s.align <= 1 || op == 'c' || op == 's' || op == 'x' {
		return 0
	}
	a := min(size, s.align)
	if a&(a-1) != 0 {
		return 0
	}
	return (a - off&(a-1)) & (a - 1)
}

func (s *structFmt) putInt(out []byte, v uint64, n int) []byte {
	for i := 0; i < n; i++ {
		shift := uint(i) * 8
		if !s.little {
			shift = uint(n-1-i) * 8
		}
		out = append(out, byte(v>>shift))
	}
	return out
}

func (s *structFmt) getInt(b []byte, n int, signed bool) float64 {
	var v uint64
	for i := 0; i < n; i++ {
		idx := i
		if s.little {
			idx = n - 1 - i
		}
		v = v<<8 | uint64(b[idx])
	}
	if signed && n < 8 && v&(1<<(uint(n)*8-1)) != 0 {
		v |= ^uint64(0) << (uint(n) * 8)
	}
	if signed {
		return float64(int64(v))
	}
	return float64(v)
}

func structPack(L *lua.LState) int {
	f := &structFmt{f: L.CheckString(1), little: true}
	arg := 2
	var out []byte
	for {
		op, size, ok := f.option(L)
		if !ok {
			break
		}
		for i := f.pad(op, size, len(out)); i > 0; i-- {
			out = append(out, 0)
		}
		switch op {
		case 'x':
			out = append(out, 0)
			continue
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := float64(L.CheckNumber(arg))
			out = f.putInt(out, uint64(int64(n)), size)
		case 'f':
			bits := math.Float32bits(float32(L.CheckNumber(arg)))
			out = f.putInt(out, uint64(bits), 4)
		case 'd':
			out = f.putInt(out, math.Float64bits(float64(L.CheckNumber(arg))), 8)
		case 'c':
			str := L.CheckString(arg)
			if size == 0 {
				size = len(str)
			}
			if len(str) < size {
				L.ArgError(arg, "string too short")
			}
			out = append(out, str[:size]...)
		case 's':
			str := L.CheckString(arg)
			out = append(append(out, str...), 0)
		}
		arg++
	}
	L.Push(lua.LString(out))
	return 1
}

func structUnpack(L *lua.LState) int {
	f := &structFmt{f: L.CheckString(1), little: true}
	data := []byte(L.CheckString(2))
	pos := L.OptInt(3, 1) - 1
	if pos < 0 || pos > len(data) {
		L.ArgError(3, "offset must be 1 or greater")
	}
	n := 0
	for {
		op, size, ok := f.option(L)
		if !ok {
			break
		}
		pos += f.pad(op, size, pos)
		if op != 's' && pos+size > len(data) {
			L.ArgError(2, "data string too short")
		}
		switch op {
		case 'x':
			pos++
			continue
		case 'b', 'h', 'l', 'i':
			L.Push(lua.LNumber(f.getInt(data[pos:], size, true)))
		case 'B', 'H', 'L', 'T', 'I':
			L.Push(lua.LNumber(f.getInt(data[pos:], size, false)))
		case 'f':
			L.Push(lua.LNumber(math.Float32frombits(uint32(f.getInt(data[pos:], 4, false)))))
		case 'd':
			var u uint64
			if f.little {
				u = binary.LittleEndian.Uint64(data[pos:])
			} else {
				u = binary.BigEndian.Uint64(data[pos:])
			}
			L.Push(lua.LNumber(math.Float64frombits(u)))
		case 'c':
			if size == 0 {
				// The length is the number unpacked just before.
				if n == 0 {
					L.RaiseError("format 'c0' needs a previous size")
				}
				prev := L.Get(-1)
				L.Pop(1)
				n--
				size = int(lua.LVAsNumber(prev))
				if pos+size > len(data) {
					L.ArgError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
		case 's':
			end := pos
			for end < len(data) && data[end] != 0 {
				end++
			}
			if end >= len(data) {
				L.ArgError(2, "unfinished string in data")
			}
			L.Push(lua.LString(data[pos:end]))
			size = end - pos + 1
		}
		pos += size
		n++
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	f := &structFmt{f: L.CheckString(1), little: true}
	total := 0
	for {
		op, size, ok := f.option(L)
		if !ok {
			break
		}
		if op == 's' || (op == 'c' && size == 0) {
			L.ArgError(1, "options 'c0' - 's' have undefined sizes")
		}
		total += f.pad(op, size, total) + size
	}
	L.Push(lua.LNumber(total))
	return 1
}
