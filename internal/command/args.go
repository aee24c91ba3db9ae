package command

import (
	"math"
	"strconv"
	"strings"
)

// ParseInt parses a Redis integer argument: decimal, optional '-', no spaces or '+', no
// overflow, as string2ll.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	p := b
	if neg {
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false // no leading zeros, as Redis
	}
	var v uint64
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseFloat parses a Redis float argument: what strtod accepts, including "inf", "+inf",
// "-inf", but not NaN, empty strings or leading/trailing spaces.
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) || isSpace(b[len(b)-1]) {
		return 0, false
	}
	s := string(b)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), true
	case "-inf", "-infinity":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// strtod accepts hex floats and out-of-range values (as ±HUGE_VAL with ERANGE, which
		// Redis rejects); ParseFloat reports range errors the same way.
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	if strings.ContainsAny(s, "_") {
		return 0, false // Go accepts digit separators; strtod does not
	}
	return f, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// EqualFold reports whether b equals the lower-case ASCII word s, ignoring case.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// FormatInt appends n in decimal.
func FormatInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }
