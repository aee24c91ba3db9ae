package command

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// refParseInt is Redis's string2ll described with strconv: a decimal int64 with an optional
// minus sign, no plus sign, no leading zeros (nor "-0"), at most 20 characters.
func refParseInt(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	digits := strings.TrimPrefix(s, "-")
	if len(s) > 20 || digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

var (
	decFloat = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	hexFloat = regexp.MustCompile(`^[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?[0-9]+)?$`)
	infFloat = regexp.MustCompile(`(?i)^[+-]?(inf|infinity)$`)
	decMant  = regexp.MustCompile(`^[^eE]*[1-9]`)
	hexMant  = regexp.MustCompile(`^[+-]?0[xX][^pP]*[1-9a-fA-F]`)
)

// refParseFloat is what Redis accepts through strtod, described with C's grammar for it and
// strconv for the value: overflow and underflow to zero are errors, subnormals are not.
func refParseFloat(s string) (float64, bool) {
	if infFloat.MatchString(s) {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	var nonzero bool
	switch {
	case decFloat.MatchString(s):
		nonzero = decMant.MatchString(s)
	case hexFloat.MatchString(s):
		nonzero = hexMant.MatchString(s)
		if !strings.ContainsAny(s, "pP") {
			s += "p0"
		}
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || (f == 0 && nonzero) {
		return 0, false
	}
	return f, true
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true}, {"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false}, {"", 0, false}, {"-", 0, false}, {"+1", 0, false},
		{"01", 0, false}, {"-0", 0, false}, {"00", 0, false}, {" 1", 0, false}, {"1 ", 0, false},
		{"1.0", 0, false}, {"1e3", 0, false}, {"0x10", 0, false}, {"1_000", 0, false},
		{"99999999999999999999", 0, false}, {"123456789012345678901", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Fatalf("ParseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true}, {"-1.5", -1.5, true}, {"+.5", 0.5, true}, {"5.", 5, true}, {"1e3", 1000, true},
		{"1E-3", 0.001, true}, {"0x10", 16, true}, {"0X1P-2", 0.25, true}, {"-0x.8", -0.5, true},
		{"inf", math.Inf(1), true}, {"-Infinity", math.Inf(-1), true}, {"+INF", math.Inf(1), true},
		{"4e-320", 4e-320, true}, {"0e-400", 0, true},
		{"nan", 0, false}, {"-NaN", 0, false}, {"", 0, false}, {" 1", 0, false}, {"1 ", 0, false},
		{"1e400", 0, false}, {"-1e400", 0, false}, {"1e-400", 0, false}, {"2e-324", 0, false},
		{"0x1p-1080", 0, false}, {"1_0", 0, false}, {"0x", 0, false}, {"1e", 0, false}, {".", 0, false},
		{"--1", 0, false}, {"infinit", 0, false}, {"0b101", 0, false}, {"1\x00", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseFloat([]byte(tt.in))
		if ok != tt.ok || (ok && got != tt.want) {
			t.Fatalf("ParseFloat(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "123", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "01", "-0", "+1", " 1", "1a", "", "-", "18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseInt([]byte(s))
		want, wantOK := refParseInt(s)
		if ok != wantOK || got != want {
			t.Fatalf("ParseInt(%q) = %d, %v; reference %d, %v", s, got, ok, want, wantOK)
		}
	})
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1", "-1.5e10", ".5", "5.", "0x1.8p3", "0x10", "inf", "-infinity", "nan",
		"1e400", "1e-400", "4e-320", "0e-999", "1_0", " 1", "1 ", "0x", "1e", "+.e1", "0x.p1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseFloat([]byte(s))
		want, wantOK := refParseFloat(s)
		if ok != wantOK || (ok && math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("ParseFloat(%q) = %v, %v; reference %v, %v", s, got, ok, want, wantOK)
		}
	})
}
