package command

import (
	"math"
	"math/big"
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
	f, ok := parseLongDouble(arg)
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
