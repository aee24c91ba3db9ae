package command

import (
	"errors"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/rdb"
)

// DUMP and RESTORE carry a value in Redis's RDB serialization (package rdb), so a value
// dumped from Redis restores here and one dumped here restores in Redis 7.0 and later.
// RESTORE is a write like any other: it is decoded and built in apply, from the operation's
// arguments and time alone.

func init() {
	Register(
		&Command{Name: "dump", Run: runDump},
		&Command{Name: "restore", Run: runRestore},
	)
}

const (
	errDumpStream      = "ERR DUMP of a stream is not supported by cairn"
	errDumpFieldExpiry = "ERR DUMP of a hash with field expiries is not supported by cairn"
	errRestoreType     = "ERR RESTORE of streams, module values and hashes with field expiries is not supported by cairn"
)

func runDump(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	v, msg, err := c.dumpValue(key, &e)
	if err != nil {
		c.Fail(err)
		return
	}
	if msg != "" {
		c.Err(msg)
		return
	}
	c.W.Bulk(rdb.Encode(v))
}

// dumpValue reads the whole value at key; msg is the error reply for a value DUMP cannot
// carry.
func (c *Ctx) dumpValue(key []byte, e *keyspace.Entry) (v *rdb.Value, msg string, err error) {
	v = &rdb.Value{}
	switch e.Type {
	case keyspace.TypeString:
		if err = c.Tx.LoadValue(e); err != nil {
			return nil, "", err
		}
		v.Kind, v.Str = rdb.String, e.Value
	case keyspace.TypeList:
		v.Kind = rdb.List
		v.Elems, err = c.Tx.ListValues(e)
	case keyspace.TypeSet:
		v.Kind = rdb.Set
		s, err := c.Tx.OpenSet(key)
		if err != nil {
			return nil, "", err
		}
		err = s.Each(func(m []byte) bool {
			v.Elems = append(v.Elems, append([]byte(nil), m...))
			return true
		})
		if err != nil {
			return nil, "", err
		}
	case keyspace.TypeHash:
		v.Kind = rdb.Hash
		h, err := c.Tx.OpenHash(key)
		if err != nil {
			return nil, "", err
		}
		volatile := false
		err = h.Each(func(field, value []byte, at int64) bool {
			if at != 0 {
				volatile = true
				return false
			}
			v.Elems = append(v.Elems, append([]byte(nil), field...), append([]byte(nil), value...))
			return true
		})
		if err != nil {
			return nil, "", err
		}
		if volatile {
			return nil, errDumpFieldExpiry, nil
		}
	case keyspace.TypeZSet:
		v.Kind = rdb.ZSet
		if e.Count > 0 {
			err = c.Tx.ZRankRange(e, 0, e.Count-1, false, func(m []byte, score float64) bool {
				v.Members = append(v.Members, append([]byte(nil), m...))
				v.Scores = append(v.Scores, score)
				return true
			})
		}
	case keyspace.TypeStream:
		return nil, errDumpStream, nil
	}
	return v, "", err
}

func runRestore(c *Ctx) {
	key := c.Args[1]
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		switch a := c.Args[j]; {
		case EqualFold(a, "replace"):
			replace = true
		case EqualFold(a, "absttl"):
			absTTL = true
		case EqualFold(a, "idletime") && more && freq == -1:
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			if n < 0 {
				c.Err("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			j++
		case EqualFold(a, "freq") && more && idle == -1:
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			if n < 0 || n > 255 {
				c.Err("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			j++
		default:
			c.Syntax()
			return
		}
	}
	e, ok := c.lookup(key)
	if !ok {
		return
	}
	if !replace && e.Exists() {
		c.Err("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := ParseInt(c.Args[2])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	if ttl < 0 {
		c.Err("ERR Invalid TTL value, must be >= 0")
		return
	}
	v, err := rdb.Decode(c.Args[3])
	switch {
	case errors.Is(err, rdb.ErrChecksum):
		c.Err("ERR DUMP payload version or checksum are wrong")
		return
	case errors.Is(err, rdb.ErrUnsupported):
		c.Err(errRestoreType)
		return
	case err != nil:
		c.Err("ERR Bad data format")
		return
	}
	deleted := false
	if replace && e.Exists() {
		if deleted, err = c.Tx.Delete(key, &e); err != nil {
			c.Fail(err)
			return
		}
	}
	if ttl != 0 && !absTTL {
		ttl += c.Now
	}
	if ttl != 0 && ttl <= c.Now {
		// Already expired: the key is gone, as Redis leaves it.
		if deleted {
			c.Tx.Notify('g', "del", key)
		}
		c.W.OK()
		return
	}
	if !c.restoreValue(key, v, ttl) {
		return
	}
	c.noteAccess(key, idle, freq)
	c.Tx.Notify('g', "restore", key)
	c.W.OK()
}

// restoreValue writes v at key (which holds nothing now) with expiry at (0 for none). It
// writes the error reply and returns false on failure.
func (c *Ctx) restoreValue(key []byte, v *rdb.Value, at int64) bool {
	switch v.Kind {
	case rdb.String:
		var e keyspace.Entry
		setString(&e, v.Str, at, false)
		return c.put(key, &e)
	case rdb.List:
		if _, err := c.Tx.StoreList(key, v.Elems); err != nil {
			c.Fail(err)
			return false
		}
	case rdb.Set:
		s, err := c.Tx.ReplaceSet(key)
		if err != nil {
			c.Fail(err)
			return false
		}
		s.NoteSize(len(v.Elems), v.Elems[0])
		for _, m := range v.Elems {
			if _, err := s.Add(m); err != nil {
				c.Fail(err)
				return false
			}
		}
		if _, ok := c.save(key, &s); !ok {
			return false
		}
	case rdb.Hash:
		h, ok := c.openHash(key)
		if !ok {
			return false
		}
		h.NoteSize(len(v.Elems) / 2)
		for i := 0; i < len(v.Elems); i += 2 {
			if _, err := h.Set(v.Elems[i], v.Elems[i+1], 0, false); err != nil {
				c.Fail(err)
				return false
			}
		}
		if _, ok := c.save(key, &h); !ok {
			return false
		}
	case rdb.ZSet:
		e, ok := c.lookup(key)
		if !ok {
			return false
		}
		c.newZSet(key, &e)
		longest := 0
		for i, m := range v.Members {
			old, had, err := c.Tx.ZScore(&e, m)
			if err == nil {
				err = c.Tx.ZPut(&e, m, v.Scores[i], old, had)
			}
			if err != nil {
				c.Fail(err)
				return false
			}
			longest = max(longest, len(m))
		}
		if c.zsetOverListpack(e.Count, longest) {
			zsetMarkSkiplist(&e)
		}
		e.ExpireAt = at
		return c.put(key, &e)
	}
	if at == 0 {
		return true
	}
	e, ok := c.lookup(key)
	if !ok {
		return false
	}
	e.ExpireAt = at
	return c.put(key, &e)
}
