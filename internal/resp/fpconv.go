package resp

import (
	"math"
	"math/big"
	"math/bits"
)

// Redis (7.2 and later) formats doubles in replies with fpconv_dtoa, Florian Loitsch's Grisu2.
// Grisu2 finds digits that read back exactly, but not always the shortest such digits that
// strconv finds, so this is a Go rendering of the same algorithm: replies then match Redis's
// byte for byte.

// diyFP is a float as a 64-bit integer and a binary exponent: frac × 2^exp.
type diyFP struct {
	frac uint64
	exp  int
}

const (
	fracMask   = 0x000FFFFFFFFFFFFF
	expMask    = 0x7FF0000000000000
	hiddenBit  = 0x0010000000000000
	expBias    = 1023 + 52
	firstPower = -348 // the cached powers of ten are 10^-348, 10^-340, ... 10^340
	powerStep  = 8
	numPowers  = 87
	minTarget  = -60 // the binary exponent range a scaled value must land in
	maxTarget  = -32
)

// cachedPowers are 10^(firstPower + i*powerStep) rounded to 64 significant bits.
var cachedPowers = func() [numPowers]diyFP {
	var out [numPowers]diyFP
	ten := new(big.Float).SetPrec(4096).SetInt64(10)
	for i := range out {
		k := firstPower + i*powerStep
		p := new(big.Float).SetPrec(4096).SetInt64(1)
		for j := 0; j < abs(k); j++ {
			if k > 0 {
				p.Mul(p, ten)
			} else {
				p.Quo(p, ten)
			}
		}
		mant := new(big.Float).SetPrec(4096)
		exp := p.MantExp(mant) // p = mant × 2^exp, mant in [0.5, 1)
		mant.SetMantExp(mant, 64)
		frac, _ := new(big.Float).SetPrec(4096).Add(mant, big.NewFloat(0.5)).Uint64()
		e := exp - 64
		if frac == 0 { // rounding carried past 64 bits
			frac, e = 1<<63, e+1
		}
		out[i] = diyFP{frac, e}
	}
	return out
}()

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

var powersOfTen = [...]uint64{1e19, 1e18, 1e17, 1e16, 1e15, 1e14, 1e13, 1e12, 1e11, 1e10, 1e9, 1e8, 1e7,
	1e6, 1e5, 1e4, 1e3, 100, 10, 1}

func buildFP(d float64) diyFP {
	b := math.Float64bits(d)
	fp := diyFP{frac: b & fracMask, exp: int((b & expMask) >> 52)}
	if fp.exp != 0 {
		fp.frac += hiddenBit
		fp.exp -= expBias
	} else {
		fp.exp = -expBias + 1
	}
	return fp
}

func normalizeFP(fp diyFP) diyFP {
	for fp.frac&hiddenBit == 0 {
		fp.frac <<= 1
		fp.exp--
	}
	return diyFP{fp.frac << 11, fp.exp - 11}
}

// boundaries returns the normalized midpoints to fp's neighbours, sharing one exponent.
func boundaries(fp diyFP) (lower, upper diyFP) {
	upper = diyFP{fp.frac<<1 + 1, fp.exp - 1}
	for upper.frac&(hiddenBit<<1) == 0 {
		upper.frac <<= 1
		upper.exp--
	}
	upper.frac <<= 10
	upper.exp -= 10
	shift := 1
	if fp.frac == hiddenBit {
		shift = 2 // the gap below a power of two is half the gap above it
	}
	lower = diyFP{fp.frac<<shift - 1, fp.exp - shift}
	lower.frac <<= lower.exp - upper.exp
	lower.exp = upper.exp
	return lower, upper
}

// multiplyFP multiplies two normalized values, rounding the low half.
func multiplyFP(a, b diyFP) diyFP {
	hi, lo := bits.Mul64(a.frac, b.frac)
	// The C original sums 32-bit partial products and adds 2^31 before dropping the low 32
	// bits: that is rounding the 128-bit product at bit 64, which this does with a carry.
	if lo&(1<<63) != 0 {
		hi++
	}
	return diyFP{hi, a.exp + b.exp + 64}
}

// cachedPower returns the cached power of ten that brings a value of binary exponent exp into
// the target range, and its decimal exponent.
func cachedPower(exp int) (diyFP, int) {
	const oneLogTen = 0.30102999566398114
	approx := int(float64(-(exp + numPowers)) * oneLogTen)
	idx := (approx - firstPower) / powerStep
	for {
		current := exp + cachedPowers[idx].exp + 64
		switch {
		case current < minTarget:
			idx++
		case current > maxTarget:
			idx--
		default:
			return cachedPowers[idx], firstPower + idx*powerStep
		}
	}
}

func roundDigit(digits []byte, delta, rem, kappa, frac uint64) {
	for rem < frac && delta-rem >= kappa && (rem+kappa < frac || frac-rem > rem+kappa-frac) {
		digits[len(digits)-1]--
		rem += kappa
	}
}

// generateDigits appends the digits of fp to digits and adjusts the decimal exponent k.
func generateDigits(fp, upper, lower diyFP, digits []byte, k *int) []byte {
	wfrac := upper.frac - fp.frac
	delta := upper.frac - lower.frac
	shift := uint(-upper.exp)
	one := uint64(1) << shift
	part1 := upper.frac >> shift
	part2 := upper.frac & (one - 1)
	kappa := 10
	for i := 10; kappa > 0; i++ {
		div := powersOfTen[i]
		digit := part1 / div
		if digit != 0 || len(digits) > 0 {
			digits = append(digits, byte(digit)+'0')
		}
		part1 -= digit * div
		kappa--
		if tmp := part1<<shift + part2; tmp <= delta {
			*k += kappa
			roundDigit(digits, delta, tmp, div<<shift, wfrac)
			return digits
		}
	}
	for unit := 18; ; unit-- {
		part2 *= 10
		delta *= 10
		kappa--
		digit := part2 >> shift
		if digit != 0 || len(digits) > 0 {
			digits = append(digits, byte(digit)+'0')
		}
		part2 &= one - 1
		if part2 < delta {
			*k += kappa
			roundDigit(digits, delta, part2, one, wfrac*powersOfTen[unit])
			return digits
		}
	}
}

// grisu2 appends the decimal digits of d (finite, not zero) and returns them with the decimal
// exponent k: d ≈ digits × 10^k.
func grisu2(d float64, digits []byte) ([]byte, int) {
	w := buildFP(d)
	lower, upper := boundaries(w)
	w = normalizeFP(w)
	cp, k := cachedPower(upper.exp)
	w = multiplyFP(w, cp)
	upper = multiplyFP(upper, cp)
	lower = multiplyFP(lower, cp)
	lower.frac++
	upper.frac--
	kk := -k
	digits = generateDigits(w, upper, lower, digits, &kk)
	return digits, kk
}
