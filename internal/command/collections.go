package command

import (
	"math/rand/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Helpers shared by the hash and set commands.

// openHash opens the hash at key; a key of another type writes WRONGTYPE and returns ok=false.
func (c *Ctx) openHash(key []byte) (keyspace.Hash, bool) {
	h, err := c.Tx.OpenHash(key)
	if err != nil {
		c.Fail(err)
		return h, false
	}
	if h.WrongType() {
		c.WrongType()
		return h, false
	}
	return h, true
}

// openSet opens the set at key; a key of another type writes WRONGTYPE and returns ok=false.
func (c *Ctx) openSet(key []byte) (keyspace.Set, bool) {
	s, err := c.Tx.OpenSet(key)
	if err != nil {
		c.Fail(err)
		return s, false
	}
	if s.WrongType() {
		c.WrongType()
		return s, false
	}
	return s, true
}

// saver is a collection handle whose changes Save writes.
type saver interface{ Save() (bool, error) }

// save writes a collection's changes; when they emptied it, the key is gone and "del" is
// notified, as Redis does. It writes the error reply on failure.
func (c *Ctx) save(key []byte, s saver) (removed, ok bool) {
	removed, err := s.Save()
	if err != nil {
		c.Fail(err)
		return false, false
	}
	if removed {
		c.Tx.Notify('g', "del", key)
	}
	return removed, true
}

// aggregate is the kind of reply header a streamed collection reply starts with.
type aggregate int

const (
	aggArray aggregate = iota
	aggSet
	aggMap
)

func (a aggregate) header(w *resp.Writer, n int) {
	switch a {
	case aggSet:
		w.Set(n)
	case aggMap:
		w.Map(n)
	default:
		w.Array(n)
	}
}

// streamCounted writes an aggregate of n items that emit writes, without buffering: the header
// first, then the items. n comes from the collection's metadata; should emit write another number
// of items (metadata and records disagreeing, which would be a bug), the reply is rebuilt from
// what emit wrote so the protocol stays intact. emit returns the number of items it wrote.
func (c *Ctx) streamCounted(kind aggregate, n int64, emit func(w *resp.Writer) (int, error)) {
	mark := c.W.Len()
	kind.header(c.W, int(n))
	body := c.W.Len()
	got, err := emit(c.W)
	if err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
		return
	}
	if int64(got) == n {
		return
	}
	items := append([]byte(nil), c.W.Buf[body:]...)
	c.W.Truncate(mark)
	kind.header(c.W, got)
	c.W.Raw(items)
}

// buffered writes an aggregate whose size is known only once its items are written: they go to
// a scratch writer first.
func (c *Ctx) buffered(kind aggregate, emit func(w *resp.Writer) (int, error)) {
	scratch := resp.Writer{Proto: c.W.Proto}
	n, err := emit(&scratch)
	if err != nil {
		c.Fail(err)
		return
	}
	kind.header(c.W, n)
	c.W.Raw(scratch.Buf)
}

// rng is the random source of a command: the deterministic one in apply, a fresh one seeded
// from the runtime's source for reads (which need not agree across replicas).
func (c *Ctx) rng() *rand.Rand {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
}

// parseFieldCount reads the "numfields" of a FIELDS block at args[i] (numkeys-style commands),
// checking it matches the arguments that follow, with Redis's error texts.
func (c *Ctx) parseNumFields(i int, notPositive string) (int, bool) {
	n, ok := ParseInt(c.Args[i])
	if !ok || n < 1 {
		c.Err("ERR " + notPositive)
		return 0, false
	}
	if n != int64(len(c.Args)-i-1) {
		c.Err("ERR The `numfields` parameter must match the number of arguments")
		return 0, false
	}
	return int(n), true
}
