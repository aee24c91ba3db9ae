package command

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// ZRANDMEMBER. A set of up to zrandWhole members is read whole and sampled uniformly, as Redis
// samples a listpack. A larger one is not loaded: each pick seeks to a random key between its
// first and last members in member order and takes the member found there. That costs one seek
// per pick, but it is not uniform: a member after a wide gap in the key space is picked more
// often than one in a dense run. Distinct samples of more than a third of a large set are drawn
// in one pass over it instead (selection sampling, uniform).

func init() {
	Register(&Command{Name: "zrandmember", Run: runZRandMember})
}

const (
	zrandWhole = 1024
	// zrandSubStrategy is Redis's ZRANDMEMBER_SUB_STRATEGY_MUL: a distinct sample of more than
	// 1/3 of the set is drawn by a pass over it rather than by random picks.
	zrandSubStrategy = 3
)

// zrandSource returns the command's random source: the log-seeded one in apply, a fresh one for a
// read (reads need not be reproduced).
func zrandSource(c *Ctx) *rand.Rand {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
}

func runZRandMember(c *Ctx) {
	if len(c.Args) == 2 {
		c.zrandOne()
		return
	}
	l, ok := ParseInt(c.Args[2])
	if !ok {
		c.Err(ErrNotInt)
		return
	}
	if l == math.MinInt64 {
		c.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	if len(c.Args) > 4 || (len(c.Args) == 4 && !EqualFold(c.Args[3], "withscores")) {
		c.Syntax()
		return
	}
	withScores := len(c.Args) == 4
	if withScores && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		c.Err("ERR value is out of range")
		return
	}
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() || l == 0 {
		c.W.Array(0)
		return
	}
	s, err := newZSampler(c, &e)
	if err != nil {
		c.Fail(err)
		return
	}
	defer s.close()
	mark := c.W.Len()
	if err := s.reply(l, withScores); err != nil {
		c.W.Truncate(mark)
		if err == errZRandTooBig {
			c.Err("ERR reply of ZRANDMEMBER would exceed proto-max-bulk-len")
			return
		}
		c.Fail(err)
	}
}

func (c *Ctx) zrandOne() {
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Null()
		return
	}
	s, err := newZSampler(c, &e)
	if err == nil {
		var z zentry
		if z, err = s.pick(); err == nil {
			c.W.Bulk(z.member)
		}
		s.close()
	}
	if err != nil {
		c.Fail(err)
	}
}

// zsampler draws members of one sorted set.
type zsampler struct {
	c   *Ctx
	e   *keyspace.Entry
	rng *rand.Rand
	all []zentry // the whole set, in score order, when small

	it     *keyspace.ElemIter // member order, when large
	lo, hi []byte             // first and last members
	key    []byte
}

func newZSampler(c *Ctx, e *keyspace.Entry) (*zsampler, error) {
	s := &zsampler{c: c, e: e, rng: zrandSource(c)}
	if e.Count <= zrandWhole {
		err := s.c.Tx.ZScoreRange(e, &keyspace.ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, false,
			func(m []byte, sc float64) bool {
				s.all = append(s.all, zentry{append([]byte(nil), m...), sc})
				return true
			})
		return s, err
	}
	it, err := c.Tx.Elems(c.Args[1], e.Version)
	if err != nil {
		return nil, err
	}
	s.it = it
	if !it.First() {
		return s, errCorruptZSet(nil)
	}
	s.lo = append([]byte(nil), it.Elem()...)
	it.Last()
	s.hi = append([]byte(nil), it.Elem()...)
	return s, nil
}

func (s *zsampler) close() {
	if s.it != nil {
		s.it.Close()
	}
}

// pick returns one member chosen at random: uniformly from a small set, by a seek to a random
// key of the member space of a large one.
func (s *zsampler) pick() (zentry, error) {
	if s.it == nil {
		return s.all[s.rng.IntN(len(s.all))], nil
	}
	p := 0
	for p < len(s.lo) && s.lo[p] == s.hi[p] {
		p++
	}
	// hi > lo and hi is not a prefix of lo, so hi[p] exists; lo[p] may not.
	first := 0
	if p < len(s.lo) {
		first = int(s.lo[p])
	}
	s.key = append(s.key[:0], s.hi[:p]...)
	s.key = append(s.key, byte(first+s.rng.IntN(int(s.hi[p])-first+1)))
	for i := 0; i < 7; i++ {
		s.key = append(s.key, byte(s.rng.Uint32()))
	}
	if !s.it.SeekGE(s.key) && !s.it.First() {
		return zentry{}, errCorruptZSet(nil)
	}
	v, err := s.it.Value()
	if err != nil || len(v) != 8 {
		return zentry{}, errCorruptZSet(err)
	}
	return zentry{append([]byte(nil), s.it.Elem()...), keyspace.DecodeScore(v)}, nil
}

// errZRandTooBig stops a reply that would outgrow proto-max-bulk-len: Redis would stream it,
// cairn builds replies in memory.
var errZRandTooBig = errors.New("zrandmember reply too big")

// reply writes ZRANDMEMBER's reply for count l (negative: with repetitions).
func (s *zsampler) reply(l int64, withScores bool) error {
	c, n := s.c, s.e.Count
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		// Each entry takes at least 7 bytes ("$1\r\nm\r\n").
		if c.Limits != nil && count > c.Limits.MaxBulkLen()/7 {
			return errZRandTooBig
		}
		mark := c.W.Len()
		c.zreplyHeader(int(count), withScores)
		for i := int64(0); i < count; i++ {
			z, err := s.pick()
			if err != nil {
				return err
			}
			c.zreplyEntry(z.member, z.score, withScores)
			if c.Limits != nil && int64(c.W.Len()-mark) > c.Limits.MaxBulkLen() {
				return errZRandTooBig
			}
		}
		return nil
	}
	if l >= n {
		// The whole set; Redis walks it from the highest score down.
		c.zreplyHeader(int(n), withScores)
		return s.walk(func(z zentry) { c.zreplyEntry(z.member, z.score, withScores) }, true)
	}
	if s.it == nil || l*zrandSubStrategy > n {
		return s.selection(l, withScores)
	}
	return s.distinctPicks(l, withScores)
}

// walk visits the whole set in score order (descending if reverse).
func (s *zsampler) walk(fn func(zentry), reverse bool) error {
	if s.it == nil {
		for i := range s.all {
			if reverse {
				fn(s.all[len(s.all)-1-i])
			} else {
				fn(s.all[i])
			}
		}
		return nil
	}
	r := keyspace.ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}
	return s.c.Tx.ZScoreRange(s.e, &r, reverse, func(m []byte, sc float64) bool {
		fn(zentry{m, sc})
		return true
	})
}

// selection draws l distinct members uniformly in one pass (Knuth's algorithm S), replying in
// score order as Redis does for a listpack.
func (s *zsampler) selection(l int64, withScores bool) error {
	c := s.c
	c.zreplyHeader(int(l), withScores)
	need, left := l, s.e.Count
	return s.walk(func(z zentry) {
		if need > 0 && s.rng.Int64N(left) < need {
			c.zreplyEntry(z.member, z.score, withScores)
			need--
		}
		left--
	}, false)
}

// distinctPicks draws l distinct members of a large set by random picks. Picks are not uniform,
// so a set whose members cluster could starve them; after too many repeats the rest is drawn by
// a pass.
func (s *zsampler) distinctPicks(l int64, withScores bool) error {
	seen := make(map[string]zentry, l)
	var order []string
	for tries := int64(0); int64(len(seen)) < l && tries < 4*l+64; tries++ {
		z, err := s.pick()
		if err != nil {
			return err
		}
		if _, dup := seen[string(z.member)]; !dup {
			seen[string(z.member)] = z
			order = append(order, string(z.member))
		}
	}
	c := s.c
	c.zreplyHeader(int(l), withScores)
	for _, m := range order {
		z := seen[m]
		c.zreplyEntry(z.member, z.score, withScores)
	}
	need := l - int64(len(seen))
	if need == 0 {
		return nil
	}
	left := s.e.Count - int64(len(seen))
	return s.walk(func(z zentry) {
		if _, dup := seen[string(z.member)]; dup || need == 0 {
			return
		}
		if s.rng.Int64N(left) < need {
			c.zreplyEntry(z.member, z.score, withScores)
			need--
		}
		left--
	}, false)
}
