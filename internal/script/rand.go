package script

// rand48 is the 48-bit linear congruential generator Redis gives scripts (its redisLrand48),
// so math.random draws the same numbers as on redis-server. Every script starts from seed 0,
// which makes scripts deterministic.
type rand48 struct{ x uint64 }

const rand48Max = 1<<31 - 1 // REDIS_LRAND48_MAX (INT32_MAX)

func (r *rand48) seed(v int32) { r.x = uint64(uint32(v))<<16 | 0x330E }

func (r *rand48) next() int32 {
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	return int32(r.x >> 17)
}

// float is math.random()'s value in [0, 1).
func (r *rand48) float() float64 {
	return float64(r.next()%rand48Max) / float64(rand48Max)
}
