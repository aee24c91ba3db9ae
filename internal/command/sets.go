package command

import (
	"github.com/cairn-db/cairn/internal/resp"
)

func init() {
	Register(
		&Command{Name: "sadd", Run: runSAdd},
		&Command{Name: "srem", Run: runSRem},
		&Command{Name: "scard", Run: runSCard},
		&Command{Name: "sismember", Run: runSIsMember},
		&Command{Name: "smismember", Run: runSMIsMember},
		&Command{Name: "smembers", Run: runSMembers},
		&Command{Name: "smove", Run: runSMove},
	)
}

func runSAdd(c *Ctx) {
	key := c.Args[1]
	s, ok := c.openSet(key)
	if !ok {
		return
	}
	s.NoteSize(len(c.Args)-2, c.Args[2])
	var added int64
	for _, m := range c.Args[2:] {
		n, err := s.Add(m)
		if err != nil {
			c.Fail(err)
			return
		}
		added += b2i(n)
	}
	if added > 0 {
		if _, ok := c.save(key, &s); !ok {
			return
		}
		c.Tx.Notify('s', "sadd", key)
	}
	c.W.Int(added)
}

func runSRem(c *Ctx) {
	key := c.Args[1]
	s, ok := c.openSet(key)
	if !ok {
		return
	}
	var removed int64
	for _, m := range c.Args[2:] {
		if s.Len() == 0 {
			break
		}
		n, err := s.Rem(m)
		if err != nil {
			c.Fail(err)
			return
		}
		removed += b2i(n)
	}
	if removed > 0 {
		c.Tx.Notify('s', "srem", key)
		if _, ok := c.save(key, &s); !ok {
			return
		}
	}
	c.W.Int(removed)
}

func runSCard(c *Ctx) {
	s, ok := c.openSet(c.Args[1])
	if !ok {
		return
	}
	c.W.Int(s.Len())
}

func runSIsMember(c *Ctx) {
	s, ok := c.openSet(c.Args[1])
	if !ok {
		return
	}
	found, err := s.Has(c.Args[2])
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Int(b2i(found))
}

func runSMIsMember(c *Ctx) {
	s, ok := c.openSet(c.Args[1])
	if !ok {
		return
	}
	mark := c.W.Len()
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		found, err := s.Has(m)
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		c.W.Int(b2i(found))
	}
}

func runSMembers(c *Ctx) {
	s, ok := c.openSet(c.Args[1])
	if !ok {
		return
	}
	c.streamCounted(aggSet, s.Len(), func(w *resp.Writer) (int, error) {
		n := 0
		err := s.Each(func(m []byte) bool {
			w.Bulk(m)
			n++
			return true
		})
		return n, err
	})
}

func runSMove(c *Ctx) {
	srcKey, dstKey, member := c.Args[1], c.Args[2], c.Args[3]
	src, err := c.Tx.OpenSet(srcKey)
	if err != nil {
		c.Fail(err)
		return
	}
	if !src.Exists() && !src.WrongType() {
		c.W.Int(0)
		return
	}
	dst, err := c.Tx.OpenSet(dstKey)
	if err != nil {
		c.Fail(err)
		return
	}
	if src.WrongType() || dst.WrongType() {
		c.WrongType()
		return
	}
	if string(srcKey) == string(dstKey) {
		found, err := src.Has(member)
		if err != nil {
			c.Fail(err)
			return
		}
		c.W.Int(b2i(found))
		return
	}
	removed, err := src.Rem(member)
	if err != nil {
		c.Fail(err)
		return
	}
	if !removed {
		c.W.Int(0)
		return
	}
	c.Tx.Notify('s', "srem", srcKey)
	if _, ok := c.save(srcKey, &src); !ok {
		return
	}
	if !dst.Exists() {
		dst.NoteSize(1, member)
	}
	added, err := dst.Add(member)
	if err != nil {
		c.Fail(err)
		return
	}
	if added {
		if _, ok := c.save(dstKey, &dst); !ok {
			return
		}
		c.Tx.Notify('s', "sadd", dstKey)
	}
	c.W.Int(1)
}
