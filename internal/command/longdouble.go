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

// longDoubleMaxExp is the binary exponent beyond which a long double overflows to infinity.
const longDoubleMaxExp = 16384

// parseLongDouble parses a number as strtold does for Redis (no spaces, no NaN).
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || isSpace(b[0]) || isSpace(b[len(b)-1]) || len(b) > 5000 {
		return nil, false
	}
	s := string(b)
	ls := strings.ToLower(s)
	if strings.Contains(ls, "nan") || strings.Contains(ls, "inf") || strings.Contains(s, "_") {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 10, longDoublePrec, big.ToNearestEven)
	if err != nil || f.MantExp(nil) > longDoubleMaxExp {
		return nil, false
	}
	return f, true
}

// addLongDouble adds incr to cur (both decimal strings) and formats the result as Redis does.
// errMsg is set when either is not a number or the result overflows.
func addLongDouble(cur, incr []byte, notNumber string) ([]byte, string) {
	inc, ok := parseLongDouble(incr)
	if !ok {
		if isInfOrNaN(incr) {
			return nil, ErrNaN
		}
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
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(base, inc)
	if sum.MantExp(nil) > longDoubleMaxExp {
		return nil, ErrNaN
	}
	return formatLongDouble(sum), ""
}

func isInfOrNaN(b []byte) bool {
	s := strings.ToLower(strings.TrimLeft(string(b), "+-"))
	return s == "inf" || s == "infinity" || s == "nan"
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
