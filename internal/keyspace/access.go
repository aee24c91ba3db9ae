package keyspace

import (
	"hash/maphash"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Access records when each key was last read or written, and its LFU counter, for OBJECT
// IDLETIME and OBJECT FREQ. Redis keeps both in every object's header; here they live in
// memory beside the shard's record cache, never on disk: an access costs a map lookup under a
// striped lock, not a write. They are not replicated either, so each replica reports the
// accesses it served, as each Redis replica does.
//
// The table holds at most MaxAccessEntries keys; past that an arbitrary entry makes room. A key
// with no entry (never accessed since the shard opened, or made room for) reports the time
// since the shard opened and the initial LFU counter, as Redis reports for keys it loaded at
// start.
type Access struct {
	// Policy is the eviction policy and the LFU parameters (server-wide, changed by CONFIG
	// SET); nil means noeviction with Redis's default LFU parameters.
	Policy *AccessPolicy
	start  int64
	seed   maphash.Seed
	max    int
	stripe [accessStripes]accessStripe
}

// MaxAccessEntries bounds the keys an Access tracks.
const MaxAccessEntries = 1 << 20

const accessStripes = 16

type accessStripe struct {
	mu sync.Mutex
	m  map[string]*accessRec
}

type accessRec struct {
	at   int64 // Unix ms of the last access
	freq uint8 // Redis's logarithmic LFU counter
	// decr is when the counter was last decayed, in minutes.
	decr int64
}

// AccessPolicy is what OBJECT FREQ and IDLETIME depend on in the configuration.
type AccessPolicy struct {
	// LFU is set under an LFU maxmemory-policy (allkeys-lfu, volatile-lfu).
	LFU atomic.Bool
	// LogFactor and DecayTime are lfu-log-factor and lfu-decay-time (minutes).
	LogFactor, DecayTime atomic.Int64
}

// NewAccessPolicy returns Redis's defaults: noeviction, lfu-log-factor 10, lfu-decay-time 1.
func NewAccessPolicy() *AccessPolicy {
	p := &AccessPolicy{}
	p.LogFactor.Store(10)
	p.DecayTime.Store(1)
	return p
}

var defaultAccessPolicy = NewAccessPolicy()

// lfuInit is the counter of a new key, so it is not evicted before it had a chance to be used.
const lfuInit = 5

// NewAccess returns an empty table for a shard opened at now (Unix ms).
func NewAccess(now int64) *Access {
	a := &Access{start: now, seed: maphash.MakeSeed(), max: MaxAccessEntries / accessStripes}
	for i := range a.stripe {
		a.stripe[i].m = map[string]*accessRec{}
	}
	return a
}

func (a *Access) policy() *AccessPolicy {
	if a.Policy == nil {
		return defaultAccessPolicy
	}
	return a.Policy
}

func (a *Access) stripeOf(mk []byte) *accessStripe {
	return &a.stripe[maphash.Bytes(a.seed, mk)%accessStripes]
}

// get returns mk's record, creating it (with the initial counter, accessed at the shard's
// start) when create is set. s.mu is held.
func (a *Access) get(s *accessStripe, mk []byte, create bool) *accessRec {
	if r := s.m[string(mk)]; r != nil || !create {
		return r
	}
	if len(s.m) >= a.max {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	r := &accessRec{at: a.start, freq: lfuInit, decr: a.start / 60000}
	s.m[string(mk)] = r
	return r
}

// Touch records an access to the key whose metadata key is mk at now, counting it for LFU.
func (a *Access) Touch(mk []byte, now int64) {
	s := a.stripeOf(mk)
	s.mu.Lock()
	r := a.get(s, mk, true)
	if now > r.at {
		r.at = now
	}
	p := a.policy()
	if p.LFU.Load() {
		a.decay(r, now, p)
		r.freq = lfuLogIncr(r.freq, p.LogFactor.Load())
	}
	s.mu.Unlock()
}

// Set records a key's access time and counter as RESTORE's IDLETIME and FREQ give them (a
// negative value leaves that one as a new key's).
func (a *Access) Set(mk []byte, now, idleMS int64, freq int) {
	s := a.stripeOf(mk)
	s.mu.Lock()
	r := a.get(s, mk, true)
	r.at, r.freq, r.decr = now, lfuInit, now/60000
	if idleMS >= 0 {
		r.at = now - idleMS
	}
	if freq >= 0 {
		r.freq = uint8(freq)
	}
	s.mu.Unlock()
}

// Idle is how long, in ms, the key has gone without an access at now.
func (a *Access) Idle(mk []byte, now int64) int64 {
	s := a.stripeOf(mk)
	s.mu.Lock()
	at := a.start
	if r := a.get(s, mk, false); r != nil {
		at = r.at
	}
	s.mu.Unlock()
	return max(now-at, 0)
}

// Freq is the key's LFU counter at now, decayed for the time since it was last used.
func (a *Access) Freq(mk []byte, now int64) int {
	s := a.stripeOf(mk)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := a.get(s, mk, false)
	if r == nil {
		x := accessRec{freq: lfuInit, decr: a.start / 60000}
		r = &x
	}
	a.decay(r, now, a.policy())
	return int(r.freq)
}

// decay lowers the counter by one for each lfu-decay-time minutes since it was last lowered.
func (a *Access) decay(r *accessRec, now int64, p *AccessPolicy) {
	period := p.DecayTime.Load()
	mins := now / 60000
	if period <= 0 || mins <= r.decr {
		return
	}
	n := (mins - r.decr) / period
	if n > 0 {
		r.freq = uint8(max(int64(r.freq)-n, 0))
		r.decr += n * period
	}
}

// lfuLogIncr increments the counter with a probability that falls as it grows, as Redis's
// LFULogIncr: the counter is logarithmic in the number of accesses.
func lfuLogIncr(c uint8, factor int64) uint8 {
	if c == math.MaxUint8 {
		return c
	}
	base := float64(c) - lfuInit
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1/(base*float64(factor)+1) {
		c++
	}
	return c
}
