package command

import (
	"strings"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// KEYRANGE start end [LIMIT count] [REV] [WITHVALUES] [TYPE type]: the live keys of the database
// between two bounds in byte order, which the ordered store can give and Redis cannot.
//
// A bound is a key, included; "(" before it excludes it; "[" before it includes it explicitly
// (so "[(" names the key "("); "-" and "+" are the ends of the keyspace. With REV the keys come
// from end to start and start is the upper bound, as ZRANGE BYLEX REV has it. A page ends at
// LIMIT keys; the next page starts at "(" and the last key returned. WITHVALUES adds each
// string's value (a null for a key of another type): a flat array in RESP2, pairs in RESP3.
//
// Both bounds are the command's keys, so in a cluster a range within one hash tag
// ({user:42}:a to {user:42}:z) runs on the one shard holding that tag, and a range whose bounds
// hash to different slots is refused with CROSSSLOT.

func init() {
	Register(&Command{Name: "keyrange", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 2, Step: 1,
		Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "cairn-0.1",
		Summary:  "Returns the keys between two bounds in byte order.",
		KeySpecs: []KeySpec{{Flags: []string{"RO", "ACCESS"}, BeginIndex: 1, Range: true, LastKey: 1, KeyStep: 1}},
		Args: []Arg{{Name: "start", Type: "key", KeySpecIndex: 0}, {Name: "end", Type: "key", KeySpecIndex: 0},
			{Name: "count", Type: "integer", Token: "LIMIT", Optional: true, KeySpecIndex: -1},
			{Name: "rev", Type: "pure-token", Token: "REV", Optional: true, KeySpecIndex: -1},
			{Name: "withvalues", Type: "pure-token", Token: "WITHVALUES", Optional: true, KeySpecIndex: -1},
			{Name: "type", Type: "string", Token: "TYPE", Optional: true, KeySpecIndex: -1}},
		Run: runKeyRange})
}

// parseRangeBound reads one KEYRANGE bound; lower says which end "-" and "+" may stand for.
func parseRangeBound(b []byte) keyspace.RangeBound {
	switch {
	case len(b) == 1 && (b[0] == '-' || b[0] == '+'):
		return keyspace.RangeBound{Open: true}
	case len(b) > 0 && b[0] == '(':
		return keyspace.RangeBound{Key: b[1:], Exclusive: true}
	case len(b) > 0 && b[0] == '[':
		return keyspace.RangeBound{Key: b[1:]}
	}
	return keyspace.RangeBound{Key: b}
}

func runKeyRange(c *Ctx) {
	limit := int64(-1)
	rev, withValues, anyType := false, false, true
	var typ keyspace.Type
	for i := 3; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case EqualFold(a, "limit") && i+1 < len(c.Args):
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			limit = n
			i++
		case EqualFold(a, "rev"):
			rev = true
		case EqualFold(a, "withvalues"):
			withValues = true
		case EqualFold(a, "type") && i+1 < len(c.Args):
			t, ok := keyspace.ParseType(strings.ToLower(string(c.Args[i+1])))
			if !ok {
				c.Err("ERR unknown type name '" + string(c.Args[i+1]) + "'")
				return
			}
			typ, anyType = t, false
			i++
		default:
			c.Syntax()
			return
		}
	}
	startArg, endArg := c.Args[1], c.Args[2]
	lo, hi := parseRangeBound(startArg), parseRangeBound(endArg)
	if rev {
		lo, hi = hi, lo
	}
	// "+" as the lower bound or "-" as the upper one leaves nothing, as in ZRANGEBYLEX.
	loArg, hiArg := startArg, endArg
	if rev {
		loArg, hiArg = endArg, startArg
	}
	empty := string(loArg) == "+" || string(hiArg) == "-" || limit == 0
	pairs := withValues && c.W.RESP3()
	c.buffered(aggArray, func(w *resp.Writer) (int, error) {
		if empty {
			return 0, nil
		}
		n := 0
		var werr error
		err := c.Tx.KeyRange(lo, hi, rev, func(k *keyspace.RangeKey) bool {
			if !anyType && k.Meta.Type != typ {
				return true
			}
			switch {
			case pairs:
				w.Array(2)
				w.Bulk(k.Key)
				werr = writeRangeValue(c.Tx, w, k)
				n++
			case withValues:
				w.Bulk(k.Key)
				werr = writeRangeValue(c.Tx, w, k)
				n += 2
			default:
				w.Bulk(k.Key)
				n++
			}
			limit--
			return limit != 0 && werr == nil
		})
		if err == nil {
			err = werr
		}
		return n, err
	})
}

func writeRangeValue(tx *keyspace.Tx, w *resp.Writer, k *keyspace.RangeKey) error {
	if k.Meta.Type != keyspace.TypeString {
		w.Null()
		return nil
	}
	if !k.Meta.Chunked {
		w.Bulk(k.Meta.Value)
		return nil
	}
	w.BulkHeader(k.Meta.Count)
	err := tx.ReadChunks(&k.Meta, 0, k.Meta.Count, func(b []byte) error {
		w.Raw(b)
		return nil
	})
	w.BulkEnd()
	return err
}
