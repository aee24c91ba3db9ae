package command

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// HyperLogLog in Redis's own representation, byte for byte, so a value written by Redis (GET
// there, SET here) is read by cairn and the other way round, and PFCOUNT gives Redis's numbers.
//
// A value is a string: a 16-byte header ("HYLL", the encoding, three unused bytes, the cached
// cardinality as a little-endian uint64 whose top bit marks it stale) and then the registers,
// 16384 of them of 6 bits each. Dense, they are packed one after the other from the least
// significant bit of each byte (12288 bytes). Sparse, they are run-length coded with three
// opcodes: ZERO (00xxxxxx: 1-64 zero registers), XZERO (01xxxxxx yyyyyyyy: 1-16384 zero
// registers) and VAL (1vvvvvxx: 1-4 registers of value 1-32). A sparse value turns dense when a
// register needs more than 32 or when it would grow past hll-sparse-max-bytes.
//
// The estimator is Redis's (Otmar Ertl's improved raw estimator over the register histogram),
// computed in the same order of float operations so the result is the same integer.

const (
	hllP           = 14
	hllQ           = 64 - hllP
	hllRegisters   = 1 << hllP
	hllPMask       = hllRegisters - 1
	hllBits        = 6
	hllRegisterMax = 1<<hllBits - 1
	hllHdrSize     = 16
	hllDenseSize   = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllDense       = 0
	hllSparse      = 1
	hllMaxEncoding = 1

	hllSparseValMaxValue = 32
	hllSparseValMaxLen   = 4
	hllSparseZeroMaxLen  = 64
	hllSparseXZeroMaxLen = 16384

	// hllAlphaInf is 0.5/ln(2), as Redis writes it.
	hllAlphaInf = 0.721347520444481703680

	// hllSeed is the MurmurHash64A seed Redis hashes elements with.
	hllSeed = 0xadc83b19
)

// Error texts of the HyperLogLog commands.
const (
	errHLLWrongType = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLCorrupt   = "INVALIDOBJ Corrupted HLL object detected"
)

// murmurHash64A is Austin Appleby's MurmurHash2, 64-bit version, reading words little-endian as
// Redis's endian-neutral variant does.
func murmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := uint64(seed) ^ (uint64(len(key)) * m)
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	switch len(tail) {
	case 7:
		h ^= uint64(tail[6]) << 48
		fallthrough
	case 6:
		h ^= uint64(tail[5]) << 40
		fallthrough
	case 5:
		h ^= uint64(tail[4]) << 32
		fallthrough
	case 4:
		h ^= uint64(tail[3]) << 24
		fallthrough
	case 3:
		h ^= uint64(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint64(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint64(tail[0])
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register an element maps to and the length of the 000..1 run of its
// hash past the register bits, counting the final 1 (so at least 1, at most hllQ+1).
func hllPatLen(ele []byte) (index int, count uint8) {
	hash := murmurHash64A(ele, hllSeed)
	index = int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ
	return index, uint8(bits.TrailingZeros64(hash) + 1)
}

// newHLL returns an empty HyperLogLog: sparse, one XZERO opcode covering every register.
func newHLL() []byte {
	v := make([]byte, hllHdrSize+2)
	copy(v, "HYLL")
	v[4] = hllSparse
	v[hllHdrSize] = 0x40 | byte((hllRegisters-1)>>8)
	v[hllHdrSize+1] = byte((hllRegisters - 1) & 0xff)
	return v
}

// isHLL reports whether v is a HyperLogLog Redis would accept: long enough for the header, the
// magic, a known encoding, and a dense value of the exact size. A sparse value's opcodes are
// checked only when they are read.
func isHLL(v []byte) bool {
	if len(v) < hllHdrSize || string(v[:4]) != "HYLL" || v[4] > hllMaxEncoding {
		return false
	}
	return v[4] != hllDense || len(v) == hllDenseSize
}

func hllInvalidate(v []byte) { v[15] |= 0x80 }

func hllCacheValid(v []byte) bool { return v[15]&0x80 == 0 }

func hllCached(v []byte) uint64 { return binary.LittleEndian.Uint64(v[8:16]) }

func hllSetCache(v []byte, card uint64) { binary.LittleEndian.PutUint64(v[8:16], card) }

// denseGet reads register i of dense registers r. The register may end in the byte after r's
// last one, which Redis reads from the string's terminator; here it is simply absent.
func denseGet(r []byte, i int) uint8 {
	b := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	v := uint(r[b]) >> fb
	if b+1 < len(r) {
		v |= uint(r[b+1]) << (8 - fb)
	}
	return uint8(v & hllRegisterMax)
}

func denseSet(r []byte, i int, val uint8) {
	b := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	v := uint(val)
	r[b] &^= byte(hllRegisterMax << fb)
	r[b] |= byte(v << fb)
	if b+1 < len(r) {
		r[b+1] &^= byte(hllRegisterMax >> (8 - fb))
		r[b+1] |= byte(v >> (8 - fb))
	}
}

// denseSetMax raises register i to count if it is lower, reporting whether it changed.
func denseSetMax(r []byte, i int, count uint8) bool {
	if count > denseGet(r, i) {
		denseSet(r, i, count)
		return true
	}
	return false
}

// Sparse opcodes.
func spIsZero(b byte) bool  { return b&0xc0 == 0 }
func spIsXZero(b byte) bool { return b&0xc0 == 0x40 }
func spIsVal(b byte) bool   { return b&0x80 != 0 }
func spZeroLen(b byte) int  { return int(b&0x3f) + 1 }
func spXZeroLen(p []byte) int {
	return (int(p[0]&0x3f)<<8 | int(p[1])) + 1
}
func spValValue(b byte) int { return int(b>>2&0x1f) + 1 }
func spValLen(b byte) int   { return int(b&3) + 1 }
func spVal(val, n int) byte { return byte((val-1)<<2|(n-1)) | 0x80 }
func spZero(n int) byte     { return byte(n - 1) }
func spXZero(n int) (byte, byte) {
	l := n - 1
	return byte(l>>8) | 0x40, byte(l & 0xff)
}

// sparseWalk calls f for every run of the sparse registers sp (start register, length, value),
// and reports whether the opcodes cover exactly the 16384 registers.
func sparseWalk(sp []byte, f func(start, n, val int)) bool {
	idx := 0
	for p := 0; p < len(sp); {
		var n, val int
		switch {
		case spIsZero(sp[p]):
			n = spZeroLen(sp[p])
			p++
		case spIsXZero(sp[p]):
			next := byte(0) // past a truncated opcode Redis reads the string's terminator
			if p+1 < len(sp) {
				next = sp[p+1]
			}
			n = spXZeroLen([]byte{sp[p], next})
			p += 2
		default:
			n, val = spValLen(sp[p]), spValValue(sp[p])
			p++
		}
		if idx+n > hllRegisters {
			return false
		}
		if f != nil {
			f(idx, n, val)
		}
		idx += n
	}
	return idx == hllRegisters
}

// hllToDense converts a sparse value to dense, keeping the header (and so the cached
// cardinality). ok is false if the sparse opcodes are corrupt.
func hllToDense(v []byte) (dense []byte, ok bool) {
	if v[4] == hllDense {
		return v, true
	}
	dense = make([]byte, hllDenseSize)
	copy(dense, v[:hllHdrSize])
	dense[4] = hllDense
	regs := dense[hllHdrSize:]
	ok = sparseWalk(v[hllHdrSize:], func(start, n, val int) {
		if val == 0 {
			return
		}
		for i := start; i < start+n; i++ {
			denseSet(regs, i, uint8(val))
		}
	})
	return dense, ok
}

// hllSet raises register index to count in v (of either encoding), as Redis's hllDenseSet and
// hllSparseSet: the result may be a new slice (a sparse value grows, or turns dense). changed
// reports whether the register changed; ok is false if v is corrupt.
func hllSet(v []byte, index int, count uint8, sparseMax int64) (out []byte, changed, ok bool) {
	if v[4] == hllDense {
		return v, denseSetMax(v[hllHdrSize:], index, count), true
	}
	if count > hllSparseValMaxValue {
		return hllPromote(v, index, count)
	}
	out, changed, promote, ok := sparseSet(v, index, count, sparseMax)
	if promote {
		return hllPromote(v, index, count)
	}
	return out, changed, ok
}

// hllPromote turns a sparse value dense and then sets the register, which must change since
// only an update sends a value here.
func hllPromote(v []byte, index int, count uint8) ([]byte, bool, bool) {
	dense, ok := hllToDense(v)
	if !ok {
		return v, false, false
	}
	denseSetMax(dense[hllHdrSize:], index, count)
	return dense, true, true
}

// sparseSet is Redis's hllSparseSet on the sparse value v: find the opcode covering index,
// split it into at most three opcodes holding the new value, and merge equal neighbouring VAL
// opcodes. promote asks the caller to go dense instead (the result would pass sparseMax bytes).
func sparseSet(v []byte, index int, count uint8, sparseMax int64) (out []byte, changed, promote, ok bool) {
	sp := v[hllHdrSize:]
	// Step 1: find the opcode at p covering index, the one before it (prev, -1 for none) and the
	// first register it covers.
	first, span, p, prev := 0, 0, 0, -1
	for p < len(sp) {
		oplen := 1
		switch {
		case spIsZero(sp[p]):
			span = spZeroLen(sp[p])
		case spIsVal(sp[p]):
			span = spValLen(sp[p])
		default:
			if p+1 >= len(sp) {
				return v, false, false, false
			}
			span = spXZeroLen(sp[p:])
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= len(sp) {
		return v, false, false, false
	}
	isZero, isXZero, isVal := spIsZero(sp[p]), spIsXZero(sp[p]), spIsVal(sp[p])
	runlen := 0
	switch {
	case isZero:
		runlen = spZeroLen(sp[p])
	case isXZero:
		runlen = spXZeroLen(sp[p:])
	default:
		runlen = spValLen(sp[p])
	}
	cnt := int(count)
	// Step 2: the trivial cases are updated in place.
	if isVal {
		if spValValue(sp[p]) >= cnt {
			return v, false, false, true
		}
		if runlen == 1 {
			sp[p] = spVal(cnt, 1)
			return sparseMerge(v, prev), true, false, true
		}
	}
	if isZero && runlen == 1 {
		sp[p] = spVal(cnt, 1)
		return sparseMerge(v, prev), true, false, true
	}
	// Step 3: the general case splits the opcode.
	var seq [5]byte
	n := 0
	last := first + span - 1
	zeros := func(l int) {
		if l > hllSparseZeroMaxLen {
			seq[n], seq[n+1] = spXZero(l)
			n += 2
		} else {
			seq[n] = spZero(l)
			n++
		}
	}
	if isZero || isXZero {
		if index != first {
			zeros(index - first)
		}
		seq[n] = spVal(cnt, 1)
		n++
		if index != last {
			zeros(last - index)
		}
	} else {
		cur := spValValue(sp[p])
		if index != first {
			seq[n] = spVal(cur, index-first)
			n++
		}
		seq[n] = spVal(cnt, 1)
		n++
		if index != last {
			seq[n] = spVal(cur, last-index)
			n++
		}
	}
	oldlen := 1
	if isXZero {
		oldlen = 2
	}
	delta := n - oldlen
	if delta > 0 && int64(len(v)+delta) > sparseMax {
		return v, false, true, true
	}
	at := hllHdrSize + p
	out = make([]byte, 0, len(v)+delta)
	out = append(out, v[:at]...)
	out = append(out, seq[:n]...)
	out = append(out, v[at+oldlen:]...)
	return sparseMerge(out, prev), true, false, true
}

// sparseMerge is step 4 of Redis's hllSparseSet: scanning up to five opcodes from prev (the
// opcode before the one updated, -1 for the first), it merges adjacent VAL opcodes of the same
// value whose lengths fit one opcode. It also marks the cached cardinality stale.
func sparseMerge(v []byte, prev int) []byte {
	p := hllHdrSize
	if prev >= 0 {
		p += prev
	}
	for scan := 5; p < len(v) && scan > 0; scan-- {
		switch {
		case spIsXZero(v[p]):
			p += 2
			continue
		case spIsZero(v[p]):
			p++
			continue
		}
		if p+1 < len(v) && spIsVal(v[p+1]) {
			v1, v2 := spValValue(v[p]), spValValue(v[p+1])
			if v1 == v2 {
				if l := spValLen(v[p]) + spValLen(v[p+1]); l <= hllSparseValMaxLen {
					v[p+1] = spVal(v1, l)
					v = append(v[:p], v[p+1:]...)
					continue
				}
			}
		}
		p++
	}
	hllInvalidate(v)
	return v
}

// hllAdd adds ele to v, returning the new value and whether a register changed.
func hllAdd(v, ele []byte, sparseMax int64) (out []byte, changed, ok bool) {
	index, count := hllPatLen(ele)
	return hllSet(v, index, count, sparseMax)
}

// hllHistogram counts the registers of v by value. ok is false for corrupt sparse opcodes.
func hllHistogram(v []byte, h *[64]int) bool {
	if v[4] == hllDense {
		r := v[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			h[denseGet(r, i)]++
		}
		return true
	}
	return sparseWalk(v[hllHdrSize:], func(_, n, val int) { h[val] += n })
}

// hllMergeInto raises each of max's registers to v's, as Redis's hllMerge.
func hllMergeInto(max *[hllRegisters]uint8, v []byte) bool {
	if v[4] == hllDense {
		r := v[hllHdrSize:]
		for i := range max {
			if g := denseGet(r, i); g > max[i] {
				max[i] = g
			}
		}
		return true
	}
	return sparseWalk(v[hllHdrSize:], func(start, n, val int) {
		for i := start; i < start+n; i++ {
			if uint8(val) > max[i] {
				max[i] = uint8(val)
			}
		}
	})
}

// hllEstimate is Redis's hllCount over a register histogram.
func hllEstimate(h *[64]int) uint64 {
	m := float64(hllRegisters)
	// The explicit conversions keep the compiler from fusing a multiply and an add, which would
	// round once where C rounds twice.
	z := m * hllTau((m-float64(h[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += float64(m * hllSigma(float64(h[0])/m))
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

// hllSigma and hllTau are the helper functions of Ertl, "New cardinality estimation algorithms
// for HyperLogLog sketches" (arXiv:1702.01284), iterated until the sum stops changing.
func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if prev == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if prev == z {
			return z / 3
		}
	}
}

// hllCount estimates the cardinality of v; ok is false for corrupt sparse opcodes.
func hllCount(v []byte) (uint64, bool) {
	var h [64]int
	if !hllHistogram(v, &h) {
		return 0, false
	}
	return hllEstimate(&h), true
}

// hllCountRaw estimates the cardinality of registers held one per byte (PFCOUNT of several keys).
func hllCountRaw(max *[hllRegisters]uint8) uint64 {
	var h [64]int
	for _, r := range max {
		h[r&63]++
	}
	return hllEstimate(&h)
}
