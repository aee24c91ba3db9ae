package command

import (
	"math"
	"strconv"

	"github.com/cairn-db/cairn/internal/resp"
)

func init() {
	Register(
		&Command{Name: "hset", Run: runHSet},
		&Command{Name: "hmset", Run: runHSet},
		&Command{Name: "hsetnx", Run: runHSetNX},
		&Command{Name: "hget", Run: runHGet},
		&Command{Name: "hmget", Run: runHMGet},
		&Command{Name: "hdel", Run: runHDel},
		&Command{Name: "hlen", Run: runHLen},
		&Command{Name: "hstrlen", Run: runHStrlen},
		&Command{Name: "hexists", Run: runHExists},
		&Command{Name: "hkeys", Run: runHGetAll},
		&Command{Name: "hvals", Run: runHGetAll},
		&Command{Name: "hgetall", Run: runHGetAll},
		&Command{Name: "hincrby", Run: runHIncrBy},
		&Command{Name: "hincrbyfloat", Run: runHIncrByFloat},
	)
}

func runHSet(c *Ctx) {
	if len(c.Args)%2 != 0 {
		c.Err(ErrWrongArgs(c.Cmd.Name))
		return
	}
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	h.NoteSize((len(c.Args) - 2) / 2)
	var created int64
	for i := 2; i < len(c.Args); i += 2 {
		n, err := h.Set(c.Args[i], c.Args[i+1], 0, false)
		if err != nil {
			c.Fail(err)
			return
		}
		created += b2i(n)
	}
	if _, ok := c.save(key, &h); !ok {
		return
	}
	c.Tx.Notify('h', "hset", key)
	if c.Cmd.Name == "hmset" {
		c.W.OK()
		return
	}
	c.W.Int(created)
}

func runHSetNX(c *Ctx) {
	key, field := c.Args[1], c.Args[2]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	_, _, exists, err := h.Get(field)
	if err != nil {
		c.Fail(err)
		return
	}
	if exists {
		c.W.Int(0)
		return
	}
	if _, err := h.Set(field, c.Args[3], 0, false); err != nil {
		c.Fail(err)
		return
	}
	if _, ok := c.save(key, &h); !ok {
		return
	}
	c.Tx.Notify('h', "hset", key)
	c.W.Int(1)
}

func runHGet(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	v, _, found, err := h.Get(c.Args[2])
	switch {
	case err != nil:
		c.Fail(err)
	case !found:
		c.W.Null()
	default:
		c.W.Bulk(v)
	}
}

func runHMGet(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	mark := c.W.Len()
	c.W.Array(len(c.Args) - 2)
	for _, field := range c.Args[2:] {
		v, _, found, err := h.Get(field)
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		if found {
			c.W.Bulk(v)
		} else {
			c.W.Null()
		}
	}
}

func runHDel(c *Ctx) {
	key := c.Args[1]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	var deleted int64
	for _, field := range c.Args[2:] {
		if h.Records() == 0 {
			break
		}
		live, err := h.Del(field)
		if err != nil {
			c.Fail(err)
			return
		}
		deleted += b2i(live)
	}
	if deleted > 0 {
		c.Tx.Notify('h', "hdel", key)
	}
	if _, ok := c.save(key, &h); !ok {
		return
	}
	c.W.Int(deleted)
}

func runHLen(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	n, err := h.Len()
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(n)
}

func runHStrlen(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	v, _, _, err := h.Get(c.Args[2])
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(int64(len(v)))
}

func runHExists(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	_, _, found, err := h.Get(c.Args[2])
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(b2i(found))
}

// runHGetAll serves HGETALL (a map), HKEYS and HVALS (arrays).
func runHGetAll(c *Ctx) {
	h, ok := c.openHash(c.Args[1])
	if !ok {
		return
	}
	keys, vals, kind := true, true, aggMap
	switch c.Cmd.Name {
	case "hkeys":
		vals, kind = false, aggArray
	case "hvals":
		keys, kind = false, aggArray
	}
	n, err := h.Len()
	if err != nil {
		c.Fail(err)
		return
	}
	c.streamCounted(kind, n, func(w *resp.Writer) (int, error) {
		got := 0
		err := h.Each(func(field, value []byte, _ int64) bool {
			if keys {
				w.Bulk(field)
			}
			if vals {
				w.Bulk(value)
			}
			got++
			return true
		})
		return got, err
	})
}

func runHIncrBy(c *Ctx) {
	incr, ok := ParseInt(c.Args[3])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	key, field := c.Args[1], c.Args[2]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	cur, _, found, err := h.Get(field)
	if err != nil {
		c.Fail(err)
		return
	}
	var v int64
	if found {
		if v, ok = ParseInt(cur); !ok {
			c.Err("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		c.Err(ErrOverflow)
		return
	}
	v += incr
	var buf [20]byte
	if _, err := h.Set(field, strconv.AppendInt(buf[:0], v, 10), 0, true); err != nil {
		c.Fail(err)
		return
	}
	if _, ok := c.save(key, &h); !ok {
		return
	}
	c.Tx.Notify('h', "hincrby", key)
	c.W.Int(v)
}

func runHIncrByFloat(c *Ctx) {
	incr := c.Args[3]
	f, ok := parseLongDouble(incr)
	if !ok {
		c.Err(ErrNotFloat)
		return
	}
	if f.IsInf() {
		c.Err("ERR value is NaN or Infinity")
		return
	}
	key, field := c.Args[1], c.Args[2]
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	cur, _, found, err := h.Get(field)
	if err != nil {
		c.Fail(err)
		return
	}
	if !found {
		cur = nil
	}
	value, msg := addLongDouble(cur, incr, "ERR hash value is not a float")
	if msg != "" {
		c.Err(msg)
		return
	}
	if _, err := h.Set(field, value, 0, true); err != nil {
		c.Fail(err)
		return
	}
	if _, ok := c.save(key, &h); !ok {
		return
	}
	c.Tx.Notify('h', "hincrbyfloat", key)
	c.W.Bulk(value)
}
