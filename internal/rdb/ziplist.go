package rdb

import (
	"encoding/binary"
	"strconv"
)

// Ziplists and zipmaps are the compact encodings of Redis before 7.0; they are only read.

// zlElems decodes every entry of a ziplist: a 4-byte size, a 4-byte tail offset, a 2-byte
// count, entries (previous entry's length, encoding, data) and 0xff.
func zlElems(zl []byte) ([][]byte, bool) {
	if len(zl) < 11 || int(binary.LittleEndian.Uint32(zl)) != len(zl) || zl[len(zl)-1] != 0xff {
		return nil, false
	}
	var out [][]byte
	p, end := 10, len(zl)-1
	for p < end {
		if zl[p] == 0xfe {
			p += 5
		} else {
			p++
		}
		if p >= end {
			return nil, false
		}
		c := zl[p]
		var n int64
		switch {
		case c>>6 == 0:
			v, ok := zlStr(zl[:end], p+1, int(c&0x3f))
			if !ok {
				return nil, false
			}
			out, p = append(out, v), p+1+len(v)
			continue
		case c>>6 == 1:
			if p+2 > end {
				return nil, false
			}
			v, ok := zlStr(zl[:end], p+2, int(c&0x3f)<<8|int(zl[p+1]))
			if !ok {
				return nil, false
			}
			out, p = append(out, v), p+2+len(v)
			continue
		case c>>6 == 2:
			if p+5 > end {
				return nil, false
			}
			v, ok := zlStr(zl[:end], p+5, int(binary.BigEndian.Uint32(zl[p+1:])))
			if !ok {
				return nil, false
			}
			out, p = append(out, v), p+5+len(v)
			continue
		}
		size := 0
		switch c {
		case 0xc0:
			size = 2
		case 0xd0:
			size = 4
		case 0xe0:
			size = 8
		case 0xf0:
			size = 3
		case 0xfe:
			size = 1
		default:
			if c < 0xf1 || c > 0xfd {
				return nil, false
			}
		}
		if p+1+size > end {
			return nil, false
		}
		d := zl[p+1:]
		switch size {
		case 0:
			n = int64(c&0x0f) - 1
		case 1:
			n = int64(int8(d[0]))
		case 2:
			n = int64(int16(binary.LittleEndian.Uint16(d)))
		case 3:
			n = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24) >> 8)
		case 4:
			n = int64(int32(binary.LittleEndian.Uint32(d)))
		case 8:
			n = int64(binary.LittleEndian.Uint64(d))
		}
		out = append(out, strconv.AppendInt(nil, n, 10))
		p += 1 + size
	}
	return out, p == end
}

func zlStr(b []byte, at, l int) ([]byte, bool) {
	if l < 0 || at+l > len(b) {
		return nil, false
	}
	return append([]byte(nil), b[at:at+l]...), true
}

// zipmapPairs decodes a zipmap (Redis 2.x small hashes): a count byte, then per pair a field
// length, the field, a value length, a free byte count, the value and the free bytes; 0xff
// ends it. Lengths are one byte, or 253 and four little-endian bytes.
func zipmapPairs(zm []byte) ([][]byte, bool) {
	if len(zm) < 2 {
		return nil, false
	}
	var out [][]byte
	p := 1
	readLen := func() (int, bool) {
		if p >= len(zm) {
			return 0, false
		}
		c := zm[p]
		switch {
		case c < 253:
			p++
			return int(c), true
		case c == 253 && p+5 <= len(zm):
			l := int(binary.LittleEndian.Uint32(zm[p+1:]))
			p += 5
			return l, true
		}
		return 0, false
	}
	for p < len(zm) && zm[p] != 0xff {
		fl, ok := readLen()
		if !ok || p+fl > len(zm) {
			return nil, false
		}
		field := append([]byte(nil), zm[p:p+fl]...)
		p += fl
		vl, ok := readLen()
		if !ok || p >= len(zm) {
			return nil, false
		}
		free := int(zm[p])
		p++
		if p+vl+free > len(zm) {
			return nil, false
		}
		out = append(out, field, append([]byte(nil), zm[p:p+vl]...))
		p += vl + free
	}
	return out, p == len(zm)-1
}

// intsetElems decodes an intset: a 4-byte element size (2, 4 or 8), a 4-byte count and the
// sorted integers, all little-endian.
func intsetElems(is []byte) ([][]byte, bool) {
	if len(is) < 8 {
		return nil, false
	}
	width := int(binary.LittleEndian.Uint32(is))
	n := int(binary.LittleEndian.Uint32(is[4:]))
	if (width != 2 && width != 4 && width != 8) || len(is) != 8+width*n {
		return nil, false
	}
	out := make([][]byte, n)
	for i := range out {
		d := is[8+i*width:]
		var v int64
		switch width {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(d)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(d)))
		default:
			v = int64(binary.LittleEndian.Uint64(d))
		}
		out[i] = strconv.AppendInt(nil, v, 10)
	}
	return out, true
}

// appendIntset encodes sorted integers as an intset of the narrowest width holding them all.
func appendIntset(dst []byte, vals []int64) []byte {
	width := 2
	for _, v := range vals {
		if v < -32768 || v > 32767 {
			width = max(width, 4)
		}
		if v < -2147483648 || v > 2147483647 {
			width = 8
		}
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(width))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	}
	return dst
}
