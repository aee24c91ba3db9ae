package command

import (
	"errors"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Strings stored in chunks (keyspace/chunks.go) come without their value: these read it.

// loadValue fills a chunked string's value, writing the error reply and returning false on
// failure. Commands that need the whole value as one slice call it; GET and the like stream.
func (c *Ctx) loadValue(e *keyspace.Entry) bool {
	if err := c.Tx.LoadValue(e); err != nil {
		c.Fail(err)
		return false
	}
	return true
}

// writeString writes the string e's value as a bulk reply. A chunked value goes into the reply
// a chunk at a time, never whole in a buffer of its own. On an error nothing is written (a
// point reader that gets keyspace.ErrValueChanged may read the key again).
func (c *Ctx) writeString(e *keyspace.Entry) error {
	return c.writeStringRange(e, 0, e.StrLen())
}

// writeStringRange writes bytes [from, to) of the string e as a bulk reply.
func (c *Ctx) writeStringRange(e *keyspace.Entry, from, to int64) error {
	if !e.Chunked || e.Value != nil {
		c.W.Bulk(e.Value[from:to])
		return nil
	}
	mark := c.W.Len()
	c.W.BulkHeader(to - from)
	err := c.Tx.ReadChunks(&e.Meta, from, to, func(b []byte) error {
		c.W.Raw(b)
		return nil
	})
	if err != nil {
		c.W.Truncate(mark)
		return err
	}
	c.W.BulkEnd()
	return nil
}

// pointRetries bounds how often a point read reads a key again when a write replaced its
// chunked value between the metadata and the chunks.
const pointRetries = 8

// retryChanged runs read until it does not fail with keyspace.ErrValueChanged (at most
// pointRetries times), then writes the error reply of its error if any.
func (c *Ctx) retryChanged(read func() error) {
	var err error
	for range pointRetries {
		if err = read(); !errors.Is(err, keyspace.ErrValueChanged) {
			break
		}
	}
	if err != nil {
		c.Fail(err)
	}
}

// peekLoaded is Tx.Peek with a chunked string's value loaded, read again if a write replaced
// it meanwhile. For point reads that need the value in one slice (GETBIT, BITCOUNT, DIGEST).
func (c *Ctx) peekLoaded(key []byte) (*keyspace.Entry, error) {
	for i := 0; ; i++ {
		e, err := c.Tx.Peek(key)
		if err == nil {
			err = c.Tx.LoadValue(e)
		}
		if errors.Is(err, keyspace.ErrValueChanged) && i < pointRetries {
			continue
		}
		return e, err
	}
}

// lookupStringLoaded is lookupString with a chunked string's value loaded, for writes that
// change a value in place (SETBIT, BITFIELD).
func (c *Ctx) lookupStringLoaded(key []byte) (keyspace.Entry, bool) {
	e, ok := c.lookupString(key)
	return e, ok && c.loadValue(&e)
}
