package command

import (
	"math"
	"math/bits"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Stream IDs as commands take and reply them.

const errInvalidStreamID = "ERR Invalid stream ID specified as stream command argument"

// idSpec says how to read an ID argument, as Redis's streamGenericParseIDOrReply: strict refuses
// the "-" and "+" shorthands, missingSeq fills in a sequence that is not given, seqStar accepts
// "ms-*" (XADD).
type idSpec struct {
	strict     bool
	missingSeq uint64
	seqStar    bool
}

// parseStreamID parses an ID; seqGiven is false for "ms-*".
func parseStreamID(b []byte, spec idSpec) (id keyspace.StreamID, seqGiven, ok bool) {
	if len(b) > 127 {
		return id, false, false
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if spec.strict {
			return id, false, false
		}
		if b[0] == '+' {
			return keyspace.MaxStreamID, true, true
		}
		return id, true, true
	}
	msPart, seqPart, dash := b, []byte(nil), false
	for i, ch := range b {
		if ch == '-' {
			msPart, seqPart, dash = b[:i], b[i+1:], true
			break
		}
	}
	ms, ok := string2ull(msPart)
	if !ok {
		return id, false, false
	}
	id.Ms, id.Seq, seqGiven = ms, spec.missingSeq, true
	if dash {
		if spec.seqStar && len(seqPart) == 1 && seqPart[0] == '*' {
			id.Seq, seqGiven = 0, false
		} else if id.Seq, ok = string2ull(seqPart); !ok {
			return id, false, false
		}
	}
	return id, seqGiven, true
}

// string2ull reads an unsigned 64-bit integer as Redis's string2ull: a canonical signed integer
// if it is one (negative ones refused), otherwise what C's strtoull accepts of the whole text —
// leading white space, a sign (a minus wraps around, as strtoull does) and decimal digits.
func string2ull(b []byte) (uint64, bool) {
	if n, ok := ParseInt(b); ok {
		return uint64(n), n >= 0
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		hi, lo := bits.Mul64(v, 10)
		if hi != 0 || lo > math.MaxUint64-uint64(d) {
			return 0, false // ERANGE
		}
		v = lo + uint64(d)
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseID parses a strict ID argument (no "-"/"+"), the sequence defaulting to 0, writing the
// error reply on failure.
func (c *Ctx) parseID(b []byte) (keyspace.StreamID, bool) {
	id, _, ok := parseStreamID(b, idSpec{strict: true})
	if !ok {
		c.Err(errInvalidStreamID)
	}
	return id, ok
}

// parseRangeStart and parseRangeEnd parse the bounds of an interval as Redis's
// streamParseIntervalIDOrReply: "(" makes a bound exclusive, and a missing sequence is the
// smallest for a start and the largest for an end.
func (c *Ctx) parseRangeStart(b []byte) (keyspace.StreamID, bool) {
	id, ex, ok := c.parseInterval(b, 0)
	if ok && ex {
		if id, ok = id.Next(); !ok {
			c.Err("ERR invalid start ID for the interval")
		}
	}
	return id, ok
}

func (c *Ctx) parseRangeEnd(b []byte) (keyspace.StreamID, bool) {
	id, ex, ok := c.parseInterval(b, math.MaxUint64)
	if ok && ex {
		if id, ok = id.Prev(); !ok {
			c.Err("ERR invalid end ID for the interval")
		}
	}
	return id, ok
}

func (c *Ctx) parseInterval(b []byte, missingSeq uint64) (id keyspace.StreamID, exclusive, ok bool) {
	if len(b) > 1 && b[0] == '(' {
		id, _, ok = parseStreamID(b[1:], idSpec{strict: true, missingSeq: missingSeq})
		exclusive = true
	} else {
		id, _, ok = parseStreamID(b, idSpec{missingSeq: missingSeq})
	}
	if !ok {
		c.Err(errInvalidStreamID)
	}
	return id, exclusive, ok
}

// writeID replies an ID as a bulk string.
func writeID(w *resp.Writer, id keyspace.StreamID) {
	var buf [41]byte
	w.Bulk(id.AppendText(buf[:0]))
}

// writeEntry replies an entry: [id, [field, value, ...]], or [id, nil] for a value of nil (a
// pending entry that was deleted).
func writeEntry(w *resp.Writer, id keyspace.StreamID, value []byte) error {
	w.Array(2)
	writeID(w, id)
	if value == nil {
		w.NullArray()
		return nil
	}
	w.Array(2 * keyspace.StreamFieldCount(value))
	_, err := keyspace.StreamFields(value, w.Bulk)
	return err
}
