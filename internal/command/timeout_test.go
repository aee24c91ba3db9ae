package command

import "testing"

func TestTimeoutMs(t *testing.T) {
	const now = 1_700_000_000_000
	tests := []struct {
		arg  string
		ms   int64
		fail string
	}{
		{"0", 0, ""},
		{"1", 1000, ""},
		{"1.5", 1500, ""},
		{"0.0001", 1, ""},   // rounded up to 1 ms
		{"0.0015", 2, ""},   // ceil, not truncation
		{"-0.0001", 0, ""},  // rounds up to 0: forever
		{"-0", 0, ""},       //
		{"+1", 1000, ""},    //
		{"0x10", 16000, ""}, // strtold reads hex
		{"1e-400", 1, ""},   // representable as a long double: 1 ms
		{"9223372036", 9223372036000, ""},
		{"9223372036854775", 0, errTimeoutRange}, // fits alone, not added to now
		{"9223372036854775.807", 9223372036854775807, ""},
		{"-1", 0, ErrNegTimeout},
		{"-inf", 0, ErrNegTimeout},
		{"inf", 0, errTimeoutRange},
		{"+Infinity", 0, errTimeoutRange},
		{"1e300", 0, errTimeoutRange},
		{"9223372036854775808", 0, errTimeoutRange},
		{"9223372036854775.806", 0, errTimeoutRange}, // deadline now+ms overflows
		{"abc", 0, ErrTimeout},
		{"nan", 0, ErrTimeout},
		{"", 0, ErrTimeout},
		{" 1", 0, ErrTimeout},
		{"1 ", 0, ErrTimeout},
		{"1_0", 0, ErrTimeout},
		{"0b1", 0, ErrTimeout},
		{"--1", 0, ErrTimeout},
		{"1e99999", 0, ErrTimeout},  // overflows a long double
		{"1e-99999", 0, ErrTimeout}, // underflows to zero
	}
	for _, tt := range tests {
		n := int64(now)
		if tt.arg == "9223372036854775.807" {
			n = 0 // only fits with no time added
		}
		ms, fail := timeoutMs([]byte(tt.arg), n)
		if ms != tt.ms || fail != tt.fail {
			t.Errorf("timeoutMs(%q) = %d, %q; want %d, %q", tt.arg, ms, fail, tt.ms, tt.fail)
		}
	}
}
