package geo

import "math"

// Geohashes as Redis computes them (geohash.c, geohash_helper.c). A point is stored in a sorted
// set under the 52-bit interleave of its latitude and longitude cells at 26 steps (latitude
// bits in the even positions), as a score: ZSCORE and ZRANGE on a geo set give Redis's numbers.
// The arithmetic follows Redis's order of float operations; explicit float64 conversions keep
// Go from fusing a multiply and an add that C rounds twice.

// LatMin to LongMax bound the points a geohash covers, as in Redis.
const (
	geoStepMax = 26
	LatMin     = -85.05112878
	LatMax     = 85.05112878
	LongMin    = -180.0
	LongMax    = 180.0

	// earthRadiusMeters is the Earth's quadratic mean radius for WGS-84, as Redis uses it.
	earthRadiusMeters = 6372797.560856
	mercatorMax       = 20037726.37
)

// degToRad is C's (M_PI / 180.0): pi rounded to a double, then divided in double precision.
var degToRad = float64(math.Pi) / 180.0

func degRad(a float64) float64 { return a * degToRad }
func radDeg(a float64) float64 { return a / degToRad }

// geoRange is an interval of latitude or longitude.
type geoRange struct{ min, max float64 }

var (
	geoLongRange = geoRange{LongMin, LongMax}
	geoLatRange  = geoRange{LatMin, LatMax}
)

// geoBits is a geohash of step*2 bits. The zero value (no step) marks a box not to search.
type geoBits struct {
	bits uint64
	step uint8
}

func (h geoBits) isZero() bool { return h.bits == 0 && h.step == 0 }

// geoArea is the cell a geohash names.
type geoArea struct{ lat, long geoRange }

// interleave64 puts the bits of x in the even positions and those of y in the odd ones.
func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<s[i]) & b[i]
		y = (y | y<<s[i]) & b[i]
	}
	return x | y<<1
}

// deinterleave64 undoes interleave64: the even bits in the low half, the odd ones in the high.
func deinterleave64(v uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
		0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := range b {
		x = (x | x>>s[i]) & b[i]
		y = (y | y>>s[i]) & b[i]
	}
	return x | y<<32
}

// geohashEncode encodes a point at step in the given ranges; ok is false outside them.
func geohashEncode(longR, latR geoRange, long, lat float64, step uint8) (geoBits, bool) {
	if step > 32 || step == 0 || long > LongMax || long < LongMin || lat > LatMax || lat < LatMin {
		return geoBits{}, false
	}
	if lat < latR.min || lat > latR.max || long < longR.min || long > longR.max {
		return geoBits{step: step}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	longOff := (long - longR.min) / (longR.max - longR.min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	longOff *= scale
	return geoBits{bits: interleave64(uint32(latOff), uint32(longOff)), step: step}, true
}

func geohashEncodeWGS84(long, lat float64, step uint8) (geoBits, bool) {
	return geohashEncode(geoLongRange, geoLatRange, long, lat, step)
}

// geohashDecode returns the cell of h.
func geohashDecode(longR, latR geoRange, h geoBits) (geoArea, bool) {
	if h.isZero() {
		return geoArea{}, false
	}
	sep := deinterleave64(h.bits)
	latScale := latR.max - latR.min
	longScale := longR.max - longR.min
	ilat := uint32(sep)
	ilong := uint32(sep >> 32)
	div := float64(uint64(1) << h.step)
	var a geoArea
	a.lat.min = latR.min + float64(float64(ilat)/div*latScale)
	a.lat.max = latR.min + float64((float64(ilat)+1)/div*latScale)
	a.long.min = longR.min + float64(float64(ilong)/div*longScale)
	a.long.max = longR.min + float64((float64(ilong)+1)/div*longScale)
	return a, true
}

// center is the middle of the cell, clamped to the valid range as Redis clamps it.
func (a geoArea) center() (long, lat float64) {
	long = (a.long.min + a.long.max) / 2
	long = math.Max(LongMin, math.Min(long, LongMax))
	lat = (a.lat.min + a.lat.max) / 2
	lat = math.Max(LatMin, math.Min(lat, LatMax))
	return long, lat
}

// DecodeScore decodes a geo set score (52 bits at step 26) into a point. A score no GEOADD
// wrote (a plain sorted set's) still decodes, through C's conversion as Redis does it.
func DecodeScore(score float64) (long, lat float64) {
	a, _ := geohashDecode(geoLongRange, geoLatRange, geoBits{bits: cUint64(score), step: geoStepMax})
	return a.center()
}

// cUint64 converts a double to uint64 as C does on x86-64 (Redis's (uint64_t)score): values
// from 2^63 have 2^63 taken off first, and what is out of range becomes 2^63, the processor's
// "integer indefinite". Go leaves out-of-range conversions to the implementation.
func cUint64(f float64) uint64 {
	const two63 = 1 << 63
	cvt := func(x float64) uint64 {
		if x != x || x >= two63 || x < -two63 {
			return 1 << 63
		}
		return uint64(int64(x))
	}
	if f < two63 {
		return cvt(f)
	}
	return cvt(f-two63) ^ 1<<63
}

// Score is the sorted-set score of a point.
func Score(long, lat float64) float64 {
	h, _ := geohashEncodeWGS84(long, lat, geoStepMax)
	return float64(h.align52())
}

// align52 shifts the hash to 52 bits, as a score.
func (h geoBits) align52() uint64 { return h.bits << (52 - uint(h.step)*2) }

// moveX and moveY step a hash one cell east or west (d > 0 east), north or south.
func (h *geoBits) moveX(d int) {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - uint(h.step)*2)
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= 0xaaaaaaaaaaaaaaaa >> (64 - uint(h.step)*2)
	h.bits = x | y
}

func (h *geoBits) moveY(d int) {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.step)*2)
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= 0x5555555555555555 >> (64 - uint(h.step)*2)
	h.bits = x | y
}

// The boxes a search covers, in Redis's order: the centre, then N, S, E, W, NE, NW, SE, SW.
const (
	boxCenter = iota
	boxNorth
	boxSouth
	boxEast
	boxWest
	boxNorthEast
	boxNorthWest
	boxSouthEast
	boxSouthWest
)

// geoNeighbours returns h and its eight neighbours in box order.
func geoNeighbours(h geoBits) [9]geoBits {
	var n [9]geoBits
	moves := [9][2]int{{0, 0}, {0, 1}, {0, -1}, {1, 0}, {-1, 0}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}}
	for i, m := range moves {
		n[i] = h
		if i == boxCenter {
			continue
		}
		if m[0] != 0 {
			n[i].moveX(m[0])
		}
		if m[1] != 0 {
			n[i].moveY(m[1])
		}
	}
	return n
}

// Shape is a search area: a circle of radius, or a width x height box, around a point, in
// the unit whose size in metres is conversion.
type Shape struct {
	Box           bool
	Long, Lat     float64
	Conversion    float64
	Radius        float64
	Width, Height float64
}

// boundingBox returns the shape's extent: minimum and maximum longitude and latitude.
func (s *Shape) boundingBox() (minLong, minLat, maxLong, maxLat float64) {
	height, width := s.Radius, s.Radius
	if s.Box {
		height, width = s.Height/2, s.Width/2
	}
	height *= s.Conversion
	width *= s.Conversion
	latDelta := radDeg(height / earthRadiusMeters)
	longDeltaTop := radDeg(width / earthRadiusMeters / crCos(degRad(s.Lat+latDelta)))
	longDeltaBottom := radDeg(width / earthRadiusMeters / crCos(degRad(s.Lat-latDelta)))
	// Towards the poles a box is narrower at its far edge: the near edge is the wider one.
	delta := longDeltaTop
	if s.Lat < 0 {
		delta = longDeltaBottom
	}
	return s.Long - delta, s.Lat - latDelta, s.Long + delta, s.Lat + latDelta
}

// geoEstimateSteps is the geohash step whose cells are about as large as the search radius.
func geoEstimateSteps(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2 // so the range is inside the boxes in most cases
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(max(1, min(step, 26)))
}

// searchBoxes returns the nine boxes to scan for s (zero where a box cannot hold a match), as
// Redis's geohashCalculateAreasByShapeWGS84.
func (s *Shape) searchBoxes() [9]geoBits {
	minLong, minLat, maxLong, maxLat := s.boundingBox()
	radius := s.Radius
	if s.Box {
		radius = math.Sqrt(float64(s.Width/2*(s.Width/2)) + float64(s.Height/2*(s.Height/2)))
	}
	radius *= s.Conversion
	steps := geoEstimateSteps(radius, s.Lat)
	hash, _ := geohashEncodeWGS84(s.Long, s.Lat, steps)
	boxes := geoNeighbours(hash)
	area, _ := geohashDecode(geoLongRange, geoLatRange, hash)

	// Near the edge of its cell the search may reach past the neighbours: use larger cells.
	north, _ := geohashDecode(geoLongRange, geoLatRange, boxes[boxNorth])
	south, _ := geohashDecode(geoLongRange, geoLatRange, boxes[boxSouth])
	east, _ := geohashDecode(geoLongRange, geoLatRange, boxes[boxEast])
	west, _ := geohashDecode(geoLongRange, geoLatRange, boxes[boxWest])
	decrease := north.lat.max < maxLat || south.lat.min > minLat || east.long.max < maxLong || west.long.min > minLong
	if steps > 1 && decrease {
		steps--
		hash, _ = geohashEncodeWGS84(s.Long, s.Lat, steps)
		boxes = geoNeighbours(hash)
		area, _ = geohashDecode(geoLongRange, geoLatRange, hash)
	}
	if steps >= 2 {
		drop := func(i ...int) {
			for _, j := range i {
				boxes[j] = geoBits{}
			}
		}
		if area.lat.min < minLat {
			drop(boxSouth, boxSouthWest, boxSouthEast)
		}
		if area.lat.max > maxLat {
			drop(boxNorth, boxNorthEast, boxNorthWest)
		}
		if area.long.min < minLong {
			drop(boxWest, boxSouthWest, boxNorthWest)
		}
		if area.long.max > maxLong {
			drop(boxEast, boxSouthEast, boxNorthEast)
		}
	}
	return boxes
}

// geoLatDistance is the distance between two latitudes on one meridian.
func geoLatDistance(lat1, lat2 float64) float64 {
	return earthRadiusMeters * math.Abs(degRad(lat2)-degRad(lat1))
}

// Distance is the haversine great-circle distance in metres.
func Distance(long1, lat1, long2, lat2 float64) float64 {
	long1r, long2r := degRad(long1), degRad(long2)
	v := crSin((long2r - long1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := crSin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(crCos(lat1r)*crCos(lat2r))*v)*v)
	return 2.0 * earthRadiusMeters * crAsin(math.Sqrt(a))
}

// Within reports whether the point is inside s, and its distance from s's centre in metres.
func (s *Shape) Within(long, lat float64) (float64, bool) {
	if !s.Box {
		d := Distance(s.Long, s.Lat, long, lat)
		return d, d <= s.Radius*s.Conversion
	}
	// The latitude test is cheaper, so it goes first.
	if geoLatDistance(lat, s.Lat) > s.Height*s.Conversion/2 {
		return 0, false
	}
	if Distance(long, lat, s.Long, lat) > s.Width*s.Conversion/2 {
		return 0, false
	}
	return Distance(s.Long, s.Lat, long, lat), true
}

// HashString is GEOHASH's 11-character standard geohash of a point: re-encoded over
// latitudes -90..90 (Redis's cells stop at ±85.05), the eleventh character always '0'.
func HashString(long, lat float64) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	h, _ := geohashEncode(geoRange{-180, 180}, geoRange{-90, 90}, long, lat, 26)
	var buf [11]byte
	for i := 0; i < 11; i++ {
		idx := 0
		if i < 10 {
			idx = int(h.bits >> (52 - uint(i+1)*5) & 0x1f)
		}
		buf[i] = alphabet[idx]
	}
	return string(buf[:])
}

// Range is a half-open interval [Min, Max) of geo scores (52-bit geohashes) that one search
// cell covers.
type Range struct{ Min, Max uint64 }

// Ranges lists the score ranges a search for s reads, in Redis's box order: the cell of the
// centre and its neighbours at a step chosen from the size of s, leaving out the cells that
// cannot hold a match and a cell equal to the one before it (near the poles, or with huge
// radii, neighbours coincide). Every point inside s has its score in one of them.
func (s *Shape) Ranges() []Range {
	boxes := s.searchBoxes()
	out := make([]Range, 0, len(boxes))
	last := -1
	for i, b := range boxes {
		if b.isZero() || last >= 0 && b == boxes[last] {
			continue
		}
		min := b.align52()
		b.bits++
		out = append(out, Range{Min: min, Max: b.align52()})
		last = i
	}
	return out
}

// Valid reports whether a point is within what geohashes cover (latitudes to ±85.05112878).
func Valid(long, lat float64) bool {
	return long >= LongMin && long <= LongMax && lat >= LatMin && lat <= LatMax
}

// Hash is the 52-bit geohash of a valid point: the integer of Score.
func Hash(long, lat float64) uint64 {
	h, _ := geohashEncodeWGS84(long, lat, geoStepMax)
	return h.align52()
}

// DecodeHash is the point a 52-bit geohash stands for: the centre of its cell.
func DecodeHash(hash uint64) (long, lat float64) {
	a, _ := geohashDecode(geoLongRange, geoLatRange, geoBits{bits: hash, step: geoStepMax})
	return a.center()
}
