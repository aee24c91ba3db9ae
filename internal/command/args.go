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

// ParseFloat parses a Redis float argument as strtod does for Redis's getDoubleFromObject:
// decimal or hexadecimal ("0x1.8p3", "0x10") numbers, "inf" and "infinity" in any case with an
// optional sign, but no NaN, no empty string, no leading or trailing space, and nothing that
// overflows or underflows to zero (subnormal values are accepted).
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	s := string(b)
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	nonzero := false // a digit other than 0 in the mantissa, to tell underflow from zero
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '_' || c == 'n' || c == 'N' || c == 'i' || c == 'I':
			return 0, false // digit separators, "nan" and misplaced "inf": Go's, not strtod's
		case (c == 'e' || c == 'E') && !hex, c == 'p' || c == 'P':
			i = len(body) // the exponent
		case c >= '1' && c <= '9', hex && i > 1 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			nonzero = true
		}
	}
	if hex && !strings.ContainsAny(body, "pP") {
		s += "p0" // strtod reads a hex mantissa alone; Go wants the binary exponent
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || (f == 0 && nonzero) {
		return 0, false
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
