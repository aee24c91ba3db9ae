package rdb

import (
	"encoding/binary"
	"strconv"
)

// Listpacks (Redis 7's compact encoding of small collections): a 4-byte total size, a 2-byte
// element count (65535 when it does not fit), the elements, and 0xff. An element is its
// encoding (a small integer, or a string's length, in a few sizes), its data, and its own
// length written backwards so the list can be walked from the end.

const lpHeader = 6

// lpAppend appends one element to a listpack under construction (header space reserved),
// as an integer when it is the canonical text of one, as Redis does.
func lpAppend(lp []byte, v []byte) []byte {
	start := len(lp)
	if n, ok := canonicalInt(v); ok {
		switch {
		case n >= 0 && n <= 127:
			lp = append(lp, byte(n))
		case n >= -4096 && n <= 4095:
			u := uint64(n) & 0x1fff
			lp = append(lp, 0xc0|byte(u>>8), byte(u))
		case n >= -32768 && n <= 32767:
			lp = append(lp, 0xf1, byte(n), byte(n>>8))
		case n >= -8388608 && n <= 8388607:
			lp = append(lp, 0xf2, byte(n), byte(n>>8), byte(n>>16))
		case n >= -2147483648 && n <= 2147483647:
			lp = append(lp, 0xf3)
			lp = binary.LittleEndian.AppendUint32(lp, uint32(n))
		default:
			lp = append(lp, 0xf4)
			lp = binary.LittleEndian.AppendUint64(lp, uint64(n))
		}
	} else {
		switch l := len(v); {
		case l < 64:
			lp = append(lp, 0x80|byte(l))
		case l < 4096:
			lp = append(lp, 0xe0|byte(l>>8), byte(l))
		default:
			lp = append(lp, 0xf0)
			lp = binary.LittleEndian.AppendUint32(lp, uint32(l))
		}
		lp = append(lp, v...)
	}
	return appendBacklen(lp, len(lp)-start)
}

// appendBacklen writes an element's length backwards: 7 bits a byte, the last byte first in
// reading order from the end, every byte but the first marked with the high bit.
func appendBacklen(b []byte, l int) []byte {
	switch {
	case l <= 127:
		return append(b, byte(l))
	case l < 16383:
		return append(b, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		return append(b, byte(l>>14), byte((l>>7)&127)|128, byte(l&127)|128)
	case l < 268435455:
		return append(b, byte(l>>21), byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
	}
	return append(b, byte(l>>28), byte((l>>21)&127)|128, byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
}

func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// newListpack starts a listpack: header space, filled in by lpFinish.
func newListpack() []byte { return make([]byte, lpHeader, 64) }

// lpFinish writes the end marker and the header of a listpack of n elements.
func lpFinish(lp []byte, n int) []byte {
	lp = append(lp, 0xff)
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	binary.LittleEndian.PutUint16(lp[4:], uint16(min(n, 65535)))
	return lp
}

// lpElems decodes every element of a listpack, integers as their decimal text.
func lpElems(lp []byte) ([][]byte, bool) {
	if len(lp) < lpHeader+1 || int(binary.LittleEndian.Uint32(lp)) != len(lp) || lp[len(lp)-1] != 0xff {
		return nil, false
	}
	count := int(binary.LittleEndian.Uint16(lp[4:]))
	var out [][]byte
	if count != 65535 {
		out = make([][]byte, 0, count)
	}
	p := lpHeader
	end := len(lp) - 1
	for p < end {
		v, size, ok := lpElem(lp[p:end])
		if !ok {
			return nil, false
		}
		bl := backlenSize(size)
		if p+size+bl > end {
			return nil, false
		}
		out = append(out, v)
		p += size + bl
	}
	if p != end || (count != 65535 && count != len(out)) {
		return nil, false
	}
	return out, true
}

// lpElem decodes the element at the start of b: its value and its size without the backlen.
func lpElem(b []byte) (v []byte, size int, ok bool) {
	c := b[0]
	var n int64
	switch {
	case c&0x80 == 0:
		return strconv.AppendInt(nil, int64(c), 10), 1, true
	case c&0xc0 == 0x80:
		l := int(c & 0x3f)
		return lpStr(b, 1, l)
	case c&0xe0 == 0xc0:
		if len(b) < 2 {
			return nil, 0, false
		}
		u := uint64(c&0x1f)<<8 | uint64(b[1])
		n = int64(u<<51) >> 51
		return strconv.AppendInt(nil, n, 10), 2, true
	case c&0xf0 == 0xe0:
		if len(b) < 2 {
			return nil, 0, false
		}
		return lpStr(b, 2, int(c&0x0f)<<8|int(b[1]))
	}
	switch c {
	case 0xf0:
		if len(b) < 5 {
			return nil, 0, false
		}
		return lpStr(b, 5, int(binary.LittleEndian.Uint32(b[1:])))
	case 0xf1:
		if len(b) < 3 {
			return nil, 0, false
		}
		n, size = int64(int16(binary.LittleEndian.Uint16(b[1:]))), 3
	case 0xf2:
		if len(b) < 4 {
			return nil, 0, false
		}
		u := uint32(b[1]) | uint32(b[2])<<8 | uint32(b[3])<<16
		n, size = int64(int32(u<<8)>>8), 4
	case 0xf3:
		if len(b) < 5 {
			return nil, 0, false
		}
		n, size = int64(int32(binary.LittleEndian.Uint32(b[1:]))), 5
	case 0xf4:
		if len(b) < 9 {
			return nil, 0, false
		}
		n, size = int64(binary.LittleEndian.Uint64(b[1:])), 9
	default:
		return nil, 0, false
	}
	return strconv.AppendInt(nil, n, 10), size, true
}

func lpStr(b []byte, hdr, l int) ([]byte, int, bool) {
	if l < 0 || hdr+l > len(b) {
		return nil, 0, false
	}
	return append([]byte(nil), b[hdr:hdr+l]...), hdr + l, true
}

// canonicalInt reports whether v is the canonical decimal text of an int64 (no sign on zero,
// no leading zeros or spaces), the strings Redis stores as integers.
func canonicalInt(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, false
	}
	var buf [24]byte
	return n, string(strconv.AppendInt(buf[:0], n, 10)) == string(v)
}
