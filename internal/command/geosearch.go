package command

import (
	"bytes"
	"sort"

	"github.com/cairn-db/cairn/internal/geo"
	"github.com/cairn-db/cairn/internal/keyspace"
)

// GEOSEARCH, GEOSEARCHSTORE and the deprecated GEORADIUS family, as Redis's georadiusGeneric:
// the search covers the geohash cell of the centre and its eight neighbours at a step chosen
// from the radius (package geo), each cell one seek and a walk over a score range of the sorted
// set, and keeps the points inside the shape. The set is never read whole.

// Search variants.
const (
	geoFromCoords  = 1 << iota // GEORADIUS: centre given as coordinates
	geoFromMember              // GEORADIUSBYMEMBER: centre given as a member
	geoNoStore                 // the _RO forms: STORE and STOREDIST refused
	geoSearchCmd               // GEOSEARCH's grammar
	geoSearchStore             // GEOSEARCHSTORE
)

func init() {
	Register(
		&Command{Name: "georadius", Run: func(c *Ctx) { geoSearch(c, 1, geoFromCoords) }},
		&Command{Name: "georadius_ro", Run: func(c *Ctx) { geoSearch(c, 1, geoFromCoords|geoNoStore) }},
		&Command{Name: "georadiusbymember", Run: func(c *Ctx) { geoSearch(c, 1, geoFromMember) }},
		&Command{Name: "georadiusbymember_ro", Run: func(c *Ctx) { geoSearch(c, 1, geoFromMember|geoNoStore) }},
		&Command{Name: "geosearch", Run: func(c *Ctx) { geoSearch(c, 1, geoSearchCmd) }},
		&Command{Name: "geosearchstore", Run: func(c *Ctx) { geoSearch(c, 2, geoSearchCmd|geoSearchStore) }},
	)
}

// geoPoint is one match.
type geoPoint struct {
	member          []byte
	long, lat, dist float64
	score           float64
}

const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

// geoQuery is a parsed search.
type geoQuery struct {
	shape                         geo.Shape
	withDist, withHash, withCoord bool
	fromMember, fromLoc, byRadius bool
	byBox, any, storeDist         bool
	sort                          int
	count                         int64
	storeKey                      []byte
}

func geoSearch(c *Ctx, src int, flags int) {
	e, ok := c.lookupZSet(c.Args[src])
	if !ok {
		return
	}
	q, ok := c.parseGeoQuery(&e, src, flags)
	if !ok {
		return
	}
	if !e.Exists() {
		if q.storeKey != nil {
			c.zstore(q.storeKey, nil, "")
		} else {
			c.W.Array(0)
		}
		return
	}
	// COUNT without an order takes the nearest: sort ascending, unless ANY asked for any N.
	if q.count != 0 && q.sort == geoSortNone && !q.any {
		q.sort = geoSortAsc
	}
	limit := int64(0)
	if q.any {
		limit = q.count
	}
	points, err := c.geoCollect(&e, &q.shape, limit)
	if err != nil {
		c.Fail(err)
		return
	}
	geoSort(points, q.sort, q.count)
	if q.count != 0 && int64(len(points)) > q.count {
		points = points[:q.count]
	}
	for i := range points {
		points[i].dist /= q.shape.Conversion
	}
	if q.storeKey != nil {
		event := "georadiusstore"
		if flags&geoSearchCmd != 0 {
			event = "geosearchstore"
		}
		es := make([]zentry, len(points))
		for i, p := range points {
			es[i] = zentry{member: p.member, score: p.score}
			if q.storeDist {
				es[i].score = p.dist
			}
		}
		c.zstore(q.storeKey, es, event)
		return
	}
	c.geoReply(&q, points)
}

// geoSort orders the matches by distance as Redis does: all of them with the C library's qsort
// (glibc's is a stable merge sort), or with pqsort only as far as the first count when fewer are
// returned, which decides the order of equal distances there.
func geoSort(points []geoPoint, order int, count int64) {
	if order == geoSortNone {
		return
	}
	cmp := func(a, b *geoPoint) int {
		c := 0
		switch {
		case a.dist > b.dist:
			c = 1
		case a.dist < b.dist:
			c = -1
		}
		if order == geoSortDesc {
			c = -c
		}
		return c
	}
	if count != 0 && int64(len(points)) > count {
		pqsort(points, cmp, 0, int(count)-1)
		return
	}
	sort.SliceStable(points, func(i, j int) bool { return cmp(&points[i], &points[j]) < 0 })
}

// parseGeoQuery parses the centre, the shape and the options of a search, with Redis's checks
// in Redis's order. e is the source set (it may not exist), for a centre given as a member.
func (c *Ctx) parseGeoQuery(e *keyspace.Entry, src, flags int) (geoQuery, bool) {
	var q geoQuery
	args := c.Args
	base := 0
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		long, lat, ok := c.parseLongLat(args[2:4])
		if !ok {
			return q, false
		}
		q.shape.Long, q.shape.Lat = long, lat
		if !c.parseGeoRadius(&q, args[4:6]) {
			return q, false
		}
	case flags&geoFromMember != 0:
		base = 5
		if e.Exists() {
			if !c.geoCentreFromMember(&q, e, args[2]) || !c.parseGeoRadius(&q, args[3:5]) {
				return q, false
			}
		}
	default:
		base = src + 1
		if flags&geoSearchStore != 0 {
			q.storeKey = args[1]
		}
	}
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		a, left := rest[i], len(rest)-i-1
		search := flags&geoSearchCmd != 0
		canStore := flags&(geoNoStore|geoSearchCmd) == 0
		switch {
		case EqualFold(a, "withdist"):
			q.withDist = true
		case EqualFold(a, "withhash"):
			q.withHash = true
		case EqualFold(a, "withcoord"):
			q.withCoord = true
		case EqualFold(a, "any"):
			q.any = true
		case EqualFold(a, "asc"):
			q.sort = geoSortAsc
		case EqualFold(a, "desc"):
			q.sort = geoSortDesc
		case EqualFold(a, "count") && left >= 1:
			n, ok := ParseInt(rest[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return q, false
			}
			if n <= 0 {
				c.Err("ERR COUNT must be > 0")
				return q, false
			}
			q.count = n
			i++
		case (EqualFold(a, "store") || EqualFold(a, "storedist")) && left >= 1 && canStore:
			q.storeKey = rest[i+1]
			q.storeDist = EqualFold(a, "storedist")
			i++
		case EqualFold(a, "storedist") && flags&geoSearchStore != 0:
			q.storeDist = true
		case EqualFold(a, "frommember") && left >= 1 && search && !q.fromLoc:
			if e.Exists() && !c.geoCentreFromMember(&q, e, rest[i+1]) {
				return q, false
			}
			q.fromMember = true
			i++
		case EqualFold(a, "fromlonlat") && left >= 2 && search && !q.fromMember:
			long, lat, ok := c.parseLongLat(rest[i+1 : i+3])
			if !ok {
				return q, false
			}
			q.shape.Long, q.shape.Lat = long, lat
			q.fromLoc = true
			i += 2
		case EqualFold(a, "byradius") && left >= 2 && search && !q.byBox:
			if !c.parseGeoRadius(&q, rest[i+1:i+3]) {
				return q, false
			}
			q.byRadius = true
			i += 2
		case EqualFold(a, "bybox") && left >= 3 && search && !q.byRadius:
			if !c.parseGeoBox(&q, rest[i+1:i+4]) {
				return q, false
			}
			q.byBox = true
			i += 3
		default:
			c.Syntax()
			return q, false
		}
	}
	switch {
	case q.storeKey != nil && (q.withDist || q.withHash || q.withCoord):
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		c.Err("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	case flags&geoSearchCmd != 0 && !(q.fromMember || q.fromLoc):
		c.Err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0]))
	case flags&geoSearchCmd != 0 && !(q.byRadius || q.byBox):
		c.Err("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0]))
	case q.any && q.count == 0:
		c.Err("ERR the ANY argument requires COUNT argument")
	default:
		return q, true
	}
	return q, false
}

// geoCentreFromMember centres the search on member of e.
func (c *Ctx) geoCentreFromMember(q *geoQuery, e *keyspace.Entry, member []byte) bool {
	long, lat, found, ok := c.geoMember(e, member)
	if !ok {
		return false
	}
	if !found {
		c.Err("ERR could not decode requested zset member")
		return false
	}
	q.shape.Long, q.shape.Lat = long, lat
	return true
}

// parseGeoRadius reads "radius unit".
func (c *Ctx) parseGeoRadius(q *geoQuery, args [][]byte) bool {
	r, ok := ParseFloat(args[0])
	if !ok {
		c.Err("ERR need numeric radius")
		return false
	}
	if r < 0 {
		c.Err("ERR radius cannot be negative")
		return false
	}
	conv, ok := c.geoUnit(args[1])
	if !ok {
		return false
	}
	q.shape.Box, q.shape.Radius, q.shape.Conversion = false, r, conv
	return true
}

// parseGeoBox reads "width height unit".
func (c *Ctx) parseGeoBox(q *geoQuery, args [][]byte) bool {
	w, ok := ParseFloat(args[0])
	if !ok {
		c.Err("ERR need numeric width")
		return false
	}
	h, ok := ParseFloat(args[1])
	if !ok {
		c.Err("ERR need numeric height")
		return false
	}
	if h < 0 || w < 0 {
		c.Err("ERR height or width cannot be negative")
		return false
	}
	conv, ok := c.geoUnit(args[2])
	if !ok {
		return false
	}
	q.shape.Box, q.shape.Width, q.shape.Height, q.shape.Conversion = true, w, h, conv
	return true
}

// geoCollect gathers the members of e inside s from the nine search boxes, in box order and
// score order within a box, stopping at limit matches when limit > 0 (ANY).
func (c *Ctx) geoCollect(e *keyspace.Entry, s *geo.Shape, limit int64) ([]geoPoint, error) {
	it, err := c.Tx.ZOrder(e)
	if err != nil {
		return nil, err
	}
	var points []geoPoint
	for _, r := range s.Ranges() {
		if limit > 0 && int64(len(points)) >= limit {
			break
		}
		min, max := float64(r.Min), float64(r.Max)
		for ok := it.SeekScore(min, false); ok; ok = it.Next() {
			score := it.Score()
			if score >= max {
				break
			}
			long, lat := geo.DecodeScore(score)
			if dist, in := s.Within(long, lat); in {
				points = append(points, geoPoint{member: bytes.Clone(it.Member()), long: long, lat: lat, dist: dist, score: score})
			}
			if limit > 0 && int64(len(points)) >= limit {
				break
			}
		}
	}
	return points, it.Close()
}

// geoReply writes the matches: bare members, or per member an array of the member and, in this
// order, its distance, its geohash and its coordinates.
func (c *Ctx) geoReply(q *geoQuery, points []geoPoint) {
	extra := 0
	for _, on := range []bool{q.withDist, q.withHash, q.withCoord} {
		if on {
			extra++
		}
	}
	c.W.Array(len(points))
	for _, p := range points {
		if extra > 0 {
			c.W.Array(extra + 1)
		}
		c.W.Bulk(p.member)
		if q.withDist {
			c.W.BulkString(formatGeoDistance(p.dist))
		}
		if q.withHash {
			c.W.Int(int64(p.score))
		}
		if q.withCoord {
			c.W.Array(2)
			c.writeCoord(p.long)
			c.writeCoord(p.lat)
		}
	}
}
