package resp

import (
	"bytes"
	"errors"
)

// Limits of the request reader, as in Redis (networking.c).
const (
	// DefaultMaxBulkLen is proto-max-bulk-len's default: 512 MB.
	DefaultMaxBulkLen = 512 << 20
	// MaxMultibulkLen is the most arguments one request may declare.
	MaxMultibulkLen = 1024 * 1024
	// MaxInlineLen is the longest inline request, and the longest length line of a multibulk
	// request, that the reader waits for before it gives up (PROTO_INLINE_MAX_SIZE).
	MaxInlineLen = 64 * 1024
)

// ErrIncomplete reports that the buffer holds only the beginning of a request.
var ErrIncomplete = errors.New("incomplete request")

// ProtocolError is a malformed request. Its text is the reply Redis sends before it closes the
// connection, without the leading '-'.
type ProtocolError string

func (e ProtocolError) Error() string { return string(e) }

// Reader parses requests out of a caller-owned buffer. The zero value is ready to use with
// DefaultMaxBulkLen; a Reader is reused across requests and its result is valid until the next
// call to Parse or until the buffer changes.
type Reader struct {
	// MaxBulkLen is the largest bulk string accepted (proto-max-bulk-len); 0 means the default.
	MaxBulkLen int64

	args   [][]byte
	inline []byte // unquoted inline arguments, which cannot point into the buffer
}

// Forget drops the Reader's references to the last request's arguments, which point into the
// buffer it was parsed from: a big request's buffer need not stay reachable until the next
// request.
func (r *Reader) Forget() { clear(r.args) }

// Parse parses the first request in buf. It returns the request's arguments, which point into
// buf (or into the Reader for inline requests), and the number of bytes the request took.
// An empty request (an empty inline line, "*0" or "*-1") is returned as zero arguments with n > 0;
// the caller skips it, as Redis does.
//
// If buf holds only part of a request, Parse returns ErrIncomplete and, in need, the total length
// buf must reach before parsing could succeed (a lower bound; 0 if unknown). Malformed requests
// return a ProtocolError, after which the connection must be closed.
func (r *Reader) Parse(buf []byte) (args [][]byte, n int, need int, err error) {
	if len(buf) == 0 {
		return nil, 0, 0, ErrIncomplete
	}
	if buf[0] != '*' {
		return r.parseInline(buf)
	}
	maxBulk := r.MaxBulkLen
	if maxBulk <= 0 {
		maxBulk = DefaultMaxBulkLen
	}
	count, pos, ok := parseLine(buf, 1)
	if !ok {
		if len(buf) > MaxInlineLen {
			return nil, 0, 0, ProtocolError("ERR Protocol error: too big mbulk count string")
		}
		return nil, 0, 0, ErrIncomplete
	}
	if count == errBadInt || count > MaxMultibulkLen {
		return nil, 0, 0, ProtocolError("ERR Protocol error: invalid multibulk length")
	}
	if count <= 0 {
		return r.args[:0], pos, 0, nil
	}
	args = r.args[:0]
	for i := int64(0); i < count; i++ {
		if pos >= len(buf) {
			return nil, 0, 0, ErrIncomplete
		}
		if buf[pos] != '$' {
			return nil, 0, 0, ProtocolError("ERR Protocol error: expected '$', got '" + printable(buf[pos]) + "'")
		}
		size, next, ok := parseLine(buf, pos+1)
		if !ok {
			if len(buf)-pos > MaxInlineLen {
				return nil, 0, 0, ProtocolError("ERR Protocol error: too big bulk count string")
			}
			return nil, 0, 0, ErrIncomplete
		}
		if size < 0 || size > maxBulk {
			return nil, 0, 0, ProtocolError("ERR Protocol error: invalid bulk length")
		}
		end := next + int(size)
		if end+2 > len(buf) {
			return nil, 0, end + 2, ErrIncomplete
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			// Redis trusts the declared length and skips the two bytes that follow; a client
			// whose value is longer than it declared is out of step with the protocol.
			return nil, 0, 0, ProtocolError("ERR Protocol error: invalid bulk format")
		}
		args = append(args, buf[next:end:end])
		pos = end + 2
	}
	r.args = args
	return args, pos, 0, nil
}

// errBadInt marks a length line that is not a number.
const errBadInt = -1 << 62

// parseLine reads a signed decimal terminated by CRLF starting at buf[pos]. ok is false when the
// line is not complete; a complete line that is not a number yields errBadInt.
func parseLine(buf []byte, pos int) (v int64, next int, ok bool) {
	i := bytes.IndexByte(buf[pos:], '\r')
	if i < 0 || pos+i+1 >= len(buf) {
		return 0, 0, false
	}
	line := buf[pos : pos+i]
	next = pos + i + 2
	if buf[pos+i+1] != '\n' {
		return errBadInt, next, true
	}
	v, good := parseInt(line)
	if !good {
		return errBadInt, next, true
	}
	return v, next, true
}

// parseInt parses a decimal int64 with an optional minus sign, rejecting overflow, empty input,
// leading zeros ("05", "-0") and anything else, as Redis's string2ll does.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
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
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

func (r *Reader) parseInline(buf []byte) ([][]byte, int, int, error) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) > MaxInlineLen {
			return nil, 0, 0, ProtocolError("ERR Protocol error: too big inline request")
		}
		return nil, 0, 0, ErrIncomplete
	}
	n := i + 1
	line := buf[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	// sdssplitargs reads a C string: a NUL ends the line (inside quotes, that leaves them
	// unbalanced).
	if z := bytes.IndexByte(line, 0); z >= 0 {
		line = line[:z]
	}
	args, ok := r.splitArgs(line)
	if !ok {
		return nil, 0, 0, ProtocolError("ERR Protocol error: unbalanced quotes in request")
	}
	return args, n, 0, nil
}

// splitArgs splits an inline request as Redis's sdssplitargs does: arguments separated by
// spaces, double quotes with C-like escapes (\n, \xHH, ...), single quotes with only \' escaped.
func (r *Reader) splitArgs(line []byte) ([][]byte, bool) {
	r.inline = r.inline[:0]
	type span struct{ start, end int }
	var spans [8]span
	sp := spans[:0]
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			break
		}
		start := len(r.inline)
		inDQ, inSQ := false, false
		done := false
		for !done {
			if inDQ {
				if p >= len(line) {
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					r.inline = append(r.inline, unhex(line[p+2])<<4|unhex(line[p+3]))
					p += 3
				case c == '\\' && p+1 < len(line):
					p++
					switch line[p] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = line[p]
					}
					r.inline = append(r.inline, c)
				case c == '"':
					// A closing quote must be followed by a space or the end.
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, false
					}
					done = true
				default:
					r.inline = append(r.inline, c)
				}
			} else if inSQ {
				if p >= len(line) {
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					r.inline = append(r.inline, '\'')
				case c == '\'':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, false
					}
					done = true
				default:
					r.inline = append(r.inline, c)
				}
			} else {
				if p >= len(line) {
					break
				}
				switch c := line[p]; c {
				case ' ', '\n', '\r', '\t':
					done = true
				case '"':
					inDQ = true
				case '\'':
					inSQ = true
				default:
					r.inline = append(r.inline, c)
				}
			}
			if p < len(line) {
				p++
			}
		}
		sp = append(sp, span{start, len(r.inline)})
	}
	args := r.args[:0]
	for _, s := range sp {
		args = append(args, r.inline[s.start:s.end:s.end])
	}
	r.args = args
	return args, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// printable is the byte Redis quotes in "expected '$', got '%c'": the byte itself (the writer
// turns CR and LF into spaces, as Redis's error replies do).
func printable(c byte) string { return string([]byte{c}) }
