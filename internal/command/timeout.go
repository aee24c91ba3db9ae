package command

import (
	"math"
	"math/big"
	"strings"
)

const errTimeoutRange = "ERR timeout is out of range"

// timeoutMs converts a blocking command's timeout, in seconds, to milliseconds as Redis's
// getTimeoutFromObjectOrReply does: the text is read as a C long double, multiplied by 1000 and
// rounded up (so 0.0001 waits 1 ms and -0.0001 means forever, like 0), and the deadline now+ms
// must fit in an int64. It returns the error reply text, or "".
func timeoutMs(arg []byte, now int64) (int64, string) {
	if n, ok := ParseInt(arg); ok && n >= 0 && n <= 1<<40 {
		return n * 1000, "" // the common case: whole seconds
	}
	f, ok := parseCLongDouble(arg)
	if !ok {
		return 0, ErrTimeout
	}
	f.Mul(f, big.NewFloat(1000).SetPrec(longDoublePrec))
	if f.Cmp(new(big.Float).SetInt64(math.MaxInt64)) > 0 {
		return 0, errTimeoutRange
	}
	ms, acc := f.Int64() // truncates towards zero
	if acc == big.Below {
		ms++ // ceil of a positive fraction
	}
	switch {
	case ms < 0:
		return 0, ErrNegTimeout
	case ms > math.MaxInt64-now:
		return 0, errTimeoutRange
	}
	return ms, ""
}

// parseCLongDouble parses a number as strtold does for Redis's string2ld: decimal or hex
// floats, "inf" and "infinity" in any case with an optional sign, no surrounding spaces, no NaN,
// nothing that overflows a long double or underflows it to zero. The result has a long
// double's 64-bit mantissa.
func parseCLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= 5*1024 || isSpace(b[0]) {
		return nil, false
	}
	s := strings.ToLower(string(b))
	unsigned := strings.TrimLeft(s, "+-")
	if len(s)-len(unsigned) > 1 {
		return nil, false
	}
	if unsigned == "inf" || unsigned == "infinity" {
		return new(big.Float).SetInf(s[0] == '-'), true
	}
	// big.ParseFloat with base 0 also takes binary and octal prefixes and digit separators,
	// which strtold does not.
	if strings.ContainsAny(s, "_in") || strings.HasPrefix(unsigned, "0b") || strings.HasPrefix(unsigned, "0o") {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if exp := f.MantExp(nil); f.Sign() != 0 && (exp > longDoubleMaxExp || exp < longDoubleMinExp) {
		return nil, false
	}
	return f, true
}

// longDoubleMinExp is the binary exponent below which a long double underflows to zero (the
// smallest subnormal is 2^-16445).
const longDoubleMinExp = -16444
