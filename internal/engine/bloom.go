package engine

import "github.com/cockroachdb/pebble/v2/bloom"

// bloomPolicy puts a bloom filter on every table so point lookups of missing keys (GET of an
// absent key, SET's read of the old value) rarely touch data blocks.
var bloomPolicy = bloom.FilterPolicy(10)
