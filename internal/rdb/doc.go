// Package rdb reads and writes single values in Redis's RDB serialization, the payload of
// DUMP and RESTORE (and MIGRATE, which carries RESTORE): a type byte, the value in that
// type's encoding, the RDB version as two little-endian bytes and a CRC64 (Jones polynomial,
// as Redis computes it) of everything before it.
//
// Decode reads every value encoding Redis 2.x to 8.x writes for strings, lists, sets, sorted
// sets and hashes: plain strings, integer-encoded and LZF-compressed ones; linked lists,
// ziplists, quicklists of ziplists or listpacks; intsets, hashtables and listpacks of sets;
// ziplists, listpacks and skiplists (with text or binary scores) of sorted sets; zipmaps,
// ziplists, listpacks and hashtables of hashes. Streams, modules and hashes with field
// expiries (Redis 7.4's encodings) are refused with ErrUnsupported.
//
// Encode writes RDB version 10 (Redis 7.0) encodings, which every Redis from 7.0 on restores:
// quicklists of listpacks for lists, intsets or hashtables for sets, listpacks or skiplists
// with binary scores for sorted sets and listpacks or hashtables for hashes, each picked by
// Redis's default size limits, as Redis would have encoded the value.
package rdb
