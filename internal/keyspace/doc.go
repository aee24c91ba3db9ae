// Package keyspace lays Redis data types out on the ordered key-value store and implements the
// type operations over a read view or a write batch.
//
// Layout (ARCHITECTURE.md, "Storage layout"), all integers big-endian:
//
//	M db slot key                    metadata: type, flags, expire-at, then per type — a string's
//	                                 value inline; a collection's version, count and extra state;
//	                                 slot is the key's 2-byte hash slot, so a slot's keys are
//	                                 contiguous and can be scanned, counted or moved alone
//	E db version elem                an element of a collection (hash field, set member, list slot,
//	                                 sorted-set member); versions are unique within a shard and
//	                                 begin with the key's slot (slot<<48 | counter), so the key is
//	                                 not repeated in every element, RENAME moves only the
//	                                 metadata, and a slot's elements sort together too
//	Z db version score member        sorted-set score order, scores encoded so byte order is numeric
//	X expire-at db key               the expiry index, read by the background sweeper
//	T db version expire-at field     a hash's volatile fields in expiry order
//	F expire-at db key               hashes by earliest field expiry, read by the sweeper
//	\x00 name                        system records (applied index, database map)
//
// The package is pure and deterministic: time comes in as Tx.Now, new versions from the caller,
// and the only I/O is the reader and batch it is given. The same code serves reads on the event
// loop (over the engine or a snapshot) and writes in apply (over an indexed batch).
package keyspace
