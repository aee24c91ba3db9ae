package resp

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestWriterReplies checks every reply type in both protocols.
func TestWriterReplies(t *testing.T) {
	tests := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 string
	}{
		{"OK", func(w *Writer) { w.OK() }, "+OK\r\n", "+OK\r\n"},
		{"Status", func(w *Writer) { w.Status("QUEUED") }, "+QUEUED\r\n", "+QUEUED\r\n"},
		{"Error", func(w *Writer) { w.Error("ERR bad\r\nthing\n") }, "-ERR bad  thing \r\n", "-ERR bad  thing \r\n"},
		{"Int", func(w *Writer) { w.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"IntMin", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
		{"Bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"BulkEmpty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"BulkString", func(w *Writer) { w.BulkString("héllo") }, "$6\r\nhéllo\r\n", "$6\r\nhéllo\r\n"},
		{"BulkInt", func(w *Writer) { w.BulkInt(-7) }, "$2\r\n-7\r\n", "$2\r\n-7\r\n"},
		{"Verbatim", func(w *Writer) { w.Verbatim("line\n") }, "$5\r\nline\n\r\n", "=9\r\ntxt:line\n\r\n"},
		{"Null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"NullArray", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"Array", func(w *Writer) { w.Array(2); w.Int(1); w.Null() }, "*2\r\n:1\r\n$-1\r\n", "*2\r\n:1\r\n_\r\n"},
		{"ArrayEmpty", func(w *Writer) { w.Array(0) }, "*0\r\n", "*0\r\n"},
		{"Map", func(w *Writer) { w.Map(1); w.BulkString("k"); w.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"Set", func(w *Writer) { w.Set(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", "~1\r\n$1\r\nm\r\n"},
		{"Push", func(w *Writer) { w.Push(1); w.BulkString("message") }, "*1\r\n$7\r\nmessage\r\n", ">1\r\n$7\r\nmessage\r\n"},
		{"Attribute", func(w *Writer) { w.Attribute(1); w.BulkString("a"); w.Int(1); w.OK() }, "$1\r\na\r\n:1\r\n+OK\r\n", "|1\r\n$1\r\na\r\n:1\r\n+OK\r\n"},
		{"BoolTrue", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"BoolFalse", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"Double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"DoubleInf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"DoubleNaN", func(w *Writer) { w.Double(math.NaN()) }, "$3\r\nnan\r\n", ",nan\r\n"},
		{"BigNumber", func(w *Writer) { w.BigNumber("12345678901234567890") }, "$20\r\n12345678901234567890\r\n", "(12345678901234567890\r\n"},
		{"Raw", func(w *Writer) { w.Raw([]byte("+X\r\n")) }, "+X\r\n", "+X\r\n"},
	}
	for _, tt := range tests {
		for _, proto := range []int{2, 3} {
			w := Writer{Proto: proto}
			tt.write(&w)
			want := tt.resp2
			if proto == 3 {
				want = tt.resp3
			}
			if got := string(w.Buf); got != want {
				t.Fatalf("%s in RESP%d = %q, want %q", tt.name, proto, got, want)
			}
		}
	}
}

func TestWriterBuffer(t *testing.T) {
	w := Writer{Proto: 2}
	w.OK()
	mark := w.Len()
	w.Int(5)
	w.Truncate(mark)
	if got := string(w.Buf); got != "+OK\r\n" {
		t.Fatalf("after Truncate: %q", got)
	}
	c := cap(w.Buf)
	w.Reset()
	if w.Len() != 0 || cap(w.Buf) != c {
		t.Fatalf("Reset: len %d, cap %d (was %d)", w.Len(), cap(w.Buf), c)
	}
	if w.RESP3() || !(&Writer{Proto: 3}).RESP3() {
		t.Fatal("RESP3 reports the wrong protocol")
	}
}

// TestAppendDouble checks the layout rules of Redis's fpconv_dtoa on values whose digits are
// not in doubt.
func TestAppendDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {-1, "-1"}, {1.5, "1.5"}, {-2.25, "-2.25"},
		{0.1, "0.1"}, {0.3, "0.3"}, {math.Nextafter(0.3, 1), "0.30000000000000004"}, {100, "100"}, {123456789, "123456789"},
		{1e6, "1000000"}, {1e7, "10000000"}, {1e8, "1e+8"}, {1.5e8, "150000000"}, {12e7, "120000000"},
		{1e15, "1e+15"}, {123e15, "1.23e+17"}, {1234e20, "1.234e+23"}, {1e16, "1e+16"},
		{1e21, "1e+21"}, {1e100, "1e+100"}, {1e-100, "1e-100"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{0.001, "0.001"}, {0.00001, "0.00001"}, {0.000001, "0.000001"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"},
		{0.000123, "0.000123"}, {1234.5678, "1234.5678"}, {1.2345678e-5, "1.2345678e-5"},
		{1.25e-5, "1.25e-5"}, {3.14159, "3.14159"}, {-0.5, "-0.5"}, {2.5e-3, "0.0025"},
		{9007199254740993, "9007199254740992"}, {math.MaxInt64, "9223372036854776000"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"}, {1e23, "99999999999999990000000"}, // Grisu2 is not shortest here; checked against the C source
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {-math.NaN(), "nan"},
	}
	for _, tt := range tests {
		if got := string(AppendDouble(nil, tt.f)); got != tt.want {
			t.Fatalf("AppendDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// layoutShortest lays out strconv's shortest digits with fpconv's rules, as an independent
// description to compare with where Grisu2 finds the same digits.
func layoutShortest(f float64) string {
	s := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(s, "e")
	digits := strings.Replace(mant, ".", "", 1)
	dexp, _ := strconv.Atoi(expStr)
	nd := len(digits)
	k := dexp - nd + 1
	sign := ""
	if math.Signbit(f) {
		sign = "-"
	}
	switch {
	case k >= 0 && dexp < nd+7:
		return sign + digits + strings.Repeat("0", k)
	case k < 0 && (k > -7 || abs(dexp) < 4):
		if nd+k <= 0 {
			return sign + "0." + strings.Repeat("0", -(nd+k)) + digits
		}
		return sign + digits[:nd+k] + "." + digits[nd+k:]
	}
	out := sign + digits[:1]
	if nd > 1 {
		out += "." + digits[1:]
	}
	if dexp < 0 {
		return out + "e-" + strconv.Itoa(-dexp)
	}
	return out + "e+" + strconv.Itoa(dexp)
}

// TestAppendDoubleRandom checks many values: every reply reads back as the value exactly, has
// at most 17 significant digits, and matches the shortest digits laid out by Redis's rules
// nearly always (Grisu2 occasionally needs a digit more; those are counted, not failed).
func TestAppendDoubleRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	differ := 0
	const n = 200_000
	for i := 0; i < n; i++ {
		var f float64
		switch i % 4 {
		case 0:
			f = math.Float64frombits(r.Uint64()) // any bit pattern
		case 1:
			f = float64(r.Int64N(1<<53)) / math.Pow(10, float64(r.IntN(30)))
		case 2:
			f = float64(r.Int64N(1_000_000)) * math.Pow(10, float64(r.IntN(40)-20))
		default:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(600)-300))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		got := string(AppendDouble(nil, f))
		back, err := strconv.ParseFloat(got, 64)
		if err != nil || back != f {
			t.Fatalf("AppendDouble(%v) = %q, which reads back as %v, %v", f, got, back, err)
		}
		mant, _, _ := strings.Cut(strings.TrimLeft(got, "-"), "e")
		if sig := strings.Trim(strings.Replace(mant, ".", "", 1), "0"); len(sig) > 17 {
			t.Fatalf("AppendDouble(%v) = %q: more than 17 significant digits", f, got)
		}
		if got != layoutShortest(f) {
			differ++
		}
	}
	if differ > n/100 {
		t.Fatalf("%d of %d values differ from the shortest digits; Grisu2 should rarely", differ, n)
	}
	t.Logf("%d of %d values are not the shortest digits", differ, n)
}

// TestCachedPowers spot-checks the computed powers of ten against Loitsch's published table.
func TestCachedPowers(t *testing.T) {
	tests := []struct {
		i    int
		want diyFP
	}{
		{0, diyFP{18054884314459144840, -1220}}, {14, diyFP{9384396036005875287, -847}},
		{44, diyFP{11258999068426240000, -50}}, {46, diyFP{12500000000000000000, 3}},
		{47, diyFP{9313225746154785156, 30}}, {86, diyFP{12648080533535911531, 1066}},
	}
	for _, tt := range tests {
		if got := cachedPowers[tt.i]; got != tt.want {
			t.Fatalf("cachedPowers[%d] (10^%d) = %v, want %v", tt.i, firstPower+tt.i*powerStep, got, tt.want)
		}
	}
}

// TestAppendDoubleGolden compares with replies of Redis's fpconv_dtoa recorded in testdata,
// mostly values where Grisu2's digits are not the shortest, which is where a reimplementation
// would drift.
func TestAppendDoubleGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/fpconv_dtoa.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		hex, want, ok := strings.Cut(line, " ")
		b, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			t.Fatalf("bad line %q", line)
		}
		f := math.Float64frombits(b)
		if got := string(AppendDouble(nil, f)); got != want {
			t.Fatalf("AppendDouble(%v) = %q, want %q", f, got, want)
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d golden values", n)
	}
}

func BenchmarkAppendDouble(b *testing.B) {
	buf := make([]byte, 0, 32)
	for i := 0; i < b.N; i++ {
		buf = AppendDouble(buf[:0], 1234.5678+float64(i))
	}
}
