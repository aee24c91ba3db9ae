package command

import (
	"math/big"
	"strings"
)

// Redis does INCRBYFLOAT and HINCRBYFLOAT in C's long double (a 64-bit mantissa on x86-64) and
// prints the result with "%.17Lf" minus trailing zeros, which is why 0.1 + 0.2 gives "0.3" there
// and not float64's "0.30000000000000004". big.Float at 64 bits of precision does the same
// arithmetic, so replies match Redis to the digit.
const longDoublePrec = 64

// The binary exponents (as big.Float.MantExp reports them) past which a long double overflows to
// infinity, and under which it underflows to zero (the smallest subnormal is 2^-16445).
const (
	longDoubleMaxExp = 16384
	longDoubleMinExp = -16444
)

// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: longer numbers are rejected unread.
const maxLongDoubleChars = 5 * 1024

// parseLongDouble parses a number as Redis's string2ld does with strtold: decimal or hexadecimal
// ("0x1.8p3"), "inf" and "infinity" in any case, no spaces, no NaN, and nothing that overflows or
// underflows to zero. The result may be infinite.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars || isSpace(b[0]) {
		return nil, false
	}
	s := string(b)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return nil, false
	}
	neg := s[0] == '-'
	switch strings.ToLower(body) {
	case "inf", "infinity":
		return new(big.Float).SetInf(neg), true
	}
	base := 10
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		base = 0 // lets big.Float read the 0x prefix and a 'p' exponent
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; c == '_' || c == 'i' || c == 'I' || c == 'n' || c == 'N' || isSpace(c) {
			return nil, false // digit separators and "inf"/"nan" spellings big.Float accepts but strtold does not
		}
	}
	f, _, err := big.ParseFloat(s, base, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.Sign() != 0 {
		if exp := f.MantExp(nil); exp > longDoubleMaxExp || exp < longDoubleMinExp {
			return nil, false
		}
	}
	return f, true
}

// addLongDouble adds incr to cur (both numbers as strings; cur nil for a missing value) and formats
// the result as Redis does. It returns an error text instead when incr, then cur, is not a number
// (notNumber for cur), or when the sum is infinite.
func addLongDouble(cur, incr []byte, notNumber string) ([]byte, string) {
	inc, ok := parseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	base := new(big.Float).SetPrec(longDoublePrec)
	if cur != nil {
		b, ok := parseLongDouble(cur)
		if !ok {
			return nil, notNumber
		}
		base = b
	}
	if inc.IsInf() || base.IsInf() {
		return nil, ErrNaN
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(base, inc)
	if sum.Sign() != 0 && sum.MantExp(nil) > longDoubleMaxExp {
		return nil, ErrNaN
	}
	return formatLongDouble(sum), ""
}

// formatLongDouble prints f as "%.17Lf" with trailing zeros (and a trailing point) removed.
func formatLongDouble(f *big.Float) []byte {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
}
