package rdb

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"strconv"
)

// Kind is the data type of a value.
type Kind byte

// The kinds of value a payload can hold.
const (
	String Kind = iota + 1
	List
	Set
	ZSet
	Hash
)

// Value is one deserialized value. Elems holds a list's elements in order, a set's members, or
// a hash's fields and values alternating; Members and Scores a sorted set's members and their
// scores.
type Value struct {
	Kind    Kind
	Str     []byte
	Elems   [][]byte
	Members [][]byte
	Scores  []float64
}

// Errors of Decode. Callers reply with Redis's texts for them.
var (
	// ErrChecksum: the payload is too short, from a newer RDB version, or its CRC is wrong.
	ErrChecksum = errors.New("DUMP payload version or checksum are wrong")
	// ErrBadFormat: the footer is right but the value cannot be decoded.
	ErrBadFormat = errors.New("Bad data format")
	// ErrUnsupported: a value type cairn does not hold (a stream, a module's value, a hash with
	// field expiries).
	ErrUnsupported = errors.New("unsupported value type")
)

// Version is the RDB version Encode writes; MaxVersion the newest Decode accepts (Redis 7.4
// and 8.x write 12).
const (
	Version    = 10
	MaxVersion = 12
)

// RDB object types.
const (
	typeString         = 0
	typeList           = 1
	typeSet            = 2
	typeZSet           = 3
	typeHash           = 4
	typeZSet2          = 5
	typeHashZipmap     = 9
	typeListZiplist    = 10
	typeSetIntset      = 11
	typeZSetZiplist    = 12
	typeHashZiplist    = 13
	typeListQuicklist  = 14
	typeHashListpack   = 16
	typeZSetListpack   = 17
	typeListQuicklist2 = 18
	typeSetListpack    = 20
)

// CheckFooter verifies a payload's RDB version and CRC64 and returns the value's bytes. A CRC
// of zero is accepted, as Redis accepts payloads written with rdbchecksum off.
func CheckFooter(payload []byte) ([]byte, error) {
	if len(payload) < 10 {
		return nil, ErrChecksum
	}
	n := len(payload)
	ver := binary.LittleEndian.Uint16(payload[n-10:])
	if ver > MaxVersion {
		return nil, ErrChecksum
	}
	crc := binary.LittleEndian.Uint64(payload[n-8:])
	if crc != 0 && crc != CRC64(payload[:n-8]) {
		return nil, ErrChecksum
	}
	return payload[:n-10], nil
}

// Decode deserializes a DUMP payload.
func Decode(payload []byte) (*Value, error) {
	body, err := CheckFooter(payload)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, ErrBadFormat
	}
	r := &reader{b: body[1:]}
	v, err := r.value(body[0])
	if err != nil {
		return nil, err
	}
	if r.err || len(r.b) != 0 {
		return nil, ErrBadFormat
	}
	return v, nil
}

// reader reads RDB primitives from b; err is set by the first malformed one.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) fail() { r.err = true; r.b = nil }

func (r *reader) take(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// length reads a length; encoded is set, with the encoding in n, for the special string
// encodings (integers, LZF).
func (r *reader) length() (n uint64, encoded bool) {
	h := r.take(1)
	if h == nil {
		return 0, false
	}
	switch h[0] >> 6 {
	case 0:
		return uint64(h[0] & 0x3f), false
	case 1:
		b := r.take(1)
		if b == nil {
			return 0, false
		}
		return uint64(h[0]&0x3f)<<8 | uint64(b[0]), false
	case 2:
		switch h[0] {
		case 0x80:
			b := r.take(4)
			if b == nil {
				return 0, false
			}
			return uint64(binary.BigEndian.Uint32(b)), false
		case 0x81:
			b := r.take(8)
			if b == nil {
				return 0, false
			}
			return binary.BigEndian.Uint64(b), false
		}
		r.fail()
		return 0, false
	}
	return uint64(h[0] & 0x3f), true
}

// count reads a length that counts elements to come: at least one byte each, so a count over
// what is left is malformed, and huge allocations are never made for it.
func (r *reader) count() int {
	n, enc := r.length()
	if enc || n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) str() []byte {
	n, enc := r.length()
	if r.err {
		return nil
	}
	if !enc {
		if n > uint64(len(r.b)) {
			r.fail()
			return nil
		}
		return append([]byte(nil), r.take(int(n))...)
	}
	switch n {
	case 0:
		b := r.take(1)
		if b == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10)
	case 1:
		b := r.take(2)
		if b == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10)
	case 2:
		b := r.take(4)
		if b == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10)
	case 3:
		clen, e1 := r.length()
		ulen, e2 := r.length()
		if r.err || e1 || e2 || clen > uint64(len(r.b)) || ulen > 1<<32 {
			r.fail()
			return nil
		}
		out, ok := lzfDecompress(r.take(int(clen)), int(ulen))
		if !ok {
			r.fail()
			return nil
		}
		return out
	}
	r.fail()
	return nil
}

// textScore reads a score of the old ZSET type: a length byte and the text, or 253, 254, 255
// for NaN, +inf and -inf.
func (r *reader) textScore() float64 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	switch b[0] {
	case 253:
		return math.NaN()
	case 254:
		return math.Inf(1)
	case 255:
		return math.Inf(-1)
	}
	f, err := strconv.ParseFloat(string(r.take(int(b[0]))), 64)
	if err != nil {
		r.fail()
	}
	return f
}

func (r *reader) value(t byte) (*Value, error) {
	v := &Value{}
	switch t {
	case typeString:
		v.Kind, v.Str = String, r.str()
		return v, r.check()
	case typeList, typeSet:
		v.Kind = List
		if t == typeSet {
			v.Kind = Set
		}
		n := r.count()
		for i := 0; i < n && !r.err; i++ {
			v.Elems = append(v.Elems, r.str())
		}
	case typeHash:
		v.Kind = Hash
		n := r.count()
		for i := 0; i < n && !r.err; i++ {
			v.Elems = append(v.Elems, r.str(), r.str())
		}
	case typeZSet, typeZSet2:
		v.Kind = ZSet
		n := r.count()
		for i := 0; i < n && !r.err; i++ {
			m := r.str()
			var score float64
			if t == typeZSet2 {
				b := r.take(8)
				if b == nil {
					break
				}
				score = math.Float64frombits(binary.LittleEndian.Uint64(b))
			} else {
				score = r.textScore()
			}
			if math.IsNaN(score) {
				r.fail()
			}
			v.Members, v.Scores = append(v.Members, m), append(v.Scores, score)
		}
	case typeListQuicklist, typeListQuicklist2:
		v.Kind = List
		n := r.count()
		for i := 0; i < n && !r.err; i++ {
			container := uint64(2)
			if t == typeListQuicklist2 {
				container, _ = r.length()
			}
			blob := r.str()
			if r.err {
				break
			}
			switch {
			case container == 1: // a plain node: one large element
				v.Elems = append(v.Elems, blob)
				continue
			case container != 2:
				r.fail()
				continue
			}
			decode := lpElems
			if t == typeListQuicklist {
				decode = zlElems
			}
			elems, ok := decode(blob)
			if !ok {
				r.fail()
			}
			v.Elems = append(v.Elems, elems...)
		}
	case typeListZiplist, typeSetIntset, typeSetListpack, typeHashZiplist, typeHashListpack, typeHashZipmap, typeZSetZiplist, typeZSetListpack:
		blob := r.str()
		if r.err {
			break
		}
		var elems [][]byte
		var ok bool
		switch t {
		case typeSetIntset:
			elems, ok = intsetElems(blob)
		case typeHashZipmap:
			elems, ok = zipmapPairs(blob)
		case typeListZiplist, typeHashZiplist, typeZSetZiplist:
			elems, ok = zlElems(blob)
		default:
			elems, ok = lpElems(blob)
		}
		if !ok {
			r.fail()
			break
		}
		switch t {
		case typeListZiplist:
			v.Kind, v.Elems = List, elems
		case typeSetIntset, typeSetListpack:
			v.Kind, v.Elems = Set, elems
		case typeHashZipmap, typeHashZiplist, typeHashListpack:
			if len(elems)%2 != 0 {
				r.fail()
			}
			v.Kind, v.Elems = Hash, elems
		default:
			if len(elems)%2 != 0 {
				r.fail()
				break
			}
			v.Kind = ZSet
			for i := 0; i < len(elems); i += 2 {
				s, err := strconv.ParseFloat(string(elems[i+1]), 64)
				if err != nil && !isRangeErr(err) || math.IsNaN(s) {
					r.fail()
					break
				}
				v.Members, v.Scores = append(v.Members, elems[i]), append(v.Scores, s)
			}
		}
	case 15, 19, 21:
		return nil, ErrUnsupported // streams
	case 6, 7:
		return nil, ErrUnsupported // module values
	case 22, 23, 24, 25:
		return nil, ErrUnsupported // hashes with field expiries
	default:
		return nil, ErrBadFormat
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	if v.Kind != String && len(v.Elems) == 0 && len(v.Members) == 0 {
		return nil, ErrBadFormat // Redis refuses empty collections
	}
	return v, nil
}

func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

func (r *reader) check() error {
	if r.err {
		return ErrBadFormat
	}
	return nil
}

// Redis's default limits for the compact encodings, which Encode follows.
const (
	maxIntsetEntries   = 512
	maxListpackEntries = 128
	maxListpackValue   = 64
	listNodeBytes      = 8192 // list-max-listpack-size -2
)

// Encode serializes v as a DUMP payload, footer included.
func Encode(v *Value) []byte {
	var b []byte
	switch v.Kind {
	case String:
		b = append(b, typeString)
		b = appendString(b, v.Str)
	case List:
		b = append(b, typeListQuicklist2)
		b = appendList(b, v.Elems)
	case Set:
		b = appendSet(b, v.Elems)
	case ZSet:
		b = appendZSet(b, v.Members, v.Scores)
	case Hash:
		b = appendHash(b, v.Elems)
	}
	return AppendFooter(b)
}

// AppendFooter appends what ends every DUMP payload (FUNCTION DUMP's too): the RDB version
// and the CRC64 of everything before it.
func AppendFooter(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(b))
}

// AppendLength appends an RDB length.
func AppendLength(b []byte, n uint64) []byte { return appendLength(b, n) }

// ReadString reads one RDB string off b — plain, integer-encoded or LZF-compressed — and
// returns it and the bytes after it.
func ReadString(b []byte) (s, rest []byte, ok bool) {
	r := &reader{b: b}
	s = r.str()
	if r.err {
		return nil, nil, false
	}
	return s, r.b, true
}

func appendLength(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, 0x40|byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

// appendString writes a string, as a small integer when it is the canonical text of one that
// fits 32 bits, as Redis does.
func appendString(b, s []byte) []byte {
	if len(s) <= 11 {
		if n, ok := canonicalInt(s); ok {
			switch {
			case n >= math.MinInt8 && n <= math.MaxInt8:
				return append(b, 0xc0, byte(n))
			case n >= math.MinInt16 && n <= math.MaxInt16:
				return binary.LittleEndian.AppendUint16(append(b, 0xc1), uint16(n))
			case n >= math.MinInt32 && n <= math.MaxInt32:
				return binary.LittleEndian.AppendUint32(append(b, 0xc2), uint32(n))
			}
		}
	}
	return append(appendLength(b, uint64(len(s))), s...)
}

// appendList writes a quicklist of packed listpack nodes of about 8 KB each.
func appendList(b []byte, elems [][]byte) []byte {
	var nodes [][]byte
	lp, n := newListpack(), 0
	for _, e := range elems {
		if n > 0 && len(lp)+len(e)+11 > listNodeBytes {
			nodes = append(nodes, lpFinish(lp, n))
			lp, n = newListpack(), 0
		}
		lp = lpAppend(lp, e)
		n++
	}
	if n > 0 {
		nodes = append(nodes, lpFinish(lp, n))
	}
	b = appendLength(b, uint64(len(nodes)))
	for _, node := range nodes {
		b = appendLength(b, 2) // a packed node
		b = appendString(b, node)
	}
	return b
}

func appendSet(b []byte, members [][]byte) []byte {
	if len(members) <= maxIntsetEntries {
		ints := make([]int64, 0, len(members))
		for _, m := range members {
			n, ok := canonicalInt(m)
			if !ok {
				break
			}
			ints = append(ints, n)
		}
		if len(ints) == len(members) {
			sort.Slice(ints, func(i, j int) bool { return ints[i] < ints[j] })
			b = append(b, typeSetIntset)
			return appendString(b, appendIntset(nil, ints))
		}
	}
	b = append(b, typeSet)
	b = appendLength(b, uint64(len(members)))
	for _, m := range members {
		b = appendString(b, m)
	}
	return b
}

func fitsListpack(n int, elems ...[][]byte) bool {
	if n > maxListpackEntries {
		return false
	}
	for _, es := range elems {
		for _, e := range es {
			if len(e) > maxListpackValue {
				return false
			}
		}
	}
	return true
}

func appendHash(b []byte, pairs [][]byte) []byte {
	if fitsListpack(len(pairs)/2, pairs) {
		lp := newListpack()
		for _, e := range pairs {
			lp = lpAppend(lp, e)
		}
		b = append(b, typeHashListpack)
		return appendString(b, lpFinish(lp, len(pairs)))
	}
	b = append(b, typeHash)
	b = appendLength(b, uint64(len(pairs)/2))
	for _, e := range pairs {
		b = appendString(b, e)
	}
	return b
}

// appendZSet writes a sorted set given in score order.
func appendZSet(b []byte, members [][]byte, scores []float64) []byte {
	if fitsListpack(len(members), members) {
		lp := newListpack()
		var buf []byte
		for i, m := range members {
			lp = lpAppend(lp, m)
			buf = appendScoreText(buf[:0], scores[i])
			lp = lpAppend(lp, buf)
		}
		b = append(b, typeZSetListpack)
		return appendString(b, lpFinish(lp, 2*len(members)))
	}
	b = append(b, typeZSet2)
	b = appendLength(b, uint64(len(members)))
	// Redis writes a skiplist from its tail, so loading inserts each member at the head.
	for i := len(members) - 1; i >= 0; i-- {
		b = appendString(b, members[i])
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(scores[i]))
	}
	return b
}

// appendScoreText writes a score as a listpack holds it: integral values as integers, others
// in the shortest text that reads back exactly.
func appendScoreText(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
