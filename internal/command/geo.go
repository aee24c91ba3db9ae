package command

import (
	"math"
	"math/big"
	"strconv"

	"github.com/cairn-db/cairn/internal/geo"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// Geo sets are sorted sets whose scores are geohashes (package geo): GEOADD is ZADD with the
// coordinates encoded, and the reads decode member scores back into points.

func init() {
	Register(
		&Command{Name: "geoadd", Run: runGeoAdd},
		&Command{Name: "geopos", Run: runGeoPos},
		&Command{Name: "geohash", Run: runGeoHash},
		&Command{Name: "geodist", Run: runGeoDist},
	)
}

// parseLongLat reads a longitude and a latitude, writing Redis's error reply when either is
// not a number or the pair is outside what geohashes cover.
func (c *Ctx) parseLongLat(args [][]byte) (long, lat float64, ok bool) {
	if long, ok = ParseFloat(args[0]); !ok {
		c.Err(ErrNotFloat)
		return 0, 0, false
	}
	if lat, ok = ParseFloat(args[1]); !ok {
		c.Err(ErrNotFloat)
		return 0, 0, false
	}
	if long < geo.LongMin || long > geo.LongMax || lat < geo.LatMin || lat > geo.LatMax {
		c.Err("ERR invalid longitude,latitude pair " + cFixed6(long) + "," + cFixed6(lat))
		return 0, 0, false
	}
	return long, lat, true
}

// cFixed6 prints f as C's "%f" does.
func cFixed6(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// geoUnit returns the size in metres of a distance unit, writing the error for an unknown one.
func (c *Ctx) geoUnit(u []byte) (float64, bool) {
	switch {
	case EqualFold(u, "m"):
		return 1, true
	case EqualFold(u, "km"):
		return 1000, true
	case EqualFold(u, "ft"):
		return 0.3048, true
	case EqualFold(u, "mi"):
		return 1609.34, true
	}
	c.Err("ERR unsupported unit provided. please use M, KM, FT, MI")
	return 0, false
}

// formatGeoDistance prints a distance with four decimals, as Redis's fixedpoint_d2string: the
// value times 10^4 rounded half to even, then split at the point.
func formatGeoDistance(d float64) string {
	if d == 0 {
		return "0.0000"
	}
	n := math.RoundToEven(d * 10000)
	neg := n < 0
	u := uint64(math.Abs(n))
	s := strconv.FormatUint(u/10000, 10) + "." + pad4(u%10000)
	if neg {
		s = "-" + s
	}
	return s
}

func pad4(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// writeCoord writes a coordinate as Redis's addReplyHumanLongDouble: "%.17Lf" without trailing
// zeros, a bulk string in RESP2 and a double in RESP3.
func (c *Ctx) writeCoord(f float64) {
	s := formatLongDouble(new(big.Float).SetFloat64(f))
	if c.W.RESP3() {
		c.W.Raw(append(append([]byte{','}, s...), '\r', '\n'))
		return
	}
	c.W.Bulk(s)
}

func runGeoAdd(c *Ctx) {
	var f zaddFlags
	i := 2
options:
	for ; i < len(c.Args); i++ {
		switch a := c.Args[i]; {
		case EqualFold(a, "nx"):
			f.nx = true
		case EqualFold(a, "xx"):
			f.xx = true
		case EqualFold(a, "ch"):
			f.ch = true
		default:
			break options
		}
	}
	n := len(c.Args) - i
	if n%3 != 0 || n == 0 || (f.xx && f.nx) {
		c.Syntax()
		return
	}
	scores := make([]float64, n/3)
	pairs := make([][]byte, 0, 2*len(scores))
	for j := range scores {
		arg := c.Args[i+3*j:]
		long, lat, ok := c.parseLongLat(arg)
		if !ok {
			return
		}
		scores[j] = geo.Score(long, lat)
		pairs = append(pairs, nil, arg[2])
	}
	c.zadd(c.Args[1], f, scores, pairs)
}

// geoMember decodes member's position in the geo set e; found is false if it is not a member.
func (c *Ctx) geoMember(e *keyspace.Entry, member []byte) (long, lat float64, found, ok bool) {
	if !e.Exists() {
		return 0, 0, false, true
	}
	score, found, err := c.Tx.ZScore(e, member)
	if err != nil {
		c.Fail(err)
		return 0, 0, false, false
	}
	if !found {
		return 0, 0, false, true
	}
	long, lat = geo.DecodeScore(score)
	return long, lat, true, true
}

func runGeoPos(c *Ctx) {
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	members := c.Args[2:]
	c.W.Array(len(members))
	for _, m := range members {
		long, lat, found, ok := c.geoMember(&e, m)
		if !ok {
			return
		}
		if !found {
			c.W.NullArray()
			continue
		}
		c.W.Array(2)
		c.writeCoord(long)
		c.writeCoord(lat)
	}
}

func runGeoHash(c *Ctx) {
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	members := c.Args[2:]
	c.W.Array(len(members))
	for _, m := range members {
		long, lat, found, ok := c.geoMember(&e, m)
		if !ok {
			return
		}
		if !found {
			c.W.Null()
			continue
		}
		c.W.BulkString(geo.HashString(long, lat))
	}
}

func runGeoDist(c *Ctx) {
	toMeters := 1.0
	switch len(c.Args) {
	case 4:
	case 5:
		var ok bool
		if toMeters, ok = c.geoUnit(c.Args[4]); !ok {
			return
		}
	default:
		c.Syntax()
		return
	}
	e, ok := c.lookupZSet(c.Args[1])
	if !ok {
		return
	}
	long1, lat1, found1, ok := c.geoMember(&e, c.Args[2])
	if !ok {
		return
	}
	long2, lat2, found2, ok := c.geoMember(&e, c.Args[3])
	if !ok {
		return
	}
	if !found1 || !found2 {
		c.W.Null()
		return
	}
	c.W.BulkString(formatGeoDistance(geo.Distance(long1, lat1, long2, lat2) / toMeters))
}
