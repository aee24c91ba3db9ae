package resp

import (
	"bytes"
	"strconv"
)

// Reading replies, for a node that merges the replies of others (a proxy splitting MGET over
// shards): how long the first value of a reply is, and the elements of an array reply.

// ValueLen returns the length of the first complete RESP2 or RESP3 value in b, of any type
// (aggregates whole), and false if b does not start with one.
func ValueLen(b []byte) (int, bool) {
	if len(b) < 3 {
		return 0, false
	}
	line := bytes.Index(b, []byte("\r\n"))
	if line < 1 {
		return 0, false
	}
	head := line + 2
	switch b[0] {
	case '+', '-', ':', ',', '#', '_', '(':
		return head, true
	case '$', '=', '!':
		n, err := strconv.Atoi(string(b[1:line]))
		if err != nil {
			return 0, false
		}
		if n < 0 {
			return head, true // a RESP2 null
		}
		if len(b) < head+n+2 {
			return 0, false
		}
		return head + n + 2, true
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(b[1:line]))
		if err != nil {
			return 0, false
		}
		if n < 0 {
			return head, true // a RESP2 null array
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		off := head
		for i := 0; i < n; i++ {
			l, ok := ValueLen(b[off:])
			if !ok {
				return 0, false
			}
			off += l
		}
		return off, true
	}
	return 0, false
}

// ArrayElems returns the elements of an array reply (each a whole value, aliasing b), and
// false if b is not one (an error reply, say).
func ArrayElems(b []byte) ([][]byte, bool) {
	if len(b) < 4 || b[0] != '*' {
		return nil, false
	}
	line := bytes.Index(b, []byte("\r\n"))
	n, err := strconv.Atoi(string(b[1:line]))
	if err != nil || n < 0 {
		return nil, false
	}
	out := make([][]byte, 0, n)
	off := line + 2
	for i := 0; i < n; i++ {
		l, ok := ValueLen(b[off:])
		if !ok {
			return nil, false
		}
		out = append(out, b[off:off+l])
		off += l
	}
	return out, true
}
