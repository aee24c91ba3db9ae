package keyspace

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
)

// Access records when each key was last read or written, and its LFU counter, for OBJECT
// IDLETIME and OBJECT FREQ. Redis keeps both in every object's header; here they live in the
// entries of the shard's record cache (cache.go), never on disk: a read finds its record and
// records the access under one lock and one map lookup, and a write's access is recorded when
// apply installs its record. They are not replicated either, so each replica reports the accesses
// it served, as each Redis replica does.
//
// A key keeps its access data while it has a cache entry (records too big to cache keep an
// entry with only the access data). A key with no entry (never accessed since the shard opened,
// or evicted from the cache) reports the time since the shard opened and the initial LFU
// counter, as Redis reports for keys it loaded at start.
type Access struct {
	// Policy is the eviction policy and the LFU parameters (server-wide, changed by CONFIG
	// SET); nil means noeviction with Redis's default LFU parameters.
	Policy *AccessPolicy
	start  int64
	c      *Cache
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

// TrackAccess makes c record key accesses for a shard opened at now (Unix ms), under policy p
// (nil: Redis's defaults), and returns the table that reads them.
func (c *Cache) TrackAccess(now int64, p *AccessPolicy) *Access {
	c.Access = &Access{Policy: p, start: now, c: c}
	return c.Access
}

func (a *Access) policy() *AccessPolicy {
	if a.Policy == nil {
		return defaultAccessPolicy
	}
	return a.Policy
}

// accessData is one key's access time and LFU counter.
type accessData struct {
	at   int64 // Unix ms of the last access
	decr int64 // when freq was last decayed, in minutes
	freq uint8 // Redis's logarithmic LFU counter
}

// touch records an access at now.
func (a *Access) touch(d *accessData, now int64) {
	if now > d.at {
		d.at = now
	}
	if p := a.policy(); p.LFU.Load() {
		a.decay(d, now, p)
		d.freq = lfuLogIncr(d.freq, p.LogFactor.Load())
	}
}

// initial is the access data of a key first seen: accessed at the shard's start, with the
// initial counter.
func (a *Access) initial() accessData {
	return accessData{at: a.start, freq: lfuInit, decr: a.start / 60000}
}

// entry returns key's entry, making one with only access data if it has none. s.mu is held.
func (a *Access) entry(s *cacheShard, h uint64, mk []byte) entry {
	if e := s.find(h, mk); e != nil {
		return e
	}
	e := newEntryBuf(mk, nil, false, a.initial())
	s.install(h, e, a.c.shardMax)
	return e
}

// Touch records an access to the key whose metadata key is mk at now, counting it for LFU.
func (a *Access) Touch(mk []byte, now int64) {
	s, h := a.c.shard(mk)
	s.mu.Lock()
	e := a.entry(s, h, mk)
	d := e.access()
	a.touch(&d, now)
	e.setAccess(d)
	s.mu.Unlock()
}

// Set records a key's access time and counter as RESTORE's IDLETIME and FREQ give them (a
// negative value leaves that one as a new key's). Within a batch that wrote the key (o not nil),
// it takes effect when the batch is published, after the write's own access.
func (a *Access) Set(o *Overlay, mk []byte, now, idleMS int64, freq int) {
	x := accessData{at: now, freq: lfuInit, decr: now / 60000}
	if idleMS >= 0 {
		x.at = now - idleMS
	}
	if freq >= 0 {
		x.freq = uint8(freq)
	}
	if o != nil {
		if o.access == nil {
			o.access = map[string]accessData{}
		}
		o.access[string(mk)] = x
		return
	}
	s, h := a.c.shard(mk)
	s.mu.Lock()
	a.entry(s, h, mk).setAccess(x)
	s.mu.Unlock()
}

// Idle is how long, in ms, the key has gone without an access at now.
func (a *Access) Idle(mk []byte, now int64) int64 {
	s, h := a.c.shard(mk)
	s.mu.Lock()
	at := a.start
	if e := s.find(h, mk); e != nil {
		at = e.access().at
	}
	s.mu.Unlock()
	return max(now-at, 0)
}

// Freq is the key's LFU counter at now, decayed for the time since it was last used.
func (a *Access) Freq(mk []byte, now int64) int {
	s, h := a.c.shard(mk)
	s.mu.Lock()
	defer s.mu.Unlock()
	x := a.initial()
	if e := s.find(h, mk); e != nil {
		x = e.access()
	}
	a.decay(&x, now, a.policy())
	return int(x.freq)
}

// decay lowers the counter by one for each lfu-decay-time minutes since it was last lowered.
func (a *Access) decay(r *accessData, now int64, p *AccessPolicy) {
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
