package search

import (
	"math"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/geo"
)

// geoFilter is a radius around a point, from a query's @loc:[lon lat radius unit] or
// FT.SEARCH's GEOFILTER.
type geoFilter struct {
	shape geo.Shape
	unit  string
}

// geoUnits are the units RediSearch takes, in metres (mi as Redis's GEO commands have it).
var geoUnits = map[string]float64{"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}

// parseGeoFilter reads a radius filter and checks it as RediSearch's GeoFilter_Validate does.
func parseGeoFilter(lon, lat, radius, unit string) (*geoFilter, error) {
	nums := [3]float64{}
	for i, s := range []string{lon, lat, radius} {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return nil, &QueryError{"Expected a number but got `" + s + "`"}
		}
		nums[i] = f
	}
	conv, ok := geoUnits[strings.ToLower(unit)]
	switch {
	case !ok:
		return nil, &QueryError{"Invalid GeoFilter unit"}
	case nums[1] > 90 || nums[1] < -90 || nums[0] > 180 || nums[0] < -180:
		return nil, &QueryError{"Invalid GeoFilter lat/lon"}
	case nums[2] <= 0:
		return nil, &QueryError{"Invalid GeoFilter radius"}
	}
	return &geoFilter{
		shape: geo.Shape{Long: nums[0], Lat: nums[1], Radius: nums[2], Conversion: conv},
		unit:  strings.ToLower(unit),
	}, nil
}
