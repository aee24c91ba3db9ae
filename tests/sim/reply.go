package sim

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/cairn-db/cairn/tests/check"
)

var errBadReply = errors.New("sim: malformed reply")

// parseReply decodes a RESP2 reply as the model's output.
func parseReply(b []byte) (check.Output, error) {
	out, rest, err := parseOne(b)
	if err == nil && len(rest) != 0 {
		err = errBadReply
	}
	return out, err
}

func parseOne(b []byte) (check.Output, []byte, error) {
	end := bytes.Index(b, []byte("\r\n"))
	if len(b) == 0 || end < 0 {
		return check.Output{}, nil, errBadReply
	}
	line, rest := string(b[1:end]), b[end+2:]
	switch b[0] {
	case '+':
		return check.Output{Str: line}, rest, nil
	case '-':
		return check.Output{Err: line}, rest, nil
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		return check.Output{Int: n, IsInt: true}, rest, err
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil {
			return check.Output{}, nil, err
		}
		if n < 0 {
			return check.Output{Nil: true}, rest, nil
		}
		if len(rest) < n+2 {
			return check.Output{}, nil, errBadReply
		}
		return check.Output{Str: string(rest[:n])}, rest[n+2:], nil
	case '*':
		n, err := strconv.Atoi(line)
		if err != nil {
			return check.Output{}, nil, err
		}
		if n < 0 {
			return check.Output{Nil: true}, rest, nil
		}
		out := check.Output{Multi: []check.Output{}}
		for range n {
			var o check.Output
			if o, rest, err = parseOne(rest); err != nil {
				return check.Output{}, nil, err
			}
			out.Multi = append(out.Multi, o)
		}
		return out, rest, nil
	}
	return check.Output{}, nil, errBadReply
}
