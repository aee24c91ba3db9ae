package resp

import (
	"math"
	"slices"
	"strconv"
)

// Writer appends replies to Buf in the protocol version of the connection (2 or 3).
// It never fails; the caller sends Buf and resets it.
type Writer struct {
	Buf   []byte
	Proto int // 2 or 3
}

// Reset empties the buffer, keeping its capacity.
func (w *Writer) Reset() { w.Buf = w.Buf[:0] }

// Len reports the number of buffered bytes.
func (w *Writer) Len() int { return len(w.Buf) }

// Truncate drops everything after the first n bytes, so a reply begun can be withdrawn.
func (w *Writer) Truncate(n int) { w.Buf = w.Buf[:n] }

// RESP3 reports whether the connection speaks RESP3.
func (w *Writer) RESP3() bool { return w.Proto >= 3 }

// OK appends +OK.
func (w *Writer) OK() { w.Buf = append(w.Buf, "+OK\r\n"...) }

// Status appends a simple string.
func (w *Writer) Status(s string) {
	w.Buf = append(w.Buf, '+')
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// Error appends an error reply. msg is the full text without the leading '-', such as
// "ERR syntax error" or "WRONGTYPE Operation against a key holding the wrong kind of value".
// Newlines are replaced by spaces, since they would break the protocol.
func (w *Writer) Error(msg string) {
	w.Buf = append(w.Buf, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.Buf = append(w.Buf, c)
	}
	w.Buf = append(w.Buf, '\r', '\n')
}

// Int appends an integer reply.
func (w *Writer) Int(n int64) {
	w.Buf = append(w.Buf, ':')
	w.Buf = strconv.AppendInt(w.Buf, n, 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// Bulk appends a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.Buf = append(w.Buf, '$')
	w.Buf = strconv.AppendInt(w.Buf, int64(len(b)), 10)
	w.Buf = append(w.Buf, '\r', '\n')
	w.Buf = append(w.Buf, b...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// BulkHeader appends the header of a bulk string of n bytes; the caller appends the bytes and
// then BulkEnd. For a value written in pieces (a chunked string streamed into the reply).
func (w *Writer) BulkHeader(n int64) {
	if need := len(w.Buf) + int(n) + 24; need > cap(w.Buf) && n >= 1<<20 {
		w.Buf = slices.Grow(w.Buf, int(n)+24) // once, not doubling as the pieces come
	}
	w.Buf = append(w.Buf, '$')
	w.Buf = strconv.AppendInt(w.Buf, n, 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// BulkEnd ends a bulk string begun with BulkHeader.
func (w *Writer) BulkEnd() { w.Buf = append(w.Buf, '\r', '\n') }

// BulkString appends a bulk string.
func (w *Writer) BulkString(s string) {
	w.Buf = append(w.Buf, '$')
	w.Buf = strconv.AppendInt(w.Buf, int64(len(s)), 10)
	w.Buf = append(w.Buf, '\r', '\n')
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// BulkInt appends an integer formatted as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Verbatim appends a verbatim string (RESP3 '=' with format "txt"), a bulk string in RESP2.
func (w *Writer) Verbatim(s string) {
	if !w.RESP3() {
		w.BulkString(s)
		return
	}
	w.Buf = append(w.Buf, '=')
	w.Buf = strconv.AppendInt(w.Buf, int64(len(s)+4), 10)
	w.Buf = append(w.Buf, "\r\ntxt:"...)
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// Null appends the null that stands for a missing value: "$-1" in RESP2, "_" in RESP3.
func (w *Writer) Null() {
	if w.RESP3() {
		w.Buf = append(w.Buf, "_\r\n"...)
		return
	}
	w.Buf = append(w.Buf, "$-1\r\n"...)
}

// NullArray appends the null that stands for a missing aggregate: "*-1" in RESP2, "_" in RESP3.
func (w *Writer) NullArray() {
	if w.RESP3() {
		w.Buf = append(w.Buf, "_\r\n"...)
		return
	}
	w.Buf = append(w.Buf, "*-1\r\n"...)
}

// Array appends the header of an array of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map appends the header of a map of n pairs; in RESP2 an array of 2n elements.
func (w *Writer) Map(n int) {
	if w.RESP3() {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// Set appends the header of a set of n elements; in RESP2 an array.
func (w *Writer) Set(n int) {
	if w.RESP3() {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// Push appends the header of an out-of-band push of n elements; in RESP2 an array.
func (w *Writer) Push(n int) {
	if w.RESP3() {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// Attribute appends the header of an attribute map of n pairs. RESP3 only; a no-op in RESP2.
func (w *Writer) Attribute(n int) {
	if w.RESP3() {
		w.header('|', n)
	}
}

func (w *Writer) header(c byte, n int) {
	w.Buf = append(w.Buf, c)
	w.Buf = strconv.AppendInt(w.Buf, int64(n), 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// Bool appends a boolean: "#t"/"#f" in RESP3, the integers 1 and 0 in RESP2.
func (w *Writer) Bool(b bool) {
	if w.RESP3() {
		if b {
			w.Buf = append(w.Buf, "#t\r\n"...)
		} else {
			w.Buf = append(w.Buf, "#f\r\n"...)
		}
		return
	}
	if b {
		w.Buf = append(w.Buf, ":1\r\n"...)
	} else {
		w.Buf = append(w.Buf, ":0\r\n"...)
	}
}

// Double appends a double: "," in RESP3, a bulk string in RESP2, formatted as Redis formats
// doubles in replies (shortest representation that reads back exactly; inf, -inf, nan).
func (w *Writer) Double(f float64) {
	if w.RESP3() {
		w.Buf = append(w.Buf, ',')
		w.Buf = AppendDouble(w.Buf, f)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	var tmp [32]byte
	w.Bulk(AppendDouble(tmp[:0], f))
}

// BigNumber appends a big number ("(" in RESP3), a bulk string in RESP2.
func (w *Writer) BigNumber(s string) {
	if w.RESP3() {
		w.Buf = append(w.Buf, '(')
		w.Buf = append(w.Buf, s...)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// Raw appends bytes that are already a complete encoded reply.
func (w *Writer) Raw(b []byte) { w.Buf = append(w.Buf, b...) }

// AppendDouble formats f as Redis (7.2 and later) formats a double in a reply (d2string and
// fpconv_dtoa): Grisu2's digits, laid out as a plain integer when that needs fewer than seven
// trailing zeros, as a plain decimal for small negative exponents, and in exponent notation
// ("1.5e+20", "1e-7") otherwise; "inf", "-inf", "nan", "0" and "-0" for the special values.
func AppendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	if math.Signbit(f) {
		b = append(b, '-')
	}
	if f == 0 {
		return append(b, '0')
	}
	var buf [24]byte
	digits, k := grisu2(f, buf[:0])
	nd := len(digits)
	exp := abs(k + nd - 1)
	switch {
	case k >= 0 && exp < nd+7:
		b = append(b, digits...)
		for i := 0; i < k; i++ {
			b = append(b, '0')
		}
		return b
	case k < 0 && (k > -7 || exp < 4):
		offset := nd + k
		if offset <= 0 {
			b = append(b, '0', '.')
			for i := 0; i < -offset; i++ {
				b = append(b, '0')
			}
			return append(b, digits...)
		}
		b = append(b, digits[:offset]...)
		b = append(b, '.')
		return append(b, digits[offset:]...)
	}
	if neg := math.Signbit(f); nd > 18 || (neg && nd > 17) {
		nd = 17 // fpconv keeps a reply within its 24-byte buffer
		if !neg {
			nd = 18
		}
		digits = digits[:nd]
	}
	b = append(b, digits[0])
	if nd > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	if k+nd-1 < 0 {
		b = append(b, '-')
	} else {
		b = append(b, '+')
	}
	return strconv.AppendInt(b, int64(exp), 10)
}
