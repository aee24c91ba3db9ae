package tests

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// haversine is the great-circle distance in metres on Redis's Earth radius, computed here
// independently of the server's geohash code.
func haversine(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6372797.560856
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// TestSearchGeo indexes points in hashes under a GEO field, changes them, and checks every
// radius query (query syntax and GEOFILTER, in each unit) against two models: GEOSEARCH over a
// geo set holding the same points, which must agree exactly (both read Redis's geohash cells),
// and a haversine over the exact points, which must agree except within a metre of the rim
// (a stored point is its geohash cell's centre, up to 0.6 m off).
func TestSearchGeo(t *testing.T) {
	srv := servertest.Start(t)
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	seed := *scanSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed)", seed)
	rng := rand.New(rand.NewPCG(seed, 14))

	if err := rdb.FTCreate(ctx, "places", &redis.FTCreateOptions{OnHash: true, Prefix: []any{"pl:"}},
		&redis.FieldSchema{FieldName: "loc", FieldType: redis.SearchFieldTypeGeo},
		&redis.FieldSchema{FieldName: "kind", FieldType: redis.SearchFieldTypeTag},
	).Err(); err != nil {
		t.Fatal(err)
	}
	type point struct {
		lon, lat float64
		kind     string
	}
	model := map[string]point{}
	kinds := []string{"cafe", "shop", "park"}
	// Points around Paris, a few spread far, some near the antimeridian and the geohash limit.
	randPoint := func() point {
		p := point{kind: kinds[rng.IntN(len(kinds))]}
		switch rng.IntN(10) {
		case 0:
			p.lon, p.lat = rng.Float64()*360-180, rng.Float64()*170-85
		case 1:
			p.lon, p.lat = 179.9+rng.Float64()*0.1, rng.Float64()*2-1
		default:
			p.lon, p.lat = 2.2+rng.Float64()*0.3, 48.75+rng.Float64()*0.2
		}
		return p
	}
	put := func(key string, p point) {
		t.Helper()
		loc := strconv.FormatFloat(p.lon, 'f', -1, 64) + "," + strconv.FormatFloat(p.lat, 'f', -1, 64)
		if err := rdb.HSet(ctx, key, "loc", loc, "kind", p.kind).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.GeoAdd(ctx, "geoset", &redis.GeoLocation{Name: key, Longitude: p.lon, Latitude: p.lat}).Err(); err != nil {
			t.Fatal(err)
		}
		model[key] = p
	}
	del := func(key string) {
		t.Helper()
		if err := rdb.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		rdb.ZRem(ctx, "geoset", key)
		delete(model, key)
	}
	for i := 0; i < 600; i++ {
		put(fmt.Sprintf("pl:%d", i), randPoint())
	}
	// Values that are not points leave the document out, as RediSearch does.
	for i, bad := range []string{"abc", "2.3", "200,10", "2.3,86", "2.3;48.8", "nan,1"} {
		if err := rdb.HSet(ctx, fmt.Sprintf("pl:bad%d", i), "loc", bad, "kind", "cafe").Err(); err != nil {
			t.Fatal(err)
		}
	}
	// "lon lat" with a space is a point too.
	if err := rdb.HSet(ctx, "pl:space", "loc", "2.35 48.85", "kind", "cafe").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.GeoAdd(ctx, "geoset", &redis.GeoLocation{Name: "pl:space", Longitude: 2.35, Latitude: 48.85})
	model["pl:space"] = point{2.35, 48.85, "cafe"}

	units := map[string]float64{"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}
	unitNames := []string{"m", "km", "mi", "ft"}
	search := func(query string, args ...any) []string {
		t.Helper()
		cmd := append([]any{"FT.SEARCH", "places", query}, args...)
		cmd = append(cmd, "NOCONTENT", "LIMIT", 0, 100000)
		v, err := rdb.Do(ctx, cmd...).Slice()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		var keys []string
		for _, k := range v[1:] {
			keys = append(keys, k.(string))
		}
		slices.Sort(keys)
		if int(v[0].(int64)) != len(keys) {
			t.Fatalf("%v: total %d, %d keys", cmd, v[0], len(keys))
		}
		return keys
	}
	for round := 0; round < 40; round++ {
		for j := 0; j < 15; j++ {
			k := fmt.Sprintf("pl:%d", rng.IntN(700))
			if rng.IntN(4) == 0 {
				del(k)
			} else {
				put(k, randPoint())
			}
		}
		c := randPoint()
		unit := unitNames[rng.IntN(len(unitNames))]
		radius := math.Round((100+rng.Float64()*rng.Float64()*30000)/units[unit]*100) / 100
		kind := ""
		var got []string
		lon, lat := strconv.FormatFloat(c.lon, 'f', 6, 64), strconv.FormatFloat(c.lat, 'f', 6, 64)
		clon, _ := strconv.ParseFloat(lon, 64)
		clat, _ := strconv.ParseFloat(lat, 64)
		r := strconv.FormatFloat(radius, 'f', -1, 64)
		switch rng.IntN(3) {
		case 0:
			got = search(fmt.Sprintf("@loc:[%s %s %s %s]", lon, lat, r, unit))
		case 1:
			kind = kinds[rng.IntN(len(kinds))]
			got = search(fmt.Sprintf("@kind:{%s}", kind), "GEOFILTER", "loc", lon, lat, r, unit)
		default:
			got = search("@loc:[$lon $lat $r $u]", "PARAMS", 8, "lon", lon, "lat", lat, "r", r, "u", unit, "DIALECT", 2)
		}
		gs, err := rdb.GeoSearch(ctx, "geoset", &redis.GeoSearchQuery{Longitude: clon, Latitude: clat, Radius: radius, RadiusUnit: unit}).Result()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, k := range gs {
			if kind == "" || model[k].kind == kind {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: centre %s,%s radius %s %s kind %q:\n got %v\nwant %v (GEOSEARCH)", round, lon, lat, r, unit, kind, got, want)
		}
		in := map[string]bool{}
		for _, k := range got {
			in[k] = true
		}
		rm := radius * units[unit]
		for k, p := range model {
			d := haversine(clon, clat, p.lon, p.lat)
			if kind != "" && p.kind != kind || math.Abs(d-rm) < 1 {
				continue
			}
			if (d < rm) != in[k] {
				t.Fatalf("round %d: %s at %.1f m of the centre, radius %.1f m, found %v", round, k, d, rm, in[k])
			}
		}
		for k := range in {
			if _, ok := model[k]; !ok {
				t.Fatalf("round %d: found %s, which is not a point", round, k)
			}
		}
	}

	for _, c := range []struct{ query, err string }{
		{"@loc:[2.3 48.8 10 parsec]", "Invalid GeoFilter unit"},
		{"@loc:[2.3 48.8 0 km]", "Invalid GeoFilter radius"},
		{"@loc:[2.3 95 1 km]", "Invalid GeoFilter lat/lon"},
		{"@loc:[2.3 x 1 km]", "Expected a number"},
		{"@kind:[2.3 48.8 1 km]", "is not a GEO field"},
		{"@loc:[1 2]", "is not a NUMERIC field"},
	} {
		if err := rdb.Do(ctx, "FT.SEARCH", "places", c.query).Err(); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.query, err, c.err)
		}
	}
	if err := rdb.Do(ctx, "FT.SEARCH", "places", "*", "GEOFILTER", "loc", "1", "2", "3").Err(); err == nil || err.Error() != "GEOFILTER requires 5 arguments" {
		t.Errorf("short GEOFILTER: %v", err)
	}
	info, err := rdb.FTInfo(ctx, "places").Result()
	if err != nil || info.NumDocs != len(model) {
		t.Fatalf("num_docs %d (%v), model %d", info.NumDocs, err, len(model))
	}
	if len(info.Attributes) != 2 || info.Attributes[0].Type != "GEO" {
		t.Fatalf("attributes %+v", info.Attributes)
	}
}
