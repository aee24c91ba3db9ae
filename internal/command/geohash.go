package command

import "math"

// Geohashes as Redis computes them (geohash.c, geohash_helper.c). A point is stored in a sorted
// set under the 52-bit interleave of its latitude and longitude cells at 26 steps (latitude
// bits in the even positions), as a score: ZSCORE and ZRANGE on a geo set give Redis's numbers.
// The arithmetic follows Redis's order of float operations; explicit float64 conversions keep
// Go from fusing a multiply and an add that C rounds twice.

const (
	geoStepMax = 26
	geoLatMin  = -85.05112878
	geoLatMax  = 85.05112878
	geoLongMin = -180.0
	geoLongMax = 180.0

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
	geoLongRange = geoRange{geoLongMin, geoLongMax}
	geoLatRange  = geoRange{geoLatMin, geoLatMax}
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
	if step > 32 || step == 0 || long > geoLongMax || long < geoLongMin || lat > geoLatMax || lat < geoLatMin {
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
	long = math.Max(geoLongMin, math.Min(long, geoLongMax))
	lat = (a.lat.min + a.lat.max) / 2
	lat = math.Max(geoLatMin, math.Min(lat, geoLatMax))
	return long, lat
}

// geoDecodeScore decodes a geo set score (52 bits at step 26) into a point. A score no GEOADD
// wrote (a plain sorted set's) still decodes, through C's conversion as Redis does it.
func geoDecodeScore(score float64) (long, lat float64) {
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

// geoScore is the sorted-set score of a point.
func geoScore(long, lat float64) float64 {
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

// geoShape is a search area: a circle of radius, or a width x height box, around a point, in
// the unit whose size in metres is conversion.
type geoShape struct {
	box           bool
	long, lat     float64
	conversion    float64
	radius        float64
	width, height float64
}

// boundingBox returns the shape's extent: minimum and maximum longitude and latitude.
func (s *geoShape) boundingBox() (minLong, minLat, maxLong, maxLat float64) {
	height, width := s.radius, s.radius
	if s.box {
		height, width = s.height/2, s.width/2
	}
	height *= s.conversion
	width *= s.conversion
	latDelta := radDeg(height / earthRadiusMeters)
	longDeltaTop := radDeg(width / earthRadiusMeters / crCos(degRad(s.lat+latDelta)))
	longDeltaBottom := radDeg(width / earthRadiusMeters / crCos(degRad(s.lat-latDelta)))
	// Towards the poles a box is narrower at its far edge: the near edge is the wider one.
	delta := longDeltaTop
	if s.lat < 0 {
		delta = longDeltaBottom
	}
	return s.long - delta, s.lat - latDelta, s.long + delta, s.lat + latDelta
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
func (s *geoShape) searchBoxes() [9]geoBits {
	minLong, minLat, maxLong, maxLat := s.boundingBox()
	radius := s.radius
	if s.box {
		radius = math.Sqrt(float64(s.width/2*(s.width/2)) + float64(s.height/2*(s.height/2)))
	}
	radius *= s.conversion
	steps := geoEstimateSteps(radius, s.lat)
	hash, _ := geohashEncodeWGS84(s.long, s.lat, steps)
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
		hash, _ = geohashEncodeWGS84(s.long, s.lat, steps)
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

// geoDistance is the haversine great-circle distance in metres.
func geoDistance(long1, lat1, long2, lat2 float64) float64 {
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

// within reports whether the point is inside s, and its distance from s's centre in metres.
func (s *geoShape) within(long, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.long, s.lat, long, lat)
		return d, d <= s.radius*s.conversion
	}
	// The latitude test is cheaper, so it goes first.
	if geoLatDistance(lat, s.lat) > s.height*s.conversion/2 {
		return 0, false
	}
	if geoDistance(long, lat, s.long, lat) > s.width*s.conversion/2 {
		return 0, false
	}
	return geoDistance(s.long, s.lat, long, lat), true
}

// geohashString is GEOHASH's 11-character standard geohash of a point: re-encoded over
// latitudes -90..90 (Redis's cells stop at ±85.05), the eleventh character always '0'.
func geohashString(long, lat float64) string {
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
