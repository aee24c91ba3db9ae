package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/resp"
)

// SPOP, SRANDMEMBER and HRANDFIELD: random members of a set and fields of a hash (see sample.go
// for how they are drawn).

func init() {
	Register(
		&Command{Name: "spop", Run: runSPop},
		&Command{Name: "srandmember", Run: runSRandMember},
		&Command{Name: "hrandfield", Run: runHRandField},
	)
}

// errReplyTooLarge answers a request whose reply would exceed proto-max-bulk-len (SRANDMEMBER
// with a huge negative count), which Redis would build until the client's output buffer limit
// closed the connection.
const errReplyTooLarge = "ERR reply would exceed proto-max-bulk-len"

// replyTooLarge reports whether the reply written since mark is over the limit.
func (c *Ctx) replyTooLarge(mark int) bool {
	limit := int64(resp.DefaultMaxBulkLen)
	if c.Limits != nil {
		limit = c.Limits.MaxBulkLen()
	}
	return int64(c.W.Len()-mark) > limit
}

// parseRandCount reads the count of SRANDMEMBER and HRANDFIELD: any integer but LONG_MIN.
func (c *Ctx) parseRandCount(arg []byte) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Err(ErrNotInt)
		return 0, false
	}
	if n == math.MinInt64 {
		c.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return 0, false
	}
	return n, true
}

func runSPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.Syntax()
		return
	}
	key := c.Args[1]
	withCount := len(c.Args) == 3
	var count int64
	if withCount {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Err(ErrPositive)
			return
		}
		count = n
	}
	s, ok := c.openSet(key)
	if !ok {
		return
	}
	if !s.Exists() || (withCount && count == 0) {
		if withCount {
			c.W.Set(0)
		} else {
			c.W.Null()
		}
		return
	}
	smp := c.setSampler(&s, key)
	defer smp.close()
	var picked []sample
	var err error
	switch {
	case !withCount:
		var one sample
		var found bool
		if one, found, err = smp.one(); found {
			picked = []sample{one}
		}
	case count >= s.Len():
		picked, err = smp.all()
	default:
		picked, err = smp.distinct(count, s.Len())
	}
	if err == nil {
		err = smp.close()
	}
	for i := 0; err == nil && i < len(picked); i++ {
		_, err = s.Rem(picked[i].elem)
	}
	if err != nil {
		c.Fail(err)
		return
	}
	c.Tx.Notify('s', "spop", key)
	if _, ok := c.save(key, &s); !ok {
		return
	}
	if !withCount {
		c.W.Bulk(picked[0].elem)
		return
	}
	c.W.Set(len(picked))
	for _, p := range picked {
		c.W.Bulk(p.elem)
	}
}

func runSRandMember(c *Ctx) {
	if len(c.Args) > 3 {
		c.Syntax()
		return
	}
	key := c.Args[1]
	withCount := len(c.Args) == 3
	var count int64
	if withCount {
		n, ok := c.parseRandCount(c.Args[2])
		if !ok {
			return
		}
		count = n
	}
	s, ok := c.openSet(key)
	if !ok {
		return
	}
	if !s.Exists() || (withCount && count == 0) {
		c.emptyRandReply(withCount)
		return
	}
	smp := c.setSampler(&s, key)
	defer smp.close()
	c.randReply(smp, withCount, count, s.Len(), false)
}

// emptyRandReply answers a random-member command on a missing or empty collection, or with
// COUNT 0.
func (c *Ctx) emptyRandReply(withCount bool) {
	if withCount {
		c.W.Array(0)
	} else {
		c.W.Null()
	}
}

// randReply answers a random-member command on a collection of n live elements: without a
// count, one element or nil; with a count, distinct elements for a positive count (at most n),
// count draws with repetition for a negative one. withValues pairs each element with its
// value: flat in RESP2, as two-element arrays in RESP3.
func (c *Ctx) randReply(smp *sampler, withCount bool, count, n int64, withValues bool) {
	if !withCount {
		one, found, err := smp.one()
		switch {
		case err != nil:
			c.Fail(err)
		case !found:
			c.W.Null()
		default:
			c.W.Bulk(one.elem)
		}
		return
	}
	mark := c.W.Len()
	emit := func(p sample) {
		if withValues && c.W.RESP3() {
			c.W.Array(2)
		}
		c.W.Bulk(p.elem)
		if withValues {
			c.W.Bulk(p.value)
		}
	}
	header := func(k int64) {
		if withValues && !c.W.RESP3() {
			k *= 2
		}
		c.W.Array(int(k))
	}
	if count < 0 {
		k := -count
		header(k)
		written := int64(0)
		tooLarge := false
		err := smp.repeated(k, func(p sample) bool {
			emit(p)
			written++
			if written%1024 == 0 && c.replyTooLarge(mark) {
				tooLarge = true
				return false
			}
			return true
		})
		switch {
		case err != nil:
			c.W.Truncate(mark)
			c.Fail(err)
		case tooLarge:
			c.W.Truncate(mark)
			c.Err(errReplyTooLarge)
		case written != k: // nothing live to draw from
			c.W.Truncate(mark)
			header(0)
		}
		return
	}
	var picked []sample
	var err error
	if count >= n {
		picked, err = smp.all()
	} else {
		picked, err = smp.distinct(count, n)
	}
	if err != nil {
		c.Fail(err)
		return
	}
	header(int64(len(picked)))
	for _, p := range picked {
		emit(p)
	}
}

func runHRandField(c *Ctx) {
	key := c.Args[1]
	withCount := len(c.Args) >= 3
	var count int64
	withValues := false
	if withCount {
		n, ok := c.parseRandCount(c.Args[2])
		if !ok {
			return
		}
		count = n
		if len(c.Args) > 4 || (len(c.Args) == 4 && !EqualFold(c.Args[3], "withvalues")) {
			c.Syntax()
			return
		}
		if len(c.Args) == 4 {
			withValues = true
			if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
				c.Err("ERR value is out of range")
				return
			}
		}
	}
	h, ok := c.openHash(key)
	if !ok {
		return
	}
	live, err := h.Len()
	if err != nil {
		c.Fail(err)
		return
	}
	if live == 0 || (withCount && count == 0) {
		c.emptyRandReply(withCount)
		return
	}
	smp := c.hashSampler(&h, key)
	defer smp.close()
	c.randReply(smp, withCount, count, live, withValues)
}
