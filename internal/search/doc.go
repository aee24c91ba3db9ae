// Package search owns secondary indexes over hashes — the Redis Query Engine's FT.* model:
// index definitions, the ordered index records kept beside the data, their maintenance in the
// same write batch as every change to an indexed hash, the query language, and query
// evaluation over a read view.
//
// Every record lives under one key prefix of the shard's engine ('I'):
//
//	I 0 'd' name                      definition of index name (JSON)
//	I 0 'a' alias                     alias → index name
//	I 0 'c'                           the last index ID handed out
//	I id 'k' key                      document: the indexed values of key when last indexed
//	I id 't' field tag 0x00 0x01 key  tag entry (tag escaped: 0x00 → 0x00 0xff)
//	I id 'n' field number(8) key      numeric entry, number encoded so byte order is numeric
//	I id 'g' field geohash(8) key     geo entry: the point's 52-bit geohash (as GEOADD's score)
//	I id 'w' field term 0x00 0x01 key text entry → positions of the term in the field
//	I id 'x' key                      a document whose key has a TTL → its expiry time
//	I id 'N'                          the number of documents
//
// id is a 4-byte big-endian index ID, never reused, so dropping an index is one range deletion
// and a new index of the same name never sees the old one's records. field is the schema
// position of the field (one byte).
//
// Index records change only in apply (Maintainer), so every replica holds the same ones, and a
// read sees the index exactly as of the data it reads.
//
// In a cluster each shard indexes its own keys; a query is answered by every shard's part and
// merged on the node that took it (cluster.go).
package search
