// Package geo owns the geohash arithmetic cairn shares between geo sets (GEOADD, GEOSEARCH)
// and GEO fields of search indexes: encoding a point as Redis's 52-bit geohash score, the cells
// a radius or box search must read, and distances computed as Redis computes them.
package geo
